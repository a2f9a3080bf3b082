"""Evaluating a trained workdir."""

from __future__ import annotations

import json
import os

from tfmtl.training.checkpoints import atomic_write_text, restore_model
from tfmtl.training.evaluation import Evaluator
from tfmtl.training.experiment import Experiment
from tfmtl.training.trainer import build_model


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
    model = build_model(experiment)
    path = restore_model(workdir, model.model, checkpoint)
    results = Evaluator(experiment, model, experiment.config.training.eval_batch_size).evaluate(
        split, tasks
    )
    report = {"checkpoint": path, "split": split, "metrics": results}
    atomic_write_text(os.path.join(workdir, f"eval_{split}.json"), json.dumps(report, indent=2))
    return results
