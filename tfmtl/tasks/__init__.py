"""Task types: each module holds one type with its head, loss, metrics and decoding.

Add a task type by writing one module here whose class subclasses
:class:`tfmtl.tasks.base.Task` and is decorated with ``@TASKS.register(name)``.
"""

import importlib

from tfmtl.registry import Registry

TASKS = Registry("task type", "tfmtl.tasks")

__all__ = ["TASKS", "Classification", "LanguageModel", "Loss", "Tagging", "Task"]

_EXPORTS = {"Task": "base", "Loss": "base", "Tagging": "tagging",
            "Classification": "classification", "LanguageModel": "language_model"}


def __getattr__(name):
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"tfmtl.tasks.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module 'tfmtl.tasks' has no attribute {name!r}")
