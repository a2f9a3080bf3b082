"""The gradient weightings against float64 NumPy implementations of their published updates
on fresh random task gradients, against their defining properties, and in short ``all``
runs (they train, log their weights and gradient cosines, and checkpoint their state)."""


import numpy as np
import pytest
import tensorflow as tf
from scipy import optimize

from tests.training.weighting_helpers import NAMES, make_weighting, train_and_restore
from tfmtl.config import ConfigError
from tfmtl.training.weightings import WEIGHTINGS
from tfmtl.training.weightings.aligned_mtl import aligned_alpha
from tfmtl.training.weightings.cagrad import cagrad_alpha
from tfmtl.training.weightings.gradients import (
    combination,
    gram_matrix,
    project_to_simplex,
)
from tfmtl.training.weightings.imtl import imtl_alpha
from tfmtl.training.weightings.mgda import min_norm_weights
from tfmtl.training.weightings.nash_mtl import nash_alpha
from tfmtl.training.weightings.pcgrad import pcgrad_coefficients

SHAPES = ((2, 3), (4,), (5,))  # The shared variables: 15 numbers in all.


_weighting = make_weighting


def _graph(fn, *args):
    """`fn(*args)` traced, as the train step runs it (eager while loops are slow)."""
    return tf.function(fn)(*args)


def _gradients(g):
    """Task gradient rows `g` (K x 15) as per-variable lists, as the step passes them."""
    out = {}
    for name, row in zip(NAMES[:len(g)], g, strict=True):
        parts, start = [], 0
        for shape in SHAPES:
            size = int(np.prod(shape))
            parts.append(tf.constant(row[start:start + size].reshape(shape), tf.float32))
            start += size
        out[name] = parts
    return out


def _flat(parts):
    return np.concatenate([np.asarray(p, np.float64).reshape(-1) for p in parts])


def _random_g(seed, k=3, conflicting=True):
    rng = np.random.default_rng(seed)
    g = rng.normal(size=(k, 15))
    if conflicting:  # Make some pairs conflict (negative dot products) for sure.
        g[1] = -0.6 * g[0] + 0.5 * g[1]
    # float32 as the step's gradients are; the references take the same numbers in float64.
    return g.astype(np.float32).astype(np.float64)


def test_gram_matrix_and_combination_span_every_shared_variable():
    g = _random_g(0)
    grads = _gradients(g)
    np.testing.assert_allclose(gram_matrix(grads, NAMES).numpy(), g @ g.T, rtol=1e-6)
    alpha = np.array([0.5, -1.0, 2.0])
    np.testing.assert_allclose(_flat(combination(grads, NAMES, tf.constant(alpha))),
                               alpha @ g, rtol=1e-5, atol=1e-6)
    # A variable one task does not reach counts as zero for it; one no task reaches is None.
    grads["a"][1] = None
    for name in NAMES:
        grads[name][2] = None
    g_missing = g.copy()
    g_missing[0, 6:10] = 0.0
    g_missing[:, 10:] = 0.0
    np.testing.assert_allclose(gram_matrix(grads, NAMES).numpy(),
                               g_missing @ g_missing.T, rtol=1e-6)
    out = combination(grads, NAMES, tf.constant(alpha))
    assert out[2] is None
    np.testing.assert_allclose(_flat(out[:2]), (alpha @ g_missing)[:10], rtol=1e-5,
                               atol=1e-6)


def test_projection_onto_the_simplex():
    rng = np.random.default_rng(1)
    for _ in range(20):
        v = rng.normal(size=5) * 3
        p = project_to_simplex(tf.constant(v)).numpy()
        want = optimize.minimize(lambda x, v=v: np.sum((x - v) ** 2), np.full(5, 0.2),
                                 constraints=[{"type": "eq", "fun": lambda x: x.sum() - 1}],
                                 bounds=[(0, None)] * 5, method="SLSQP",
                                 options={"ftol": 1e-14, "maxiter": 500}).x
        np.testing.assert_allclose(p, want, atol=1e-6)
        assert p.min() >= 0 and p.sum() == pytest.approx(1.0)


