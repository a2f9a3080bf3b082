"""The progress line and the TensorBoard summaries of a run."""

from __future__ import annotations

import sys

import keras
import tensorflow as tf

from tfmtl.training.callbacks import CALLBACKS, Callback
from tfmtl.training.evaluation import format_metrics


@CALLBACKS.register("summaries")
class Summaries(Callback):
    """Every ``log_every`` steps: each named loss's mean over the window (on a
    ``keras.utils.Progbar`` line and as TensorBoard ``<name>/loss``), each task's
    sampling rate and the learning rate; after each evaluation, the dev metrics
    (a line per task and ``<task>/dev_<metric>``). In-step callback outputs and
    the weighting's metrics are logged as they are.
    """

    built_in = True

    def on_train_begin(self, run):
        self.names = [task.name for task in run.experiment.tasks]
        self.sums: dict[str, float] = {}
        self.counts: dict[str, float] = {}
        self.trained = dict.fromkeys(self.names, 0)
        self.window = 0
        self.bar = keras.utils.Progbar(run.total_steps, stateful_metrics=None, interval=0.0,
                                       unit_name="step")
        self.bar.update(run.start)

    def on_step_end(self, run, logs):
        for name, (total, count) in logs["losses"].items():
            self.sums[name] = self.sums.get(name, 0.0) + float(total)
            self.counts[name] = self.counts.get(name, 0.0) + float(count)
        for name in logs["tasks"]:
            self.trained[name] += 1
        self.window += 1
        t = run.config.training
        if run.step % t.log_every and run.step != t.steps:
            return
        means = {name: self.sums[name] / self.counts[name] for name in self.sums
                 if self.counts[name]}
        values = [(f"{n}_loss", v) for n, v in means.items()]
        # The window's means as they are (Progbar would average stateless values over
        # the whole run).
        self.bar.stateful_metrics.update(name for name, _ in values)
        self.bar.update(run.step, values=values)
        if not sys.stdout.isatty():  # One line per update in logs.
            sys.stdout.write("\n")
            sys.stdout.flush()
        with run.writer.as_default(step=run.step):
            for name, value in means.items():
                tf.summary.scalar(f"{name}/loss", value)
            for name in self.names:
                tf.summary.scalar(f"{name}/sampling_rate", self.trained[name] / self.window)
            tf.summary.scalar("learning_rate", float(run.optimizer.learning_rate.numpy()))
            if run.weighting is not None:
                for name, value in run.weighting.metrics().items():
                    tf.summary.scalar(f"weighting/{name}", float(value))
            for callback, values in logs.get("in_step", {}).items():
                for name, value in values.items():
                    tf.summary.scalar(f"{callback}/{name}", float(value))
        self.sums, self.counts = {}, {}
        self.trained = dict.fromkeys(self.names, 0)
        self.window = 0

    def on_eval_end(self, run, results):
        message(f"step {run.step} " + format_metrics(results, "dev").replace(
            "\n", f"\nstep {run.step} "))
        with run.writer.as_default(step=run.step):
            for name, scores in results.items():
                for metric, value in scores.items():
                    tf.summary.scalar(f"{name}/dev_{metric}", value)

    def on_train_end(self, run):
        run.writer.flush()


def message(text: str) -> None:
    """Prints a line of the run (dev metrics, early stopping) to stderr."""
    sys.stderr.write(text + "\n")
    sys.stderr.flush()
