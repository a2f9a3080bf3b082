"""Predicting and scoring every task on a split, in training and of a trained workdir."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping, Sequence

import numpy as np
import tensorflow as tf

from tfmtl.data.pipeline import make_dataset
from tfmtl.experiment import Experiment, restore_model
from tfmtl.files import atomic_write_text
from tfmtl.metrics.delta_m import DeltaM, delta_m
from tfmtl.models.multitask_model import MultiTaskModel
from tfmtl.tasks.base import Task

#: What tfmtl-train writes into a workdir: the best checkpoint's dev and test metrics
#: (tfmtl.training.trainer.METRICS_FILE).
TRAINED_METRICS_FILE = "metrics.json"


class Evaluator:
    """Runs each task's model over a split in order and scores its predictions.

    Args:
        experiment: tasks, vocabularies and data.
        model: the multi-task model.
        batch_size: sentences per prediction batch.
        losses: whether :meth:`evaluate` scores each task's loss too (``loss``: its named
            losses' weighted means over the split, as a training step sums them, in
            inference mode).
    """

    def __init__(self, experiment: Experiment, model: MultiTaskModel, batch_size: int,
                 losses: bool = False):
        self.experiment = experiment
        self.batch_size = batch_size
        self.losses = losses
        self.input_names = experiment.featurizer.input_names()
        # One trace per task: batch, sentence and word lengths vary from batch to batch.
        signature = [{name: tf.TensorSpec([None] * (2 if name == "words" else 3), tf.int32)
                      for name in self.input_names}]
        self._predict = {}
        for task in experiment.tasks:
            task_model = model.task_models[task.name]
            self._predict[task.name] = tf.function(
                lambda features, task=task, task_model=task_model: task.predict(
                    task_model(features, training=False)
                ),
                input_signature=signature,
            )

        self._loss = {}
        for task in experiment.tasks:
            task_model = model.task_models[task.name]
            self._loss[task.name] = tf.function(
                lambda batch, task=task, task_model=task_model: {
                    name: (loss.total, loss.count, tf.constant(loss.weight, tf.float32))
                    for name, loss in task.losses(
                        batch, task_model({n: batch[n] for n in self.input_names},
                                          training=False)).items()},
                reduce_retracing=True)

    def loss(self, task_name: str, examples: Sequence[dict]) -> float:
        """The task's loss over `examples`: each named loss's total over count on the
        whole set, times its weight, summed."""
        sums: dict[str, list[float]] = {}
        for batch in make_dataset(examples, batch_size=self.batch_size):
            for name, (total, count, weight) in self._loss[task_name](batch).items():
                entry = sums.setdefault(name, [0.0, 0.0, 1.0])
                entry[0] += float(total)
                entry[1] += float(count)
                entry[2] = float(weight)
        return math.fsum(weight * total / max(count, 1.0)
                         for total, count, weight in sums.values())

    def predict(self, task_name: str, examples: Sequence[dict]) -> list[np.ndarray]:
        """Predicted label ids per example (per token for token-level tasks)."""
        if not examples:
            return []
        dataset = make_dataset(examples, batch_size=self.batch_size)
        predictions: list[np.ndarray] = []
        for batch in dataset:
            features = {name: batch[name] for name in self.input_names}
            ids = self._predict[task_name](features).numpy()
            lengths = batch["lengths"].numpy()
            if self.experiment.task_by_name[task_name].predicts_tokens:  # Trim the padding.
                predictions.extend(row[:n] for row, n in zip(ids, lengths, strict=True))
            else:
                predictions.extend(ids)
        return predictions

    def evaluate(self, split: str, task_names: Sequence[str] | None = None
                 ) -> dict[str, dict[str, float]]:
        """Scores the named tasks (default: all) on `split`; tasks without data are left out."""
        results = {}
        for task in self.experiment.tasks:
            if task_names is not None and task.name not in task_names:
                continue
            sentences = self.experiment.sentences(task.name, split)
            if not sentences:
                continue
            examples = self.experiment.examples(task.name, split)
            predictions = self.predict(task.name, examples)
            oov = [self.experiment.featurizer.oov(e["words"]) for e in examples]
            results[task.name] = task.evaluate(sentences, predictions, oov)
            if self.losses:
                results[task.name]["loss"] = self.loss(task.name, examples)
        return results


def format_metrics(results: dict[str, dict[str, float]], split: str) -> str:
    """One line per task: ``split task: name value, ...``."""
    lines = []
    for task, scores in results.items():
        shown = ", ".join(
            f"{k} {v:.2f}" for k, v in scores.items() if k not in ("tokens", "oov_tokens",
                                                                   "examples")
        )
        lines.append(f"{split} {task}: {shown}")
    return "\n".join(lines)


def main_metric_delta_m(tasks: Sequence[Task], results: Mapping[str, Mapping[str, float]],
                        baselines: Mapping[str, float]) -> DeltaM:
    """Δm (:func:`tfmtl.metrics.delta_m`) of `results` over the tasks of `baselines`, each
    on its main metric, in that metric's direction (:attr:`Task.lower_is_better`).

    Args:
        tasks: the tasks (those of `baselines` among them).
        results: scores per task, as :meth:`Evaluator.evaluate` gives them.
        baselines: task name -> the baseline's value of the task's main metric.

    Raises:
        ValueError: a task of `baselines` without its main metric in `results`, or a
            baseline of 0.
    """
    by_name = {task.name: task for task in tasks}
    chosen = [by_name[name] for name in baselines]
    scores = {task.name: results[task.name][task.main_metric] for task in chosen
              if task.main_metric in results.get(task.name, {})}
    lower = [task.name for task in chosen if task.main_metric in task.lower_is_better]
    return delta_m(scores, baselines, lower)


def delta_m_report(tasks: Sequence[Task], results: Mapping[str, Mapping[str, float]],
                   baselines: Mapping[str, float]) -> dict:
    """:func:`main_metric_delta_m` as a report writes it: ``{"value": Δm, "per_task":
    {task: relative change}, "baselines": {task: value}, "metrics": {task: main metric}}``
    (changes in percent, positive = better)."""
    delta = main_metric_delta_m(tasks, results, baselines)
    by_name = {task.name: task for task in tasks}
    return {"value": delta.value, "per_task": delta.per_task, "baselines": dict(baselines),
            "metrics": {name: by_name[name].main_metric for name in baselines}}


def format_delta_m(report: Mapping, split: str) -> str:
    """``split Δm: +1.25% (task metric +12.50%, ...)`` of a :func:`delta_m_report`."""
    terms = ", ".join(f"{task} {report['metrics'][task]} {change:+.2f}%"
                      for task, change in report["per_task"].items())
    return f"{split} Δm: {report['value']:+.2f}% ({terms})"


def read_baselines(spec: str) -> dict[str, float | str]:
    """The baselines tfmtl-evaluate's ``--baselines`` names: ``task=VALUE,task=VALUE`` or a
    JSON file ``{"task": VALUE, ...}``. A VALUE is the baseline's score of the task's main
    metric, or the path of the baseline's trained workdir (kept as a string, read by
    :func:`evaluation_report`).

    Raises:
        ValueError: naming ``--baselines`` (and the entry) when `spec` is neither.
    """
    if os.path.isfile(spec):
        try:
            with open(spec, encoding="utf-8") as f:
                entries = json.load(f)
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
            raise ValueError(f"--baselines: {spec}: not a JSON file: {e}") from None
        if not isinstance(entries, dict):
            raise ValueError(f"--baselines: {spec}: expected a JSON object "
                             "{\"task\": value, ...}")
        entries = list(entries.items())
    elif "=" in spec:
        entries = []
        for entry in spec.split(","):
            task, sep, value = (part.strip() for part in entry.partition("="))
            if not sep or not task or not value:
                raise ValueError(f"--baselines: {entry!r} is not task=VALUE")
            entries.append((task, value))
    else:
        raise ValueError(f"--baselines: {spec!r} is neither task=VALUE,... nor a JSON file")
    baselines: dict[str, float | str] = {}
    for task, value in entries:
        if task in baselines:
            raise ValueError(f"--baselines: task {task!r} given twice")
        if isinstance(value, str):
            try:
                value = float(value)
            except ValueError:
                pass  # A workdir.
        elif isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"--baselines: {task}: {value!r} is neither a number nor a "
                             "workdir")
        baselines[task] = float(value) if not isinstance(value, str) else value
    if not baselines:
        raise ValueError(f"--baselines: {spec}: no task")
    return baselines


def _eval_file(split: str) -> str:
    return f"eval_{split}.json"


def _workdir_score(workdir: str, task: str, metric: str, split: str) -> float:
    """The `split` `metric` of `task` in a trained workdir: from ``metrics.json`` (what
    tfmtl-train scored, the best checkpoint), else ``eval_<split>.json`` (tfmtl-evaluate's)."""
    if not os.path.isdir(workdir):
        raise ValueError(f"--baselines: {task}={workdir}: neither a number nor a workdir")
    tried = []
    for name in (TRAINED_METRICS_FILE, _eval_file(split)):
        path = os.path.join(workdir, name)
        if not os.path.isfile(path):
            continue
        tried.append(name)
        try:
            with open(path, encoding="utf-8") as f:
                report = json.load(f)
            scores = report[split] if name == TRAINED_METRICS_FILE else report["metrics"]
            value = scores[task][metric]
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError):
            continue
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
    raise ValueError(f"--baselines: {task}={workdir}: no {split} {metric} of task {task!r} "
                     f"in {' or '.join(tried) if tried else 'the workdir'} (looked for "
                     f"{TRAINED_METRICS_FILE} and {_eval_file(split)})")


