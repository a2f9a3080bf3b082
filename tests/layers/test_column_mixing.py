"""Column mixing (cross-stitch units, sluice alphas), layer mixing (sluice betas), the
orthogonality and weight-distance penalties, against float64 NumPy references."""

import keras
import numpy as np
import pytest

from tfmtl.layers.column_mixing import ColumnMixing, mixing_init
from tfmtl.layers.layer_mixing import LayerMixing
from tfmtl.layers.orthogonality import Orthogonality
from tfmtl.layers.weight_distance import WeightDistance


def _reference_mix(columns, alpha, subspaces, directions):
    """out[k][..., d, s, :] = sum_{j, r} alpha[k*S+s, j*S+r] * in[j][..., d, r, :]."""
    k = len(columns)
    batch, time, dim = columns[0].shape
    part = dim // (directions * subspaces)
    split = [c.astype(np.float64).reshape(batch, time, directions, subspaces, part)
             for c in columns]
    out = []
    for a in range(k):
        result = np.zeros_like(split[0])
        for s in range(subspaces):
            for j in range(k):
                for r in range(subspaces):
                    result[:, :, :, s] += alpha[a * subspaces + s, j * subspaces + r] * \
                        split[j][:, :, :, r]
        out.append(result.reshape(batch, time, dim))
    return out


@pytest.mark.parametrize(("columns", "subspaces", "directions"),
                         [(3, 1, 2), (2, 2, 2), (3, 2, 1), (1, 1, 2), (2, 4, 2)])
def test_column_mixing_matches_the_reference(columns, subspaces, directions):
    rng = np.random.default_rng(columns * 10 + subspaces + directions)
    dim = directions * subspaces * 3
    inputs = [rng.normal(size=(2, 5, dim)).astype(np.float32) for _ in range(columns)]
    layer = ColumnMixing(columns, subspaces, directions)
    layer([keras.ops.convert_to_tensor(x) for x in inputs])
    alpha = rng.normal(size=(columns * subspaces,) * 2)
    layer.alpha.assign(alpha.astype(np.float32))
    got = layer([keras.ops.convert_to_tensor(x) for x in inputs])
    for g, want in zip(got, _reference_mix(inputs, alpha, subspaces, directions), strict=True):
        np.testing.assert_allclose(keras.ops.convert_to_numpy(g), want, rtol=1e-5, atol=1e-5)


def test_the_initial_alpha_is_near_the_identity_with_rows_summing_to_one():
    m = mixing_init(4, 0.9)
    np.testing.assert_allclose(np.diag(m), 0.9)
    np.testing.assert_allclose(m.sum(axis=1), 1.0, rtol=1e-6)
    assert m[0, 1] == pytest.approx(0.1 / 3)
    # At the start each column's output is mostly its own.
    layer = ColumnMixing(2, 1, 1, self_weight=0.9)
    a, b = np.ones((1, 2, 4), np.float32), np.zeros((1, 2, 4), np.float32)
    out = layer([keras.ops.convert_to_tensor(a), keras.ops.convert_to_tensor(b)])
    np.testing.assert_allclose(keras.ops.convert_to_numpy(out[0]), 0.9, rtol=1e-6)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(out[1]), 0.1, rtol=1e-6)


def test_a_width_the_subspaces_do_not_split_is_refused():
    with pytest.raises(ValueError, match="does not split"):
        ColumnMixing(2, 2, 2)([keras.ops.zeros((1, 2, 6))] * 2)


def test_layer_mixing_is_a_weighted_sum_and_fixed_weights_do_not_train():
    rng = np.random.default_rng(0)
    xs = [rng.normal(size=(2, 3, 4)).astype(np.float32) for _ in range(3)]
    learned = LayerMixing(3, [0.2, 0.3, 0.5])
    got = keras.ops.convert_to_numpy(learned([keras.ops.convert_to_tensor(x) for x in xs]))
    np.testing.assert_allclose(got, 0.2 * xs[0] + 0.3 * xs[1] + 0.5 * xs[2], rtol=1e-5)
    assert len(learned.trainable_weights) == 1
    fixed = LayerMixing(3, trainable=False)
    got = keras.ops.convert_to_numpy(fixed([keras.ops.convert_to_tensor(x) for x in xs]))
    np.testing.assert_array_equal(got, xs[2])
    assert not fixed.trainable_weights


def test_orthogonality_matches_the_reference_and_ignores_padding():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(2, 4, 3)), rng.normal(size=(2, 4, 5))
    mask = np.array([[1, 1, 1, 0], [1, 1, 0, 0]], bool)
    want = np.mean([np.sum((a[i][mask[i]].T @ b[i][mask[i]]) ** 2) for i in range(2)])
    got = Orthogonality(0.5)(keras.ops.convert_to_tensor(a.astype(np.float32)),
                             keras.ops.convert_to_tensor(b.astype(np.float32)),
                             keras.ops.convert_to_tensor(mask))
    assert float(got) == pytest.approx(0.5 * want, rel=1e-5)
    # Orthogonal features: zero.
    e = np.eye(4, dtype=np.float32)[None]
    zero = Orthogonality()(keras.ops.convert_to_tensor(e[..., :2]),
                           keras.ops.convert_to_tensor(e[..., 2:]),
                           keras.ops.ones((1, 4), "bool"))
    assert float(zero) == 0.0


def test_weight_distance_sums_every_pair_and_tracks_no_variables():
    rng = np.random.default_rng(2)
    layers = []
    for _ in range(3):
        dense = keras.layers.Dense(2)
        dense.build((None, 3))
        layers.append(dense)
    penalty = WeightDistance([[d] for d in layers], 0.1)
    got = float(penalty(keras.ops.zeros((1,))))
    weights = [[w.numpy().astype(np.float64) for w in d.trainable_weights] for d in layers]
    want = sum(np.sum((wa - wb) ** 2) for a in range(3) for b in range(a + 1, 3)
               for wa, wb in zip(weights[a], weights[b], strict=True))
    assert got == pytest.approx(0.1 * want, rel=1e-5)
    assert not penalty.weights
    layers[1].kernel.assign(layers[0].kernel.numpy() + rng.normal(size=(3, 2)))
    assert float(penalty(keras.ops.zeros((1,)))) != pytest.approx(got)
