"""Many runs as one: a cached, resumable run store and sweeps over it.

A run is a resolved config (seed included), identified by a hash of what can
change its results (:mod:`tfmtl.runs.run_identity`). The run store
(:class:`RunStore`, ``runs/store/`` by default) keeps every run's workdir,
record, metrics and test predictions; asking for a finished run returns it
without training, a killed one resumes, a failed one is recorded with its
error. A :class:`Sweep` is the cross product of variants and seeds, executed by
a :class:`LocalExecutor` (a process pool) or a :class:`RayExecutor` (Ray
tasks), and reported per metric with paired bootstrap intervals
(:func:`sweep_report`). ``tfmtl-sweep`` is the command line.

Every run trains through ``tfmtl-train`` in its own process, so this package
depends on the core only through that program and :mod:`tfmtl.runs._core`.
"""

import importlib

__all__ = [
    "NUMERICS_VERSION",
    "BootstrapInterval",
    "LocalExecutor",
    "RayExecutor",
    "Run",
    "RunSpec",
    "RunStore",
    "RunsError",
    "Sweep",
    "SweepResult",
    "Variant",
    "parse_grid",
    "read_variants_file",
    "report_markdown",
    "resolve_run",
    "RunIdentity",
    "sweep_report",
    "write_report",
]

_EXPORTS = {
    "NUMERICS_VERSION": "run_identity",
    "RunIdentity": "run_identity",
    "BootstrapInterval": "paired_bootstrap",
    "LocalExecutor": "local_executor",
    "RayExecutor": "ray_executor",
    "Run": "run",
    "RunSpec": "run",
    "resolve_run": "run",
    "RunStore": "run_store",
    "RunsError": "_core",
    "Sweep": "sweep",
    "SweepResult": "sweep",
    "Variant": "sweep",
    "parse_grid": "sweep",
    "read_variants_file": "sweep",
    "sweep_report": "report",
    "report_markdown": "report",
    "write_report": "report",
}


def __getattr__(name):
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"tfmtl.runs.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module 'tfmtl.runs' has no attribute {name!r}")