def _pcgrad_reference(g, orders):
    """Yu et al.'s Algorithm 1 on the vectors themselves."""
    projected = []
    for i in range(len(g)):
        gi = g[i].copy()
        for j in orders[i]:
            if j != i and gi @ g[j] < 0:
                gi -= (gi @ g[j]) / (g[j] @ g[j]) * g[j]
        projected.append(gi)
    return np.array(projected)


@pytest.mark.parametrize("seed", range(4))
def test_pcgrad_equals_its_algorithm_on_the_vectors(seed):
    g = _random_g(seed, k=4)
    orders = np.array([np.random.default_rng(seed + i).permutation(4) for i in range(4)])
    c = pcgrad_coefficients(tf.constant(g @ g.T), tf.constant(orders)).numpy()
    np.testing.assert_allclose(c @ g, _pcgrad_reference(g, orders), rtol=1e-9, atol=1e-9)


def test_pcgrad_leaves_no_negative_dot_product_for_two_tasks_and_draws_its_orders():
    g = _random_g(3, k=2)
    assert g[0] @ g[1] < 0
    c = pcgrad_coefficients(tf.constant(g @ g.T), tf.constant([[0, 1], [1, 0]])).numpy()
    projected = c @ g
    assert projected[0] @ g[1] == pytest.approx(0.0, abs=1e-9)
    assert projected[1] @ g[0] == pytest.approx(0.0, abs=1e-9)
    # Without conflict nothing changes: the sum of the gradients.
    g_agree = np.abs(g)
    np.testing.assert_allclose(pcgrad_coefficients(tf.constant(g_agree @ g_agree.T),
                                                   tf.constant([[0, 1], [1, 0]])).numpy(),
                               np.eye(2))
    # The orders: a function of (seed, step), new at each step.
    w, again = _weighting("pcgrad", names=NAMES[:2]), _weighting("pcgrad", names=NAMES[:2])
    grads = _gradients(g)
    first = w.orders().numpy()
    w.combine_gradients({}, grads)
    again.combine_gradients({}, grads)
    np.testing.assert_array_equal(w.orders().numpy(), again.orders().numpy())
    orders = [first, w.orders().numpy()]
    for _ in range(6):
        w.combine_gradients({}, grads)
        orders.append(w.orders().numpy())
    assert len({o.tobytes() for o in orders}) > 1


def _qp_min_norm(m):
    k = len(m)
    best = None
    for start in np.eye(k).tolist() + [np.full(k, 1 / k).tolist()]:
        result = optimize.minimize(lambda w: w @ m @ w, np.array(start), jac=lambda w: 2 * m @ w,
                                   constraints=[{"type": "eq", "fun": lambda w: w.sum() - 1}],
                                   bounds=[(0, None)] * k, method="SLSQP",
                                   options={"ftol": 1e-16, "maxiter": 1000})
        if best is None or result.fun < best.fun:
            best = result
    return best.x, best.fun


@pytest.mark.parametrize("seed", range(5))
def test_mgda_is_the_min_norm_point_of_the_hull(seed):
    k = 2 + seed % 3
    g = _random_g(seed, k=k)
    m = g @ g.T
    w = _graph(lambda m: min_norm_weights(m, 300), tf.constant(m)).numpy()
    _, optimum = _qp_min_norm(m)
    value = w @ m @ w
    # To the stated tolerance: the QP's optimal value within 1e-6 (relative to |g|^2).
    assert value <= optimum + 1e-6 * np.trace(m) / k
    assert w.min() >= 0 and w.sum() == pytest.approx(1.0)
    # KKT: every gradient's product with d is at least |d|^2, with equality on the support.
    d = w @ g
    products = g @ d
    tol = 1e-4 * np.trace(m) / k
    assert np.all(products >= d @ d - tol)
    np.testing.assert_allclose(products[w > 1e-4], d @ d, atol=tol)


