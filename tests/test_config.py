"""Tests for the config schema and its validation."""

import re

import ml_collections
import pytest

from tests.conftest import REPO_ROOT
from tfmtl import config as config_lib
from tfmtl.config import ConfigError, base_config
from tfmtl.experiment import from_json, task_config
from tfmtl.tasks import TASKS, Tagging
from tfmtl.training.validation import validate


def _config(tmp_path, **task_values):
    train = tmp_path / "train.txt"
    train.write_text("The DT B-NP\ndog NN I-NP\n\n", encoding="utf-8")
    c = base_config()
    c.tasks.chunk = task_config(
        "tagging", data=dict(format="conll", train=str(train), column="2"), **task_values
    )
    return c


def test_valid_config_resolves_and_locks(tmp_path):
    resolved = validate(_config(tmp_path))
    assert resolved.tasks.chunk.layer == -1
    assert resolved.tasks.chunk.data.train == str(tmp_path / "train.txt")
    with pytest.raises(AttributeError):
        resolved.new_key = 1  # locked


@pytest.mark.parametrize(
    ("mutate", "key"),
    [
        (lambda c: setattr(c.model, "colour", "red"), "config.model.colour"),
        (lambda c: c.tasks.chunk.update({"depth": 2}), "config.tasks.chunk.depth"),
        (lambda c: c.tasks.chunk.data.update({"columns": "2"}), "config.tasks.chunk.data.columns"),
    ],
)
def test_unknown_keys_are_named(tmp_path, mutate, key):
    c = _config(tmp_path)
    c.unlock()
    mutate(c)
    with pytest.raises(ConfigError, match=rf"^{key}: unknown key"):
        validate(c)


def test_wrong_type_is_named(tmp_path):
    # ConfigDict refuses wrong types on assignment; configs rebuilt from JSON or plain dicts
    # (or written by hand) reach validate() unchecked.
    d = _config(tmp_path).to_dict()
    d["training"]["steps"] = "many"
    c = ml_collections.ConfigDict(d)
    with pytest.raises(ConfigError, match=r"^config\.training\.steps: expected int, got str"):
        validate(c)


def test_int_is_accepted_for_float(tmp_path):
    d = _config(tmp_path).to_dict()
    d["training"]["optimizer"]["learning_rate"] = 1
    c = ml_collections.ConfigDict(d)
    assert validate(c).training.optimizer.learning_rate == 1.0


def test_missing_file_is_named(tmp_path):
    c = _config(tmp_path)
    c.tasks.chunk.data.test = str(tmp_path / "nope.txt")
    with pytest.raises(ConfigError, match=r"^config\.tasks\.chunk\.data\.test: no such file"):
        validate(c)


def test_unknown_layer_is_named(tmp_path):
    c = _config(tmp_path, layer=3)
    with pytest.raises(ConfigError, match=r"^config\.tasks\.chunk\.layer: 3 is not a layer"):
        validate(c)


def test_unknown_task_type_and_values(tmp_path):
    with pytest.raises(ConfigError, match="unknown task type 'parsing'"):
        task_config("parsing")
    c = _config(tmp_path)
    c.training.sampler.type = "roundrobin"
    with pytest.raises(ConfigError, match=r"^config\.training\.sampler\.type: unknown task samp"):
        validate(c)
    c = _config(tmp_path)
    c.training.reference_task = "pos"
    with pytest.raises(ConfigError, match=r"reference_task: 'pos' is not a task"):
        validate(c)
    c = _config(tmp_path)
    c.model.encoders.shared.lstm = "gru"
    with pytest.raises(ConfigError, match=r"^config\.model\.encoders\.shared\.lstm: unknown LSTM"):
        validate(c)


@TASKS.register("source_reading_tagging_test")
class _SourceReadingTagging(Tagging):
    """A task type declaring a field (a seq2seq source) that no model input provides."""

    input_fields = ("words", "source")


def test_a_task_reading_a_field_no_input_provides_is_named(tmp_path):
    assert validate(_config(tmp_path)).tasks.chunk.type == "tagging"  # Tagging reads words.
    c = _config(tmp_path)
    c.tasks.chunk.type = "source_reading_tagging_test"
    with pytest.raises(ConfigError, match=r"^config\.tasks\.chunk\.type: task type "
                       r"'source_reading_tagging_test' reads the field\(s\) 'source', which no "
                       r"input of the model provides \(fields: words\)"):
        validate(c)


