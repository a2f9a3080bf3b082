"""Tests for the training loop: the train step learns, the run writes its files."""

import json
import os

import pytest

from tests import tiny_config
from tfmtl.config import ConfigError
from tfmtl.data.pipeline import make_dataset
from tfmtl.experiment import Experiment
from tfmtl.training.optimizers import build_optimizer
from tfmtl.training.steps import make_sampled_step
from tfmtl.training.trainer import train_and_evaluate
from tfmtl.training.validation import validate


def _config(tasks=("chunk", "pos", "label"), **training):
    c = tiny_config.get_config(tasks)
    c.training.update(training)
    return validate(c)


def test_multi_task_train_steps_reduce_every_loss():
    import tensorflow as tf

    config = _config()
    experiment = Experiment.create(config)
    model = experiment.build_model()
    optimizer_config = config.training.optimizer.copy_and_resolve_references()
    optimizer_config.learning_rate = 0.01  # Fit one batch per task quickly.
    optimizer = build_optimizer(optimizer_config, 100)
    optimizer.build(model.model.trainable_variables)
    strategy = tf.distribute.get_strategy()
    names = experiment.featurizer.input_names()
    losses = {}
    for task in experiment.tasks:
        step = make_sampled_step(strategy, [task], model.submodel([task.name]), optimizer,
                                 names)
        batch = next(iter(make_dataset(experiment.train_examples((task.name,))[:16],
                                       batch_size=16)))
        dataset = tf.data.Dataset.from_tensors(batch).repeat()
        iterator = iter(dataset)
        history = []
        for _ in range(30):
            total, count = step(iterator)[task.name]
            history.append(float(total) / float(count))
        losses[task.name] = history
    for name, history in losses.items():
        assert history[-1] < 0.75 * history[0], (name, history[0], history[-1])


def test_train_and_evaluate_writes_its_files(tmp_path):
    workdir = tmp_path / "run"
    final = train_and_evaluate(_config(), str(workdir), command="tfmtl-train --test")
    for name in ("config.json", "command.txt", "metrics.json"):
        assert (workdir / name).is_file(), name
    assert (workdir / "vocab" / "words.txt").is_file()
    assert (workdir / "vocab" / "labels" / "chunk.txt").is_file()
    assert os.listdir(workdir / "checkpoints") and os.listdir(workdir / "best")
    assert os.listdir(workdir / "tensorboard")
    metrics = json.loads((workdir / "metrics.json").read_text())
    assert metrics == json.loads(json.dumps(final))
    assert set(metrics["dev"]) == set(metrics["test"]) == {"chunk", "pos", "label"}
    assert {"accuracy", "oov_accuracy", "f1"} <= set(metrics["test"]["chunk"])
    assert {"accuracy", "macro_f1"} <= set(metrics["test"]["label"])
    assert metrics["steps"] == 40 and metrics["best_step"] in (20, 40)
    assert "tfmtl-train --test" in (workdir / "command.txt").read_text()


def test_a_finished_run_is_not_retrained_and_other_configs_are_refused(tmp_path):
    import tensorflow as tf

    workdir = str(tmp_path / "run")
    one = ("chunk",)  # What it checks needs one task (and traces one step).
    first = train_and_evaluate(_config(one, steps=10, eval_every=10), workdir)
    checkpoints = sorted(os.listdir(os.path.join(workdir, "checkpoints")))
    latest = tf.train.latest_checkpoint(os.path.join(workdir, "checkpoints"))
    again = train_and_evaluate(_config(one, steps=10, eval_every=10), workdir)
    assert again["steps"] == 10 and again["test"] == first["test"]
    # Not retrained: no new checkpoint, the latest is the same, no step was logged again.
    assert sorted(os.listdir(os.path.join(workdir, "checkpoints"))) == checkpoints
    assert tf.train.latest_checkpoint(os.path.join(workdir, "checkpoints")) == latest
    logged = [e.step for f in sorted(os.listdir(os.path.join(workdir, "tensorboard")))
              for e in tf.compat.v1.train.summary_iterator(os.path.join(workdir, "tensorboard", f))
              if any(v.tag == "chunk/loss" for v in e.summary.value)]
    assert logged and len(logged) == len(set(logged)), logged
    other = tiny_config.get_config(one)
    other.model.encoders.shared.units = 8
    with pytest.raises(ConfigError,
                       match=r"config\.model\.encoders\.shared\.units: .* different config"):
        train_and_evaluate(validate(other), workdir)