def _resolve_baselines(experiment: Experiment, baselines: Mapping[str, float | str],
                       tasks: Sequence[str] | None, split: str) -> dict[str, float]:
    """The baselines as numbers (a workdir's read), checked against the tasks to score."""
    unknown = sorted(set(baselines) - set(experiment.task_by_name))
    if unknown:
        raise ValueError(f"--baselines: unknown task(s) {', '.join(unknown)}; "
                         f"known: {', '.join(experiment.task_by_name)}")
    scored = [task for task in experiment.tasks if (not tasks or task.name in tasks)
              and experiment.sentences(task.name, split)]
    unscored = [name for name in baselines if name not in {task.name for task in scored}]
    if unscored:
        raise ValueError(f"--baselines: task(s) {', '.join(unscored)} not scored (left out "
                         f"by --tasks, or no {split} data); drop their baselines")
    missing = [task.name for task in scored if task.exported and task.name not in baselines]
    if missing:
        raise ValueError(f"--baselines: no baseline for task(s) {', '.join(missing)}; every "
                         "scored task that an export serves needs one")
    resolved = {}
    for name, value in baselines.items():
        metric = experiment.task_by_name[name].main_metric
        if isinstance(value, str):
            value = _workdir_score(value, name, metric, split)
        if not math.isfinite(value) or value <= 0:
            raise ValueError(f"--baselines: task {name!r}: the baseline {metric} must be a "
                             f"number > 0 (Δm divides by it), got {value!r}")
        resolved[name] = value
    return resolved


