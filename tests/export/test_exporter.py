"""The export's layout, versions, atomicity, TF Serving config and argument errors."""

import json
import os

import pytest

from tests.export.helpers import MODEL_NAME
from tfmtl.export import exporter
from tfmtl.export.exporter import ExportError, existing_versions, export_saved_model
from tfmtl.export.models_config import update_models_config
from tfmtl.export.saved_model_ops import custom_ops, saved_model_ops


def test_version_folder_holds_the_saved_model_and_its_assets(exported):
    base = os.path.dirname(os.path.dirname(exported.path))
    assert exported.path == os.path.join(base, MODEL_NAME, "1") and exported.version == 1
    assert sorted(os.listdir(os.path.join(base, MODEL_NAME))) == ["1"]  # No temporary left.
    assert {"saved_model.pb", "variables", "assets"} <= set(os.listdir(exported.path))
    assets = set(os.listdir(os.path.join(exported.path, "assets")))
    assert assets == {"words.txt", "chars.txt", "labels.chunk.txt", "labels.pos.txt",
                      "labels.label.txt", "tfmtl_export.json"}
    metadata = json.loads(open(os.path.join(exported.path, "assets", "tfmtl_export.json")).read())
    assert metadata["tokenizer"]["name"] == "whitespace" == exported.tokenizer  # Synthetic data.
    assert metadata["tokenizer"]["ops"] == "core"
    assert metadata["max_length"] == exported.max_length == exporter.DEFAULT_MAX_LENGTH
    assert metadata["tasks"]["pos"] == {"type": "tagging", "data_format": "synthetic",
                                        "labels": metadata["tasks"]["pos"]["labels"],
                                        "labels_file": "labels.pos.txt"}
    assert set(metadata["signatures"]) == set(exported.signatures)


def test_vocabularies_are_assets_of_the_lookup_tables(exported, trained):
    words = open(os.path.join(exported.path, "assets", "words.txt"), encoding="utf-8").read()
    assert words == open(trained.workdir / "vocab" / "words.txt", encoding="utf-8").read()
    assert "InitializeTableFromTextFileV2" in saved_model_ops(exported.path)


def test_models_config_lists_the_model_for_tf_serving(exported):
    text = open(exported.models_config).read()
    assert f'name: "{MODEL_NAME}"' in text
    assert f'base_path: "{os.path.dirname(exported.path)}"' in text
    assert 'model_platform: "tensorflow"' in text
    assert exported.serve_command().startswith("tensorflow_model_server --port=8500 ")
    assert f"--model_config_file={exported.models_config}" in exported.serve_command()


def test_graph_has_no_custom_op(exported):
    ops = saved_model_ops(exported.path)
    assert {"MatMul", "StringSplitV2", "StaticRegexReplace", "LookupTableFindV2"} <= ops
    assert not custom_ops(ops)
    assert custom_ops({"MatMul", "Tfmtl>FusedLSTM", "Addons>Foo"}) == {"Tfmtl>FusedLSTM",
                                                                       "Addons>Foo"}


def test_the_model_is_built_with_the_export_lstm(exported, trained):
    import keras

    from tfmtl.layers.lstm.export_lstm import (
        ExportBidirectional,
        ExportLSTM,
        export_lstms,
        unfrozen_lstms,
    )

    experiment, model, _ = exporter.load_stock_model(str(trained.workdir))
    assert experiment.config.model.encoders.shared.lstm == exporter.EXPORT_LSTM == "export"
    encoders = [layer for layer in model.model.layers
                if isinstance(layer, keras.layers.Bidirectional)]
    assert encoders
    for layer in encoders:
        assert isinstance(layer, ExportBidirectional)
        assert isinstance(layer.forward_layer, ExportLSTM)
        assert isinstance(layer.backward_layer, ExportLSTM)
    # Every export LSTM reads a copy of its restored kernels.
    assert len(export_lstms(model.model)) == 2 * len(encoders)
    assert unfrozen_lstms(model.model) == []
    # TensorFlow's own fused kernel runs the LSTMs.
    ops = saved_model_ops(exported.path)
    assert {"BlockLSTMV2", "ReverseSequence"} <= ops


def test_an_export_whose_lstms_were_not_frozen_fails(trained, tmp_path, monkeypatch):
    from tfmtl.layers.lstm import export_lstm

    monkeypatch.setattr(export_lstm, "freeze_block_kernels", lambda model: [])
    with pytest.raises(RuntimeError, match="no current copy of their kernels"):
        export_saved_model(str(trained.workdir), str(tmp_path), "m")
    assert not os.listdir(tmp_path / "m")  # Its temporary folder is gone.