def test_mgda_normalization_and_weights_logged():
    g = _random_g(7)
    losses = {n: tf.constant(v) for n, v in zip(NAMES, (2.0, 0.5, 1.0), strict=True)}
    for kind, n in (("none", np.ones(3)), ("l2", np.linalg.norm(g, axis=1)),
                    ("loss", np.array([2.0, 0.5, 1.0])),
                    ("loss+", np.array([2.0, 0.5, 1.0]) * np.linalg.norm(g, axis=1))):
        w = _weighting("mgda", normalization=kind)
        d = _flat(_graph(w.combine_gradients, losses, _gradients(g)))
        gn = g / n[:, None]
        best, _ = _qp_min_norm(gn @ gn.T)
        np.testing.assert_allclose(d, best @ gn, rtol=2e-3, atol=2e-4 * np.abs(gn).max(),
                                   err_msg=kind)
        np.testing.assert_allclose(np.asarray(w.weights), best / n, rtol=5e-3, atol=1e-4,
                                   err_msg=kind)


def _imtl_reference(g):
    """IMTL-G as the paper writes it, on the vectors."""
    u = g / np.linalg.norm(g, axis=1, keepdims=True)
    d = g[0] - g[1:]
    uu = u[0] - u[1:]
    rest = g[0] @ uu.T @ np.linalg.inv(d @ uu.T)
    return np.concatenate([[1 - rest.sum()], rest])


@pytest.mark.parametrize("k", [2, 3, 4])
def test_imtl_has_equal_projections_on_every_unit_gradient(k):
    g = _random_g(k, k=k)
    alpha = imtl_alpha(tf.constant(g @ g.T)).numpy()
    np.testing.assert_allclose(alpha, _imtl_reference(g), rtol=1e-7)
    assert alpha.sum() == pytest.approx(1.0)
    d = alpha @ g
    projections = (g / np.linalg.norm(g, axis=1, keepdims=True)) @ d
    np.testing.assert_allclose(projections, projections[0], rtol=1e-7)


def _cagrad_reference(g, c, rescale):
    """CAGrad's update: the dual on the simplex by SLSQP, then the paper's formula."""
    k = len(g)
    g0 = g.mean(axis=0)
    radius = c * np.linalg.norm(g0)

    def dual(w):
        return (w @ g) @ g0 + radius * np.linalg.norm(w @ g)

    best = min((optimize.minimize(dual, np.array(s), constraints=[
        {"type": "eq", "fun": lambda w: w.sum() - 1}], bounds=[(0, None)] * k,
        method="SLSQP", options={"ftol": 1e-15, "maxiter": 1000})
        for s in [*np.eye(k).tolist(), np.full(k, 1 / k).tolist()]), key=lambda r: r.fun)
    gw = best.x @ g
    d = g0 + radius / np.linalg.norm(gw) * gw
    return d / {0: 1, 1: 1 + c * c, 2: 1 + c}[rescale], best.fun


@pytest.mark.parametrize("seed,c,rescale", [(0, 0.4, 1), (1, 0.5, 0), (2, 0.8, 2), (3, 0.2, 1)])
def test_cagrad_solves_its_dual_and_applies_the_published_update(seed, c, rescale):
    g = _random_g(seed, k=2 + seed % 2)
    alpha = _graph(lambda m: cagrad_alpha(m, c, rescale, 300), tf.constant(g @ g.T)).numpy()
    want, _ = _cagrad_reference(g, c, rescale)
    np.testing.assert_allclose(alpha @ g, want, rtol=1e-4, atol=1e-5 * np.abs(want).max())
    # c = 0: the average gradient.
    np.testing.assert_allclose(_graph(lambda m: cagrad_alpha(m, 0.0, 1, 300),
                                      tf.constant(g @ g.T)).numpy(),
                               np.full(len(g), 1 / len(g)), rtol=1e-9)


def _aligned_reference(g):
    m = g @ g.T
    lam, v = np.linalg.eigh(m)
    keep = lam > lam.max() * len(m) * np.finfo(np.float32).eps
    lam, v = lam[keep], v[:, keep]
    b = np.sqrt(lam.min()) * v @ np.diag(1 / np.sqrt(lam)) @ v.T
    return b, b.sum(axis=0)