def evaluation_report(workdir: str, split: str = "test", checkpoint: str = "best",
                      tasks: Sequence[str] | None = None,
                      baselines: Mapping[str, float | str] | None = None) -> dict:
    """Loads a trained run from `workdir`, scores its tasks on `split` and writes the report
    into the workdir as ``eval_{split}.json``.

    With `baselines`, the report holds the Δm over them (:func:`main_metric_delta_m`).
    Every scored task that an export serves (:attr:`Task.exported`) needs a baseline;
    another (an auxiliary objective) enters Δm only when it has one.

    Args:
        workdir: a workdir written by tfmtl-train.
        split: "train", "dev" or "test".
        checkpoint: "best" or "latest".
        tasks: task names to evaluate (default: all).
        baselines: task name -> the baseline's `split` score of the task's main metric, or
            the path of the baseline's trained workdir, whose score is read from its
            ``metrics.json`` (or ``eval_{split}.json``); see :func:`read_baselines`.

    Returns:
        ``{"checkpoint": path, "split": split, "metrics": {task: scores}}``, and with
        `baselines` ``"delta_m"``: the :func:`delta_m_report`.

    Raises:
        ValueError: naming ``--tasks`` or ``--baselines``: an unknown task, a task with a
            baseline that is not scored, a scored exported task without one, a baseline
            that is not > 0, a workdir without the score.
    """
    experiment = Experiment.restore(workdir)
    if tasks:
        unknown = sorted(set(tasks) - set(experiment.task_by_name))
        if unknown:
            raise ValueError(f"--tasks: unknown task(s) {', '.join(unknown)}; "
                             f"known: {', '.join(experiment.task_by_name)}")
    if baselines is not None:
        baselines = _resolve_baselines(experiment, baselines, tasks, split)
    model = experiment.build_model(restoring=True)
    path = restore_model(workdir, model.model, checkpoint)
    results = Evaluator(experiment, model, experiment.config.training.eval_batch_size).evaluate(
        split, tasks
    )
    report = {"checkpoint": path, "split": split, "metrics": results}
    if baselines is not None:
        report["delta_m"] = delta_m_report(experiment.tasks, results, baselines)
    atomic_write_text(os.path.join(workdir, _eval_file(split)), json.dumps(report, indent=2))
    return report


def evaluate_workdir(workdir: str, split: str = "test", checkpoint: str = "best",
                     tasks: list[str] | None = None) -> dict[str, dict[str, float]]:
    """Loads a trained run from `workdir` and scores its tasks on `split`.

    Writes ``eval_{split}.json`` into the workdir (see :func:`evaluation_report`).

    Args:
        workdir: a workdir written by tfmtl-train.
        split: "train", "dev" or "test".
        checkpoint: "best" or "latest".
        tasks: task names to evaluate (default: all).
    """
    return evaluation_report(workdir, split, checkpoint, tasks)["metrics"]
