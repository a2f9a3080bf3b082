"""Checkpoints that a killed run resumes from, and the best model."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile

import tensorflow as tf

from tfmtl.experiment.weights import BEST_DIR, CHECKPOINT_DIR, restore_model


class RunState(tf.Module):
    """Training progress saved with every checkpoint."""

    def __init__(self):
        super().__init__(name="run_state")
        self.step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step")
        self.best_value = tf.Variable(float("-inf"), dtype=tf.float64, trainable=False,
                                      name="best_value")
        self.best_step = tf.Variable(-1, dtype=tf.int64, trainable=False, name="best_step")
        self.bad_evals = tf.Variable(0, dtype=tf.int64, trainable=False, name="bad_evals")
        self.stopped = tf.Variable(False, trainable=False, name="stopped")


class Checkpoints:
    """The resumable checkpoints of a run and its best model.

    ``workdir/checkpoints`` holds the last few full checkpoints (model,
    optimizer, run state); ``workdir/best`` holds the model with the best
    reference dev score. TensorFlow writes a checkpoint's files before it
    atomically updates the pointer file, so a run killed while saving resumes
    from the previous checkpoint. In multi-worker training every worker saves
    (the collectives need it) but only the chief writes into the workdir; the
    others save into a scratch folder of their own (:func:`scratch_dir`),
    removed by :meth:`close` and, after a worker was killed, when it restarts.
    Every worker resumes from the chief's checkpoints.

    Args:
        workdir: the run's folder.
        model: the Keras model.
        optimizer: the optimizer (None for read-only use).
        state: the run state (None for read-only use).
        keep: resumable checkpoints to keep.
        chief: whether this worker owns the workdir
            (``strategy.extended.should_checkpoint``).
        extra: more trackables saved in the resumable checkpoints (a weighting's state).
        worker: this worker's index (names its scratch folder off the chief).
    """

    def __init__(self, workdir: str, model, optimizer=None, state: RunState | None = None,
                 keep: int = 2, chief: bool = True, extra: dict | None = None,
                 worker: int = 0):
        self.chief = chief
        self._scratch = None if chief else scratch_dir(workdir, worker)
        if self._scratch:
            shutil.rmtree(self._scratch, ignore_errors=True)  # what a killed worker left
            os.makedirs(self._scratch)
        root = self._scratch or workdir
        self._model = model
        # Keras 3 does not expose its layers' random seed generators (dropout) to checkpoint
        # tracking: save the model's non-trainable variables explicitly, or a resumed run
        # would draw other dropout masks than an uninterrupted one.
        kwargs = {"model": model,
                  "model_state": [v.value for v in model.non_trainable_variables]}
        if optimizer is not None:
            kwargs["optimizer"] = optimizer
        if state is not None:
            kwargs["state"] = state
        kwargs.update(extra or {})
        self.checkpoint = tf.train.Checkpoint(**kwargs)
        self.manager = tf.train.CheckpointManager(
            self.checkpoint, os.path.join(root, CHECKPOINT_DIR), max_to_keep=keep
        )
        self.best_checkpoint = tf.train.Checkpoint(model=model)
        self.best_manager = tf.train.CheckpointManager(
            self.best_checkpoint, os.path.join(root, BEST_DIR), max_to_keep=1
        )
        self.workdir = workdir

    def restore_latest(self) -> bool:
        """Restores the newest resumable checkpoint of the chief; False when there is none."""
        latest = tf.train.latest_checkpoint(os.path.join(self.workdir, CHECKPOINT_DIR))
        if latest is None:
            return False
        self.checkpoint.restore(latest).assert_existing_objects_matched()
        return True

    def restore_best(self) -> str:
        """Loads the best model's weights into the model; returns the checkpoint's path.

        This worker's own best checkpoint, when it saved one in this session (off the
        chief, the scratch copy of the chief's: the same weights, read without racing the
        chief's writes), else the workdir's (``restore_model``: best, else latest).
        """
        path = self.best_manager.latest_checkpoint
        if path is None:
            return restore_model(self.workdir, self._model, "best")
        self.best_checkpoint.restore(path).expect_partial().assert_existing_objects_matched()
        return path

    def save(self, step: int) -> None:
        self.manager.save(checkpoint_number=step)

    def save_best(self, step: int) -> None:
        self.best_manager.save(checkpoint_number=step)

    def close(self) -> None:
        if self._scratch:
            shutil.rmtree(self._scratch, ignore_errors=True)


def scratch_dir(workdir: str, worker: int) -> str:
    """The folder a worker other than the chief saves its checkpoints into.

    In the system's temporary folder, named after the workdir and the worker's index, so
    that a worker restarted after being killed finds and removes the one it left.
    """
    digest = hashlib.sha256(os.path.abspath(workdir).encode()).hexdigest()[:16]
    return os.path.join(tempfile.gettempdir(), f"tfmtl-worker{worker}-{digest}")
