"""What every tfmtl binary shares: quiet TensorFlow start-up and clean errors."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable


class _NoLibraryInfo(logging.Filter):
    """Drops TensorFlow's and Keras' own INFO records (checkpoint sharding timings...)."""

    _LIBRARIES = (f"{os.sep}tensorflow{os.sep}", f"{os.sep}keras{os.sep}")

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.WARNING or not any(
            library in record.pathname for library in self._LIBRARIES
        )


def quiet_tensorflow() -> None:
    """Hides TensorFlow's start-up and INFO chatter unless the user asked for it.

    TensorFlow's warnings and errors still show; our own INFO lines too.
    """
    from absl import logging as absl_logging

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    absl_logging.get_absl_handler().addFilter(_NoLibraryInfo())


def run_main(program: str, body: Callable[[], object]) -> None:
    """Runs `body`, turning the errors users cause into one line and exit code 2."""
    from tfmtl.config import ConfigError
    from tfmtl.data import DataError

    try:
        body()
    except (ConfigError, DataError, FileNotFoundError, ValueError) as e:
        sys.stderr.write(f"{program}: error: {e}\n")
        sys.exit(2)
