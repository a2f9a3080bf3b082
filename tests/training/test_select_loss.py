"""``training.select = "loss"``: the evaluator scores each task's dev loss, and the best
checkpoint has the lowest mean of the tasks' dev losses, each divided by its
``training.loss_baselines`` entry (tfmtl-group's selection of a network's checkpoint)."""

import types

import numpy as np
import pytest

from tests.seams.common import tiny
from tfmtl.config import ConfigError
from tfmtl.data.pipeline import make_dataset
from tfmtl.experiment import Experiment
from tfmtl.training import validate
from tfmtl.training.callbacks.best_checkpoint import dev_score
from tfmtl.training.evaluation import Evaluator


def test_the_dev_loss_is_each_named_losss_mean_over_the_whole_split():
    experiment = Experiment.create(validate(tiny()))
    model = experiment.build_model()
    for task in experiment.tasks:
        examples = experiment.examples(task.name, "dev")[:37]
        # Batches of 8 (the last one short) against one batch of all 37.
        got = Evaluator(experiment, model, 8, losses=True).loss(task.name, examples)
        (batch,) = list(make_dataset(examples, batch_size=len(examples)))
        features = {n: batch[n] for n in experiment.featurizer.input_names()}
        outputs = model.task_models[task.name](features, training=False)
        want = sum(loss.weight * float(loss.total) / float(loss.count)
                   for loss in task.losses(batch, outputs).values())
        # float32 sums over other batchings differ by ~2e-5 (relative), no more.
        assert got == pytest.approx(want, rel=1e-4), task.name
        assert np.isfinite(got) and got > 0
    results = Evaluator(experiment, model, 64, losses=True).evaluate("dev")
    assert all("loss" in scores for scores in results.values())
    assert not any("loss" in s for s in Evaluator(experiment, model, 64).evaluate(
        "dev").values())


def _run(**training):
    config = tiny(select="loss", **training)
    config = validate(config)
    tasks = [types.SimpleNamespace(name=name) for name in config.tasks]
    return types.SimpleNamespace(config=config,
                                 experiment=types.SimpleNamespace(tasks=tasks))


def test_the_score_is_minus_the_mean_of_the_losses_relative_to_their_baselines():
    results = {"chunk": {"loss": 2.0}, "pos": {"loss": 1.0}, "label": {"loss": 3.0}}
    value, what = dev_score(_run(), results)
    assert value == pytest.approx(-2.0) and "mean dev loss" in what
    config = tiny(select="loss")
    config.training.loss_baselines.chunk = 4.0
    config.training.loss_baselines.label = 1.5
    run = _run()
    run.config = validate(config)
    assert dev_score(run, results)[0] == pytest.approx(-(0.5 + 1.0 + 2.0) / 3)


@pytest.mark.parametrize("select, baselines, key, message", [
    ("mean", {"chunk": 1.0}, "config.training.loss_baselines", "only select 'loss'"),
    ("loss", {"nope": 1.0}, "config.training.loss_baselines.nope", "unknown task"),
    ("loss", {"chunk": 0.0}, "config.training.loss_baselines.chunk", "> 0"),
    ("loss", {"chunk": "x"}, "config.training.loss_baselines.chunk", "expected float"),
])
def test_bad_loss_baselines_are_config_errors_naming_the_key(select, baselines, key, message):
    config = tiny(select=select)
    for name, value in baselines.items():
        config.training.loss_baselines[name] = value
    with pytest.raises(ConfigError, match=message) as raised:
        validate(config)
    assert raised.value.key == key


def test_a_run_selecting_on_loss_keeps_the_checkpoint_of_the_lowest_dev_loss(tmp_path):
    from tests.cli_helpers import logged_scalars
    from tfmtl.training.trainer import train_and_evaluate

    config = tiny(steps=9, eval_every=3, checkpoint_every=3, log_every=3, select="loss")
    config.training.loss_baselines.chunk = 2.0
    final = train_and_evaluate(validate(config), str(tmp_path / "run"))
    scalars = logged_scalars(tmp_path / "run")
    steps = sorted(scalars["chunk/dev_loss"])
    assert steps == [3, 6, 9]
    mean = {s: np.mean([scalars[f"{t}/dev_loss"][s] / (2.0 if t == "chunk" else 1.0)
                        for t in ("chunk", "pos", "label")]) for s in steps}
    assert final["best_step"] == min(steps, key=mean.get)
    assert final["dev"]["chunk"]["loss"] == pytest.approx(scalars["chunk/dev_loss"][
        final["best_step"]], rel=1e-5)

