"""tfmtl-export end to end: a fused-LSTM run exported pruned, with stock ops, for TF Serving."""

import pytest

from tests.cli_helpers import run_binary
from tests.export import helpers
from tfmtl.experiment import Experiment
from tfmtl.export.saved_model_ops import custom_ops, saved_model_ops


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    return helpers.session_root(tmp_path_factory)


def _node_names(path) -> set[str]:
    from tensorflow.core.protobuf import saved_model_pb2

    saved_model = saved_model_pb2.SavedModel()
    saved_model.ParseFromString((path / "saved_model.pb").read_bytes())
    graph = saved_model.meta_graphs[0].graph_def
    names = {node.name for node in graph.node}
    names.update(node.attr["shared_name"].s.decode() for node in graph.node)
    for function in graph.library.function:
        names.update(node.name for node in function.node_def)
    return names


@pytest.mark.slow  # Trains a fused run and exports it (about 48 s); tests/export cover export.
def test_export_of_one_task_of_a_fused_run(root, tmp_path):
    import tensorflow as tf
    import tensorflow_text  # noqa: F401 (this export uses its regex_split op)

    fused_workdir = helpers.fused_workdir(root)
    base = tmp_path / "exports"
    result = run_binary("export", f"--workdir={fused_workdir}", f"--export_base={base}",
                        "--name=pos_tagger", "--tasks=pos", "--max_length=0",
                        "--tokenizer_ops=tensorflow_text")
    assert result.returncode == 0, result.stderr[-3000:]
    path = base / "pos_tagger" / "1"
    assert f"exported pos to {path}" in result.stdout
    assert "tokenizer: whitespace; max_length: none" in result.stdout
    assert "  pos_tokens(tokens) -> pos" in result.stdout
    assert ("tensorflow_model_server --port=8500 --rest_api_port=8501 "
            f"--model_config_file={base / 'models.config'}") in result.stdout
    assert 'name: "pos_tagger"' in (base / "models.config").read_text()

    ops = saved_model_ops(str(path))
    assert "RegexSplitWithOffsets" in ops and not custom_ops(ops)
    # Pruned: POS reads layer 1, so layer 2 and the other heads are not in the graph, and
    # the variables saved are the POS model's, the LSTMs' as trained.
    variables = tf.train.load_checkpoint(str(path / "variables" / "variables"))
    saved = sorted(tuple(shape) for key, shape in variables.get_variable_to_shape_map().items()
                   if key.startswith("model_variables/"))
    model = Experiment.restore(str(fused_workdir)).build_model()
    pos_variables = model.task_models["pos"].variables
    assert saved == sorted(tuple(v.shape) for v in pos_variables)
    assert len(pos_variables) < len(model.model.variables)
    names = " ".join(_node_names(path))
    assert "pos_logits" in names and "shared_1" in names
    for pruned in ("chunk_logits", "label_logits", "label_pool", "shared_2"):
        assert pruned not in names

    run = helpers.trained(root)
    want = helpers.model_predictions(fused_workdir, run.sentences, lstm="fused")
    loaded = tf.saved_model.load(str(path))
    assert set(loaded.signatures) == {"serving_default", "tokens", "pos", "pos_tokens"}
    outputs = loaded.signatures["serving_default"](text=tf.constant(run.texts))
    outputs = {k: v.numpy() for k, v in outputs.items()}
    assert not any(k.startswith(("chunk_", "label_")) for k in outputs)
    helpers.assert_matches_expected(outputs, {"pos": want["pos"]})
    # --max_length=0: a long sentence is read in full.
    long = loaded.signatures["pos"](text=tf.constant([" ".join(["the"] * 700)]))
    assert long["lengths"].numpy().tolist() == [700] and not long["truncated"].numpy().any()


@pytest.mark.parametrize("args, message", [
    (["--name=a/b"], "--name: 'a/b' is not a model name"),
    (["--name=m", "--version=0"], "--version: must be a positive integer"),
])
def test_usage_errors_are_one_line_and_exit_2(tmp_path, args, message):
    result = run_binary("export", f"--workdir={tmp_path}", f"--export_base={tmp_path}", *args)
    assert result.returncode == 2, result.stderr[-2000:]
    assert f"tfmtl-export: error: {message}" in result.stderr
