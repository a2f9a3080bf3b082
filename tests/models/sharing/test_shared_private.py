"""Adversarial shared-private sharing: a shared and a private stack per task, a domain
discriminator behind gradient reversal, and an orthogonality penalty."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tests import tiny_config
from tfmtl.config import ConfigError
from tfmtl.experiment import Experiment
from tfmtl.models.sharing import scheme_config
from tfmtl.training.callbacks.gradient_reversal import gradient_reversal_layers
from tfmtl.training.validation import validate

TASKS = ("chunk", "pos", "label")


def _config(dropout=True, **options):
    """The tiny config with its classification task on a corpus of its own."""
    config = tiny_config.get_config()
    config.tasks.label.data.seed = 4
    config.model.sharing = "shared_private"
    if not dropout:  # Training-mode calls then compute the same thing each time.
        config.model.embeddings.text.update(dropout=0.0, word_dropout=0.0)
        config.model.encoders.shared.dropout = 0.0
    if options:
        config.model.schemes.shared_private = scheme_config("shared_private", **options)
    return config


@pytest.fixture(scope="module")
def experiment():
    return Experiment.create(validate(_config()))


def _build(experiment, dropout=True, **options):
    return Experiment(validate(_config(dropout, **options)), experiment.tasks,
                      experiment.featurizer).build_model()


def _features(experiment, task, n=6):
    from tfmtl.data.pipeline import make_dataset

    batch = next(iter(make_dataset(experiment.examples(task, "dev")[:n], batch_size=n)))
    return {"words": batch["words"], "chars": batch["chars"]}


def _layer_output(model, name, features):
    probe = keras.Model(model.model.inputs, model.model.get_layer(name).output)
    return np.asarray(probe(features), dtype=np.float64)


def test_each_head_reads_the_shared_stack_and_its_own_private_one(experiment):
    model = _build(experiment)
    pos = {layer.name for layer in model.task_models["pos"].layers}
    chunk = {layer.name for layer in model.task_models["chunk"].layers}
    # POS reads layer 1: the shared stack's first layer and a one-layer private stack.
    assert {"shared_1", "shared_pos_1"} <= pos
    assert not pos & {"shared_2", "shared_pos_2", "shared_chunk_1"}
    assert {"shared_1", "shared_2", "shared_chunk_1", "shared_chunk_2"} <= chunk
    assert "shared_label_1" not in chunk
    shared = {v.path for v in model.shared_variables}
    assert any(p.startswith("shared_1/") for p in shared)
    assert not any(p.startswith("shared_chunk") for p in shared)
    assert any(v.path.startswith("shared_chunk_2/") for v in model.task_variables["chunk"])
    # The discriminator is no head's: not in the task models, so not exported.
    assert not any("discriminator" in layer.name for name in TASKS
                   for layer in model.task_models[name].layers)


def test_the_joined_features_keep_each_direction_in_its_half(experiment):
    model = _build(experiment, private_units=8)
    features = _features(experiment, "chunk")
    s = _layer_output(model, "shared_2_dropout", features)  # [fwd 16, bwd 16]
    p = _layer_output(model, "shared_chunk_2_dropout", features)  # [fwd 8, bwd 8]
    joined = _layer_output(model, "shared_chunk_2_joined", features)
    np.testing.assert_array_equal(joined, np.concatenate(
        [s[..., :16], p[..., :8], s[..., 16:], p[..., 8:]], axis=-1))


def test_adversarial_and_orthogonality_losses_per_task(experiment):
    model = _build(experiment, adversarial=0.3, orthogonality=0.7)
    assert not model.losses
    dense = model.model.get_layer("shared_discriminator")
    assert dense.units == 2  # Two corpora: the tagging tasks' and the label task's.
    for task, domain in (("chunk", 0), ("pos", 0), ("label", 1)):
        features = _features(experiment, task)
        losses = model.model(features)["task_losses"][task]
        assert set(losses) == {"shared/adversarial", "shared/orthogonality"}
        top = _layer_output(model, "shared_2_dropout", features)
        words = np.asarray(features["words"])
        mask = (words != 0)[..., None].astype(np.float64)
        pooled = (top * mask).sum(1) / mask.sum(1)
        kernel, bias = (np.asarray(w, np.float64) for w in dense.get_weights())
        logits = pooled @ kernel + bias
        log_probs = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
        assert float(losses["shared/adversarial"]) == pytest.approx(
            -0.3 * log_probs[:, domain].mean(), rel=1e-5)
        layer = 1 if task == "pos" else 2
        s = _layer_output(model, f"shared_{layer}_dropout", features)
        p = _layer_output(model, f"shared_{task}_{layer}_dropout", features)
        # Each token's features at unit norm (the default `normalize`).
        s = s / np.maximum(np.linalg.norm(s, axis=-1, keepdims=True), 1e-6) * mask
        p = p / np.maximum(np.linalg.norm(p, axis=-1, keepdims=True), 1e-6) * mask
        want = np.mean(np.sum(np.einsum("bta,btc->bac", s, p) ** 2, axis=(1, 2)))
        assert float(losses["shared/orthogonality"]) == pytest.approx(0.7 * want, rel=1e-4)
    # A step trains a group's tasks: its sub-model computes their losses only.
    sub = model.submodel(["label"])(_features(experiment, "label"))
    assert set(sub["task_losses"]) == {"label"}


def test_the_normalized_penalty_is_not_met_by_shrinking_the_features():
    from tfmtl.layers.orthogonality import Orthogonality

    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(2, 5, 4)), rng.normal(size=(2, 5, 3))
    mask = np.ones((2, 5), bool)
    plain, scaled = Orthogonality(1.0), Orthogonality(1.0, normalize=True)
    assert float(plain(a * 0.01, b, mask)) == pytest.approx(1e-4 * float(plain(a, b, mask)),
                                                             rel=1e-5)
    assert float(scaled(a * 0.01, b, mask)) == pytest.approx(float(scaled(a, b, mask)),
                                                              rel=1e-5)


def test_a_normalized_discriminator_input_is_not_fooled_by_shrinking(experiment):
    model = _build(experiment, dropout=False, discriminator_input="normalized")
    features = _features(experiment, "label")
    dense = model.model.get_layer("shared_discriminator")
    pooled = keras.Model(model.model.inputs,
                         model.model.get_layer("shared_discriminator_pooling").output)(features)
    unit = np.asarray(pooled, np.float64)
    unit /= np.linalg.norm(unit, axis=-1, keepdims=True)
    kernel, bias = (np.asarray(w, np.float64) for w in dense.get_weights())
    logits = unit @ kernel + bias
    log_probs = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    loss = model.model(features)["task_losses"]["label"]["shared/adversarial"]
    assert float(loss) == pytest.approx(-0.05 * log_probs[:, 1].mean(), rel=1e-5)
    # The same loss for features a hundredth the size: only their direction counts.
    norm = model.model.get_layer("shared_discriminator_normalization")
    np.testing.assert_allclose(np.asarray(norm(pooled * 0.01)), np.asarray(norm(pooled)),
                               rtol=1e-5, atol=1e-7)


def test_a_standardized_discriminator_input_reads_running_statistics(experiment):
    model = _build(experiment, dropout=False, discriminator_input="standardized")
    features = _features(experiment, "label")
    pooled = np.asarray(keras.Model(
        model.model.inputs, model.model.get_layer("shared_discriminator_pooling").output)(
        features), np.float64)
    # A training call sets the statistics from the batch (the first one seen) ...
    loss = model.model(features, training=True)["task_losses"]["label"]["shared/adversarial"]
    layer = model.model.get_layer("shared_discriminator_standardization")
    np.testing.assert_allclose(np.asarray(layer.moving_mean), pooled.mean(0), rtol=1e-4,
                               atol=1e-6)
    standardized = (pooled - pooled.mean(0)) / np.sqrt(pooled.var(0) + layer.epsilon)
    kernel, bias = (np.asarray(w, np.float64)
                    for w in model.model.get_layer("shared_discriminator").get_weights())
    logits = standardized @ kernel + bias
    log_probs = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    assert float(loss) == pytest.approx(-0.05 * log_probs[:, 1].mean(), rel=1e-3)
    # ... and inference reads them without moving them.
    model.model(features)
    np.testing.assert_allclose(np.asarray(layer.moving_mean), pooled.mean(0), rtol=1e-4,
                               atol=1e-6)


def test_weights_of_zero_turn_the_losses_off(experiment):
    model = _build(experiment, adversarial=0.0, orthogonality=0.0)
    assert not model.task_losses and not model.losses
    assert not gradient_reversal_layers(model.model)
    assert "gradient_reversal" not in validate(_config(adversarial=0.0)).training.callbacks


def test_the_adversary_reaches_the_shared_stack_reversed_on_the_ganin_schedule(experiment):
    model = _build(experiment, dropout=False, adversarial=1.0, orthogonality=0.0)
    (grl,) = gradient_reversal_layers(model.model)
    assert grl.lam == "ganin"
    features = _features(experiment, "label")
    shared_kernel = model.model.get_layer("shared_2").forward_layer.cell.kernel
    dense = model.model.get_layer("shared_discriminator")

    def grads(progress):
        grl.progress.assign(progress)
        with tf.GradientTape() as tape:
            loss = model.model(features, training=True)["task_losses"]["label"][
                "shared/adversarial"]
        return [np.asarray(g) for g in tape.gradient(loss, [shared_kernel, dense.kernel])]

    at_start, at_end = grads(0.0), grads(1.0)
    # Lambda is 0 at the start (nothing reaches the encoder), ~1 at the end; the
    # discriminator always learns to discriminate.
    assert not np.any(at_start[0])
    assert np.abs(at_end[0]).max() > 0
    np.testing.assert_allclose(at_start[1], at_end[1], rtol=1e-5)
    # Reversed: the encoder's gradient is minus the one the loss alone would give it.
    reference = keras.Model(model.model.inputs,
                            model.model.get_layer("shared_discriminator_pooling").output)
    with tf.GradientTape() as tape:
        pooled = reference(features, training=True)
        logits = dense(pooled)
        plain = -tf.reduce_mean(tf.nn.log_softmax(logits)[:, 1])
    (direct,) = tape.gradient(plain, [shared_kernel])
    lam = 2.0 / (1.0 + np.exp(-10.0)) - 1.0
    np.testing.assert_allclose(at_end[0], -lam * np.asarray(direct), rtol=1e-4, atol=1e-7)


def test_validation_adds_the_schedule_and_checks_the_keys():
    assert validate(_config()).training.callbacks.gradient_reversal.steps == 0
    one_corpus = tiny_config.get_config()
    one_corpus.model.sharing = "shared_private"
    with pytest.raises(ConfigError, match=r"schemes\.shared_private\.adversarial: the tasks "
                                          r"on encoder 'shared' \(chunk, label, pos\) train "
                                          r"on one corpus"):
        validate(one_corpus)
    one_corpus.model.schemes.shared_private = scheme_config("shared_private", adversarial=0.0)
    validate(one_corpus)
    for key, value, message in (("orthogonality", -1.0, "must be >= 0"),
                                ("private_units", -2, "must be >= 0"),
                                ("pooling", "sum", "one of max, mean, max_mean"),
                                ("discriminator_input", "unit", "one of raw, normalized")):
        with pytest.raises(ConfigError, match=rf"schemes\.shared_private\.{key}: {message}"):
            validate(_config(**{key: value}))


@pytest.mark.slow  # Trains (half a minute); the sampled step: test_schemes_end_to_end.py.
@pytest.mark.parametrize("step", ["all"])
def test_shared_private_trains_through_the_library_and_the_schedule_moves(tmp_path, step):
    from tests.cli_helpers import logged_scalars
    from tfmtl.training.trainer import train_and_evaluate

    config = _config()
    config.training.update(steps=12, eval_every=12, log_every=6, checkpoint_every=12)
    if step == "all":
        config.training.step = "all"
    final = train_and_evaluate(validate(config), str(tmp_path / "run"))
    assert set(final["test"]) == set(TASKS)
    scalars = logged_scalars(tmp_path / "run")
    assert all(v > 0 for v in scalars["shared/adversarial/loss"].values())
    assert scalars["shared/orthogonality/loss"]
    # The callback validation added drove Ganin's lambda up from 0 (logged every 6 steps).
    lam = scalars["gradient_reversal/shared_gradient_reversal"]
    assert sorted(lam) == [6, 12]
    assert 0.9 < lam[6] < lam[12] < 1.0
