"""Predicting and scoring every task on a split, in training and of a trained workdir."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence

import numpy as np
import tensorflow as tf

from tfmtl.data.pipeline import make_dataset
from tfmtl.experiment import Experiment, restore_model
from tfmtl.files import atomic_write_text
from tfmtl.models.multitask_model import MultiTaskModel


class Evaluator:
    """Runs each task's model over a split in order and scores its predictions.

    Args:
        experiment: tasks, vocabularies and data.
        model: the multi-task model.
        batch_size: sentences per prediction batch.
    """

    def __init__(self, experiment: Experiment, model: MultiTaskModel, batch_size: int):
        self.experiment = experiment
        self.batch_size = batch_size
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


def evaluate_workdir(workdir: str, split: str = "test", checkpoint: str = "best",
                     tasks: list[str] | None = None) -> dict[str, dict[str, float]]:
    """Loads a trained run from `workdir` and scores its tasks on `split`.

    Writes ``eval_{split}.json`` into the workdir.

    Args:
        workdir: a workdir written by tfmtl-train.
        split: "train", "dev" or "test".
        checkpoint: "best" or "latest".
        tasks: task names to evaluate (default: all).
    """
    experiment = Experiment.restore(workdir)
    if tasks:
        unknown = sorted(set(tasks) - set(experiment.task_by_name))
        if unknown:
            raise ValueError(f"--tasks: unknown task(s) {', '.join(unknown)}; "
                             f"known: {', '.join(experiment.task_by_name)}")
    model = experiment.build_model(restoring=True)
    path = restore_model(workdir, model.model, checkpoint)
    results = Evaluator(experiment, model, experiment.config.training.eval_batch_size).evaluate(
        split, tasks
    )
    report = {"checkpoint": path, "split": split, "metrics": results}
    atomic_write_text(os.path.join(workdir, f"eval_{split}.json"), json.dumps(report, indent=2))
    return results
