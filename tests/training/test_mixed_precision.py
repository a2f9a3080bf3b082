"""Mixed precision (``training.mixed_precision``): the model computes in 16 bits and keeps
float32 variables, losses and outputs; the fused LSTM, the CRF and the loss layers compute in
float32; ``mixed_float16`` scales the loss (a scaled step updates as an unscaled one, and a
step whose gradients are not finite is skipped, weighting state included); short runs of
every step kind train; the export of a mixed-precision run serves the float32 model; float32
builds as before."""

import json
import shutil

import keras
import numpy as np
import pytest
import tensorflow as tf

from tests import tiny_config
from tests.cli_helpers import logged_scalars
from tfmtl.config import ConfigError
from tfmtl.data.pipeline import make_dataset
from tfmtl.experiment import Experiment, task_batch
from tfmtl.layers.crf import CRF
from tfmtl.layers.tracking import tracked_layers
from tfmtl.ops.fused_lstm import FusedLSTM
from tfmtl.ops.loader import load_library
from tfmtl.training import validate
from tfmtl.training.optimizers import build_optimizer
from tfmtl.training.steps import make_all_step, make_sampled_step
from tfmtl.training.trainer import train_and_evaluate
from tfmtl.training.weightings import make_weighting

TASKS = ("chunk", "label")  # Two groups (tagging and classification): fewer steps to trace.


def _config(policy="float32", tasks=TASKS, **training):
    config = tiny_config.get_config(tasks)
    config.training.mixed_precision = policy
    config.training.update(training)
    return config


def _batch(experiment, task, n=8):
    return next(iter(make_dataset(experiment.train_examples((task,))[:n], batch_size=n)))


def _features(experiment, batch):
    return {name: batch[name] for name in experiment.featurizer.input_names()}


def _floating(outputs):
    return [t for t in tf.nest.flatten(outputs) if t.dtype.is_floating]


@pytest.mark.parametrize("value", ["float16", "bfloat16", "mixed_bf16", "Float32", ""])
def test_an_unknown_policy_is_a_config_error_naming_the_key(value):
    with pytest.raises(ConfigError, match="mixed_bfloat16") as raised:
        validate(_config(value))
    assert raised.value.key == "config.training.mixed_precision"


def test_a_policy_of_another_type_is_a_config_error_naming_the_key():
    config = _config().to_dict()
    config["training"]["mixed_precision"] = True
    with pytest.raises(ConfigError) as raised:
        validate(config)
    assert raised.value.key == "config.training.mixed_precision"


def test_a_mixed_model_computes_in_16_bits_with_float32_variables_losses_and_outputs():
    config = _config("mixed_bfloat16")
    config.tasks.chunk.output = "crf"
    config.model.encoders.shared.lstm = "fused"
    experiment = Experiment.create(validate(config))
    model = experiment.build_model()
    assert keras.config.dtype_policy().name == "float32"  # Put back after building.
    layers = {layer.name: layer for layer in model.model.layers}
    for name in ("word_embedding", "chunk_logits", "label_logits"):
        assert layers[name].compute_dtype == "bfloat16", name
    fused = tracked_layers(model.model, FusedLSTM)
    assert len(fused) == 4  # Two BiLSTM layers: the native kernel runs them in float32.
    assert all(layer.compute_dtype == "float32" for layer in fused)
    assert [layer.compute_dtype for layer in tracked_layers(model.model, CRF)] == ["float32"]
    assert {v.dtype for v in model.model.variables if "int" not in v.dtype} == {"float32"}
    for task in experiment.tasks:
        batch = _batch(experiment, task.name)
        outputs = model.model(_features(experiment, batch), training=True)
        assert {t.dtype for t in _floating(outputs)} == {tf.float32}
        for loss in task.losses(task_batch(batch, task.name), outputs[task.name]).values():
            assert loss.total.dtype == tf.float32 and np.isfinite(float(loss.total))
    features = _features(experiment, _batch(experiment, "chunk"))
    if load_library() is not None:  # The fused op is in the mixed model's graph.
        graph = tf.function(lambda f: model.model(f, training=True)).get_concrete_function(
            features).graph.as_graph_def()
        ops = {node.op for node in graph.node} | {
            node.op for function in graph.library.function for node in function.node_def}
        assert "Tfmtl>FusedLSTM" in ops

    # The same weights in a float32 model: the same function, up to bfloat16 rounding.
    config.training.mixed_precision = "float32"
    reference = Experiment(validate(config), experiment.tasks, experiment.featurizer)
    full = reference.build_model()
    sources = {v.path: v for v in model.model.weights}
    assert len(sources) == len(full.model.weights)
    for target in full.model.weights:
        target.assign(sources[target.path])
    got, want = model.model(features), full.model(features)
    for name in ("chunk", "label"):
        np.testing.assert_allclose(got[name]["logits"].numpy(), want[name]["logits"].numpy(),
                                   atol=0.05)


