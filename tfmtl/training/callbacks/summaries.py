"""The progress line and the TensorBoard summaries of a run."""

from __future__ import annotations

import sys
import time

import keras
import tensorflow as tf

from tfmtl.models.sharing import mixing_weights
from tfmtl.training.callbacks import CALLBACKS, Callback
from tfmtl.training.callbacks.best_checkpoint import dev_delta_m
from tfmtl.training.callbacks.gradient_reversal import gradient_reversal_layers
from tfmtl.training.evaluation import format_delta_m, format_metrics


def progress_line(step: int, total: int, values, since: float, since_step: int,
                  now: float) -> str:
    """``step 1700/8000 - 231ms/step - ETA 24:15 - chunk_loss: 0.1356 - ...``: the speed
    over the steps since the last line."""
    parts = [f"step {step}/{total}"]
    if step > since_step:
        per_step = (now - since) / (step - since_step)
        eta = int(round(per_step * (total - step)))
        hours, rest = divmod(eta, 3600)
        clock = f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else (
            f"{rest // 60}:{rest % 60:02d}")
        parts += [f"{per_step * 1000:.0f}ms/step", f"ETA {clock}"]
    parts += [f"{name}: {value:.4f}" for name, value in values]
    return " - ".join(parts)


@CALLBACKS.register("summaries")
class Summaries(Callback):
    """Every ``log_every`` steps: each named loss's mean over the window (on a
    ``keras.utils.Progbar`` line and as TensorBoard ``<name>/loss``), each task's
    sampling rate and the learning rate; after each evaluation, the dev metrics
    (a line per task and ``<task>/dev_<metric>``) and, with ``training.baselines``, the
    dev Δm (a line and ``dev_delta_m``). In-step callback outputs and
    the weighting's metrics are logged as they are, and so are the learned sharing
    weights (cross-stitch and sluice alphas, sluice betas) as ``sharing/<layer>/<entry>``
    and each gradient-reversal layer's lambda in the last step as
    ``gradient_reversal/<layer>``.
    """

    built_in = True

    def on_train_begin(self, run):
        self.names = [task.name for task in run.experiment.tasks]
        self.sums: dict[str, float] = {}
        self.counts: dict[str, float] = {}
        self.trained = dict.fromkeys(self.names, 0)
        self.window = 0
        # On a terminal, Keras' progress bar; in a log (a file, a pipe), plain lines: the bar
        # redraws itself with carriage returns and ANSI codes, which a log keeps as garbage.
        self.bar = None
        if sys.stdout.isatty():
            self.bar = keras.utils.Progbar(run.total_steps, stateful_metrics=None,
                                           interval=0.0, unit_name="step")
            self.bar.update(run.start)
        self.line_start = (time.monotonic(), run.start)
        self.reversals = gradient_reversal_layers(run.model.model)

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
        means = {name: self.sums[name] / self.counts[name] for name in sorted(self.sums)
                 if self.counts[name]}  # Sorted: the same order on every line.
        values = [(f"{n}_loss", v) for n, v in means.items()]
        if self.bar is not None:
            # The window's means as they are (Progbar would average stateless values over
            # the whole run).
            self.bar.stateful_metrics.update(name for name, _ in values)
            self.bar.update(run.step, values=values)
        else:
            sys.stdout.write(progress_line(run.step, run.total_steps, values,
                                           *self.line_start, time.monotonic()) + "\n")
            sys.stdout.flush()
            self.line_start = (time.monotonic(), run.step)
        with run.writer.as_default(step=run.step):
            for name, value in means.items():
                tf.summary.scalar(f"{name}/loss", value)
            for name in self.names:
                tf.summary.scalar(f"{name}/sampling_rate", self.trained[name] / self.window)
            tf.summary.scalar("learning_rate", float(run.optimizer.learning_rate.numpy()))
            if isinstance(run.optimizer, keras.optimizers.LossScaleOptimizer):  # mixed_float16
                tf.summary.scalar("loss_scale", float(run.optimizer.dynamic_scale.numpy()))
            if run.weighting is not None:
                for name, value in run.weighting.metrics().items():
                    tf.summary.scalar(f"weighting/{name}", float(value))
            for callback, values in logs.get("in_step", {}).items():
                for name, value in values.items():
                    tf.summary.scalar(f"{callback}/{name}", float(value))
            for name, value in mixing_weights(run.model.model).items():
                tf.summary.scalar(f"sharing/{name}", value)
            for layer in self.reversals:
                tf.summary.scalar(f"gradient_reversal/{layer.name}",
                                  float(layer.current_lambda()))
        self.sums, self.counts = {}, {}
        self.trained = dict.fromkeys(self.names, 0)
        self.window = 0

    def on_eval_end(self, run, results):
        message(f"step {run.step} " + format_metrics(results, "dev").replace(
            "\n", f"\nstep {run.step} "))
        delta = dev_delta_m(run, results)
        if delta is not None:
            message(f"step {run.step} " + format_delta_m(delta, "dev"))
        with run.writer.as_default(step=run.step):
            for name, scores in results.items():
                for metric, value in scores.items():
                    tf.summary.scalar(f"{name}/dev_{metric}", value)
            if delta is not None:
                tf.summary.scalar("dev_delta_m", delta["value"])

    def on_train_end(self, run):
        run.writer.flush()


def message(text: str) -> None:
    """Prints a line of the run (dev metrics, early stopping) to stderr."""
    sys.stderr.write(text + "\n")
    sys.stderr.flush()
