"""Training: the multi-task loop, task sampling, checkpoints and evaluation."""

import importlib

__all__ = ["train_and_evaluate", "evaluate_workdir", "validate", "Evaluator"]

_EXPORTS = {
    "train_and_evaluate": "trainer",
    "evaluate_workdir": "evaluation",
    "validate": "validation",
    "Evaluator": "evaluation",
}


def __getattr__(name):
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"tfmtl.training.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module 'tfmtl.training' has no attribute {name!r}")
