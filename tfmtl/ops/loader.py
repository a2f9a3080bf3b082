"""Lazy, thread-safe loading of the native op library.

One shared library, ``_tfmtl_ops.so`` beside this file (built by setup.py),
registers every tfmtl op. It is loaded the first time an op is needed. When it
is missing or fails to load, or when the environment variable
``TFMTL_DISABLE_NATIVE_OPS=1`` is set, one line is logged and the ops fall back
to their pure-TensorFlow twins, which have the same signatures and semantics.
"""

from __future__ import annotations

import os
import threading

from absl import logging

LIBRARY_NAME = "_tfmtl_ops.so"
DISABLE_ENV = "TFMTL_DISABLE_NATIVE_OPS"

_lock = threading.Lock()
_loaded = False
_library = None


def library_path() -> str:
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), LIBRARY_NAME)


def _disabled() -> bool:
    return os.environ.get(DISABLE_ENV, "").strip().lower() in ("1", "true", "yes", "on")


def load_library():
    """Returns the loaded op library, or None when the fallbacks are in use."""
    global _loaded, _library
    if _loaded:
        return _library
    with _lock:
        if _loaded:
            return _library
        if _disabled():
            logging.info("tfmtl native ops disabled by %s; using the TensorFlow fallbacks.",
                         DISABLE_ENV)
        else:
            path = library_path()
            try:
                import tensorflow as tf

                _library = tf.load_op_library(path)
                from tfmtl.ops import _gradients

                _gradients.register(_library)
            except (OSError, tf.errors.NotFoundError, tf.errors.InvalidArgumentError) as e:
                _library = None
                reason = "not built" if not os.path.exists(path) else f"failed to load: {e}"
                logging.warning("tfmtl native ops %s (%s); using the TensorFlow fallbacks.",
                                reason, path)
        _loaded = True
        return _library


def native_ops_available() -> bool:
    """True when the native op library is loaded (loading it if needed)."""
    return load_library() is not None


def _reset_for_tests() -> None:
    """Forgets the load decision so the next call decides again (tests only).

    A library already loaded stays registered with TensorFlow.
    """
    global _loaded, _library
    with _lock:
        _loaded = False
        _library = None