def test_reference_task_is_required_with_several_tasks(tmp_path):
    c = _config(tmp_path)
    c.tasks.pos = task_config("tagging", data=dict(c.tasks.chunk.data.to_dict(), column="1"))
    with pytest.raises(ConfigError, match=r"^config\.training\.reference_task: name the main"):
        validate(c)
    c.training.reference_task = "pos"
    assert validate(c).training.reference_task == "pos"


def test_no_tasks_is_an_error():
    with pytest.raises(ConfigError, match=r"^config\.tasks: no tasks"):
        validate(base_config())


def test_format_and_column_checks(tmp_path):
    c = _config(tmp_path)
    c.tasks.chunk.data.column = "0"
    with pytest.raises(ConfigError, match=r"^config\.tasks\.chunk\.data\.column"):
        validate(c)
    c = _config(tmp_path)
    c.tasks.chunk.data.format = "conllu"
    c.tasks.chunk.data.column = "pos"
    with pytest.raises(ConfigError, match="is not a CoNLL-U column"):
        validate(c)
    c = _config(tmp_path)
    c.tasks.chunk.data.format = "xml"
    with pytest.raises(ConfigError, match=r"^config\.tasks\.chunk\.data\.format: unknown format"):
        validate(c)


def test_data_dir_resolves_relative_paths(tmp_path):
    c = _config(tmp_path)
    c.data_dir = str(tmp_path)
    c.tasks.chunk.data.train = "train.txt"
    assert validate(c).tasks.chunk.data.train == str(tmp_path / "train.txt")


def test_json_round_trip(tmp_path):
    resolved = validate(_config(tmp_path))
    again = from_json(config_lib.to_json(resolved))
    assert again.to_dict() == resolved.to_dict()


@pytest.mark.parametrize(
    ("mutate", "key", "message"),
    [
        (lambda c: setattr(c.tasks.chunk, "encoder", "private"), "config.tasks.chunk.encoder",
         "unknown encoder 'private'"),
        (lambda c: setattr(c.model.encoders.shared, "language", "de"),
         "config.model.encoders.shared.language", "unknown language 'de'"),
        (lambda c: c.model.encoders.update({"other": config_lib.encoder_config(layers=1)}),
         "config.model.encoders.other", "no task reads encoder 'other'"),
        (lambda c: (c.model.encoders.update({"other": config_lib.encoder_config(layers=1)}),
                    [setattr(t, "encoder", "other") for t in c.tasks.values()],
                    c.model.encoders.__delitem__("shared")), None, None),
        (lambda c: c.model.embeddings.update({"de": config_lib.embedding_config()}),
         "config.model.embeddings.de", "no encoder or decoder reads language 'de'"),
        (lambda c: c.model.decoders.update({"d": config_lib.decoder_config(encoder="nope")}),
         "config.model.decoders.d.encoder", "unknown encoder 'nope'"),
        (lambda c: c.model.decoders.update({"d": config_lib.decoder_config(attention="bahd")}),
         "config.model.decoders.d.attention", "is not one of"),
        (lambda c: c.model.decoders.update({"d": config_lib.decoder_config()}),
         "config.model.decoders.d", "no task reads decoder 'd'"),
        (lambda c: setattr(c.model.embeddings.text, "vectors", "/no/such/vectors.txt"),
         "config.model.embeddings.text.vectors", "no such file"),
        (lambda c: c.model.embeddings.text.char.update({"typ": "cnn"}),
         "config.model.embeddings.text.char.typ", "unknown key"),
        (lambda c: setattr(c.training.weighting, "type", "static"),
         "config.training.weighting.type", "set, but a weighting combines"),
        (lambda c: (setattr(c.training, "step", "all"),
                    setattr(c.training.sampler, "type", "uniform")),
         "config.training.sampler.type", "set, but the sampler draws"),
        (lambda c: setattr(c.training.sampler, "temperature", 3.0),
         "config.training.sampler.temperature", "set, but sampler 'ratio' does not read it"),
        (lambda c: (setattr(c.training.sampler, "type", "temperature"),
                    setattr(c.training.sampler, "temperature", 0.0)),
         "config.training.sampler.temperature", "must be > 0"),
        (lambda c: (setattr(c.training.sampler, "type", "uniform"),
                    setattr(c.tasks.chunk, "mixing_ratio", 0.5)),
         "config.tasks.chunk.mixing_ratio", "set to 0.5, but sampler 'uniform' does not read "
         "it (read by: ratio)"),
        (lambda c: (setattr(c.training, "step", "all"),
                    setattr(c.tasks.chunk, "mixing_ratio", 0.5)),
         "config.tasks.chunk.mixing_ratio", "set to 0.5, but step 'all' trains every task"),
        (lambda c: setattr(c.training.weighting, "type", "gradnorm2"),
         "config.training.weighting.type", "unknown weighting"),
        (lambda c: (setattr(c.training, "step", "all"),
                    setattr(c.tasks.chunk, "loss_weight", 0.5)),
         "config.tasks.chunk.loss_weight", "set to 0.5, but weighting 'equal' does not read "
         "it; use config.training.weighting.type='static'"),
        (lambda c: c.training.callbacks.update({"summaries": {}}),
         "config.training.callbacks.summaries", "is built in"),
        (lambda c: c.training.callbacks.update({"gradient_reversal": {"step": 3}}),
         "config.training.callbacks.gradient_reversal.step", "unknown key"),
    ],
)
def test_module_graph_keys_are_checked_and_named(tmp_path, mutate, key, message):
    c = _config(tmp_path)
    mutate(c)
    if key is None:
        assert "other" in validate(c).model.encoders
        return
    with pytest.raises(ConfigError, match=rf"^{re.escape(key)}: .*{re.escape(message)}"):
        validate(c)