def test_aligned_mtl_aligns_the_gradients_to_equal_orthogonal_norms():
    g = _random_g(4, k=3)
    alpha = aligned_alpha(tf.constant(g @ g.T)).numpy()
    b, want = _aligned_reference(g)
    np.testing.assert_allclose(alpha, want, rtol=1e-8)
    aligned = b @ g
    lam_min = np.linalg.eigvalsh(g @ g.T).min()
    np.testing.assert_allclose(aligned @ aligned.T, lam_min * np.eye(3), atol=1e-9 * lam_min
                               + 1e-12)
    # Linearly dependent gradients: the null space is left out, nothing is infinite.
    dependent = np.stack([g[0], g[1], g[0] + g[1]])
    alpha = aligned_alpha(tf.constant(dependent @ dependent.T)).numpy()
    np.testing.assert_allclose(alpha, _aligned_reference(dependent)[1], rtol=1e-6)
    assert np.all(np.isfinite(alpha))


@pytest.mark.parametrize("seed", range(4))
def test_nash_mtl_solves_its_bargaining_equation(seed):
    g = _random_g(seed, k=2 + seed % 3)
    m = g @ g.T
    alpha = nash_alpha(tf.constant(m), tf.ones([len(m)], tf.float64), 20).numpy()
    mn = m / np.linalg.norm(m) + 1e-6 * np.eye(len(m))
    assert np.all(alpha > 0)
    np.testing.assert_allclose(mn @ alpha, 1 / alpha, rtol=1e-9)
    # The same as a root finder's answer on the equation.
    root = optimize.root(lambda a: mn @ a - 1 / a, np.ones(len(m)), tol=1e-14).x
    np.testing.assert_allclose(alpha, root, rtol=1e-7)


def test_nash_mtl_warm_start_update_every_and_max_norm():
    g = _random_g(5)
    m = g @ g.T
    w = _weighting("nash_mtl", update_every=2, max_norm=0.0)
    grads = _gradients(g)
    w.combine_gradients({}, grads)
    first = np.asarray(w.solution)
    mn = m / np.linalg.norm(m) + 1e-6 * np.eye(3)
    np.testing.assert_allclose(mn @ first, 1 / first, rtol=1e-6)
    # Step 1 keeps the solution (update_every=2) even for other gradients ...
    w.combine_gradients({}, _gradients(2 * g[::-1]))
    np.testing.assert_array_equal(np.asarray(w.solution), first)
    # ... step 2 solves again.
    w.combine_gradients({}, _gradients(2 * g[::-1]))
    assert not np.allclose(np.asarray(w.solution), first)
    clipped = _weighting("nash_mtl", max_norm=0.01)
    d = _flat(clipped.combine_gradients({}, grads))
    assert np.linalg.norm(d) == pytest.approx(0.01, rel=1e-4)


@pytest.mark.parametrize("kind,key,value", [
    ("mgda", "normalization", "l1"), ("mgda", "iterations", 0),
    ("cagrad", "c", -1.0), ("cagrad", "rescale", 3), ("nash_mtl", "update_every", 0),
    ("nash_mtl", "max_norm", -1.0)])
def test_bad_keys_are_config_errors_naming_the_key(kind, key, value):
    cls = WEIGHTINGS.get(kind)
    config = cls.default_config()
    config[key] = value
    with pytest.raises(ConfigError, match=key):
        cls.check_config(config, "config.training.weighting")


GRADIENT_KINDS = ("pcgrad", "mgda", "imtl", "cagrad", "aligned_mtl", "nash_mtl")


@pytest.mark.parametrize("kind", [
    "mgda", *(pytest.param(k, marks=pytest.mark.slow) for k in GRADIENT_KINDS if k != "mgda")])
def test_each_trains_on_the_all_step_and_checkpoints_its_state(tmp_path, kind):
    restored, scalars, names = train_and_restore(tmp_path, kind)
    assert int(restored.step) == 6
    for name in names:
        assert np.isfinite(scalars[f"weighting/{name}/weight"][6])
    cosines = [v[6] for k, v in scalars.items() if k.startswith("weighting/cosine/")]
    assert len(cosines) == len(names) * (len(names) - 1) // 2
    assert all(-1.0 <= c <= 1.0 for c in cosines)
