"""Running tfmtl's binaries in subprocesses, as a user would."""

import os
import subprocess
import sys

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
