"""Runs on a Ray cluster: each run a Ray task reserving its CPUs (``pip install tfmtl[ray]``).

Each task starts the same worker process as the local pool
(:mod:`tfmtl.runs.run_worker`) on the node Ray placed it on, with
TensorFlow's thread pools sized to the task's CPUs; the worker writes into the
run store, which every node must see at the same path (a shared file system),
as it must see the config files and the data. The run's record keeps the Ray
node, worker and task ids of every attempt.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Sequence

from tfmtl.runs import run_worker
from tfmtl.runs._core import RunsError
from tfmtl.runs.local_executor import EventCallback, outcome_of, record_crash
from tfmtl.runs.run import Run, RunSpec
from tfmtl.runs.run_store import RUNNING, RunStore


def _import_ray():
    try:
        import ray
    except ImportError:
        raise RunsError("--executor=ray needs Ray: pip install 'tfmtl[ray]'") from None
    return ray


def _ray_task(store_root: str, run_id: str, spec_json: str, cpus: int) -> tuple[int, dict]:
    """The body of a run's Ray task: one worker process on this node."""
    import ray

    context = ray.get_runtime_context()
    placement = {
        "executor": "ray",
        "node_id": context.get_node_id(),
        "worker_id": context.get_worker_id(),
        "task_id": context.get_task_id(),
        "host": socket.gethostname(),
        "ray_worker_pid": os.getpid(),
        "cpus": cpus,
    }
    command = run_worker.worker_command(store_root, run_id, RunSpec.from_json(spec_json),
                                        python=sys.executable, threads=cpus,
                                        placement=placement, parent=os.getpid())
    store = RunStore(store_root)
    with open(store.path(run_id, "worker.log"), "ab") as log:
        returncode = subprocess.call(command, stdout=log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL,
                                     env=run_worker.worker_env(cpus))
    if outcome_of(returncode) == "failed":
        record_crash(store, run_id, returncode, f"Ray task {placement['task_id']}")
    return returncode, placement


class RayExecutor:
    """Executes runs as Ray tasks, each reserving `cpus_per_run` CPUs.

    Connects to the cluster at `address` (``auto``, ``HOST:PORT`` or
    ``ray://HOST:PORT``). With no address, ``ray.init`` connects to the
    cluster ``RAY_ADDRESS`` names, else to the one ``ray start`` started on
    this machine, else starts a local Ray instance for the sweep (stopped
    after it). A Ray already initialised by the caller is used as it is.

    Args:
        address: the cluster to connect to ("": as ``ray.init()`` finds one).
        cpus_per_run: CPUs each run's task reserves.
    """

    name = "ray"

    def __init__(self, address: str = "", cpus_per_run: int = 1):
        if cpus_per_run < 1:
            raise RunsError(f"--cpus_per_run: must be >= 1 for Ray, got {cpus_per_run}")
        self.address = address
        self.cpus_per_run = cpus_per_run

    def execute(self, store: RunStore, runs: Sequence[Run], on_event: EventCallback) -> dict:
        """Executes `runs`; returns ``{run_id: outcome}`` (finished, cached or failed)."""
        ray = _import_ray()
        started_here = False
        if not ray.is_initialized():
            ray.init(address=self.address or None, include_dashboard=False,
                     log_to_driver=False)
            started_here = True
        try:
            task = ray.remote(num_cpus=self.cpus_per_run, max_retries=0)(_ray_task)
            refs = {}
            for run in runs:
                os.makedirs(store.run_dir(run.id), exist_ok=True)
                ref = task.remote(store.root, run.id, run.spec.to_json(), self.cpus_per_run)
                refs[ref] = run.id
            outcomes, announced = {}, set()
            while refs:
                ready, _ = ray.wait(list(refs), num_returns=1, timeout=0.5)
                for ref in ready:
                    run_id = refs.pop(ref)
                    try:
                        returncode, _ = ray.get(ref)
                        outcome = outcome_of(returncode)
                    except ray.exceptions.RayError as e:
                        outcome = "failed"
                        record_crash(store, run_id, 1, f"Ray: {type(e).__name__}")
                    if run_id not in announced and outcome != "cached":
                        on_event("started", run_id)
                    announced.add(run_id)
                    outcomes[run_id] = outcome
                    on_event(outcome, run_id)
                for run_id in refs.values():  # Ray starts a task when its CPUs are free.
                    if run_id not in announced and store.status(run_id) == RUNNING:
                        announced.add(run_id)
                        on_event("started", run_id)
                if not ready:
                    time.sleep(0.1)
            return outcomes
        finally:
            if started_here:
                ray.shutdown()
