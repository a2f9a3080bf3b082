"""The process that executes one run: ``python -m tfmtl.runs.run_worker ...``.

Every executor starts one per run (the local pool as its child, Ray inside a
Ray task). The worker

1. takes the run's lock in the store (so a run is trained once at a time),
   and returns at once when the run has finished meanwhile;
2. runs ``tfmtl-train`` (``python -m tfmtl.cli.train``) into the run's
   workdir, which resumes from the newest checkpoint when an earlier attempt
   was killed (the attempt records the step it resumed from, as
   ``tfmtl-train`` logged it: ``resumed_from_step``, None when it started at 0);
3. checks that the config ``tfmtl-train`` resolved is the one the run is
   identified by, predicts the test split with the best checkpoint
   (:func:`tfmtl.runs._core.predict_split`), checks that the predictions score
   what ``metrics.json`` says, and stores both;
4. records the outcome (``finished``, or ``failed`` with the error) in
   ``run.json``.

The worker dies with the process that started it (``PR_SET_PDEATHSIG``), and
``tfmtl-train`` with the worker, so killing a sweep, even with ``SIGKILL``,
leaves no training behind; the killed run's record still says ``running``
but nobody holds its lock, and the next sweep runs it again.

Exit status: 0 trained now, 3 already finished (nothing trained), 1 failed.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import traceback
from collections.abc import Mapping, Sequence
from typing import Any

from tfmtl.runs import run_store
from tfmtl.runs.run import RunSpec
from tfmtl.runs.run_identity import identity_config
from tfmtl.runs.run_store import FAILED, FINISHED, RUNNING, RunStore

TRAINED = 0
FAILED_EXIT = 1
ALREADY_FINISHED = 3

# Differences between a score recomputed from the stored predictions and metrics.json
# beyond float rounding mean the stored predictions are not the run's.
_TOLERANCE = 1e-6
_PR_SET_PDEATHSIG = 1
# What tfmtl.training.trainer logs when it restored a resumable checkpoint.
_RESUMED = re.compile(r"\] resumed from step (\d+)$", re.MULTILINE)


def die_with_parent(parent: int | None = None) -> None:
    """Asks Linux to SIGKILL this process when its parent dies; exits if it already has."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # pragma: no cover - not Linux
        return
    if parent is not None and os.getppid() != parent:
        os._exit(FAILED_EXIT)  # The parent died before prctl took effect.


def package_root() -> str:
    """The folder holding the imported ``tfmtl`` package (put first on a worker's path)."""
    import tfmtl

    return os.path.dirname(os.path.dirname(os.path.abspath(tfmtl.__file__)))