def test_the_keras_lstm_computes_in_bfloat16_in_a_mixed_model():
    experiment = Experiment.create(validate(_config("mixed_bfloat16", tasks=("chunk",))))
    model = experiment.build_model()
    lstms = tracked_layers(model.model, keras.layers.LSTM)
    assert len(lstms) == 4 and not any(isinstance(layer, FusedLSTM) for layer in lstms)
    assert {layer.compute_dtype for layer in lstms} == {"bfloat16"}
    assert {layer.cell.kernel.dtype for layer in lstms} == {"float32"}
    outputs = model.model(_features(experiment, _batch(experiment, "chunk")), training=True)
    assert outputs["chunk"]["logits"].dtype == tf.float32


def test_float32_builds_the_model_as_before_whatever_keras_global_policy():
    keras.config.set_dtype_policy("mixed_bfloat16")
    try:
        experiment = Experiment.create(validate(_config()))
        model = experiment.build_model()
        assert keras.config.dtype_policy().name == "mixed_bfloat16"  # Left as it was.
    finally:
        keras.config.set_dtype_policy("float32")
    layers = [layer for layer in tf.train.TrackableView(model.model).descendants()
              if isinstance(layer, keras.layers.Layer)]
    assert {layer.dtype_policy.name for layer in layers} == {"float32"}
    assert not [layer.name for layer in model.model.layers if layer.name.endswith("_float32")]
    optimizer = build_optimizer(experiment.config.training.optimizer, 10)
    assert not isinstance(optimizer, keras.optimizers.LossScaleOptimizer)


def _train_steps(config, experiment, model, initial, *, loss_scaling, steps=2, scale=None):
    """Trains `steps` steps on fixed batches from the `initial` variable values; returns the
    optimizer and the weighting."""
    for variable, value in zip(model.model.variables, initial, strict=True):
        variable.assign(value)
    t = config.training
    weighting = make_weighting(t.weighting, experiment.tasks) if t.step == "all" else None
    if weighting is not None:
        weighting.build()
    optimizer = build_optimizer(t.optimizer, 100, loss_scaling=loss_scaling)
    optimizer.build([*model.model.trainable_variables,
                     *(weighting.trainable_variables if weighting is not None else ())])
    if scale is not None:
        optimizer.dynamic_scale.assign(scale)
    strategy = tf.distribute.get_strategy()
    names = experiment.featurizer.input_names()
    groups = experiment.groups(True)

    def iterator(group):
        examples = experiment.train_examples(tuple(task.name for task in group))[:16]
        batch = next(iter(make_dataset(examples, batch_size=16)))
        return iter(tf.data.Dataset.from_tensors(batch).repeat())

    if weighting is not None:
        step = make_all_step(strategy, groups, model, optimizer, names, weighting)
        iterators = [iterator(group) for group in groups]
        run = lambda: step(iterators)  # noqa: E731
    else:
        step = make_sampled_step(strategy, list(groups[0]), model.submodel(
            [task.name for task in groups[0]]), optimizer, names)
        one = iterator(groups[0])
        run = lambda: step(one)  # noqa: E731
    for _ in range(steps):
        run()
    return optimizer, weighting, run


def _values(variables):
    return [np.array(v.numpy()) for v in variables]


@pytest.mark.parametrize("step, weighting", [
    ("sampled", "equal"),
    *(pytest.param("all", w, marks=pytest.mark.slow) for w in ("pcgrad", "uncertainty"))])
def test_a_loss_scaled_step_updates_as_an_unscaled_one(step, weighting):
    # Loss scaling in a float32 model: the scale is a power of two, so the gradients the
    # optimizer applies (a weighting combines) are the unscaled ones, bit for bit.
    config = _config(step=step)
    config.training.weighting.type = weighting
    config = validate(config)
    experiment = Experiment.create(config)
    model = experiment.build_model()
    initial = _values(model.model.variables)
    _, plain_weighting, _ = _train_steps(config, experiment, model, initial,
                                         loss_scaling=False)
    plain = _values(model.model.trainable_variables)
    optimizer, scaled_weighting, _ = _train_steps(config, experiment, model, initial,
                                                  loss_scaling=True)
    assert float(optimizer.dynamic_scale) == 2.0 ** 15 and int(optimizer.iterations) == 2
    for got, want in zip(_values(model.model.trainable_variables), plain, strict=True):
        np.testing.assert_array_equal(got, want)
    assert not np.array_equal(plain[0], initial[0])  # It trained.
    if plain_weighting is not None:
        for got, want in zip(_values(scaled_weighting.variables),
                             _values(plain_weighting.variables), strict=True):
            np.testing.assert_array_equal(got, want)


