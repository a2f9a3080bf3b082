"""A run killed with SIGKILL and restarted with the same command continues where it stopped."""

import os
import signal
import subprocess
import time

import numpy as np
import pytest

from tests.cli_helpers import TINY_CONFIG, binary_command, checkpoint_values, env, run_binary
from tests.conftest import REPO_ROOT

ARGS = ["--config.training.steps=60", "--config.training.checkpoint_every=10",
        "--config.training.eval_every=30"]


def _latest(workdir):
    import tensorflow as tf

    return tf.train.latest_checkpoint(os.path.join(workdir, "checkpoints"))


@pytest.mark.parametrize("step_kind", ["sampled", "all"])
def test_killed_run_resumes_and_matches_an_uninterrupted_run(tmp_path, step_kind):
    args = [*ARGS, f"--config.training.step={step_kind}"]
    straight = str(tmp_path / "straight")
    result = run_binary("train", f"--config={TINY_CONFIG}", f"--workdir={straight}", *args)
    assert result.returncode == 0, result.stderr

    killed = str(tmp_path / "killed")
    command = binary_command("train", f"--config={TINY_CONFIG}", f"--workdir={killed}", *args)
    process = subprocess.Popen(command, env=env(), cwd=REPO_ROOT, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        path = _latest(killed)
        if path and int(path.rsplit("-", 1)[1]) >= 20:
            break
        time.sleep(0.05)
    else:
        process.kill()
        pytest.fail("no checkpoint at step >= 20 within 300 s")
    process.send_signal(signal.SIGKILL)
    process.wait()
    killed_at = int(_latest(killed).rsplit("-", 1)[1])
    assert killed_at < 60, "the run finished before it was killed; nothing was resumed"

    result = run_binary("train", f"--config={TINY_CONFIG}", f"--workdir={killed}", *args)
    assert result.returncode == 0, result.stderr
    assert f"resumed from step {killed_at}" in result.stderr

    # Everything: weights, optimizer moments and iterations, run state, dropout seeds.
    expected = checkpoint_values(_latest(straight))
    actual = checkpoint_values(_latest(killed))
    assert _latest(killed).endswith("ckpt-60")
    assert expected.keys() == actual.keys()
    assert len([k for k in expected if k.startswith("optimizer/_trainable_variables/")]) > 10
    for name, value in expected.items():
        np.testing.assert_allclose(actual[name], value, rtol=1e-5, atol=1e-6, err_msg=name)
