"""Δm in training: each task's metric direction, the config keys, checkpoint selection."""

import json
import types

import pytest

from tests import tiny_config
from tfmtl.config import ConfigError
from tfmtl.experiment import Experiment, task_config
from tfmtl.tasks import TASKS
from tfmtl.training.evaluation import main_metric_delta_m
from tfmtl.training.validation import apply_plugin_overrides, validate

BASELINES = {"chunk": 80.0, "pos": 90.0, "label": 50.0}


def _config(select="delta_m", baselines=BASELINES, lm=False):
    c = tiny_config.get_config()
    if lm:  # An auxiliary language model scored by perplexity (lower is better).
        c.tasks.lm = task_config("language_model", accompanies="chunk", vocab=50,
                                 metric="perplexity")
    c.training.select = select
    c.training.baselines.update(baselines)
    return c


def test_every_main_metric_has_a_direction():
    for name in TASKS.names():
        task_type = TASKS.get(name)
        if task_type.__module__.startswith("tfmtl."):
            assert set(task_type.lower_is_better) <= set(task_type.metric_names()), name
            assert not any("accuracy" in m or "f1" in m for m in task_type.lower_is_better)
    assert set(TASKS.get("language_model").lower_is_better) == {
        "perplexity", "forward_perplexity", "backward_perplexity"}
    for name in ("tagging", "classification", "lexicon", "log_frequency"):
        assert TASKS.get(name).lower_is_better == (), name


def test_delta_m_of_tasks_reads_each_main_metric_in_its_direction():
    experiment = Experiment.create(validate(_config(lm=True, baselines={**BASELINES,
                                                                        "lm": 20.0})))
    assert experiment.task_by_name["chunk"].main_metric == "f1"
    results = {"chunk": {"f1": 88.0, "accuracy": 1.0}, "pos": {"accuracy": 81.0},
               "label": {"accuracy": 50.0}, "lm": {"perplexity": 15.0, "accuracy": 99.0}}
    delta = main_metric_delta_m(experiment.tasks, results, {**BASELINES, "lm": 20.0})
    assert delta.per_task == pytest.approx({"chunk": 10.0, "pos": -10.0, "label": 0.0,
                                            "lm": 25.0})
    assert delta.value == pytest.approx(25.0 / 4)
    with pytest.raises(ValueError, match="task 'pos' has a baseline but no score"):
        main_metric_delta_m(experiment.tasks, {"chunk": {"f1": 1.0}}, BASELINES)


@pytest.mark.parametrize(("mutate", "message"), [
    (lambda c: c.training.baselines.update({"nope": 3.0}),
     r"config\.training\.baselines\.nope: unknown task 'nope'; tasks: chunk, label, pos"),
    (lambda c: c.training.baselines.update({"pos": 0.0}),
     r"config\.training\.baselines\.pos: must be a number > 0 .*, got 0\.0"),
    (lambda c: c.training.baselines.update({"pos": -3.0}),
     r"config\.training\.baselines\.pos: must be a number > 0"),
    (lambda c: setattr(c.training, "baselines", {**BASELINES, "pos": "high"}),
     r"config\.training\.baselines\.pos: expected float, got str 'high'"),
    (lambda c: setattr(c.training, "baselines", {"chunk": 80.0, "pos": 90.0}),
     r"config\.training\.baselines\.label: missing: Δm averages over every exported task"),
    (lambda c: setattr(c.training, "baselines", {}),
     r"config\.training\.baselines: empty, but select 'delta_m' needs"),
    (lambda c: setattr(c.training, "select", "delta"),
     r"config\.training\.select: 'delta' is not one of reference, mean, delta_m"),
])
def test_config_errors_name_the_key(mutate, message):
    c = _config()
    mutate(c)
    with pytest.raises(ConfigError, match=message):
        validate(c)


def test_baselines_resolve_and_round_trip():
    c = _config()
    c.training.baselines.pos = 90  # An int is a float.
    resolved = validate(c)
    assert resolved.training.baselines.to_dict() == BASELINES
    assert isinstance(resolved.training.baselines.pos, float)
    # config.json (Experiment.restore reads it through tfmtl.experiment.validate) keeps them.
    from tfmtl.experiment import from_json

    assert from_json(json.dumps(resolved.to_dict())).training.baselines.to_dict() == BASELINES
    # An auxiliary task needs no baseline; with another select, baselines may be set (the dev
    # Δm is logged) and must still cover the exported tasks.
    assert validate(_config(lm=True)).training.baselines.to_dict() == BASELINES
    assert validate(_config("reference")).training.baselines.to_dict() == BASELINES
    assert not validate(_config("reference", {})).training.baselines
    with pytest.raises(ConfigError, match=r"baselines\.label: missing"):
        validate(_config("mean", {"chunk": 1.0, "pos": 1.0}))


def test_a_command_line_override_sets_a_baseline():
    c = _config(baselines={"chunk": 80.0})
    apply_plugin_overrides(c, [("training.baselines.pos", "90"),
                               ("training.baselines.label", "50.5")])
    assert validate(c).training.baselines.to_dict() == {**BASELINES, "label": 50.5}
    with pytest.raises(ConfigError, match=r"config\.training\.baselines\.pos: 'high' is not"):
        apply_plugin_overrides(_config(baselines={}), [("training.baselines.pos", "high")])


