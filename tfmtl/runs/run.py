"""A run: how to train it (a ``tfmtl-train`` command) and what identifies it."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import sys
from collections.abc import Sequence

from tfmtl.runs import _core
from tfmtl.runs.run_identity import RunIdentity, run_identity


@dataclasses.dataclass(frozen=True)
class RunSpec:
    """What to train: a config file and ``--config.KEY=VALUE`` overrides.

    Attributes:
        config: ``PATH`` or ``PATH:ARG``, the path absolute.
        overrides: ``KEY=VALUE`` strings, applied in order (a later one wins).
        cwd: the folder relative paths inside the config resolve against.
    """

    config: str
    overrides: tuple[str, ...] = ()
    cwd: str = ""

    @classmethod
    def create(cls, config: str, overrides: Sequence[str] = (), cwd: str | None = None
               ) -> RunSpec:
        cwd = os.path.abspath(cwd or os.getcwd())
        path, sep, arg = config.partition(":")
        path = os.path.abspath(os.path.join(cwd, os.path.expanduser(path)))
        return cls(config=f"{path}{sep}{arg}", overrides=tuple(overrides), cwd=cwd)

    def with_overrides(self, overrides: Sequence[str]) -> RunSpec:
        return dataclasses.replace(self, overrides=self.overrides + tuple(overrides))

    def train_command(self, workdir: str, python: str = sys.executable) -> list[str]:
        """The ``tfmtl-train`` command line that trains this run into `workdir`."""
        return [python, "-m", "tfmtl.cli.train", f"--config={self.config}",
                f"--workdir={workdir}", *[f"--config.{o}" for o in self.overrides]]

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self))

    @classmethod
    def from_json(cls, text: str) -> RunSpec:
        data = json.loads(text)
        return cls(config=data["config"], overrides=tuple(data["overrides"]), cwd=data["cwd"])


@dataclasses.dataclass(frozen=True)
class Run:
    """A run to train or to find in the store: its spec and its identity."""

    spec: RunSpec
    identity: RunIdentity

    @property
    def id(self) -> str:
        return self.identity.id


def resolve_run(spec: RunSpec, *, where: str = "--config") -> Run:
    """Resolves `spec`'s config as ``tfmtl-train`` will, and identifies the run.

    A relative ``data_dir`` is made absolute (an override added to the spec),
    so the run's identity and its ``tfmtl-train`` command do not depend on the
    folder a worker starts in.

    Raises:
        RunsError: naming the file or key at fault.
    """
    with contextlib.chdir(spec.cwd):
        loaded = _core.load_config(spec.config, spec.overrides, where=where)
        data_dir = loaded.get("data_dir", "")
        if isinstance(data_dir, str) and data_dir and not os.path.isabs(
                os.path.expanduser(data_dir)):
            absolute = os.path.abspath(os.path.expanduser(data_dir))
            spec = spec.with_overrides([f"data_dir={absolute}"])
            loaded.data_dir = absolute
        resolved = _core.validate_loaded(loaded, where=where)
    return Run(spec, run_identity(resolved))
