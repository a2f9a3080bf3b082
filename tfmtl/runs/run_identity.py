"""What identifies a run: its resolved config, its data, and the code's numerics version.

Two requests are the same run, and share one entry of the run store, exactly
when their identities hash equal. The identity holds:

* the resolved config (what ``tfmtl-train`` writes as ``config.json``: data
  paths absolute, every default filled in), less :data:`RESULT_FREE_KEYS`,
  the keys that only change how often a run logs and saves checkpoints (a
  resumed run gives the same weights as an uninterrupted one, so they cannot
  change a result);
* a SHA-256 of every data file the config names, so an edited corpus is a new
  run;
* :data:`NUMERICS_VERSION` and TensorFlow's ``major.minor`` version.

``training.eval_every``, ``training.patience`` and
``training.eval_batch_size`` stay in the identity although they are about
evaluation: the best checkpoint, whose test scores a run reports, is chosen
among the evaluations ``eval_every`` and ``patience`` schedule, and the
evaluation batch shapes the padded tensors the scores come from.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.metadata
import json
import os
from collections.abc import Mapping
from typing import Any

import ml_collections

from tfmtl.config import flatten

NUMERICS_VERSION = 1
"""Bumped by every change to tfmtl that changes what an unchanged config trains or scores
(a new initializer, a fixed loss, another sampler draw, a metric fix): runs recorded
under an older version are then new runs, trained again rather than reused. Changes
that keep every result bit for bit (speed, logging, refactoring) leave it alone.

History: 1, the first run store."""

RESULT_FREE_KEYS = ("training.log_every", "training.checkpoint_every",
                    "training.keep_checkpoints")
"""Config keys left out of a run's identity: they cannot change its results."""

_ID_LENGTH = 16


@dataclasses.dataclass(frozen=True)
class RunIdentity:
    """A run's id and the canonical description it is the hash of.

    Attributes:
        id: the first 16 hex digits of the SHA-256 of ``payload`` as canonical JSON.
        payload: ``{"numerics_version", "tensorflow", "config": {dotted key: value},
            "data": {path: sha256}}``.
    """

    id: str
    payload: Mapping[str, Any]

    @property
    def config(self) -> Mapping[str, Any]:
        return self.payload["config"]


def identity_config(config: ml_collections.ConfigDict | Mapping[str, Any]) -> dict[str, Any]:
    """The flat, JSON-normalised config that enters the identity."""
    tree = config.to_dict() if isinstance(config, ml_collections.ConfigDict) else config
    flat = json.loads(json.dumps(flatten(tree)))  # tuples -> lists, as config.json has them
    return {key: flat[key] for key in sorted(flat) if key not in RESULT_FREE_KEYS}


_HASHES: dict[tuple[str, int, int], str] = {}


def file_sha256(path: str) -> str:
    """SHA-256 of a file's bytes (memoised on path, size and modification time)."""
    stat = os.stat(path)
    key = (path, stat.st_size, stat.st_mtime_ns)
    if key not in _HASHES:
        digest = hashlib.sha256()
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
        _HASHES[key] = digest.hexdigest()
    return _HASHES[key]


def data_fingerprints(flat_config: Mapping[str, Any]) -> dict[str, str]:
    """SHA-256 of every existing file an absolute path value of the config names.

    Validation makes every data path absolute, so this finds the data files of
    any task type without knowing its schema. A path that does not exist is
    recorded as ``"missing"`` (such a run fails when it runs).
    """
    fingerprints = {}
    for key, value in flat_config.items():
        if key == "data_dir" or not isinstance(value, str) or not os.path.isabs(value):
            continue
        if os.path.isfile(value):
            fingerprints[value] = file_sha256(value)
        elif not os.path.isdir(value):
            fingerprints[value] = "missing"
    return dict(sorted(fingerprints.items()))


def _tensorflow_version() -> str:
    try:
        version = importlib.metadata.version("tensorflow")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover
        return "none"
    return ".".join(version.split(".")[:2])


def run_identity(config: ml_collections.ConfigDict | Mapping[str, Any],
                 numerics_version: int = NUMERICS_VERSION) -> RunIdentity:
    """The identity of the run of a resolved config (see the module docstring)."""
    flat = identity_config(config)
    payload = {
        "numerics_version": numerics_version,
        "tensorflow": _tensorflow_version(),
        "config": flat,
        "data": data_fingerprints(flat),
    }
    return RunIdentity(payload_id(payload), payload)


def payload_id(payload: Mapping[str, Any]) -> str:
    """The id of an identity payload: the first 16 hex digits of its canonical JSON's SHA-256."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode()).hexdigest()[:_ID_LENGTH]
