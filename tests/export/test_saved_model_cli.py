"""TensorFlow's own saved_model_cli shows and runs the export."""

import os
import pathlib
import subprocess
import sys

import pytest

SAVED_MODEL_CLI = pathlib.Path(sys.executable).parent / "saved_model_cli"


def _cli(*args, cwd):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    return subprocess.run([str(SAVED_MODEL_CLI), *args], capture_output=True, text=True,
                          env=env, cwd=cwd, timeout=300)


@pytest.fixture(scope="module", autouse=True)
def _needs_cli():
    if not SAVED_MODEL_CLI.exists():
        pytest.skip(f"saved_model_cli not found beside {sys.executable}")


def test_show_all_lists_signatures_and_functions(exported, tmp_path):
    process = _cli("show", "--all", "--dir", exported.path, cwd=tmp_path)
    assert process.returncode == 0, process.stderr[-3000:]
    out = process.stdout
    for name in exported.signatures:
        assert f"signature_def['{name}']" in out
    assert "inputs['text'] tensor_info:" in out and "inputs['tokens'] tensor_info:" in out
    assert "outputs['pos_labels'] tensor_info:" in out
    # Only core ops: TensorFlow can list the concrete functions too.
    assert "Concrete Functions:" in out and "N/A" not in out


def test_run_labels_raw_text(exported, loaded, tmp_path):
    sentence = "the dog walks ."
    process = _cli("run", "--dir", exported.path, "--tag_set", "serve", "--signature_def",
                   "label", "--input_exprs", f"text=[{sentence!r}, '']", cwd=tmp_path)
    assert process.returncode == 0, process.stderr[-3000:]
    import tensorflow as tf

    want = loaded.signatures["label"](text=tf.constant([sentence, ""]))
    label = want["label_labels"].numpy()[0]
    out = process.stdout
    assert "Result for output key label_labels:" in out
    assert f"[{label!r} b'']" in out, out
    assert "Result for output key lengths:\n[4 0]" in out
