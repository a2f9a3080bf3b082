"""The ``representation`` gradient mode (``config.training.weighting.gradients``): the
coefficients come from the tasks' gradients on the shared encoder's output, and the shared
variables follow ``sum_i alpha_i grad L_i``: checked against the coefficients a float64 NumPy
reference makes of those gradients and each task's own gradient on the shared variables;
its config errors name the key."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from scipy import optimize

from tests import tiny_config
from tests.training.test_gradient_weightings import _aligned_reference, _imtl_reference
from tfmtl.config import ConfigError
from tfmtl.data.pipeline import make_dataset
from tfmtl.experiment import Experiment
from tfmtl.models.multitask_model import REPRESENTATIONS
from tfmtl.models.sharing import scheme_config
from tfmtl.training import validate
from tfmtl.training.steps import make_all_step, task_losses
from tfmtl.training.weightings import make_weighting

KINDS = ("mgda", "imtl", "aligned_mtl", "gradnorm")


def _config(kind="mgda", groups=1, **weighting):
    config = tiny_config.get_config(("chunk", "label"))
    if groups == 2:  # Other sentences: the classification task is a group of its own.
        config.tasks.label.data.seed = 4
    config.model.embeddings.text.dropout = 0.0  # The reference's passes see the step's.
    config.model.encoders.shared.dropout = 0.0
    config.training.step = "all"
    config.training.weighting.type = kind
    config.training.weighting.gradients = "representation"
    config.training.weighting.update(weighting)
    return config


def _min_norm(m):
    """The min-norm point of the hull by SciPy's SLSQP (float64)."""
    k = len(m)
    result = optimize.minimize(lambda w: w @ m @ w, np.full(k, 1 / k), jac=lambda w: 2 * m @ w,
                               constraints=[{"type": "eq", "fun": lambda w: w.sum() - 1}],
                               bounds=[(0, None)] * k, method="SLSQP",
                               options={"ftol": 1e-16, "maxiter": 1000})
    return result.x


def _reference_alpha(kind, g, losses):
    """The coefficients of the published method on the gradient rows `g` (float64)."""
    if kind == "mgda":
        return _min_norm(g @ g.T)
    if kind == "imtl":
        return _imtl_reference(g)
    if kind == "aligned_mtl":
        return _aligned_reference(g)[1]
    # GradNorm's first step: the weights it uses are the initial ones.
    return np.ones(len(g))


def _batches(experiment, groups):
    return [next(iter(make_dataset(experiment.train_examples(tuple(t.name for t in group))[:16],
                                   batch_size=16))) for group in groups]


@pytest.mark.parametrize("groups", [1, 2], ids=["one_corpus", "two_corpora"])
@pytest.mark.parametrize("kind", KINDS)
def test_the_shared_update_weighs_each_tasks_gradient_by_the_coefficients_of_the_method(
        kind, groups):
    config = validate(_config(kind, groups))
    experiment = Experiment.create(config)
    model = experiment.build_model()
    grouped = experiment.groups(True)
    assert len(grouped) == groups
    names = experiment.featurizer.input_names()
    batches = _batches(experiment, grouped)
    initial = [np.array(v.numpy()) for v in model.model.trainable_variables]

    # The reference: each task's gradient on its group's encoder output, rows side by side
    # over the groups (zero on another group's), the method's coefficients in float64, and
    # each task's gradient on the shared variables.
    representation = model.representation_model()
    with tf.GradientTape(persistent=True) as tape:
        losses, tensors = {}, []
        for group, batch in zip(grouped, batches, strict=True):
            outputs = dict(representation({n: batch[n] for n in names}, training=True))
            read = outputs.pop(REPRESENTATIONS)
            (tensor,) = {id(read[t.name][0]): read[t.name][0] for t in group}.values()
            tensors.append(tensor)
            losses.update(task_losses(group, batch, outputs, {}))
    tasks = [task.name for task in experiment.tasks]
    rows = np.stack([np.concatenate([
        np.zeros(np.prod(z.shape)) if (g := tape.gradient(losses[t], z)) is None
        else g.numpy().astype(np.float64).ravel() for z in tensors]) for t in tasks])
    alpha = _reference_alpha(kind, rows, [float(losses[t]) for t in tasks])
    shared_ids = {id(v) for v in model.shared_variables}
    variables = model.model.trainable_variables
    per_task = {t: tape.gradient(losses[t], variables) for t in tasks}
    expected = []
    for i, variable in enumerate(variables):
        grads = [(alpha[j] if id(variable) in shared_ids else 1.0) * tf.convert_to_tensor(g)
                 .numpy().astype(np.float64) for j, t in enumerate(tasks)
                 if (g := per_task[t][i]) is not None]
        expected.append(initial[i] - sum(grads) if grads else initial[i])

    weighting = make_weighting(config.training.weighting, experiment.tasks)
    weighting.build()
    optimizer = keras.optimizers.SGD(learning_rate=1.0)
    step = make_all_step(tf.distribute.get_strategy(), grouped, model, optimizer, names,
                         weighting)
    step([iter(tf.data.Dataset.from_tensors(b).repeat()) for b in batches])
    if kind != "gradnorm":
        np.testing.assert_allclose(weighting.weights.numpy(), alpha, rtol=2e-3, atol=2e-4)
    moved = 0
    for variable, want, before in zip(variables, expected, initial, strict=True):
        np.testing.assert_allclose(variable.numpy(), want, rtol=1e-3, atol=2e-5,
                                   err_msg=variable.path)
        moved += id(variable) in shared_ids and not np.allclose(variable.numpy(), before)
    assert moved > 0
    if groups == 2 and kind != "gradnorm":  # Other corpora: orthogonal representations.
        assert float(weighting.metrics()["cosine/chunk/label"]) == 0.0


