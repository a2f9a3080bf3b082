"""The multi-task training loop."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Sequence

import keras
import ml_collections
import numpy as np
import tensorflow as tf
from absl import logging

from tfmtl import config as config_lib
from tfmtl.config import ConfigError
from tfmtl.data.pipeline import default_bucket_boundaries, make_dataset
from tfmtl.models.multitask_model import MultiTaskModel, build_multitask_model
from tfmtl.tasks.base import Task
from tfmtl.training.checkpoints import (
    Checkpoints,
    RunState,
    atomic_write_text,
    is_chief,
    restore_model,
)
from tfmtl.training.distribute import make_strategy
from tfmtl.training.evaluation import Evaluator, format_metrics
from tfmtl.training.experiment import CONFIG_FILE, VOCAB_DIR, Experiment, task_batch
from tfmtl.training.optimizers import build_optimizer
from tfmtl.training.progress import Progress
from tfmtl.training.samplers import make_sampler

METRICS_FILE = "metrics.json"
COMMAND_FILE = "command.txt"
TENSORBOARD_DIR = "tensorboard"

# Keys a resumed run may change: how long and how often, not what is trained.
_RESUMABLE_CHANGES = ("training.steps", "training.eval_every", "training.log_every",
                      "training.checkpoint_every", "training.keep_checkpoints",
                      "training.patience", "training.eval_batch_size")


def _flatten(d: dict, prefix: str = "") -> dict:
    flat = {}
    for key, value in d.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def check_resume(config: ml_collections.ConfigDict, workdir: str) -> bool:
    """True when `workdir` holds an earlier run of this config (to resume).

    Raises:
        ConfigError: when it holds a run of a different config.
    """
    path = os.path.join(workdir, CONFIG_FILE)
    if not os.path.exists(path):
        return False
    with open(path, encoding="utf-8") as f:
        previous = _flatten(json.load(f))
    current = _flatten(config.to_dict())
    changed = sorted(
        key for key in previous.keys() | current.keys()
        if previous.get(key) != current.get(key) and key not in _RESUMABLE_CHANGES
    )
    if changed:
        raise ConfigError(
            f"config.{changed[0]}",
            f"{workdir} holds a run with a different config (differs in: {', '.join(changed)}); "
            "use a new --workdir, or the same config to resume",
        )
    return True


def _write_run_files(config: ml_collections.ConfigDict, workdir: str, command: str) -> None:
    atomic_write_text(os.path.join(workdir, CONFIG_FILE), config_lib.to_json(config))
    history = ""
    path = os.path.join(workdir, COMMAND_FILE)
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            history = f.read()
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S")
    atomic_write_text(path, f"{history}# {stamp}\n{command}\n")


def make_train_step(strategy: tf.distribute.Strategy, tasks: Sequence[Task],
                    model: keras.Model, optimizer: keras.optimizers.Optimizer,
                    input_names: tuple[str, ...]):
    """Builds the train step of a group of tasks trained on the same batches.

    The step is a tf.function taking the group's iterator. Each task's loss
    is its summed loss over the global batch divided by the global number of
    items (tokens or sentences), times its weight; the group's loss is their
    sum. Heads and layers the group does not reach get no update.

    Args:
        strategy: the distribution strategy.
        tasks: the tasks of the group (one, unless trained jointly).
        model: a model computing the group's logits (a dict keyed by task).
        optimizer: the optimizer, built on all the model's variables.
        input_names: the model's input features.

    Returns:
        ``train_step(iterator) -> (loss_sums, counts)``, one entry per task.
    """
    variables = model.trainable_variables

    def replica_step(batch):
        features = {name: batch[name] for name in input_names}
        context = tf.distribute.get_replica_context()
        sums, counts = [], []
        with tf.GradientTape() as tape:
            logits = model(features, training=True)
            loss = 0.0
            for task in tasks:
                loss_sum, count = task.loss(task_batch(batch, task.name), logits[task.name])
                total = context.all_reduce(tf.distribute.ReduceOp.SUM, count)
                loss += task.config.loss_weight * loss_sum / tf.maximum(total, 1.0)
                sums.append(loss_sum)
                counts.append(count)
        grads = tape.gradient(loss, variables)
        optimizer.apply_gradients(
            [(g, v) for g, v in zip(grads, variables, strict=True) if g is not None]
        )
        return tf.stack(sums), tf.stack(counts)

    @tf.function
    def train_step(iterator):
        sums, counts = strategy.run(replica_step, args=(next(iterator),))
        return (strategy.reduce(tf.distribute.ReduceOp.SUM, sums, axis=None),
                strategy.reduce(tf.distribute.ReduceOp.SUM, counts, axis=None))

    return train_step


def _train_dataset(experiment: Experiment, group: tuple[str, ...], index: int,
                   skip: int) -> tf.data.Dataset:
    t = experiment.config.training
    examples = experiment.train_examples(group)
    boundaries = None
    if t.buckets:
        boundaries = default_bucket_boundaries([len(e["words"]) for e in examples], t.buckets)
    dataset = make_dataset(
        examples, batch_size=t.batch_size, shuffle=True,
        seed=experiment.config.seed * 1009 + index, repeat=True, bucket_boundaries=boundaries,
    )
    return dataset.skip(skip)


def _group_sampler(experiment: Experiment, groups: list[tuple[str, ...]], reference: str):
    """The sampler over groups: a group weighs its largest mixing ratio and its size."""
    entries, sizes, reference_group = {}, {}, None
    for group in groups:
        name = "+".join(group)
        tasks = [experiment.task_by_name[task] for task in group]
        entries[name] = ml_collections.ConfigDict(
            {"mixing_ratio": max(task.config.mixing_ratio for task in tasks)}
        )
        sizes[name] = len(experiment.sentences(group[0], "train"))
        if reference in group:
            reference_group = name
    t = experiment.config.training
    return make_sampler(t.sampler, entries, sizes, reference_group, experiment.config.seed)


def build_model(experiment: Experiment) -> MultiTaskModel:
    return build_multitask_model(
        experiment.config.model, experiment.tasks, experiment.featurizer,
        seed=experiment.config.seed,
    )


def train_and_evaluate(config: ml_collections.ConfigDict, workdir: str,
                       command: str = "") -> dict:
    """Trains the multi-task model `config` describes and evaluates its best checkpoint.

    Resumes from the newest checkpoint in `workdir` when there is one, so a
    killed run restarted with the same command continues where it stopped.

    Args:
        config: a resolved config (see :func:`tfmtl.config.validate`).
        workdir: folder for checkpoints, vocabularies, logs and metrics.
        command: the command line, recorded in the workdir.

    Returns:
        The final metrics: ``{"dev": {task: scores}, "test": {...}, ...}``.
    """
    workdir = os.path.abspath(workdir)
    os.makedirs(workdir, exist_ok=True)
    resuming = check_resume(config, workdir)
    strategy = make_strategy(config.distribute)
    chief = is_chief(strategy)
    if chief:
        _write_run_files(config, workdir, command)
    keras.utils.set_random_seed(config.seed)

    if resuming and os.path.isdir(os.path.join(workdir, VOCAB_DIR)):
        experiment = Experiment.load_vocabularies(config, workdir)
    else:
        experiment = Experiment.create(config)
        if chief:
            experiment.save_vocabularies(workdir)
    tasks = experiment.tasks
    t = config.training
    for task in tasks:
        n = len(experiment.sentences(task.name, "train"))
        logging.info("task %s (%s): %d training sentences, %d labels, layer %d", task.name,
                     task.config.type, n, len(task.labels), task.layer(config.model.encoder.layers))

    with strategy.scope():
        model = build_model(experiment)
        optimizer = build_optimizer(t.optimizer, t.steps)
        optimizer.build(model.model.trainable_variables)
        state = RunState()
    checkpoints = Checkpoints(workdir, model.model, optimizer, state, keep=t.keep_checkpoints,
                              chief=chief)
    if checkpoints.restore_latest():
        logging.info("resumed from step %d", int(state.step.numpy()))
    start = int(state.step.numpy())

    reference = config_lib.reference_task(config)
    groups = [tuple(task.name for task in group) for group in experiment.groups(t.joint)]
    sampler = _group_sampler(experiment, groups, reference)
    logging.info("sampling probabilities: %s",
                 ", ".join(f"{n} {p:.3f}" for n, p in zip(sampler.names, sampler.p, strict=True)))
    consumed = sampler.counts(start)
    input_names = experiment.featurizer.input_names()
    iterators, steps = [], []
    for index, group in enumerate(groups):
        dataset = _train_dataset(experiment, group, index, int(consumed[index]))
        iterators.append(iter(strategy.experimental_distribute_dataset(dataset)))
        steps.append(make_train_step(
            strategy, [experiment.task_by_name[name] for name in group],
            model.submodel(group), optimizer, input_names,
        ))

    evaluator = Evaluator(experiment, model, t.eval_batch_size)
    writer = tf.summary.create_file_writer(os.path.join(workdir, TENSORBOARD_DIR)) if chief \
        else tf.summary.create_noop_writer()
    progress = Progress(t.steps, start)
    reference_task = experiment.task_by_name[reference]
    names = [task.name for task in tasks]
    members = [[names.index(name) for name in group] for group in groups]
    window_loss = np.zeros(len(tasks))
    window_count = np.zeros(len(tasks))
    window_steps = np.zeros(len(tasks))
    window_length = 0
    step = start
    stopped = bool(state.stopped.numpy())

    def evaluate_dev() -> None:
        nonlocal stopped
        results = evaluator.evaluate("dev")
        progress.message(f"step {step} " + format_metrics(results, "dev").replace(
            "\n", f"\nstep {step} "))
        with writer.as_default(step=step):
            for name, scores in results.items():
                for metric, value in scores.items():
                    tf.summary.scalar(f"{name}/dev_{metric}", value)
        value = results.get(reference, {}).get(reference_task.main_metric)
        if value is None:  # No reference dev set: the latest model is the best we know.
            state.best_step.assign(step)
            checkpoints.save_best(step)
        elif value > state.best_value.numpy():
            state.best_value.assign(value)
            state.best_step.assign(step)
            state.bad_evals.assign(0)
            checkpoints.save_best(step)
        else:
            state.bad_evals.assign_add(1)
            if t.patience and state.bad_evals.numpy() >= t.patience:
                stopped = True
                state.stopped.assign(True)
                progress.message(
                    f"early stop at step {step}: no {reference} dev {reference_task.main_metric} "
                    f"gain in {t.patience} evaluations (best {state.best_value.numpy():.2f} at "
                    f"step {state.best_step.numpy()})"
                )

    while step < t.steps and not stopped:
        index = sampler.task_at(step)
        sums, counts = steps[index](iterators[index])
        window_loss[members[index]] += sums.numpy()
        window_count[members[index]] += counts.numpy()
        window_steps[members[index]] += 1
        window_length += 1
        step += 1
        if step % t.log_every == 0 or step == t.steps:
            means = {n: window_loss[i] / window_count[i] for i, n in enumerate(names)
                     if window_count[i]}
            progress.update(step, means)
            with writer.as_default(step=step):
                for i, n in enumerate(names):
                    if window_count[i]:
                        tf.summary.scalar(f"{n}/loss", means[n])
                    tf.summary.scalar(f"{n}/sampling_rate", window_steps[i] / window_length)
                tf.summary.scalar("learning_rate",
                                  float(optimizer.learning_rate.numpy()))
            window_loss[:] = window_count[:] = window_steps[:] = 0
            window_length = 0
        if step % t.eval_every == 0 or step == t.steps:
            evaluate_dev()
        if step % t.checkpoint_every == 0 or step == t.steps or stopped:
            state.step.assign(step)
            checkpoints.save(step)
    writer.flush()

    restore_model(workdir, model.model, "best")
    final = {
        "reference_task": reference,
        "best_step": int(state.best_step.numpy()),
        "steps": step,
        "stopped_early": stopped,
        "dev": evaluator.evaluate("dev"),
        "test": evaluator.evaluate("test"),
    }
    if chief:
        atomic_write_text(os.path.join(workdir, METRICS_FILE), json.dumps(final, indent=2) + "\n")
    checkpoints.close()
    progress.message(f"best checkpoint: step {final['best_step']}")
    for split in ("dev", "test"):
        if final[split]:
            progress.message(format_metrics(final[split], split))
    return final
