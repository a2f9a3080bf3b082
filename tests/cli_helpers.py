"""Running tfmtl's binaries in subprocesses, as a user would."""

import os
import signal
import subprocess
import sys
import time

from tests.conftest import REPO_ROOT

TINY_CONFIG = str(REPO_ROOT / "tests" / "tiny_config.py")


def binary_command(module: str, *args: str) -> list[str]:
    return [sys.executable, "-m", f"tfmtl.cli.{module}", *args]


def env() -> dict:
    e = dict(os.environ)
    e["PYTHONPATH"] = str(REPO_ROOT) + os.pathsep + e.get("PYTHONPATH", "")
    e.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    return e


def run_binary(module: str, *args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    return subprocess.run(binary_command(module, *args), capture_output=True, text=True,
                          env=env(), cwd=REPO_ROOT, timeout=timeout)


def checkpoint_values(path: str, prefix: str = "") -> dict:
    """The saved tensors of a checkpoint whose names start with `prefix`.

    Trainable weights are saved under ``optimizer/_trainable_variables/``
    (the first path that reaches them), optimizer moments under
    ``optimizer/_variables/``, the run state under ``state/``.
    """
    import tensorflow as tf

    reader = tf.train.load_checkpoint(path)
    values = {
        name: reader.get_tensor(name)
        for name in reader.get_variable_to_shape_map()
        if name.startswith(prefix) and name != "_CHECKPOINTABLE_OBJECT_GRAPH"
    }
    assert values, f"no tensors named {prefix}* in {path}"
    return values


def logged_scalars(workdir) -> dict[str, dict[int, float]]:
    """Every TensorBoard scalar a run wrote: ``{tag: {step: value}}``."""
    import tensorflow as tf

    folder = os.path.join(str(workdir), "tensorboard")
    scalars: dict[str, dict[int, float]] = {}
    for name in sorted(os.listdir(folder)):
        for event in tf.compat.v1.train.summary_iterator(os.path.join(folder, name)):
            for value in event.summary.value:
                number = (value.simple_value if value.HasField("simple_value")
                          else float(tf.make_ndarray(value.tensor)))
                scalars.setdefault(value.tag, {})[event.step] = number
    return scalars


def _latest(workdir) -> str | None:
    import tensorflow as tf

    return tf.train.latest_checkpoint(os.path.join(str(workdir), "checkpoints"))


def _step(path: str) -> int:
    return int(path.rsplit("-", 1)[1])


def train_killed_and_resumed(tmp_path, args, steps: int, every: int) -> tuple[str, str]:
    """Trains ``tfmtl-train ARGS`` straight through, and again killed with SIGKILL once it
    has a checkpoint at step >= 2 * `every`, then restarted with the same command; checks
    the restart resumed from the last checkpoint and ended with the same checkpoint, bit for
    bit (weights, optimizer moments and iterations, run state, seeds). Returns both
    workdirs (straight, killed)."""
    import numpy as np
    import pytest

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

    expected = checkpoint_values(_latest(straight))
    actual = checkpoint_values(_latest(killed))
    assert _latest(killed).endswith(f"ckpt-{steps}")
    assert expected.keys() == actual.keys()
    assert len([k for k in expected if k.startswith("optimizer/_trainable_variables/")]) > 10
    for name, value in expected.items():
        np.testing.assert_array_equal(actual[name], value, err_msg=name)
    return straight, killed


def head_kernel_moves(config, workdir) -> dict[str, float]:
    """How far each task's output layer (``<task>_logits``) moved in a finished run of the
    resolved `config` in `workdir`: the largest absolute change of its kernel between a
    fresh model built as the run built its own (same seed) and the newest checkpoint."""
    import keras
    import numpy as np
    import tensorflow as tf

    from tfmtl.experiment import Experiment

    experiment = Experiment.load_vocabularies(config, str(workdir))
    keras.utils.set_random_seed(config.seed)  # As the run did before building its model.
    before = experiment.build_model().model
    after = experiment.build_model().model
    tf.train.Checkpoint(model=after).restore(
        _latest(workdir)).expect_partial()
    return {task.name: float(np.abs(after.get_layer(f"{task.name}_logits").kernel.numpy()
                                    - before.get_layer(f"{task.name}_logits").kernel.numpy())
                             .max()) for task in experiment.tasks}


def processes_using(path: str) -> list[int]:
    """Live processes whose command line mentions `path`."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if path.encode() in f.read():
                    found.append(int(pid))
        except OSError:
            continue
    return found
