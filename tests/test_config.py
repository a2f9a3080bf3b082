"""Tests for the config schema and its validation."""

import ml_collections
import pytest

from tfmtl import config as config_lib
from tfmtl.config import ConfigError, base_config, task_config, validate


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
    with pytest.raises(ConfigError, match=r"^config\.training\.sampler\.type: unknown sampler"):
        validate(c)
    c = _config(tmp_path)
    c.training.reference_task = "pos"
    with pytest.raises(ConfigError, match=r"reference_task: 'pos' is not a task"):
        validate(c)
    c = _config(tmp_path)
    c.model.encoder.lstm = "gru"
    with pytest.raises(ConfigError, match=r"^config\.model\.encoder\.lstm: unknown LSTM"):
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
    again = config_lib.from_json(config_lib.to_json(resolved))
    assert again.to_dict() == resolved.to_dict()


def test_shipped_configs_have_every_key_documented():
    # Every schema line carries a comment (STYLE.md): check the source of base_config.
    import inspect

    source = inspect.getsource(base_config)
    for line in source.splitlines():
        stripped = line.strip()
        if stripped.startswith("c.") and "=" in stripped and "ConfigDict()" not in stripped:
            previous = source.splitlines()[source.splitlines().index(line) - 1].strip()
            assert "#" in stripped or previous.startswith("#"), f"undocumented: {stripped}"