def test_task_layer_is_checked_against_its_encoder(tmp_path):
    c = _config(tmp_path, layer=3, encoder="deep")
    c.model.encoders.deep = config_lib.encoder_config(layers=3)
    del c.model.encoders["shared"]  # (No task reads it.)
    assert validate(c).tasks.chunk.layer == 3
    c.model.encoders.deep.layers = 2
    with pytest.raises(ConfigError, match=r"^config\.tasks\.chunk\.layer: 3 is not a layer "
                       r"of encoder 'deep'"):
        validate(c)


def test_every_schema_key_is_documented():
    # Every schema line carries a comment (STYLE.md): the base schema and its sections.
    import inspect

    for function in (base_config, config_lib.embedding_config, config_lib.encoder_config,
                     config_lib.decoder_config):
        lines = inspect.getsource(function).splitlines()
        for index, line in enumerate(lines):
            stripped = line.strip()
            if stripped.startswith("c.") and "=" in stripped and "ConfigDict()" not in stripped:
                previous = lines[index - 1].strip()
                assert "#" in stripped or previous.startswith("#"), f"undocumented: {stripped}"


@pytest.mark.parametrize("name", ["quickstart", "conll2000_pos_chunk", "ud_pos",
                                  "sentiment_corpora", "polarity", "sharing_classification",
                                  "sharing_tagging"])
def test_shipped_configs_validate_and_build(name, shared_data, request):
    # Each shipped config resolves as is (with its data found) and builds its model.
    import importlib.util

    spec = importlib.util.spec_from_file_location(name, REPO_ROOT / "configs" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    c = module.get_config()
    if name == "conll2000_pos_chunk":
        c.data_dir = str(shared_data("conll2000"))
    elif name == "ud_pos":
        c.data_dir = str(shared_data("ud_english_ewt"))
    elif name in ("sentiment_corpora", "sharing_tagging"):
        c.data_dir = str(shared_data("conll2000" if name == "sharing_tagging" else "sst").parent)
    elif name in ("polarity", "sharing_classification"):
        # They read the deduplicated split tfmtl-data split writes.
        c.data_dir = str(request.getfixturevalue("sentiment_split"))
    resolved = validate(c)
    assert resolved.model.encoders.shared.lstm == "fused" or name == "sentiment_corpora"
    from tfmtl.experiment import Experiment

    model = Experiment.create(resolved).build_model()
    assert set(model.task_models) == set(resolved.tasks)
    for variant in getattr(module, "VARIANTS", ()):  # Every variant validates too.
        v = module.get_config(variant)
        v.data_dir = c.data_dir
        tasks = validate(v).tasks
        if variant not in getattr(module, "TASKS", ()):  # Not a task alone: the main one.
            assert config_lib.reference_task(resolved) in tasks
