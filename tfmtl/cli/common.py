"""What every tfmtl binary shares: quiet TensorFlow start-up and clean errors."""

from __future__ import annotations

import logging
import os
import re
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


def config_flags_parser(program: str, name: str = "config") -> Callable[[list[str]], list[str]]:
    """An absl flags parser (``app.run(main, flags_parser=...)``) for a binary with a config
    file flag `name` (``config_flags.DEFINE_config_file``).

    A ``--config.KEY=VALUE`` override whose KEY the config lacks (``--config.model.encoder.
    units``) makes ml_collections raise a KeyError or AttributeError in the middle of flag
    parsing; this turns it into one line naming the key and its close matches, and exit
    code 2.
    """

    def parse(argv: list[str]) -> list[str]:
        from absl import app, flags

        try:
            return app.parse_flags_with_usage(argv)  # absl's own (usage errors: exit 1).
        except (KeyError, AttributeError):
            message = _unknown_override(flags.FLAGS[name], name, argv)
            if message is None:
                raise
        sys.stderr.write(f"{program}: error: {message}\n")
        sys.exit(2)

    return parse


def _unknown_override(flag, name: str, argv: list[str]) -> str | None:
    """The error of the first override of `argv` whose key the config lacks, or None."""
    from tfmtl.config import ConfigError, check_key_path

    config_file, overrides = None, []
    for index, arg in enumerate(argv[1:], start=1):
        if arg == "--":
            break
        if not arg.startswith("-"):
            continue
        option = arg.lstrip("-")
        if option == name and index + 1 < len(argv):
            config_file = argv[index + 1]
        elif option.startswith(f"{name}="):
            config_file = option.split("=", 1)[1]
        elif re.match(rf"(no)?{re.escape(name)}\.", option):
            overrides.append(option.split("=", 1)[0].split(".", 1)[1])
    if config_file is None or not overrides:
        return None
    config = flag.parser.parse(config_file)
    for path in overrides:
        try:
            check_key_path(config, path)
        except ConfigError as e:
            return str(e)
    return None


def run_main(program: str, body: Callable[[], object]) -> None:
    """Runs `body`, turning the errors users cause into one line and exit code 2."""
    from tfmtl.config import ConfigError
    from tfmtl.data import DataError

    try:
        body()
    except (ConfigError, DataError, FileNotFoundError, ValueError) as e:
        sys.stderr.write(f"{program}: error: {e}\n")
        sys.exit(2)
