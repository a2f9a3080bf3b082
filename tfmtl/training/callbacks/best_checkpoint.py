"""Keeping the checkpoint with the best dev score."""

from __future__ import annotations

import statistics

from tfmtl import config as config_lib
from tfmtl.training.callbacks import CALLBACKS, Callback


def dev_score(run, results: dict) -> tuple[float | None, str]:
    """The dev score that selects checkpoints (``config.training.select``) and what it is:
    the reference task's main metric, or the mean of the exported tasks' main metrics
    (None when a task it needs has no dev set)."""
    if run.config.training.select == "mean":
        tasks = [task for task in run.experiment.tasks if task.exported]
        values = [results.get(task.name, {}).get(task.main_metric) for task in tasks]
        what = "mean dev " + "/".join(f"{t.name} {t.main_metric}" for t in tasks)
        return (None if any(v is None for v in values) else statistics.mean(values)), what
    reference = config_lib.reference_task(run.config)
    metric = run.experiment.task_by_name[reference].main_metric
    return results.get(reference, {}).get(metric), f"{reference} dev {metric}"


@CALLBACKS.register("best_checkpoint")
class BestCheckpoint(Callback):
    """After each evaluation, saves the model to ``workdir/best`` when the dev score
    (:func:`dev_score`) improved (or when there is no dev set: the latest is the
    best known), and counts evaluations without a gain in ``state.bad_evals``."""

    built_in = True

    def on_eval_end(self, run, results):
        value, _ = dev_score(run, results)
        state = run.state
        if value is None:
            state.best_step.assign(run.step)
            run.checkpoints.save_best(run.step)
        elif value > state.best_value.numpy():
            state.best_value.assign(value)
            state.best_step.assign(run.step)
            state.bad_evals.assign(0)
            run.checkpoints.save_best(run.step)
        else:
            state.bad_evals.assign_add(1)
