"""Choosing the tf.distribute strategy from the config."""

from __future__ import annotations

import ml_collections
import tensorflow as tf

from tfmtl.config import ConfigError


def make_strategy(distribute_config: ml_collections.ConfigDict) -> tf.distribute.Strategy:
    """Returns the strategy ``config.distribute`` names.

    "default" runs on one device; "mirrored" replicates over the local GPUs
    or, without GPUs, over the logical CPU devices (``cpu_devices``);
    "multi_worker" runs across the processes described by ``TF_CONFIG``.
    """
    d = distribute_config
    if d.cpu_devices:
        cpus = tf.config.list_physical_devices("CPU")
        try:
            tf.config.set_logical_device_configuration(
                cpus[0], [tf.config.LogicalDeviceConfiguration()] * d.cpu_devices
            )
        except RuntimeError as e:
            raise ConfigError(
                "config.distribute.cpu_devices",
                f"cannot split the CPU after TensorFlow has started ({e})",
            ) from None
    if d.strategy == "default":
        return tf.distribute.get_strategy()
    if d.strategy == "mirrored":
        devices = [x.name for x in tf.config.list_logical_devices("GPU")]
        devices = devices or [x.name for x in tf.config.list_logical_devices("CPU")]
        return tf.distribute.MirroredStrategy(devices=devices)
    if d.strategy == "multi_worker":
        options = tf.distribute.experimental.CommunicationOptions(
            implementation=tf.distribute.experimental.CommunicationImplementation.RING
        )
        return tf.distribute.MultiWorkerMirroredStrategy(communication_options=options)
    raise ConfigError("config.distribute.strategy", f"unknown strategy {d.strategy!r}")


def worker_index(strategy: tf.distribute.Strategy) -> int:
    """This process's index among the workers of `strategy` (0 in one process)."""
    resolver = strategy.cluster_resolver
    return int(resolver.task_id or 0) if resolver is not None else 0


def sync_workers(strategy: tf.distribute.Strategy) -> None:
    """Returns once every worker of a MultiWorkerMirroredStrategy has called it.

    An all-reduce of one number: a barrier. Without more than one worker it returns at once.
    """
    if isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        strategy.reduce(tf.distribute.ReduceOp.SUM, strategy.run(lambda: tf.constant(1.0)),
                        axis=None)
