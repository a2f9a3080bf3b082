"""The log-frequency objective (Plank et al. 2016): classes, config, training beside a task."""

import math

import pytest

from tests.seams.common import tiny
from tfmtl.config import ConfigError
from tfmtl.experiment import task_config
from tfmtl.training.validation import validate


def _config(**values):
    config = tiny(steps=12, eval_every=12, checkpoint_every=12, log_every=4)
    config.tasks.freq = task_config("log_frequency", **{"accompanies": "pos", **values})
    return config


def test_classes_are_int_log_counts_with_unseen_words_in_class_0(tmp_path):
    from tfmtl.data import Sentence
    from tfmtl.tasks.log_frequency import LogFrequency

    train = tmp_path / "train.txt"
    words = ["the"] * 30 + ["The"] * 3 + ["dog"] * 8 + ["cat"] * 2 + ["emu"]
    train.write_text("\n".join(f"{w} X" for w in words) + "\n")
    config = tiny()
    config.tasks.freq = task_config("log_frequency", lowercase="no",
                                    data=dict(format="conll", train=str(train), column="1"))
    task = LogFrequency("freq", validate(config).tasks.freq)
    task.build_labels([])
    assert task.labels.tokens == ["0", "1", "2", "3"]  # int(log(30)) = 3.
    tags = task.tags(Sentence(("the", "The", "dog", "cat", "emu", "zebra")))
    assert tags == tuple(str(int(math.log(n))) for n in (30, 3, 8, 2, 1, 1))
    task.config.lowercase = "yes"
    task._counts = None
    assert task.tags(Sentence(("The",)))[0] == str(int(math.log(33)))


def test_config_checks():
    resolved = validate(_config())
    assert resolved.tasks.freq.lowercase == "no"  # As the tiny config's embeddings.
    assert resolved.tasks.freq.data.to_dict() == resolved.tasks.pos.data.to_dict()
    with pytest.raises(ConfigError, match=r"tasks\.freq\.lowercase"):
        validate(_config(lowercase="maybe"))
    with pytest.raises(ConfigError, match=r"tasks\.freq\.accompanies.*unknown task"):
        validate(_config(accompanies="nope"))


def test_trains_in_the_batches_of_its_task(tmp_path):
    from tests.cli_helpers import logged_scalars
    from tfmtl.experiment import Experiment
    from tfmtl.training.trainer import train_and_evaluate

    config = validate(_config(layer=1))
    assert {tuple(t.name for t in g) for g in Experiment.create(config).groups(False)} == {
        ("chunk",), ("pos", "freq"), ("label",)}
    final = train_and_evaluate(config, str(tmp_path / "run"))
    assert {"accuracy", "oov_accuracy"} <= set(final["test"]["freq"])
    scalars = logged_scalars(tmp_path / "run")
    assert set(scalars["freq/loss"]) == set(scalars["pos/loss"])
    # After a restore the counts are read again: the same dev targets.
    restored = Experiment.restore(str(tmp_path / "run")).task_by_name["freq"]
    built = Experiment.create(config).task_by_name["freq"]
    dev = built.read("dev")
    assert [restored.tags(s) for s in dev] == [built.tags(s) for s in dev]