def worker_env(threads: int = 0, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of a worker and its ``tfmtl-train``: this tfmtl first on the path,
    TensorFlow's thread pools sized to the run's share of the cores."""
    env = dict(os.environ if base is None else base)
    root = package_root()
    paths = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p and p != root]
    env["PYTHONPATH"] = os.pathsep.join([root, *paths])
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if threads:
        for name in ("TF_NUM_INTRAOP_THREADS", "OMP_NUM_THREADS"):
            env[name] = str(threads)
        env["TF_NUM_INTEROP_THREADS"] = str(min(threads, 2))
    return env


def worker_command(store: str, run_id: str, spec: RunSpec, *, python: str = sys.executable,
                   cores: Sequence[int] = (), threads: int = 0,
                   placement: Mapping[str, Any] | None = None,
                   parent: int | None = None) -> list[str]:
    """The command line of a worker for one run."""
    command = [python, "-m", "tfmtl.runs.run_worker", f"--store={store}", f"--run_id={run_id}",
               f"--spec={spec.to_json()}"]
    if cores:
        command.append(f"--cores={','.join(str(c) for c in cores)}")
    if threads:
        command.append(f"--threads={threads}")
    if placement:
        command.append(f"--placement={json.dumps(dict(placement))}")
    if parent is not None:
        command.append(f"--parent={parent}")
    return command


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")


def _error_line(log: str) -> str:
    """The line of a ``tfmtl-train`` log that says what went wrong."""
    lines = [line.strip() for line in log.splitlines() if line.strip()]
    for line in reversed(lines):
        if line.startswith("tfmtl-train: error:"):
            return line[len("tfmtl-train: "):]
    for line in reversed(lines):
        if re.match(r"^[\w.]*(Error|Exception|Exit)\b.*", line):
            return line
    return lines[-1] if lines else "tfmtl-train printed nothing"


def resumed_from_step(log: str) -> int | None:
    """The step ``tfmtl-train`` says it resumed from in its log, or None (it started at 0)."""
    found = _RESUMED.findall(log)
    return int(found[-1]) if found else None


def _check_config(store: RunStore, run_id: str) -> None:
    """Raises unless the workdir's config.json is the config the run is identified by."""
    trained = identity_config(run_store.read_json(os.path.join(store.workdir(run_id),
                                                               "config.json")))
    expected = store.identity(run_id)["config"]
    changed = sorted(k for k in trained.keys() | expected.keys()
                     if trained.get(k) != expected.get(k))
    if changed:
        raise RuntimeError(
            "tfmtl-train resolved another config than the run's identity (differs in: "
            f"{', '.join(changed)}); was the config file edited during the sweep?")


def check_predictions(predictions: Mapping[str, Any], metrics: Mapping[str, Any]) -> dict:
    """Scores the predictions and compares with metrics.json's test scores."""
    from tfmtl.runs import paired_bootstrap

    checked = {}
    test = metrics.get("test", {})
    for task, entry in predictions.items():
        for metric in paired_bootstrap.supported_metrics(entry):
            value = paired_bootstrap.score(entry, metric)
            expected = test.get(task, {}).get(metric)
            if expected is None:
                continue
            if abs(value - expected) > _TOLERANCE:
                raise RuntimeError(
                    f"test {task} {metric}: the stored predictions score {value!r} but "
                    f"metrics.json says {expected!r}")
            checked[f"{task}/{metric}"] = value
    return checked


def provenance() -> dict:
    """What an attempt ran on and with: the CPU (model and widest vector extension: float
    rounding, hence a long run's last digits, differs between AVX2 and AVX-512 machines),
    the TensorFlow and Keras versions and the tfmtl commit (``+dirty`` with uncommitted
    changes). Recorded in the run's record for provenance only: not part of its identity."""
    import importlib.metadata

    cpu, flags = "unknown", set()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key.strip() == "model name" and cpu == "unknown":
                    cpu = value.strip()
                elif key.strip() == "flags" and not flags:
                    flags = set(value.split())
    except OSError:
        pass
    vector = next((name for name in ("avx512f", "avx2", "avx") if name in flags), "")
    versions = {}
    for package in ("tensorflow", "keras"):
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            versions[package] = None
    folder = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    try:
        commit = subprocess.run(["git", "-C", folder, "rev-parse", "HEAD"], capture_output=True,
                                text=True, timeout=10).stdout.strip() or None
        if commit and subprocess.run(
                ["git", "-C", folder, "status", "--porcelain", "--untracked-files=no"],
                capture_output=True, text=True, timeout=10).stdout.strip():
            commit += "+dirty"
    except (OSError, subprocess.SubprocessError):
        commit = None
    return {"cpu": cpu, "vector_extension": vector, **versions, "tfmtl_commit": commit}


def execute(store: RunStore, run_id: str, spec: RunSpec, *, threads: int = 0,
            placement: Mapping[str, Any] | None = None) -> int:
    """Executes one run (see the module docstring); returns the exit status."""
    with store.lock(run_id):
        if store.is_finished(run_id):
            return ALREADY_FINISHED
        record = store.record(run_id) or {"id": run_id, "attempts": []}
        attempt = {
            "started": _now(),
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "threads": threads,
            "cores": sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
            else None,
            "placement": dict(placement or {}),
            "command": spec.train_command(store.workdir(run_id)),
            **provenance(),
        }
        record.update(status=RUNNING, error=None, numerics_version=store.identity(
            run_id)["numerics_version"])
        record["attempts"] = [*record.get("attempts", []), attempt]
        store.write_record(run_id, record)

        start = time.monotonic()
        log_path = store.path(run_id, run_store.TRAIN_LOG)
        with open(log_path, "ab") as log:
            offset = log.tell()
            log.write(f"# {_now()} {' '.join(attempt['command'])}\n".encode())
            log.flush()
            returncode = subprocess.call(
                attempt["command"], cwd=spec.cwd or None, stdout=log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, env=worker_env(threads),
                preexec_fn=die_with_parent,  # This worker is single-threaded here.
            )
        attempt["returncode"] = returncode
        with open(log_path, encoding="utf-8", errors="replace") as f:
            f.seek(offset)
            log_text = f.read()
        attempt["resumed_from_step"] = resumed_from_step(log_text)
        error = None
        if returncode != 0:
            error = _error_line(log_text)
            if returncode < 0:
                error = f"tfmtl-train killed by signal {-returncode}: {error}"
        else:
            try:
                _finish(store, run_id, record)
            except Exception as e:  # noqa: BLE001 - recorded, the sweep goes on
                error = f"after training: {type(e).__name__}: {e}"
                with open(log_path, "a", encoding="utf-8") as f:
                    f.write(traceback.format_exc())
        attempt["ended"] = _now()
        attempt["wall_s"] = round(time.monotonic() - start, 3)
        record["wall_s"] = round(sum(a.get("wall_s", 0.0) for a in record["attempts"]), 3)
        if error is None:
            record.update(status=FINISHED, finished=attempt["ended"])
        else:
            record.update(status=FAILED, error=error)
        store.write_record(run_id, record)
        return TRAINED if error is None else FAILED_EXIT


def _finish(store: RunStore, run_id: str, record: dict) -> None:
    """Checks and stores the results of a run ``tfmtl-train`` finished."""
    from tfmtl.runs import _core

    _check_config(store, run_id)
    workdir = store.workdir(run_id)
    metrics = run_store.read_json(os.path.join(workdir, "metrics.json"))
    predictions = _core.predict_split(workdir, "test")
    record["checked_scores"] = check_predictions(predictions, metrics)
    run_store.write_json_atomic(store.path(run_id, run_store.PREDICTIONS_FILE), predictions)
    run_store.write_json_atomic(store.path(run_id, run_store.METRICS_FILE), metrics)
    record["steps"] = metrics.get("steps")
    record["best_step"] = metrics.get("best_step")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tfmtl.runs.run_worker",
                                     description="Executes one run of a run store.")
    parser.add_argument("--store", required=True)
    parser.add_argument("--run_id", required=True)
    parser.add_argument("--spec", required=True, help="the RunSpec as JSON")
    parser.add_argument("--cores", default="", help="CPU cores to pin the run to: 0,1")
    parser.add_argument("--threads", type=int, default=0, help="TensorFlow threads (0: all)")
    parser.add_argument("--placement", default="{}", help="executor details for the record")
    parser.add_argument("--parent", type=int, default=None,
                        help="die when this process (the executor) dies")
    args = parser.parse_args(argv)
    if args.parent is not None:
        die_with_parent(args.parent)
    if args.cores:
        os.sched_setaffinity(0, [int(c) for c in args.cores.split(",")])
    # The worker's own TensorFlow (the test predictions) gets the run's threads too.
    for name in ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS", "OMP_NUM_THREADS"):
        if name in (env := worker_env(args.threads)):
            os.environ[name] = env[name]
    return execute(RunStore(args.store), args.run_id, RunSpec.from_json(args.spec),
                   threads=args.threads, placement=json.loads(args.placement))


if __name__ == "__main__":
    sys.exit(main())
