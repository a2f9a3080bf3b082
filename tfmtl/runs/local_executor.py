"""Runs on this machine: a pool of worker processes, each pinned to its share of the cores."""

from __future__ import annotations

import collections
import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence

from tfmtl.runs import run_worker
from tfmtl.runs.run import Run
from tfmtl.runs.run_store import FAILED, RUNNING, RunStore

EventCallback = Callable[[str, str], None]
"""``callback(kind, run_id)``, kind one of started, finished, failed, cached."""


def outcome_of(returncode: int) -> str:
    if returncode == run_worker.TRAINED:
        return "finished"
    if returncode == run_worker.ALREADY_FINISHED:
        return "cached"
    return "failed"


def record_crash(store: RunStore, run_id: str, returncode: int, where: str) -> None:
    """Records a worker that died without recording its end (killed, out of memory)."""
    with store.lock(run_id, blocking=False) as acquired:
        if not acquired:  # Another worker holds the run now: its record wins.
            return
        record = store.record(run_id) or {"id": run_id, "attempts": []}
        if record.get("status") not in (None, RUNNING):
            return
        how = f"signal {-returncode}" if returncode < 0 else f"exit status {returncode}"
        record.update(status=FAILED, error=f"the run's worker ({where}) died with {how} "
                      "before recording an outcome")
        store.write_record(run_id, record)


def core_slots(workers: int, cpus_per_run: int = 0,
               cores: Sequence[int] | None = None) -> list[list[int]]:
    """The cores of each of `workers` slots: consecutive shares of the usable cores.

    With ``cpus_per_run`` 0 the cores are divided evenly (at least one each); more
    slots than cores share them round-robin.
    """
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    cores = sorted(cores if cores is not None else os.sched_getaffinity(0))
    per = cpus_per_run or max(1, len(cores) // workers)
    return [[cores[(slot * per + i) % len(cores)] for i in range(min(per, len(cores)))]
            for slot in range(workers)]


class LocalExecutor:
    """Executes runs as worker processes on this machine, `workers` at a time.

    Each worker is pinned (``sched_setaffinity``) to its slot's cores and sizes
    TensorFlow's thread pools to them, so parallel runs do not fight over the
    cores. Workers die with this process (``PR_SET_PDEATHSIG``).

    Args:
        workers: runs at a time.
        cpus_per_run: cores per run (0: the usable cores divided by `workers`).
        python: the interpreter of the workers.
    """

    name = "local"

    def __init__(self, workers: int = 1, cpus_per_run: int = 0, python: str = sys.executable):
        self.slots = core_slots(workers, cpus_per_run)
        self.workers = workers
        self.python = python

    @property
    def slots_at_once(self) -> int:
        """Runs that execute at once (the progress bar's ETA divides the work by it)."""
        return self.workers

    def execute(self, store: RunStore, runs: Sequence[Run], on_event: EventCallback) -> dict:
        """Executes `runs`; returns ``{run_id: outcome}`` (finished, cached or failed)."""
        pending = collections.deque(runs)
        free = list(range(len(self.slots)))
        active: dict[str, tuple[subprocess.Popen, int, object]] = {}
        outcomes = {}
        try:
            while pending or active:
                while pending and free:
                    run = pending.popleft()
                    slot = free.pop(0)
                    cores = self.slots[slot]
                    placement = {"executor": self.name, "slot": slot, "cores": cores}
                    command = run_worker.worker_command(
                        store.root, run.id, run.spec, python=self.python, cores=cores,
                        threads=len(cores), placement=placement, parent=os.getpid())
                    os.makedirs(store.run_dir(run.id), exist_ok=True)
                    log = open(store.path(run.id, "worker.log"), "ab")  # noqa: SIM115
                    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                                               stdin=subprocess.DEVNULL,
                                               env=run_worker.worker_env(len(cores)))
                    active[run.id] = (process, slot, log)
                    on_event("started", run.id)
                time.sleep(0.2)
                for run_id, (process, slot, log) in list(active.items()):
                    returncode = process.poll()
                    if returncode is None:
                        continue
                    log.close()
                    del active[run_id]
                    free.append(slot)
                    outcome = outcome_of(returncode)
                    if outcome == "failed":
                        record_crash(store, run_id, returncode, f"local pid {process.pid}")
                    outcomes[run_id] = outcome
                    on_event(outcome, run_id)
        finally:
            for process, _, log in active.values():  # Interrupted (Ctrl-C): stop the runs.
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                process.wait()
                log.close()
        return outcomes