def test_a_step_with_non_finite_scaled_gradients_is_skipped_with_the_weighting_state():
    config = _config(step="all")
    config.training.weighting.type = "pcgrad"
    config = validate(config)
    experiment = Experiment.create(config)
    model = experiment.build_model()
    initial = _values(model.model.variables)
    optimizer, weighting, run = _train_steps(config, experiment, model, initial,
                                             loss_scaling=True, steps=1, scale=np.inf)
    assert int(optimizer.iterations) == 0 and int(weighting.step) == 0
    trainable = {id(v) for v in model.model.trainable_variables}
    for variable, value in zip(model.model.variables, initial, strict=True):
        if id(variable) in trainable:
            np.testing.assert_array_equal(variable.numpy(), value)
    fresh = make_weighting(config.training.weighting, experiment.tasks)
    fresh.build()
    for got, want in zip(_values(weighting.variables), _values(fresh.variables), strict=True):
        np.testing.assert_array_equal(got, want)
    optimizer.dynamic_scale.assign(2.0 ** 10)
    run()
    assert int(optimizer.iterations) == 1 and int(weighting.step) == 1
    assert float(optimizer.dynamic_scale) == 2.0 ** 10
    assert not np.array_equal(model.model.trainable_variables[0].numpy(), initial[0])


def _losses_of(scalars, tasks):
    return {name: [scalars[f"{name}/loss"][s] for s in sorted(scalars[f"{name}/loss"])]
            for name in tasks}


def test_mixed_bfloat16_trains_on_the_sampled_step(tmp_path):
    config = validate(_config("mixed_bfloat16", tasks=("chunk",), steps=6, eval_every=6,
                              checkpoint_every=6, log_every=2))
    final = train_and_evaluate(config, str(tmp_path / "run"))
    losses = _losses_of(logged_scalars(tmp_path / "run"), ("chunk",))
    assert all(np.isfinite(v).all() and len(v) >= 1 for v in losses.values()), losses
    assert all(np.isfinite(s) for scores in final["test"].values() for s in scores.values())
    assert "loss_scale" not in logged_scalars(tmp_path / "run")


def test_mixed_bfloat16_trains_on_the_all_step_with_a_gradient_weighting(tmp_path):
    config = _config("mixed_bfloat16", steps=8, eval_every=8, checkpoint_every=8,
                     log_every=2, step="all")
    config.training.weighting.type = "pcgrad"
    config.training.optimizer.learning_rate = 0.01
    train_and_evaluate(validate(config), str(tmp_path / "run"))
    scalars = logged_scalars(tmp_path / "run")
    losses = _losses_of(scalars, TASKS)
    for name, values in losses.items():
        assert np.isfinite(values).all() and len(values) == 4, (name, values)
        assert values[-1] < values[0], (name, values)  # Falling.
    assert np.isfinite(scalars["weighting/chunk/weight"][8])


@pytest.mark.parametrize("weighting, resume", [
    ("mgda", False),
    *(pytest.param(w, True, marks=pytest.mark.slow) for w in ("uncertainty", "famo"))])
def test_mixed_float16_trains_with_loss_scaling(tmp_path, weighting, resume):
    # Two tasks of one group: one forward pass per step, two per-task gradients.
    config = _config("mixed_float16", tasks=("chunk", "pos"), steps=4, eval_every=4,
                     checkpoint_every=4, log_every=2, step="all")
    config.training.weighting.type = weighting
    workdir = str(tmp_path / "run")
    final = train_and_evaluate(validate(config), workdir)
    if resume:
        config.training.steps = 6  # Resumes from the checkpoint of step 4.
        final = train_and_evaluate(validate(config), workdir)
    steps = (2, 4, 6) if resume else (2, 4)
    assert final["steps"] == steps[-1]
    scalars = logged_scalars(workdir)
    # The scale is logged; no overflow in so few steps: it is the initial one (2^15), as
    # restored on resuming.
    assert scalars["loss_scale"] == dict.fromkeys(steps, 2.0 ** 15)
    for name, values in _losses_of(scalars, ("chunk", "pos")).items():
        assert np.isfinite(values).all() and len(values) == len(steps), (name, values)
    assert all(np.isfinite(s) for scores in final["test"].values() for s in scores.values())


@pytest.mark.slow  # Trains and exports: about half a minute.
def test_a_mixed_precision_run_exports_the_float32_model(tmp_path):
    from tests.export.helpers import assert_matches_expected, model_predictions
    from tfmtl.export.exporter import export_saved_model

    config = _config("mixed_bfloat16", steps=3, eval_every=3, checkpoint_every=3,
                     log_every=3)
    config.model.encoders.shared.lstm = "fused"
    workdir = tmp_path / "run"
    train_and_evaluate(validate(config), str(workdir))
    result = export_saved_model(str(workdir), str(tmp_path / "exports"), "mixed")
    sentences = [list(s.tokens) for s in Experiment.restore(str(workdir)).sentences(
        "chunk", "dev")[:8]]
    outputs = tf.saved_model.load(result.path).signatures["serving_default"](
        text=tf.constant([" ".join(s) for s in sentences]))
    outputs = {k: v.numpy() for k, v in outputs.items()}
    for name in ("chunk_probabilities", "chunk_scores", "label_probabilities"):
        assert outputs[name].dtype == np.float32, name
    # What the trained weights predict in a float32 model of the same config.
    float32_run = tmp_path / "float32_run"
    shutil.copytree(workdir, float32_run)
    path = float32_run / "config.json"
    written = json.loads(path.read_text())
    written["training"]["mixed_precision"] = "float32"
    path.write_text(json.dumps(written, indent=2) + "\n")
    assert_matches_expected(outputs, model_predictions(float32_run, sentences))
