"""A run killed with SIGKILL and restarted with the same command continues where it stopped.

Issue 8's bar: a ``sampled`` and an ``all`` run both train, checkpoint, resume after
SIGKILL bit-for-bit, and export: each case is about a minute, so all run with ``--runslow``
(``make test-slow``, which CI runs), on the tiny config and the quickstart config itself.
"""

import pytest

from tests.cli_helpers import TINY_CONFIG, run_binary, train_killed_and_resumed
from tests.conftest import REPO_ROOT

CASES = [
    pytest.param(TINY_CONFIG, 60, 10, id="tiny", marks=pytest.mark.slow),
    pytest.param(str(REPO_ROOT / "configs" / "quickstart.py"), 150, 50, id="quickstart",
                 marks=pytest.mark.slow),
]


@pytest.mark.parametrize("config, steps, every", CASES)
@pytest.mark.parametrize("step_kind", ["sampled", "all"])
def test_killed_run_resumes_bit_for_bit_and_exports(tmp_path, step_kind, config, steps, every):
    args = [f"--config={config}", f"--config.training.steps={steps}",
            f"--config.training.checkpoint_every={every}",
            f"--config.training.eval_every={steps // 2}", f"--config.training.step={step_kind}"]
    _, killed = train_killed_and_resumed(tmp_path, args, steps, every)

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
