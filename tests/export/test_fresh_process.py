"""A process with only tensorflow and tensorflow_text knows every op and serves the export."""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np

from tests.export.helpers import assert_matches_expected
from tfmtl.export.saved_model_ops import custom_ops, saved_model_ops

_SCRIPT = textwrap.dedent('''
    import importlib.abc
    import json
    import sys


    class NoTfmtl(importlib.abc.MetaPathFinder):
        """tfmtl may be installed in this environment: make any import of it fail."""

        def find_spec(self, name, path=None, target=None):
            if name == "tfmtl" or name.startswith("tfmtl."):
                raise ImportError(f"{name}: tfmtl is blocked in the stock process")
            return None


    sys.meta_path.insert(0, NoTfmtl())
    import tensorflow as tf
    import tensorflow_text  # noqa: F401
    from tensorflow.core.protobuf import saved_model_pb2
    from tensorflow.python.framework import op_def_registry

    path, texts_file, out_file = sys.argv[1:]
    saved_model = saved_model_pb2.SavedModel()
    with open(path + "/saved_model.pb", "rb") as f:
        saved_model.ParseFromString(f.read())
    ops, functions = set(), set()
    for meta_graph in saved_model.meta_graphs:
        ops.update(node.op for node in meta_graph.graph_def.node)
        for function in meta_graph.graph_def.library.function:
            functions.add(function.signature.name)
            ops.update(node.op for node in function.node_def)
    ops -= functions
    unknown = sorted(op for op in ops if op_def_registry.get(op) is None)

    with open(texts_file, encoding="utf-8") as f:
        texts = json.load(f)
    model = tf.saved_model.load(path)
    outputs = model.signatures["serving_default"](text=tf.constant(texts))
    result = {key: value.numpy().tolist() for key, value in outputs.items()}
    result = json.loads(json.dumps(result, default=lambda b: b.decode("utf-8")))
    modules = sorted(m.split(".")[0] for m in sys.modules if not m.startswith("_"))
    with open("/proc/self/maps", encoding="utf-8") as f:
        mapped = {line.split()[-1] for line in f if len(line.split()) > 5}
    native = sorted(m for m in mapped if m.rsplit("/", 1)[-1].startswith("_tfmtl"))
    with open(out_file, "w", encoding="utf-8") as f:
        json.dump({"ops": sorted(ops), "unknown": unknown, "outputs": result,
                   "tfmtl_loaded": "tfmtl" in modules or bool(native)}, f)
''')


def test_stock_process_knows_every_op_and_reproduces_training_predictions(
        exported, trained, tmp_path):
    script = tmp_path / "serve.py"
    script.write_text(_SCRIPT)
    texts = tmp_path / "texts.json"
    texts.write_text(json.dumps(trained.texts))
    out = tmp_path / "out.json"
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYTHON")}
    env["TF_CPP_MIN_LOG_LEVEL"] = "2"
    process = subprocess.run(
        [sys.executable, "-I", str(script), exported.path, str(texts), str(out)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    )
    assert process.returncode == 0, process.stderr[-3000:]
    result = json.loads(out.read_text())
    assert not result["tfmtl_loaded"]
    assert result["unknown"] == [], result["unknown"]
    assert set(result["ops"]) == saved_model_ops(exported.path)
    assert not custom_ops(set(result["ops"]))
    outputs = {key: np.array(value) for key, value in result["outputs"].items()}
    for key, value in outputs.items():
        if value.dtype.kind == "U":
            outputs[key] = np.vectorize(str.encode, otypes=[object])(value)
    assert_matches_expected(outputs, trained.expected)
