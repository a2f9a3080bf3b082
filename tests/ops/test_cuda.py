"""CUDA: the sources build where a CUDA compiler is present; the kernels match
NumPy where a GPU and CuPy are present (the lent GPU machine, see bench/README.md)."""

import importlib
import os
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest

from tests.ops.reference import lstm_backward, lstm_forward, random_lstm_inputs, rel_err

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "ops"))
from native_build import find_nvcc  # noqa: E402


def _cuda_module():
    try:
        return importlib.import_module("tfmtl.ops._tfmtl_kernels_cuda")
    except ImportError:
        return None


@pytest.mark.skipif(find_nvcc() is None, reason="no CUDA compiler: CUDA sources not built")
def test_cuda_sources_were_built():
    m = _cuda_module()
    assert m is not None, "nvcc is present but the pybind11 CUDA module was not built"
    assert m.workspace_size(2, 3, 17) == 5 * 3 * 2 * 32


_NO_DEVICE = """
import tfmtl.ops._tfmtl_kernels_cuda as m
print(m.device_count())
for call in (lambda: m.gradient_reversal_backward(0, 0.5, 10, 0, "float32", 0),
             lambda: m.synchronize(0)):
    try:
        call()
        print("no error")
    except RuntimeError as e:
        print(e)
"""


@pytest.mark.skipif(find_nvcc() is None, reason="no CUDA compiler: CUDA sources not built")
def test_without_a_visible_device_the_count_is_0_and_calls_name_the_cuda_error():
    # A fresh process, since CUDA reads CUDA_VISIBLE_DEVICES once; it holds with a GPU too.
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": ""}
    result = subprocess.run([sys.executable, "-c", _NO_DEVICE], capture_output=True, text=True,
                            env=env, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    count, launch, synchronize = result.stdout.splitlines()
    assert count == "0"
    assert re.fullmatch(r"launch of GradientReversal \(float32\) failed: cudaError\w+: .+",
                        launch), launch
    assert re.fullmatch(r"cudaStreamSynchronize failed: .+", synchronize), synchronize


def _driver_device_count() -> int | None:
    """How many GPUs the driver lists (None: it cannot be told here)."""
    if os.environ.get("CUDA_VISIBLE_DEVICES") is not None:
        return None  # The runtime's view is then a subset, or a reordering.
    smi = shutil.which("nvidia-smi")
    if smi is None:
        # No driver at all: no /dev/nvidiactl, no /proc/driver/nvidia.
        has_driver = os.path.exists("/dev/nvidiactl") or os.path.isdir("/proc/driver/nvidia")
        return None if has_driver else 0
    listed = subprocess.run([smi, "-L"], capture_output=True, text=True, timeout=60)
    if listed.returncode != 0:
        return None
    lines = listed.stdout.splitlines()
    if any("MIG" in line for line in lines):
        return None  # CUDA enumerates MIG instances, not GPUs.
    return sum(line.startswith("GPU ") for line in lines)


@pytest.mark.skipif(find_nvcc() is None, reason="no CUDA compiler: CUDA sources not built")
def test_device_count_is_the_number_of_gpus_the_driver_lists():
    m = _cuda_module()
    assert m is not None, "nvcc is present but the pybind11 CUDA module was not built"
    want = _driver_device_count()
    if want is None:
        pytest.skip("the GPUs CUDA sees cannot be counted here (CUDA_VISIBLE_DEVICES, MIG, "
                    "or a driver without nvidia-smi)")
    assert m.device_count() == want


@pytest.mark.skipif(find_nvcc() is None, reason="no CUDA compiler: CUDA sources not built")
def test_tf_library_has_gpu_kernels():
    tf = pytest.importorskip("tensorflow")
    from tensorflow.python.framework import kernels

    from tfmtl.ops import native_ops_available

    if not native_ops_available():
        pytest.skip("TF op library not built")
    for op in ("Tfmtl>FusedLSTM", "Tfmtl>FusedLSTMGrad", "Tfmtl>GradientReversalGrad"):
        devices = {k.device_type for k in kernels.get_registered_kernels_for_op(op).kernel}
        assert {"CPU", "GPU"} <= devices, (op, devices)
    del tf


def _gpu():
    m = _cuda_module()
    if m is None or m.device_count() == 0:
        pytest.skip("no GPU (or CUDA module not built)")
    return pytest.importorskip("cupy", reason="CuPy is needed for the GPU tests")


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("shape", [(1, 1, 1, 1), (3, 5, 4, 7), (13, 9, 17, 33), (7, 6, 0, 5),
                                   (64, 50, 512, 512)])
def test_gpu_lstm_matches_numpy(shape, reverse):
    cp = _gpu()
    from tfmtl.ops import cuda_kernels

    batch, time, input_size, units = shape
    rng = np.random.default_rng(sum(shape))
    x, h0, c0, k, r, b, lengths = random_lstm_inputs(rng, batch, time, input_size, units)
    hseq, h_last, c_last, ws = cuda_kernels.fused_lstm_forward(
        *(cp.asarray(v) for v in (x, h0, c0, k, r, b, lengths)), reverse=reverse)
    ref = lstm_forward(x, h0, c0, k.astype(float), r.astype(float), b.astype(float), lengths,
                       reverse)
    for got, want in zip((hseq, h_last, c_last), ref[:3], strict=True):
        assert rel_err(cp.asnumpy(got), want) < 5e-6
    d = [rng.standard_normal(t.shape).astype(np.float32) for t in (hseq, h_last, c_last)]
    grads = cuda_kernels.fused_lstm_backward(
        cp.asarray(x), cp.asarray(h0), cp.asarray(c0), cp.asarray(k), cp.asarray(r),
        cp.asarray(lengths), hseq, ws, *(cp.asarray(v) for v in d), reverse=reverse)
    for got, want in zip(grads, lstm_backward(ref[3], *d), strict=True):
        assert rel_err(cp.asnumpy(got), want) < 5e-6


def test_gpu_gradient_reversal():
    cp = _gpu()
    from tfmtl.ops import cuda_kernels

    g = cp.arange(10, dtype=cp.float32)
    np.testing.assert_allclose(cp.asnumpy(cuda_kernels.gradient_reversal_backward(g, 0.5)),
                               -0.5 * np.arange(10))
    h = cp.arange(10, dtype=cp.float16)
    np.testing.assert_allclose(cp.asnumpy(cuda_kernels.gradient_reversal_backward(h, 2.0)),
                               -2.0 * np.arange(10))