def test_models_config_keeps_other_models(tmp_path):
    path = str(tmp_path / "models.config")
    update_models_config(path, "a", str(tmp_path / "a"))
    update_models_config(path, "b", str(tmp_path / "b"))
    text = update_models_config(path, "a", str(tmp_path / "a2"))
    assert text.count("config {") == 2 and str(tmp_path / "a2") in text and "/b\"" in text
    (tmp_path / "bad.config").write_text("model_config_list { oops")
    with pytest.raises(ValueError, match="bad.config: not a TF Serving model config"):
        update_models_config(str(tmp_path / "bad.config"), "a", "x")


def test_a_broken_models_config_stops_the_export_before_it_starts(tmp_path, trained):
    (tmp_path / "models.config").write_text("model_config_list { oops")
    with pytest.raises(ExportError, match="models.config: not a TF Serving model config"):
        export_saved_model(str(trained.workdir), str(tmp_path), "m")
    assert not (tmp_path / "m").exists()


def test_versions_count_up_and_are_never_overwritten(tmp_path):
    model_dir = tmp_path / "m"
    for name in ("1", "3", ".tmp-export-x", "notes"):
        (model_dir / name).mkdir(parents=True)
    assert existing_versions(str(model_dir)) == [1, 3]
    saved = tmp_path / "saved"
    saved.mkdir()
    (saved / "saved_model.pb").write_bytes(b"x")
    assert exporter._move_into_place(str(saved), str(model_dir), None) == 4
    assert (model_dir / "4" / "saved_model.pb").read_bytes() == b"x"
    with pytest.raises(ExportError, match=r"--version: .*m/3 already exists"):
        export_saved_model(str(tmp_path / "none"), str(tmp_path), "m", version=3)


def test_an_interrupted_export_leaves_no_version(tmp_path, trained, monkeypatch):
    def interrupted(*args, assets_dir, **kwargs):
        open(os.path.join(assets_dir, "words.txt"), "w").close()
        raise KeyboardInterrupt

    monkeypatch.setattr(exporter, "build_serving_model", interrupted)
    with pytest.raises(KeyboardInterrupt):
        export_saved_model(str(trained.workdir), str(tmp_path), "m")
    assert os.listdir(tmp_path / "m") == []
    assert not (tmp_path / "models.config").exists()


@pytest.mark.parametrize("kwargs, message", [
    (dict(name="a/b"), r"--name: 'a/b' is not a model name"),
    (dict(version=0), r"--version: must be a positive integer"),
    (dict(tasks=["pos", "nope"]), r"--tasks: unknown task 'nope'; the model has \w+, \w+, \w+"),
    (dict(tokenizer="bpe"), r"--tokenizer: unknown tokenizer 'bpe'"),
    (dict(tokenizer_ops="icu"), r"--tokenizer_ops: unknown 'icu'"),
    (dict(max_length=-1), r"--max_length: must be >= 0"),
])
def test_bad_arguments_are_named(tmp_path, trained, kwargs, message):
    kwargs = {"name": "m", **kwargs}
    with pytest.raises(ExportError, match=message):
        export_saved_model(str(trained.workdir), str(tmp_path), **kwargs)
    assert not (tmp_path / "m").exists() or os.listdir(tmp_path / "m") == []


def test_an_auxiliary_objective_is_not_exported_nor_exportable():
    from tests import tiny_config
    from tfmtl.experiment import Experiment, task_config
    from tfmtl.training.validation import validate

    config = tiny_config.get_config()
    config.tasks.lm = task_config("language_model", accompanies="chunk", layer=1)
    experiment = Experiment.create(validate(config))
    assert {t.name for t in exporter._select_tasks(experiment, None)} == {"chunk", "pos",
                                                                           "label"}
    with pytest.raises(ExportError, match=r"--tasks: task 'lm' \(language_model, an auxiliary "
                                          r"objective\) serves nothing"):
        exporter._select_tasks(experiment, ["chunk", "lm"])
    for task in ("chunk", "pos", "label"):
        experiment.config.tasks[task].export = "no"
    with pytest.raises(ExportError, match=r"^config\.tasks: no task is exported by default"):
        exporter._select_tasks(experiment, None)


def test_a_folder_that_is_no_workdir_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"config.json: no such file; is .* a tfmtl"):
        export_saved_model(str(tmp_path / "nothing"), str(tmp_path / "out"), "m")


@pytest.mark.parametrize("names", [("tokens",), ("pos", "pos_tokens"), ("serving_default",)])
def test_task_names_that_collide_with_signatures_are_refused(names):
    from types import SimpleNamespace

    from tfmtl.export.serving_model import ServingModel

    with pytest.raises(ValueError, match="collides with another signature"):
        ServingModel.signature_names(SimpleNamespace(task_names=names))
