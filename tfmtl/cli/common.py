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

        argv, plugin = _plugin_overrides(flags.FLAGS[name], name, argv)
        if plugin:
            # The config flag reads its overrides from sys.argv itself.
            sys.argv = list(argv)
        try:
            rest = app.parse_flags_with_usage(argv)  # absl's own (usage errors: exit 1).
        except (KeyError, AttributeError):
            message = _unknown_override(flags.FLAGS[name], name, argv)
            if message is None:
                raise
            sys.stderr.write(f"{program}: error: {message}\n")
            sys.exit(2)
        if plugin:
            from tfmtl.config import ConfigError
            from tfmtl.training.validation import apply_plugin_overrides

            try:
                apply_plugin_overrides(flags.FLAGS[name].value, plugin)
            except ConfigError as e:
                sys.stderr.write(f"{program}: error: {e}\n")
                sys.exit(2)
        return rest

    return parse


def _scan(name: str, argv: list[str]) -> tuple[str | None, list[tuple[int, str]]]:
    """The config file argument of flag `name` in `argv` and its overrides: (index in argv,
    the ``KEY[=VALUE]`` after ``--name.``)."""
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
            overrides.append((index, option.split(".", 1)[1]))
    return config_file, overrides


def _plugin_overrides(flag, name: str, argv: list[str]) -> tuple[list[str], list]:
    """Takes out of `argv` the ``--name.KEY=VALUE`` overrides of plug-in keys the config
    file lacks (``--config.model.schemes.soft.weight=0.1``: the file names no scheme
    section), which ml_collections cannot set: they are applied after parsing (see
    :func:`tfmtl.training.validation.apply_plugin_overrides`)."""
    config_file, overrides = _scan(name, argv)
    from tfmtl.config import PLUGIN_SECTIONS

    candidates = [(i, o) for i, o in overrides if "=" in o and o.startswith(PLUGIN_SECTIONS)]
    if config_file is None or not candidates:
        return argv, []
    from tfmtl.training.validation import is_plugin_override

    config = flag.parser.parse(config_file)
    taken, plugin = set(), []
    for index, option in candidates:
        key, value = option.split("=", 1)
        if is_plugin_override(config, key):
            taken.add(index)
            plugin.append((key, value))
    return [arg for i, arg in enumerate(argv) if i not in taken], plugin


def _unknown_override(flag, name: str, argv: list[str]) -> str | None:
    """The error of the first override of `argv` whose key the config lacks, or None."""
    from tfmtl.config import ConfigError, check_key_path

    config_file, overrides = _scan(name, argv)
    if config_file is None or not overrides:
        return None
    config = flag.parser.parse(config_file)
    for _, option in overrides:
        try:
            check_key_path(config, option.split("=", 1)[0])
        except ConfigError as e:
            return str(e)
    return None


def override_string(value) -> str:
    """A config value as ``--config.KEY=`` reads it back."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def run_main(program: str, body: Callable[[], object]) -> None:
    """Runs `body`, turning the errors users cause into one line and exit code 2."""
    from tfmtl.config import ConfigError
    from tfmtl.data import DataError

    try:
        body()
    except (ConfigError, DataError, FileNotFoundError, ValueError) as e:
        sys.stderr.write(f"{program}: error: {e}\n")
        sys.exit(2)