def test_gradnorm_takes_the_norms_of_the_representation_gradients():
    config = validate(_config("gradnorm", lr=0.5, alpha=0.0))
    experiment = Experiment.create(config)
    model = experiment.build_model()
    (group,) = experiment.groups(True)
    (batch,) = _batches(experiment, [group])
    names = experiment.featurizer.input_names()
    with tf.GradientTape(persistent=True) as tape:
        outputs = dict(model.representation_model()({n: batch[n] for n in names},
                                                    training=True))
        z = outputs.pop(REPRESENTATIONS)["chunk"][0]
        losses = task_losses(group, batch, outputs, {})
    norms = np.array([np.linalg.norm(tape.gradient(losses[t.name], z).numpy().astype(float))
                      for t in experiment.tasks])
    weighting = make_weighting(config.training.weighting, experiment.tasks)
    weighting.build()
    step = make_all_step(tf.distribute.get_strategy(), [group], model,
                         keras.optimizers.SGD(learning_rate=0.0), names, weighting)
    step([iter(tf.data.Dataset.from_tensors(batch).repeat())])
    # alpha = 0: the targets are the mean weighted norm; one step of lr moves each weight by
    # lr * norm against the sign of its gap, then the weights are scaled to sum to K.
    updated = 1.0 - 0.5 * np.sign(norms - norms.mean()) * norms
    np.testing.assert_allclose(weighting.weights.numpy(), updated * 2 / updated.sum(),
                               rtol=1e-4)


@pytest.mark.parametrize("kind", ["pcgrad", "cagrad", "nash_mtl"])
def test_a_weighting_defined_on_parameter_gradients_refuses_the_mode(kind):
    with pytest.raises(ConfigError, match="gradnorm, imtl, mgda") as raised:
        validate(_config(kind))
    assert raised.value.key == "config.training.weighting.gradients"


def test_the_mode_key_is_checked_and_only_gradient_weightings_have_it():
    with pytest.raises(ConfigError, match="representation") as raised:
        validate(_config(gradients="parameters"))
    assert raised.value.key == "config.training.weighting.gradients"
    config = _config()
    config.training.weighting.type = "uncertainty"
    with pytest.raises(ConfigError) as raised:
        validate(config)
    assert raised.value.key == "config.training.weighting.gradients"
    assert validate(_config("pcgrad", gradients="exact")).training.weighting.gradients == "exact"


def test_tasks_at_different_layers_or_without_a_common_encoder_are_config_errors():
    config = _config()
    config.tasks.label.layer = 1
    with pytest.raises(ConfigError, match="chunk: 2, label: 1") as raised:
        validate(config)
    assert raised.value.key == "config.training.weighting.gradients"
    config = _config()
    config.model.sharing = "soft"
    config.model.schemes.soft = scheme_config("soft")
    with pytest.raises(ConfigError, match="sharing 'soft'") as raised:
        validate(config)
    assert raised.value.key == "config.training.weighting.gradients"
