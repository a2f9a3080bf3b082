"""The run store: one folder per run identity, holding its workdir, record and results.

Layout of ``RUNS_DIR/<id>/``:

* ``identity.json`` (written once, by the sweep): what the id is the hash of
  (config, data hashes, versions);
* ``run.json`` (the run's worker): the record: status, error, steps and the
  attempts (command, host, pid, executor placement, wall time);
* ``workdir/`` (``tfmtl-train``): the run's workdir (checkpoints,
  ``config.json``, ``metrics.json``, ...);
* ``train.log`` (the worker): what ``tfmtl-train`` printed, attempt after attempt;
* ``metrics.json`` (the worker): the workdir's final metrics, copied when the
  run finished;
* ``predictions_test.json`` (the worker): per-sentence gold and predicted test
  labels per task.

A run is *finished* when its record says so and both result files exist.
Records are replaced atomically (temporary file, fsync, ``os.replace``), and a
worker holds the run's lock (``flock`` on ``.lock``) while it trains, so two
sweeps that ask for the same run train it once: the second waits, then finds
it finished. A record left ``running`` by a killed worker holds no lock; the
next request runs it again, and ``tfmtl-train`` resumes from its checkpoints.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

from tfmtl.files import atomic_write_text, locked

DEFAULT_RUNS_DIR = os.path.join("runs", "store")

RUNNING = "running"
FINISHED = "finished"
FAILED = "failed"

IDENTITY_FILE = "identity.json"
RECORD_FILE = "run.json"
METRICS_FILE = "metrics.json"
PREDICTIONS_FILE = "predictions_test.json"
WORKDIR = "workdir"
TRAIN_LOG = "train.log"
_LOCK_FILE = ".lock"



def write_json_atomic(path: str, value: Any) -> None:
    """:func:`tfmtl.files.atomic_write_text` of `value` as JSON."""
    atomic_write_text(path, json.dumps(value, indent=1) + "\n")


def read_json(path: str) -> Any:
    with open(path, encoding="utf-8") as f:
        return json.load(f)


class RunStore:
    """Runs keyed by identity under one folder (``--runs_dir``, default ``runs/store``).

    Args:
        root: the store's folder; created when missing.
    """

    def __init__(self, root: str = DEFAULT_RUNS_DIR):
        self.root = os.path.abspath(root)
        os.makedirs(self.root, exist_ok=True)

    def run_dir(self, run_id: str) -> str:
        return os.path.join(self.root, run_id)

    def path(self, run_id: str, name: str) -> str:
        return os.path.join(self.root, run_id, name)

    def workdir(self, run_id: str) -> str:
        return self.path(run_id, WORKDIR)

    def prepare(self, run_id: str, payload: Mapping[str, Any]) -> str:
        """Creates the run's folder and its ``identity.json`` (once); returns the folder."""
        path = self.path(run_id, IDENTITY_FILE)
        if not os.path.exists(path):
            write_json_atomic(path, {"id": run_id, **payload})
        return self.run_dir(run_id)

    def identity(self, run_id: str) -> dict[str, Any]:
        return read_json(self.path(run_id, IDENTITY_FILE))

    def record(self, run_id: str) -> dict[str, Any] | None:
        """The run's record, or None when it never started."""
        path = self.path(run_id, RECORD_FILE)
        if not os.path.exists(path):
            return None
        return read_json(path)

    def write_record(self, run_id: str, record: Mapping[str, Any]) -> None:
        write_json_atomic(self.path(run_id, RECORD_FILE), dict(record))

    def is_finished(self, run_id: str) -> bool:
        record = self.record(run_id)
        return bool(record and record.get("status") == FINISHED
                    and os.path.exists(self.path(run_id, METRICS_FILE))
                    and os.path.exists(self.path(run_id, PREDICTIONS_FILE)))

    def status(self, run_id: str) -> str | None:
        """``finished``, ``failed``, ``running`` (a worker holds it now), ``stopped`` (a
        record says running but no worker holds it: killed) or None (never started)."""
        record = self.record(run_id)
        if record is None:
            return None
        if record.get("status") == FINISHED:
            return FINISHED if self.is_finished(run_id) else "stopped"
        if record.get("status") == RUNNING:
            return RUNNING if self.is_locked(run_id) else "stopped"
        return record.get("status")

    def metrics(self, run_id: str) -> dict[str, Any]:
        return read_json(self.path(run_id, METRICS_FILE))

    def predictions(self, run_id: str) -> dict[str, Any]:
        return read_json(self.path(run_id, PREDICTIONS_FILE))

    def runs(self) -> list[str]:
        """Ids of every run in the store."""
        return sorted(name for name in os.listdir(self.root)
                      if os.path.exists(self.path(name, IDENTITY_FILE)))

    def lock(self, run_id: str, *, blocking: bool = True):
        """Holds the run's lock (:func:`tfmtl.files.locked` on its ``.lock``); yields False
        (without it) when not `blocking` and it is taken."""
        return locked(self.path(run_id, _LOCK_FILE), blocking=blocking)

    def is_locked(self, run_id: str) -> bool:
        """True while a live worker holds the run."""
        if not os.path.exists(self.path(run_id, _LOCK_FILE)):
            return False
        with self.lock(run_id, blocking=False) as acquired:
            return not acquired
