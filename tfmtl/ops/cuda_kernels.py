"""The CUDA kernels on CuPy arrays, through the pybind11 module (no TensorFlow).

For tests and benchmarks on a GPU machine: needs CuPy and the module
``_tfmtl_kernels_cuda`` (built by setup.py when nvcc is found). Any array with
``__cuda_array_interface__`` works as input (CuPy, PyTorch CUDA tensors);
outputs are CuPy arrays. Calls are enqueued on CuPy's current stream.
"""

from __future__ import annotations

import importlib


def module():
    """The pybind11 CUDA module (ImportError when it was not built)."""
    return importlib.import_module("tfmtl.ops._tfmtl_kernels_cuda")


def _cp():
    import cupy

    return cupy


def _ptr(a, dtype="float32", shape=None, name="array"):
    cp = _cp()
    a = cp.ascontiguousarray(cp.asarray(a, dtype=dtype))
    if shape is not None and tuple(a.shape) != tuple(shape):
        raise ValueError(f"{name} must have shape {tuple(shape)}, got {tuple(a.shape)}")
    return a, a.data.ptr


def _stream():
    return _cp().cuda.get_current_stream().ptr


def fused_lstm_forward(x, h0, c0, kernel, recurrent_kernel, bias, lengths=None, reverse=False):
    """Returns (hseq, h_last, c_last, workspace) as CuPy arrays."""
    cp = _cp()
    m = module()
    x, xp = _ptr(x, name="x")
    batch, time, input_size = x.shape
    units = recurrent_kernel.shape[0]
    h0, h0p = _ptr(h0, shape=(batch, units), name="h0")
    c0, c0p = _ptr(c0, shape=(batch, units), name="c0")
    kernel, kp = _ptr(kernel, shape=(input_size, 4 * units), name="kernel")
    recurrent_kernel, rp = _ptr(recurrent_kernel, shape=(units, 4 * units),
                                name="recurrent_kernel")
    bias, bp = _ptr(bias, shape=(4 * units,), name="bias")
    lp = 0
    if lengths is not None:
        lengths, lp = _ptr(lengths, dtype="int32", shape=(batch,), name="lengths")
    hseq = cp.empty((batch, time, units), cp.float32)
    h_last = cp.empty((batch, units), cp.float32)
    c_last = cp.empty((batch, units), cp.float32)
    workspace = cp.empty((m.workspace_size(batch, time, units),), cp.float32)
    scratch = cp.empty((max(m.scratch_size(batch, time, input_size, units, False), 1),),
                       cp.float32)
    m.fused_lstm_forward(batch, time, input_size, units, xp, h0p, c0p, kp, rp, bp, lp,
                         hseq.data.ptr, h_last.data.ptr, c_last.data.ptr, workspace.data.ptr,
                         scratch.data.ptr, reverse, _stream())
    return hseq, h_last, c_last, workspace


def fused_lstm_backward(x, h0, c0, kernel, recurrent_kernel, lengths, hseq, workspace, d_hseq,
                        d_h_last, d_c_last, reverse=False):
    """Returns (dx, dh0, dc0, d_kernel, d_recurrent_kernel, d_bias) as CuPy arrays."""
    cp = _cp()
    m = module()
    x, xp = _ptr(x, name="x")
    batch, time, input_size = x.shape
    units = recurrent_kernel.shape[0]
    state = (batch, units)
    ptrs = []
    keep = []
    for value, shape, name in [
        (h0, state, "h0"), (c0, state, "c0"), (kernel, (input_size, 4 * units), "kernel"),
        (recurrent_kernel, (units, 4 * units), "recurrent_kernel"),
        (hseq, (batch, time, units), "hseq"),
        (workspace, (m.workspace_size(batch, time, units),), "workspace"),
        (d_hseq, (batch, time, units), "d_hseq"), (d_h_last, state, "d_h_last"),
        (d_c_last, state, "d_c_last"),
    ]:
        arr, p = _ptr(value, shape=shape, name=name)
        keep.append(arr)
        ptrs.append(p)
    lp = 0
    if lengths is not None:
        lengths, lp = _ptr(lengths, dtype="int32", shape=(batch,), name="lengths")
    dx = cp.empty((batch, time, input_size), cp.float32)
    dh0 = cp.empty(state, cp.float32)
    dc0 = cp.empty(state, cp.float32)
    dk = cp.empty((input_size, 4 * units), cp.float32)
    dr = cp.empty((units, 4 * units), cp.float32)
    db = cp.empty((4 * units,), cp.float32)
    scratch = cp.empty((max(m.scratch_size(batch, time, input_size, units, True), 1),),
                       cp.float32)
    h0p, c0p, kp, rp, hp, wp, dhp, dhlp, dclp = ptrs
    m.fused_lstm_backward(batch, time, input_size, units, xp, h0p, c0p, kp, rp, lp, hp, wp, dhp,
                          dhlp, dclp, dx.data.ptr, dh0.data.ptr, dc0.data.ptr, dk.data.ptr,
                          dr.data.ptr, db.data.ptr, scratch.data.ptr, reverse, _stream())
    return dx, dh0, dc0, dk, dr, db


def gradient_reversal_backward(grad, lam):
    """-lam * grad on the device (float32, float64 or float16)."""
    cp = _cp()
    grad = cp.ascontiguousarray(cp.asarray(grad))
    out = cp.empty_like(grad)
    module().gradient_reversal_backward(grad.data.ptr, float(lam), grad.size, out.data.ptr,
                                        str(grad.dtype), _stream())
    return out