class _Checkpoints:
    def __init__(self):
        self.saved = []

    def save_best(self, step):
        self.saved.append(step)


def _select(config, evaluations):
    """Runs BestCheckpoint over dev `evaluations` (step -> results); returns the step of
    the best checkpoint, its score, and the steps saved."""
    from tfmtl.training.callbacks.best_checkpoint import BestCheckpoint
    from tfmtl.training.checkpoints import RunState

    config = validate(config)
    experiment = Experiment.create(config)
    run = types.SimpleNamespace(config=config, experiment=experiment, state=RunState(),
                                checkpoints=_Checkpoints(), step=0)
    callback = BestCheckpoint()
    for step, results in evaluations.items():
        run.step = step
        callback.on_eval_end(run, results)
    return int(run.state.best_step.numpy()), float(run.state.best_value.numpy()), \
        run.checkpoints.saved


def test_selection_by_delta_m_follows_the_dev_delta_m_not_the_reference_task():
    # Against chunk 80 / pos 90 / label 50: step 10 is +0.83 (chunk +2.5%), step 20 -1.67
    # (chunk +5%, pos -10%), step 30 -0.42 (chunk -1.25%). The reference task (chunk)
    # picks step 20.
    evaluations = {
        10: {"chunk": {"f1": 82.0}, "pos": {"accuracy": 90.0}, "label": {"accuracy": 50.0}},
        20: {"chunk": {"f1": 84.0}, "pos": {"accuracy": 81.0}, "label": {"accuracy": 50.0}},
        30: {"chunk": {"f1": 79.0}, "pos": {"accuracy": 90.0}, "label": {"accuracy": 50.0}},
    }
    assert _select(_config("reference", {}), evaluations)[::2] == (20, [10, 20])
    step, value, saved = _select(_config(), evaluations)
    assert (step, saved) == (10, [10])
    assert value == pytest.approx(2.5 / 3)
    # A lower perplexity of an auxiliary task with a baseline is a gain.
    lm = {step: {**results, "lm": {"perplexity": perplexity}}
          for (step, results), perplexity in zip(evaluations.items(), (40.0, 10.0, 40.0),
                                                 strict=True)}
    step, value, _ = _select(_config(lm=True, baselines={**BASELINES, "lm": 20.0}), lm)
    assert step == 20 and value == pytest.approx((5.0 - 10.0 + 0.0 + 50.0) / 4)


def test_the_dev_score_names_delta_m_and_needs_every_dev_set():
    from tfmtl.training.callbacks.best_checkpoint import dev_score

    config = validate(_config())
    run = types.SimpleNamespace(config=config, experiment=Experiment.create(config))
    results = {"chunk": {"f1": 88.0}, "pos": {"accuracy": 90.0}, "label": {"accuracy": 50.0}}
    assert dev_score(run, results) == (pytest.approx(10.0 / 3),
                                       "dev Δm over chunk/label/pos")
    assert dev_score(run, {"chunk": {"f1": 88.0}})[0] is None


def test_a_run_selected_by_delta_m_keeps_the_checkpoint_of_the_best_dev_delta_m(tmp_path):
    from tests.cli_helpers import checkpoint_values, logged_scalars
    from tfmtl.training.trainer import train_and_evaluate

    config = tiny_config.get_config(("chunk", "label"))
    config.training.update(steps=20, eval_every=10, checkpoint_every=10, log_every=10,
                           select="delta_m")
    config.training.optimizer.learning_rate = 0.01  # Dev scores that move between evals.
    config.training.baselines.update(chunk=50.0, label=50.0)
    workdir = tmp_path / "run"
    final = train_and_evaluate(validate(config), str(workdir))
    logged = logged_scalars(workdir)["dev_delta_m"]
    assert sorted(logged) == [10, 20]
    best = max(logged, key=logged.get)
    assert final["best_step"] == best
    state = checkpoint_values(str(workdir / "checkpoints" / "ckpt-20"), "state/")
    best_value = next(v for k, v in state.items() if k.startswith("state/best_value"))
    experiment = Experiment.restore(str(workdir))
    assert experiment.config.training.baselines.to_dict() == {"chunk": 50.0, "label": 50.0}
    # The best score is the Δm of the best checkpoint's dev metrics.
    delta = main_metric_delta_m(experiment.tasks, final["dev"], {"chunk": 50.0, "label": 50.0})
    assert float(best_value) == pytest.approx(delta.value, abs=1e-9)
    assert logged[best] == pytest.approx(delta.value, abs=1e-4)  # Logged as float32.


def test_a_lower_is_better_main_metric_is_negated_for_selection():
    # A language model as the reference task: the checkpoint with the lowest perplexity
    # has the highest score.
    from tfmtl.training.callbacks.best_checkpoint import dev_score

    config = tiny_config.get_config(("chunk",))
    config.tasks.lm = task_config("language_model", accompanies="chunk", metric="perplexity")
    config.training.reference_task = "lm"
    config = validate(config)
    run = types.SimpleNamespace(config=config, experiment=Experiment.create(config))
    low = dev_score(run, {"lm": {"perplexity": 20.0}, "chunk": {"f1": 50.0}})
    high = dev_score(run, {"lm": {"perplexity": 80.0}, "chunk": {"f1": 50.0}})
    assert low == (-20.0, "lm dev -perplexity") and low[0] > high[0]
