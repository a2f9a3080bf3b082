"""A run killed with SIGKILL and restarted with the same command continues where it stopped.

Issue 8's bar: a ``sampled`` and an ``all`` run both train, checkpoint, resume after
SIGKILL bit-for-bit, and export: each case is about a minute, so all run with ``--runslow``
(``make test-slow``, which CI runs), on the tiny config and the quickstart config itself.
"""

import os
import signal
import subprocess
import time

import numpy as np
import pytest

from tests.cli_helpers import TINY_CONFIG, binary_command, checkpoint_values, env, run_binary
from tests.conftest import REPO_ROOT

CASES = [
    pytest.param(TINY_CONFIG, 60, 10, id="tiny", marks=pytest.mark.slow),
    pytest.param(str(REPO_ROOT / "configs" / "quickstart.py"), 150, 50, id="quickstart",
                 marks=pytest.mark.slow),
]


def _latest(workdir):
    import tensorflow as tf

    return tf.train.latest_checkpoint(os.path.join(workdir, "checkpoints"))


def _step(path):
    return int(path.rsplit("-", 1)[1])


@pytest.mark.parametrize("config, steps, every", CASES)
@pytest.mark.parametrize("step_kind", ["sampled", "all"])
def test_killed_run_resumes_bit_for_bit_and_exports(tmp_path, step_kind, config, steps, every):
    args = [f"--config={config}", f"--config.training.steps={steps}",
            f"--config.training.checkpoint_every={every}",
            f"--config.training.eval_every={steps // 2}", f"--config.training.step={step_kind}"]
    straight = str(tmp_path / "straight")
    result = run_binary("train", f"--workdir={straight}", *args)
    assert result.returncode == 0, result.stderr

    killed = str(tmp_path / "killed")
    command = binary_command("train", f"--workdir={killed}", *args)
    process = subprocess.Popen(command, env=env(), cwd=REPO_ROOT, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        path = _latest(killed)
        if path and _step(path) >= 2 * every:
            break
        time.sleep(0.05)
    else:
        process.kill()
        pytest.fail(f"no checkpoint at step >= {2 * every} within 300 s")
    process.send_signal(signal.SIGKILL)
    process.wait()
    killed_at = _step(_latest(killed))
    assert killed_at < steps, "the run finished before it was killed; nothing was resumed"

    result = run_binary("train", f"--workdir={killed}", *args)
    assert result.returncode == 0, result.stderr
    assert f"resumed from step {killed_at}" in result.stderr

    # Everything, bit for bit: weights, optimizer moments and iterations, run state, seeds.
    expected = checkpoint_values(_latest(straight))
    actual = checkpoint_values(_latest(killed))
    assert _latest(killed).endswith(f"ckpt-{steps}")
    assert expected.keys() == actual.keys()
    assert len([k for k in expected if k.startswith("optimizer/_trainable_variables/")]) > 10
    for name, value in expected.items():
        np.testing.assert_array_equal(actual[name], value, err_msg=name)

    # The resumed run exports, and the export serves every task.
    import tensorflow as tf

    base = tmp_path / "exports"
    result = run_binary("export", f"--workdir={killed}", f"--export_base={base}",
                        "--name=model")
    assert result.returncode == 0, result.stderr[-3000:]
    served = tf.saved_model.load(str(base / "model" / "1"))
    outputs = served.signatures["serving_default"](text=tf.constant(["the dog walks", ""]))
    for task in ("chunk", "pos", "label"):
        assert outputs[f"{task}_labels"].shape[0] == 2, sorted(outputs)