def test_early_stopping_stops_on_the_reference_task(tmp_path):
    config = tiny_config.get_config(tasks=("chunk", "label"))
    config.training.update(steps=400, eval_every=10, patience=1, checkpoint_every=10)
    config.training.optimizer.learning_rate = 1e-6  # Nothing improves: stop at the 2nd eval.
    final = train_and_evaluate(validate(config), str(tmp_path / "run"))
    assert final["stopped_early"] and final["steps"] == 20 and final["best_step"] == 10



def test_joint_training_updates_every_head_of_a_group_in_one_step(tmp_path):
    config = tiny_config.get_config()
    config.training.update(steps=12, eval_every=12, joint=True, log_every=4)
    config.training.sampler.type = "uniform"
    experiment = Experiment.create(validate(config))
    groups = experiment.groups(joint=True)
    # The three synthetic tasks read the same sentences: one group, all heads every step.
    assert [tuple(t.name for t in g) for g in groups] == [("chunk", "label", "pos")]

    workdir = tmp_path / "run"
    final = train_and_evaluate(validate(config), str(workdir))
    assert final["steps"] == 12 and set(final["dev"]) == {"chunk", "label", "pos"}
    # Every head moved: each head's weights before training (a fresh model with the run's
    # seed) against after it.
    from tests.cli_helpers import head_kernel_moves

    moves = head_kernel_moves(validate(config), workdir)
    assert set(moves) == {"chunk", "label", "pos"}
    assert all(moved > 1e-4 for moved in moves.values()), moves


def test_groups_without_joint_are_single_tasks():
    experiment = Experiment.create(_config())
    assert [len(g) for g in experiment.groups(joint=False)] == [1, 1, 1]


def _conll_config(data_dir):
    from tfmtl.config import base_config
    from tfmtl.experiment import task_config

    c = base_config()
    c.data_dir = str(data_dir)
    c.tasks.chunk = task_config("tagging", data=dict(format="conll", column="1",
                                                     train="train.txt", test="test.txt"))
    return validate(c)


def test_moved_data_with_the_same_bytes_resumes_and_edited_data_is_refused(tmp_path):
    import shutil

    from tfmtl.training.trainer import _write_run_files, check_resume

    first = tmp_path / "a"
    first.mkdir()
    (first / "train.txt").write_text("the DT\ndog NN\n\n")
    (first / "test.txt").write_text("a DT\ncat NN\n\n")
    workdir = tmp_path / "run"
    workdir.mkdir()
    _write_run_files(_conll_config(first), str(workdir), "tfmtl-train")
    recorded = json.loads((workdir / "data_sha256.json").read_text())
    assert sorted(recorded) == [str(first / "test.txt"), str(first / "train.txt")]
    moved = tmp_path / "b"
    shutil.move(first, moved)  # The old paths are gone: the recorded hashes decide.
    assert check_resume(_conll_config(moved), str(workdir))
    # A key a later tfmtl added (absent from the earlier config.json) at its default resumes;
    # so do the sampler keys the base schema held before samplers owned them.
    written = json.loads((workdir / "config.json").read_text())
    del written["training"]["select"]
    written["training"]["sampler"].update(cap=0, temperature=2.0)
    (workdir / "config.json").write_text(json.dumps(written))
    assert check_resume(_conll_config(moved), str(workdir))
    # A file edited in place, at the path the run recorded, is another config.
    _write_run_files(_conll_config(moved), str(workdir), "tfmtl-train")
    (moved / "train.txt").write_text("the DT\ncat NN\n\n")
    with pytest.raises(ConfigError, match=r"config\.tasks\.chunk\.data\.train: .* different "
                                          r"config \(differs in: tasks\.chunk\.data\.train\)"):
        check_resume(_conll_config(moved), str(workdir))


def test_the_dev_score_is_the_reference_tasks_or_the_mean_of_the_exported_tasks():
    import types

    from tfmtl.training.callbacks.best_checkpoint import dev_score

    config = tiny_config.get_config()
    config.tasks.pos.export = "no"
    experiment = Experiment.create(validate(config))
    results = {"chunk": {"f1": 80.0}, "pos": {"accuracy": 10.0}, "label": {"accuracy": 60.0}}
    run = types.SimpleNamespace(config=experiment.config, experiment=experiment)
    assert dev_score(run, results) == (80.0, "chunk dev f1")
    config.training.select = "mean"
    run.config = validate(config)
    assert dev_score(run, results) == (70.0, "mean dev chunk f1/label accuracy")
    assert dev_score(run, {"chunk": {"f1": 80.0}})[0] is None
    config.training.select = "best"
    with pytest.raises(ConfigError, match=r"config\.training\.select"):
        validate(config)
