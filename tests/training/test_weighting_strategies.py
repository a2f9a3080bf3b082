"""Every weighting (and each gradient weighting in the representation mode) under
MirroredStrategy over two logical CPUs and under MultiWorkerMirroredStrategy with two local
worker processes: the same 20 steps give the weights and the model of the default strategy
(per-task gradients are all-reduced before they are combined, the losses a weighting reads
are the global ones, so every replica solves the same problem). Each strategy trains every
variant in one process (tests/training/weighting_strategies_worker.py)."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from tests.cli_helpers import env
from tests.conftest import REPO_ROOT
from tests.training.test_multi_worker import _free_ports
from tests.training.weighting_strategies_worker import STEPS, VARIANTS

# Module fixtures: with pytest-xdist, every test of this file on one worker.
pytestmark = pytest.mark.xdist_group("weighting_strategies")

TIMEOUT = 1500  # seconds for every variant under one strategy (on a busy machine)


def _run(out, strategy: str) -> None:
    command = [sys.executable, "-m", "tests.training.weighting_strategies_worker",
               f"--strategy={strategy}", f"--out={out}"]
    workers = 2 if strategy == "multi_worker" else 1
    cluster = {"worker": [f"127.0.0.1:{port}" for port in _free_ports(workers)]}
    processes, logs = [], []
    try:
        for index in range(workers):
            e = env()
            if strategy == "multi_worker":
                e["TF_CONFIG"] = json.dumps({"cluster": cluster,
                                             "task": {"type": "worker", "index": index}})
                os.makedirs(out / f"tmp{index}", exist_ok=True)
                e["TMPDIR"] = str(out / f"tmp{index}")
            logs.append(out / f"log{index}.txt")
            with open(logs[-1], "wb") as log:
                processes.append(subprocess.Popen(command, env=e, cwd=REPO_ROOT, stdout=log,
                                                  stderr=subprocess.STDOUT))
        codes = [p.wait(timeout=TIMEOUT) for p in processes]
    finally:
        for p in processes:
            if p.poll() is None:
                p.kill()
                p.wait(timeout=30)
    tails = "\n".join(log.read_text(errors="replace")[-3000:] for log in logs)
    assert codes == [0] * workers, tails


def _load(out, variant: str) -> dict:
    with np.load(out / f"{variant.replace(':', '-')}-0.npz") as values:
        return dict(values)


@pytest.fixture(scope="module")
def default_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("default")
    _run(out, "default")
    return out


@pytest.mark.slow  # Every variant 20 steps in one process per strategy: 3-4 minutes each.
@pytest.mark.parametrize("strategy", ["mirrored", "multi_worker"])
def test_every_weighting_gives_the_weights_of_the_default_strategy(default_run, tmp_path,
                                                                    strategy):
    _run(tmp_path, strategy)
    for variant in VARIANTS:
        want, got = _load(default_run, variant), _load(tmp_path, variant)
        assert want.keys() == got.keys(), variant
        weights = [k for k in want if k.startswith("weighting/") and "/weight/" in k]
        if variant != "equal":
            assert len(weights) >= 2 * STEPS, (variant, sorted(want)[:5])
        for key, value in want.items():
            if key.startswith("weighting"):
                np.testing.assert_allclose(got[key], value, rtol=1e-3, atol=1e-4,
                                           err_msg=f"{variant} {key}")
            else:
                np.testing.assert_allclose(got[key], value, rtol=2e-4, atol=2e-5,
                                           err_msg=f"{variant} {key}")
    # Another weighting ends elsewhere (the comparison can fail).
    equal, mgda = _load(default_run, "equal"), _load(tmp_path, "mgda")
    assert any(not np.allclose(mgda[k], v, rtol=2e-4, atol=2e-5) for k, v in equal.items())
    if strategy == "multi_worker":  # Both workers end with the same model.
        for variant in VARIANTS:
            other = dict(np.load(tmp_path / f"{variant.replace(':', '-')}-1.npz"))
            for key, value in _load(tmp_path, variant).items():
                np.testing.assert_array_equal(other[key], value, err_msg=f"{variant} {key}")
