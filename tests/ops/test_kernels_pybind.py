"""The pybind11 module's CPU kernels against a float64 NumPy reference."""

import os
import subprocess
import sys

import numpy as np
import pytest

from tests.ops.reference import (
    lstm_backward,
    lstm_forward,
    random_lstm_inputs,
    rel_err,
    sigmoid,
)

kernels = pytest.importorskip(
    "tfmtl.ops._tfmtl_kernels", reason="pybind11 module not built (pip install -e .)"
)



def _runnable_isas():
    """The kernel sets this CPU can run (set_cpu_isa refuses the others)."""
    before, runnable = kernels.cpu_isa(), []
    for name in ("generic", "avx2", "avx512"):
        try:
            kernels.set_cpu_isa(name)
        except ValueError:
            continue
        runnable.append(name)
    kernels.set_cpu_isa(before)
    return runnable


ISAS = _runnable_isas()


@pytest.fixture(params=ISAS)
def isa(request):
    before = kernels.cpu_isa()
    kernels.set_cpu_isa(request.param)
    yield request.param
    kernels.set_cpu_isa(before)


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize(
    "batch,time,input_size,units",
    [(1, 1, 1, 1), (3, 5, 4, 7), (13, 9, 17, 33), (7, 6, 0, 5), (32, 12, 100, 64), (2, 0, 3, 4)],
)
@pytest.mark.parametrize("threads", [1, 2])
def test_lstm_matches_float64_reference(isa, batch, time, input_size, units, reverse, threads):
    rng = np.random.default_rng(batch * 1000 + time * 10 + units)
    x, h0, c0, k, r, b, lengths = random_lstm_inputs(rng, batch, time, input_size, units)
    hseq, h_last, c_last, ws = kernels.fused_lstm_forward(
        x, h0, c0, k, r, b, lengths, reverse, threads)
    ref_hseq, ref_h, ref_c, cache = lstm_forward(
        x, h0, c0, k.astype(np.float64), r.astype(np.float64), b.astype(np.float64), lengths,
        reverse)
    for got, want in [(hseq, ref_hseq), (h_last, ref_h), (c_last, ref_c)]:
        assert rel_err(got, want) < 2e-6
    d_hseq = rng.standard_normal(hseq.shape).astype(np.float32)
    d_h = rng.standard_normal(h_last.shape).astype(np.float32)
    d_c = rng.standard_normal(c_last.shape).astype(np.float32)
    grads = kernels.fused_lstm_backward(
        x, h0, c0, k, r, lengths, hseq, ws, d_hseq, d_h, d_c, reverse, threads)
    for got, want in zip(grads, lstm_backward(cache, d_hseq, d_h, d_c), strict=True):
        assert got.shape == want.shape
        assert rel_err(got, want) < 2e-6


def test_padding_is_zero_and_state_stops():
    rng = np.random.default_rng(3)
    x, h0, c0, k, r, b, _ = random_lstm_inputs(rng, 3, 6, 4, 5)
    lengths = np.array([6, 2, 0], np.int32)
    hseq, h_last, c_last, _ = kernels.fused_lstm_forward(x, h0, c0, k, r, b, lengths)
    assert np.all(hseq[1, 2:] == 0) and np.all(hseq[2] == 0)
    np.testing.assert_array_equal(h_last[2], h0[2])
    np.testing.assert_array_equal(c_last[2], c0[2])
    np.testing.assert_array_equal(h_last[1], hseq[1, 1])


def test_shape_errors_are_reported():
    rng = np.random.default_rng(0)
    x, h0, c0, k, r, b, lengths = random_lstm_inputs(rng, 2, 3, 4, 5)
    with pytest.raises(ValueError, match="kernel must have shape"):
        kernels.fused_lstm_forward(x, h0, c0, k[:3], r, b, lengths)


@pytest.mark.parametrize("trans_a", [False, True])
@pytest.mark.parametrize("trans_b", [False, True])
@pytest.mark.parametrize("m,n,k", [(1, 1, 1), (7, 33, 5), (300, 200, 170), (97, 258, 513)])
def test_sgemm(isa, trans_a, trans_b, m, n, k):
    rng = np.random.default_rng(m + n + k)
    a = rng.standard_normal((m, k)).astype(np.float32)
    b = rng.standard_normal((k, n)).astype(np.float32)
    got = kernels.sgemm(a.T.copy() if trans_a else a, b.T.copy() if trans_b else b,
                        trans_a, trans_b)
    assert rel_err(got, a.astype(np.float64) @ b) < 1e-6


def test_vector_math_is_accurate(isa):
    x = np.concatenate([np.linspace(-30, 30, 200001), [-1e-30, 0.0, 1e-30, -100.0, 100.0]])
    x = x.astype(np.float32)
    xd = x.astype(np.float64)
    s = kernels.elementwise(x, "sigmoid")
    t = kernels.elementwise(x, "tanh")
    normal = np.abs(xd) <= 30  # beyond, sigmoid is denormal or 1
    assert np.max(np.abs(s - sigmoid(xd))[normal] / sigmoid(xd)[normal]) < 3e-7
    assert np.max(np.abs(s - sigmoid(xd))) < 1e-30 + 3e-7
    tt = np.tanh(xd)
    assert np.max(np.abs(t - tt) / np.maximum(np.abs(tt), 1e-38)) < 3e-7


def test_gradient_reversal_backward():
    g = np.arange(6, dtype=np.float32).reshape(2, 3)
    np.testing.assert_array_equal(kernels.gradient_reversal_backward(g, 0.5), -0.5 * g)


@pytest.mark.parametrize("cap", ["generic", "avx2", "avx512"])
def test_cpu_isa_environment_variable_caps_the_automatic_choice(cap):
    if cap not in ISAS:
        pytest.skip(f"this CPU cannot run {cap}")
    # The extension alone, not the tfmtl.ops package (which imports TensorFlow).
    code = ("import importlib.machinery as m, importlib.util as u, sys; "
            "spec = u.spec_from_file_location('_tfmtl_kernels', sys.argv[1], "
            "loader=m.ExtensionFileLoader('_tfmtl_kernels', sys.argv[1])); "
            "k = u.module_from_spec(spec); spec.loader.exec_module(k); print(k.cpu_isa())")
    env = {**os.environ, "TFMTL_CPU_ISA": cap}
    out = subprocess.run([sys.executable, "-c", code, kernels.__file__], env=env,
                         capture_output=True, text=True, check=True).stdout.split()
    assert out[-1] == cap
