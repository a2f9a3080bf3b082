"""Soft sharing, cross-stitch and sluice: a column per task, mixed (or pulled together)."""

import numpy as np
import pytest

from tests import tiny_config
from tfmtl.config import ConfigError
from tfmtl.experiment import Experiment
from tfmtl.models.sharing import mixing_weights, scheme_config
from tfmtl.models.sharing.sluice import subspace
from tfmtl.training.validation import validate

TASKS = ("chunk", "pos", "label")


@pytest.fixture(scope="module")
def base():
    """The tiny config's experiment (vocabularies), shared by every scheme's model."""
    return Experiment.create(validate(tiny_config.get_config()))


def _build(base, sharing, **options):
    config = tiny_config.get_config()
    config.model.sharing = sharing
    if options:
        config.model.schemes[sharing] = scheme_config(sharing, **options)
    experiment = Experiment(validate(config), base.tasks, base.featurizer)
    return experiment.build_model()


def _features(base, n=4):
    from tfmtl.data.pipeline import make_dataset

    batch = next(iter(make_dataset(base.examples("chunk", "dev")[:n], batch_size=n)))
    return {"words": batch["words"], "chars": batch["chars"]}


def _copy_weights(source, target):
    """Target's weights set from source's, matched by variable path."""
    by_path = {v.path: v for v in source.model.variables}
    for variable in target.model.variables:
        if variable.path in by_path:
            variable.assign(by_path[variable.path])


@pytest.mark.parametrize("sharing", ["soft", "cross_stitch", "sluice"])
def test_each_task_has_its_own_column_read_at_its_layer(base, sharing):
    model = _build(base, sharing)
    for task in TASKS:
        names = {layer.name for layer in model.task_models[task].layers}
        assert f"shared_{task}_1" in names
    pos = {layer.name for layer in model.task_models["pos"].layers}
    if sharing == "soft":
        # Independent columns: a task's model holds its own column and no other.
        assert "shared_chunk_1" not in pos and "shared_pos_2" not in pos
        own = {v.path for v in model.task_variables["chunk"]}
        assert any("shared_chunk_1" in p for p in own)
        assert not any("shared_" in v.path and "lstm" in v.path for v in model.shared_variables)
    else:
        # Mixed columns: every task's head depends on every column's first layer.
        assert {"shared_chunk_1", "shared_label_1"} <= pos
        assert any("shared_chunk_1" in v.path for v in model.shared_variables)
    outputs = model.model(_features(base))
    assert set(TASKS) <= set(outputs)


def test_sluice_with_one_subspace_fixed_betas_and_no_penalty_is_cross_stitch(base):
    cross = _build(base, "cross_stitch", self_weight=0.7)
    sluice = _build(base, "sluice", subspaces=1, betas="fixed", orthogonality=0.0,
                    self_weight=0.7)
    # Different alphas than the initial ones, the same in both.
    rng = np.random.default_rng(0)
    for variable in cross.model.variables:
        if "alpha" in variable.path:
            variable.assign(rng.normal(size=variable.shape).astype(np.float32))
    _copy_weights(cross, sluice)
    assert not sluice.losses
    features = _features(base)
    a, b = cross.model(features), sluice.model(features)
    for task in TASKS:
        np.testing.assert_array_equal(np.asarray(a[task]["logits"]), np.asarray(b[task]["logits"]))
    # With learned betas (initialised evenly) the heads read a mix of the layers instead.
    learned = _build(base, "sluice", subspaces=1, orthogonality=0.0, self_weight=0.7)
    _copy_weights(cross, learned)
    c = learned.model(features)
    assert not np.allclose(np.asarray(a["chunk"]["logits"]), np.asarray(c["chunk"]["logits"]))
    np.testing.assert_array_equal(np.asarray(a["pos"]["logits"]),  # Layer 1: one beta of 1.
                                  np.asarray(c["pos"]["logits"]))


def test_soft_sharing_penalty_is_the_squared_distance_of_every_pair(base):
    model = _build(base, "soft", weight=0.01)
    # POS reads layer 1, so its column has one layer; chunk's and label's have two.
    layers = {t: [[v.numpy().astype(np.float64) for v in model.model.trainable_variables
                   if v.path.startswith(f"shared_{t}_{i}/")] for i in (1, 2)] for t in TASKS}
    assert [len(w) for w in layers["pos"]] == [6, 0]
    assert [len(w) for w in layers["chunk"]] == [6, 6] == [len(w) for w in layers["label"]]
    want = 0.0
    for i, a in enumerate(TASKS):
        for b in TASKS[i + 1:]:
            for wa, wb in zip(layers[a], layers[b], strict=True):
                if wa and wb:
                    want += sum(np.sum((x - y) ** 2) for x, y in zip(wa, wb, strict=True))
    got = float(model.model(_features(base))["losses"]["shared/soft"])
    assert got == pytest.approx(0.01 * want, rel=1e-4)
    assert want > 0  # Columns start from different random weights.
    # Every weight the penalty reads is the model's own (trained and checkpointed).
    assert len(model.model.trainable_variables) == len({id(v) for v in
                                                        model.model.trainable_variables})


def test_sluice_orthogonality_penalty_and_logged_weights(base):
    model = _build(base, "sluice", subspaces=2, orthogonality=0.5)
    outputs = model.model(_features(base))
    assert float(outputs["losses"]["shared/orthogonality"]) > 0
    weights = mixing_weights(model.model)
    k = len(TASKS) * 2
    assert {f"shared_alpha_1/{i}_{j}" for i in range(k) for j in range(k)} <= set(weights)
    assert weights["shared_alpha_1/0_0"] == pytest.approx(0.9)
    # Betas: chunk and label read layer 2 (two betas, evenly), POS layer 1 (one).
    assert weights["shared_chunk_beta/0"] == pytest.approx(0.5)
    assert weights["shared_pos_beta/0"] == pytest.approx(1.0)
    assert "shared_pos_beta/1" not in weights


def test_sluice_subspaces_split_each_direction():
    x = np.arange(8, dtype=np.float32)[None, None]  # forward 0..3, backward 4..7
    np.testing.assert_array_equal(np.asarray(subspace(x, 0, 2, 4, 2))[0, 0], [0, 1, 4, 5])
    np.testing.assert_array_equal(np.asarray(subspace(x, 1, 2, 4, 2))[0, 0], [2, 3, 6, 7])


def test_scheme_keys_are_checked():
    config = tiny_config.get_config()
    config.model.sharing = "sluice"
    config.model.schemes.sluice = scheme_config("sluice", subspaces=3)
    with pytest.raises(ConfigError, match=r"schemes\.sluice\.subspaces: 3 subspaces do not "
                                          r"split encoder 'shared''s 16 units"):
        validate(config)
    config.model.schemes.sluice = scheme_config("sluice", betas="soft")
    with pytest.raises(ConfigError, match=r"schemes\.sluice\.betas"):
        validate(config)
    config.model.sharing = "soft"
    config.model.schemes = {"soft": scheme_config("soft", weight=-1.0)}
    with pytest.raises(ConfigError, match=r"schemes\.soft\.weight: must be >= 0"):
        validate(config)
    config.model.sharing = "cross_stitch"
    config.model.schemes = {"cross_stitch": scheme_config("cross_stitch", self_weight=1.5)}
    with pytest.raises(ConfigError, match=r"schemes\.cross_stitch\.self_weight"):
        validate(config)


# Each scheme's training, logging, export and mirrored run: test_schemes_end_to_end.py.
