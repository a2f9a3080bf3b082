"""TAG's inter-task affinities (Fifty et al. 2021), measured in the ``all`` step."""

from __future__ import annotations

import json
import os

import ml_collections
import numpy as np
import tensorflow as tf

from tfmtl.config import ConfigError
from tfmtl.files import atomic_write_text
from tfmtl.training.callbacks import CALLBACKS, Callback

#: Where the run's affinities are written at its end (``{"tasks": [...], "affinity":
#: {i: {j: Z}}, "measurements": n, "every": k}``).
AFFINITY_FILE = "affinity.json"
#: One line per measurement (``{"step": s, "affinity": {i: {j: Z}}}``), appended as the
#: run goes; a resumed run measures the steps after its checkpoint again (the same values:
#: the step is replayed) and the last line of a step wins.
MEASUREMENTS_FILE = "affinity_steps.jsonl"


@CALLBACKS.register("tag_affinity")
class TagAffinity(Callback):
    """Every ``every`` steps of the ``all`` step, for each task i: the shared variables
    take, in place, the lookahead step of i's gradient alone, ``theta' = theta - lr g_i``
    (``lr`` the optimizer's learning rate at that step), every task j's loss is taken on the
    step's batch before and after that step, ``Z(i->j) = 1 - L_j(theta') / L_j(theta)``, and
    the variables are put back. All these passes draw the same dropout masks (the model's
    non-trainable state is set back to one value before each), and that state is put back
    after, so a run with the callback trains exactly as one without it.
    ``Z`` is averaged over the run's measurements and written to ``affinity.json`` in the
    workdir (and each measurement to TensorBoard as ``affinity/<i>/<j>``): positive when i's
    step helps j.

    Reference:
        Fifty, Amid, Zhao, Yu, Anil and Finn, "Efficiently Identifying Task Groupings for
        Multi-Task Learning", NeurIPS 2021.
    """

    @classmethod
    def default_config(cls):
        c = ml_collections.ConfigDict()
        c.every = 10  # Steps between measurements (the first step is measured).
        return c

    @classmethod
    def check_config(cls, config, key, run_config):
        if not isinstance(config.every, int) or config.every < 1:
            raise ConfigError(f"{key}.every", f"an integer >= 1, got {config.every!r}")
        if run_config.training.step != "all":
            raise ConfigError("config.training.step", "the tag_affinity callback measures "
                              "in the 'all' step (every task's loss on every step); set "
                              "config.training.step='all'")
        if len(run_config.tasks) < 2:
            raise ConfigError(f"{key}", "affinities need at least two tasks")
        if run_config.distribute.strategy != "default":
            # Its lookahead assigns the shared variables in replica context.
            raise ConfigError("config.distribute.strategy", "the tag_affinity callback "
                              "measures on the default strategy only")

    def on_train_begin(self, run):
        self.experiment = run.experiment
        self.names = [task.name for task in run.experiment.tasks]
        self.shared = run.model.shared_variables
        self.path = os.path.join(run.workdir, MEASUREMENTS_FILE)
        self.chief = run.chief
        self.writer = run.writer

    def in_step(self, context):
        optimizer = context.optimizer
        due = tf.equal(optimizer.iterations % self.config.every, 0)
        # Scalars (the loop reads each as a float): "measured", "before/<j>" (L_j(theta))
        # and "after/<i>/<j>" (L_j after i's lookahead step).
        return tf.cond(due, lambda: self._measure(context),
                       lambda: {key: tf.constant(0.0) for key in self._keys()})

    def _keys(self) -> list[str]:
        return ["measured", *(f"before/{j}" for j in self.names),
                *(f"after/{i}/{j}" for i in self.names for j in self.names if i != j)]

    def _losses(self, context, state) -> tf.Tensor:
        """Every task's loss on the step's batches (training mode), the model's non-trainable
        state set to `state` first, as a [K] vector (this replica's share of the means)."""
        from tfmtl.training.steps import task_losses  # (The steps import the callbacks.)

        model = context.model.model
        for variable, value in zip(model.non_trainable_variables, state, strict=True):
            variable.assign(value)
        input_names = self.experiment.featurizer.input_names()
        losses = {}
        for key, batch in context.batches.items():
            group = [self.experiment.task_by_name[name] for name in key]
            outputs = model({name: batch[name] for name in input_names}, training=True)
            losses.update(task_losses(group, batch, outputs, {}))
        return tf.stack([tf.cast(losses[name], tf.float32) for name in self.names])

    def _measure(self, context):
        model = context.model.model
        # The state the step's forward passes started from is gone (their dropout generators
        # moved on); this one serves every pass here, so they draw the same masks, and is
        # put back at the end. (Default strategy only: no all-reduce; see check_config.)
        state = [tf.identity(v) for v in model.non_trainable_variables]
        shared = self.shared
        saved = [tf.identity(v) for v in shared]
        lr = tf.cast(_learning_rate(context.optimizer), tf.float32)
        before = self._losses(context, state)
        rows = []
        for name in self.names:
            grads = context.tape.gradient(context.losses[name], shared)
            for variable, grad, value in zip(shared, grads, saved, strict=True):
                if grad is not None:
                    variable.assign(value - lr * tf.convert_to_tensor(grad))
            rows.append(self._losses(context, state))
            for variable, value in zip(shared, saved, strict=True):
                variable.assign(value)
        for variable, value in zip(model.non_trainable_variables, state, strict=True):
            variable.assign(value)
        out = {"measured": tf.constant(1.0)}
        for b, j in enumerate(self.names):
            out[f"before/{j}"] = before[b]
        for a, i in enumerate(self.names):
            for b, j in enumerate(self.names):
                if a != b:
                    out[f"after/{i}/{j}"] = rows[a][b]
        return out

    def on_step_end(self, run, logs):
        values = logs.get("in_step", {}).get(type(self).__name__)
        if not values or float(values["measured"]) == 0.0:
            return
        affinity = {i: {j: 1.0 - float(values[f"after/{i}/{j}"]) / max(
            float(values[f"before/{j}"]), 1e-12) for j in self.names if j != i}
            for i in self.names}
        if self.chief:
            with open(self.path, "a", encoding="utf-8") as f:
                f.write(json.dumps({"step": run.step - 1, "affinity": affinity}) + "\n")
            with self.writer.as_default(step=run.step):
                for i, row in affinity.items():
                    for j, value in row.items():
                        tf.summary.scalar(f"affinity/{i}/{j}", value)

    def on_train_end(self, run):
        if not self.chief:
            return
        affinity, count = read_affinity_measurements(self.path, self.names, run.step)
        atomic_write_text(os.path.join(run.workdir, AFFINITY_FILE), json.dumps({
            "tasks": self.names, "affinity": affinity, "measurements": count,
            "every": self.config.every}, indent=1) + "\n")


def _learning_rate(optimizer):
    rate = optimizer.learning_rate
    return rate(optimizer.iterations) if callable(rate) else rate


def read_affinity_measurements(path: str, names, steps: int) -> tuple[dict, int]:
    """The mean affinity over the measurements in `path` at steps below `steps` (the last
    line of a step wins), and how many steps were measured."""
    by_step = {}
    if os.path.isfile(path):
        with open(path, encoding="utf-8") as f:
            for line in f:
                line = line.strip()
                if not line:
                    continue
                try:
                    entry = json.loads(line)
                except json.JSONDecodeError:
                    continue  # A line cut short by a kill.
                if entry["step"] < steps:
                    by_step[entry["step"]] = entry["affinity"]
    mean = {i: {j: float(np.mean([m[i][j] for m in by_step.values()])) if by_step else 0.0
                for j in names if j != i} for i in names}
    return mean, len(by_step)
