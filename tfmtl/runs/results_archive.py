"""A results archive: the finished runs behind a table, small enough to commit.

A run store holds checkpoints and workdirs (hundreds of megabytes per run);
a table needs only each run's identity, record, final metrics and test
predictions (what :func:`tfmtl.runs.sweep_report` reads, bootstrap intervals
included). An archive is one LZMA-compressed JSON-lines file of exactly those,
one line per run; its dictionary (8 MiB) folds the test set's gold labels,
repeated in every run, into almost nothing.

It lets a benchmark be completed over several sessions on machines that keep
no run store: ``pack`` the sweep's finished runs after it ran, commit the
archive, and the next session's ``unpack`` puts them back into its store as
finished runs (without a workdir), so only the missing runs train. An entry
is checked before it is used: its id must be the hash of its identity, and its
test predictions must score what its metrics say (the run worker's own check),
so an edited entry is refused; an entry whose identity no current config
resolves to (another numerics version, TensorFlow version, other data) is
simply never asked for. An entry, once written, is kept: packing a run the
archive has already leaves its entry alone. Writers take a lock on
``FILE.lock``, so sweeps in several processes can share one archive.
"""

from __future__ import annotations

import json
import lzma
import os
from collections.abc import Iterable

from tfmtl.files import atomic_write_bytes, locked
from tfmtl.runs._core import RunsError
from tfmtl.runs.run_identity import payload_id
from tfmtl.runs.run_store import (
    FINISHED,
    IDENTITY_FILE,
    METRICS_FILE,
    PREDICTIONS_FILE,
    RunStore,
    read_json,
    write_json_atomic,
)
from tfmtl.runs.run_worker import check_predictions

_KEYS = ("id", "identity", "record", "metrics", "predictions")


def sibling_archives(path: str) -> list[str]:
    """The other results archives (``*.jsonl.xz``) in `path`'s folder: a benchmark reads
    their runs too, so a baseline that another benchmark archived is not trained again."""
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        return []
    return sorted(os.path.join(folder, name) for name in os.listdir(folder)
                  if name.endswith(".jsonl.xz")
                  and os.path.join(folder, name) != os.path.abspath(path))


def read_archive(path: str) -> dict[str, dict]:
    """The archive's entries by run id ({} when the file does not exist).

    Raises:
        RunsError: naming the file and line of an entry that is not valid JSON,
            lacks a key, or whose id is not the hash of its identity.
    """
    if not os.path.exists(path):
        return {}
    entries = {}
    try:
        with lzma.open(path, "rt", encoding="utf-8") as stream:
            lines = list(stream)
    except lzma.LZMAError as e:
        raise RunsError(f"{path}: not an LZMA (.xz) results archive: {e}") from e
    for number, line in enumerate(lines, 1):
        try:
            entry = json.loads(line)
        except json.JSONDecodeError as e:
            raise RunsError(f"{path}:{number}: not JSON: {e}") from e
        missing = [key for key in _KEYS if key not in entry]
        if missing:
            raise RunsError(f"{path}:{number}: entry lacks {missing[0]!r}")
        identity = {k: v for k, v in entry["identity"].items() if k != "id"}
        if payload_id(identity) != entry["id"]:
            raise RunsError(f"{path}:{number}: run {entry['id']}: the id is not the hash of "
                            "its identity (the entry was edited); remove it or pack it again")
        if entry["record"].get("status") != FINISHED:
            raise RunsError(f"{path}:{number}: run {entry['id']} is not finished")
        entries[entry["id"]] = entry
    return entries


def pack(store: RunStore, run_ids: Iterable[str], path: str) -> list[str]:
    """Adds the finished runs among `run_ids` that the archive at `path` lacks (the file is
    created or replaced atomically, under its lock). Returns the ids it added."""
    with locked(f"{path}.lock"):
        entries = read_archive(path)
        added = []
        for run_id in run_ids:
            if run_id in entries or not store.is_finished(run_id):
                continue
            record = dict(store.record(run_id))
            record.pop("imported_from", None)
            entries[run_id] = {
                "id": run_id, "identity": store.identity(run_id), "record": record,
                "metrics": store.metrics(run_id), "predictions": store.predictions(run_id)}
            added.append(run_id)
        if added or not os.path.exists(path):
            text = "".join(json.dumps(entries[k], sort_keys=True, separators=(",", ":")) + "\n"
                           for k in sorted(entries))
            atomic_write_bytes(path, lzma.compress(text.encode("utf-8"), preset=6))
    return added


def unpack(store: RunStore, path: str, run_ids: Iterable[str] | None = None) -> list[str]:
    """Puts the archive's runs (those among `run_ids`, default all) that `store` has not
    finished into it as finished runs without a workdir; a run a live worker holds is left
    to it. Returns the ids it added.

    Raises:
        RunsError: an entry is refused (see :func:`read_archive`), its predictions do not
            score its metrics, or the store's identity of the run differs.
    """
    entries = read_archive(path)
    wanted = set(entries) if run_ids is None else set(run_ids) & set(entries)
    added = []
    for run_id in sorted(wanted):
        if store.is_finished(run_id):
            continue
        entry = entries[run_id]
        try:
            check_predictions(entry["predictions"], entry["metrics"])
        except RuntimeError as e:
            raise RunsError(f"{path}: run {run_id}: {e} (the entry was edited)") from None
        identity_path = store.path(run_id, IDENTITY_FILE)
        if os.path.exists(identity_path) and read_json(identity_path) != entry["identity"]:
            raise RunsError(f"{path}: run {run_id}: the store's identity.json differs from "
                            "the archive's")
        with store.lock(run_id, blocking=False) as acquired:
            if not acquired:  # A worker trains it now.
                continue
            store.prepare(run_id, {k: v for k, v in entry["identity"].items() if k != "id"})
            write_json_atomic(store.path(run_id, METRICS_FILE), entry["metrics"])
            write_json_atomic(store.path(run_id, PREDICTIONS_FILE), entry["predictions"])
            earlier = (store.record(run_id) or {}).get("attempts", [])
            record = dict(entry["record"])
            record["attempts"] = [*earlier, *record.get("attempts", [])]
            store.write_record(run_id, {**record, "imported_from": os.path.abspath(path)})
        added.append(run_id)
    return added
