"""Keeping the checkpoint with the best dev score."""

from __future__ import annotations

import statistics

from tfmtl import config as config_lib
from tfmtl.training.callbacks import CALLBACKS, Callback
from tfmtl.training.evaluation import delta_m_report


def dev_delta_m(run, results: dict) -> dict | None:
    """The dev Δm over ``config.training.baselines`` (:func:`tfmtl.training.evaluation.
    delta_m_report`), or None without baselines or when a task of them has no dev set."""
    baselines = run.config.training.baselines
    if not baselines or any(name not in results for name in baselines):
        return None
    return delta_m_report(run.experiment.tasks, results, baselines.to_dict())


def dev_score(run, results: dict) -> tuple[float | None, str]:
    """The dev score that selects checkpoints (``config.training.select``) and what it is:
    the reference task's main metric, the mean of the exported tasks' main metrics, the
    Δm over the baselines (None when a task it needs has no dev set), or minus the mean of
    the tasks' dev losses, each divided by its ``loss_baselines`` entry."""
    if run.config.training.select == "delta_m":
        delta = dev_delta_m(run, results)
        what = "dev Δm over " + "/".join(run.config.training.baselines.keys())
        return (None if delta is None else delta["value"]), what
    if run.config.training.select == "loss":
        tasks = [task for task in run.experiment.tasks if task.name in results]
        divisors = run.config.training.loss_baselines
        values = [results[t.name]["loss"] / divisors.get(t.name, 1.0) for t in tasks]
        what = "minus the mean dev loss" + (" relative to the baselines'" if divisors else "")
        # Negated: the best checkpoint has the highest score.
        return (-statistics.mean(values) if values else None), what
    if run.config.training.select == "mean":
        tasks = [task for task in run.experiment.tasks if task.exported]
        values = [_higher_is_better(task, results) for task in tasks]
        what = "mean dev " + "/".join(f"{t.name} {_shown(t)}" for t in tasks)
        return (None if any(v is None for v in values) else statistics.mean(values)), what
    task = run.experiment.task_by_name[config_lib.reference_task(run.config)]
    return _higher_is_better(task, results), f"{task.name} dev {_shown(task)}"


def _higher_is_better(task, results: dict) -> float | None:
    """The task's main dev metric, negated when lower is better (perplexity), so that the
    best checkpoint is always the one with the highest score."""
    value = results.get(task.name, {}).get(task.main_metric)
    if value is not None and task.main_metric in task.lower_is_better:
        return -value
    return value


def _shown(task) -> str:
    metric = task.main_metric
    return f"-{metric}" if metric in task.lower_is_better else metric


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
