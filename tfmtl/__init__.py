"""tfmtl: multi-task learning for NLP with TensorFlow and Keras.

Subpackages load lazily so that ``import tfmtl`` stays cheap and command-line
programs pay for TensorFlow only when they need it.
"""

import importlib

__version__ = "0.1.0"

_SUBPACKAGES = ("cli", "config", "data", "export", "metrics", "models", "ops", "tasks", "training")

__all__ = ["__version__", *_SUBPACKAGES]


def __getattr__(name):
    if name in _SUBPACKAGES:
        return importlib.import_module(f"tfmtl.{name}")
    raise AttributeError(f"module 'tfmtl' has no attribute {name!r}")
