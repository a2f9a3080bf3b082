"""What the benchmark sweeps share (no flags: each script defines its own): the
deduplicated MR/SUBJ/SST split, executing a sweep through the run store with its results
archive, and a mean ± sd cell.

Each script puts its own folder on ``sys.path`` first (a script run from the command line
has it already; one loaded by path, as the tests load them, does not)."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.path.join(REPO, "..", "shared", "data")


def prepare_split(split_dir: str, shared: str = SHARED) -> str:
    """Writes the deduplicated MR/SUBJ/SST split (once); its folder, absolute."""
    if not os.path.isfile(os.path.join(split_dir, "split.json")):
        corpora = os.path.join(REPO, "configs", "sentiment_corpora.py")
        subprocess.run([sys.executable, "-m", "tfmtl.cli.data", "split", f"--config={corpora}",
                        f"--out={split_dir}", f"--config.data_dir={os.path.abspath(shared)}"],
                       check=True, cwd=REPO)
    return os.path.abspath(split_dir)


def results_path(archive: str, flag: str | None) -> str:
    """The results archive a ``--results`` value names: None, the committed
    ``bench/results/<archive>.jsonl.xz``; "", none."""
    return os.path.join(REPO, "bench", "results", f"{archive}.jsonl.xz") if flag is None \
        else flag


def execute_sweep(sweep, results: str, *, runs_dir: str, executor: str, workers: int,
                  ray_address: str):
    """Executes `sweep` on the local pool (``workers`` at a time) or Ray, with the results
    archive `results` ("": none) and the other archives of its folder as sources of
    finished runs; the :class:`tfmtl.runs.SweepResult`."""
    from tfmtl.runs import LocalExecutor, RayExecutor, RunStore
    from tfmtl.runs.results_archive import sibling_archives

    run_on = (RayExecutor(ray_address, cpus_per_run=1) if executor == "ray"
              else LocalExecutor(workers))
    return sweep.execute(RunStore(runs_dir), run_on, results=results,
                         also_from=sibling_archives(results) if results else ())


def mean_sd(values, digits: int = 2) -> str:
    """``mean ± sd`` of `values` (the value alone for one, "–" for none)."""
    if not values:
        return "–"
    if len(values) == 1:
        return f"{values[0]:.{digits}f}"
    return f"{statistics.mean(values):.{digits}f} ± {statistics.stdev(values):.{digits}f}"
