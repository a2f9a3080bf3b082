"""Helpers of the run store's tests: the tiny config, sweeps in subprocesses, counting
trainings."""

import glob
import importlib.util
import json
import os
import subprocess
import sys

import pytest

from tests.conftest import REPO_ROOT

MINI_CONFIG = str(REPO_ROOT / "tests" / "runs" / "mini_config.py")


def sweep_env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO_ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    # On the CPU everywhere: a GPU would change the numbers the tests compare.
    env["CUDA_VISIBLE_DEVICES"] = ""
    return env


def sweep_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "tfmtl.cli.sweep", f"--config={MINI_CONFIG}",
            "--progress=false", *args]


def run_sweep(*args: str, timeout: int = 400) -> subprocess.CompletedProcess:
    """Runs tfmtl-sweep over the mini config, as a user would."""
    return subprocess.run(sweep_command(*args), capture_output=True, text=True, env=sweep_env(),
                          cwd=REPO_ROOT, timeout=timeout)


def trainings(store: str) -> dict[str, int]:
    """How often tfmtl-train started in each run's workdir, from the command.txt it keeps
    (one line per invocation), independently of the store's own records."""
    counts = {}
    for path in glob.glob(os.path.join(store, "*", "workdir", "command.txt")):
        with open(path, encoding="utf-8") as f:
            lines = [line for line in f if line.strip() and not line.startswith("#")]
        counts[path.split(os.sep)[-3]] = len(lines)
    return counts


# Flags the bench scripts loaded by load_bench defined on absl's global FLAGS.
_BENCH_FLAGS: set[str] = set()


def load_bench(script, name: str):
    """Imports a bench script as a module. Each script defines its flags (--seeds, --out, ...)
    on absl's global FLAGS, so the flags an earlier load defined are removed first: two
    scripts defining --seeds in one test process would otherwise collide."""
    from absl import flags

    for flag in _BENCH_FLAGS & set(flags.FLAGS):
        delattr(flags.FLAGS, flag)
    before = set(flags.FLAGS)
    spec = importlib.util.spec_from_file_location(name, script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    _BENCH_FLAGS.update(set(flags.FLAGS) - before)
    return module


def read_report(directory: str) -> dict:
    with open(os.path.join(directory, "report.json"), encoding="utf-8") as f:
        return json.load(f)


@pytest.fixture(scope="session")
def variants_file(tmp_path_factory) -> str:
    """Three variants: the mini config, a wider LSTM, and one whose chunk data is missing."""
    path = tmp_path_factory.mktemp("variants") / "variants.json"
    path.write_text(json.dumps({
        "baseline": "base",
        "variants": {
            "base": {},
            "wide": {"overrides": {"model.encoders.shared.units": 12}},
            "broken": {"overrides": {"tasks.chunk.data.format": "conll",
                                     "tasks.chunk.data.column": "1",
                                     "tasks.chunk.data.train": "/nonexistent/train.txt"}},
        },
    }))
    return str(path)


@pytest.fixture(scope="session")
def local_sweep(tmp_path_factory, variants_file):
    """A sweep of the three variants (seed 0) through the local pool, run once per session:
    ``(store, report_dir, completed_process)``."""
    root = tmp_path_factory.mktemp("local_sweep")
    store, report = str(root / "store"), str(root / "report")
    result = run_sweep(f"--variants={variants_file}", "--seeds=0", f"--runs_dir={store}",
                       "--workers=2", "--cpus_per_run=1", f"--report={report}")
    return store, report, result
