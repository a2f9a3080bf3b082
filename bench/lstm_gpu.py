"""GPU benchmark and check: the CUDA fused LSTM (pybind11 + CuPy) against cuDNN.

Runs on a GPU machine without TensorFlow (nvcc, pybind11, CuPy, PyTorch):

  python setup.py build_ext --inplace    # builds the pybind11 modules (TF lib skipped)
  python bench/lstm_gpu.py [--json bench/results_gpu.json]

1. Checks the CUDA forward and backward against the float64 NumPy reference
   (ragged lengths, both directions).
2. Times forward+backward at B=64, T=50, E=H=512 (one direction, float32):
   tfmtl's kernel (cuBLAS in FP32, and with TF32 allowed) against PyTorch
   nn.LSTM (cuDNN; TF32 as PyTorch's defaults allow), medians of CUDA-event
   timings over interleaved rounds. The bar: tfmtl within 1.5x of cuDNN.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tests.ops.reference import (  # noqa: E402
    lstm_backward,
    lstm_forward,
    random_lstm_inputs,
    rel_err,
)
from tfmtl.ops import cuda_kernels  # noqa: E402


def check(cp):
    worst = 0.0
    for shape in [(3, 5, 4, 7), (13, 9, 17, 33), (64, 50, 512, 512)]:
        for reverse in (False, True):
            rng = np.random.default_rng(sum(shape))
            x, h0, c0, k, r, b, lengths = random_lstm_inputs(rng, *shape)
            dev = [cp.asarray(v) for v in (x, h0, c0, k, r, b, lengths)]
            hseq, h_last, c_last, ws = cuda_kernels.fused_lstm_forward(*dev, reverse=reverse)
            ref = lstm_forward(x, h0, c0, k.astype(float), r.astype(float), b.astype(float),
                               lengths, reverse)
            errs = [rel_err(cp.asnumpy(a), w) for a, w in zip((hseq, h_last, c_last), ref[:3],
                                                               strict=True)]
            d = [rng.standard_normal(t.shape).astype(np.float32) for t in (hseq, h_last, c_last)]
            grads = cuda_kernels.fused_lstm_backward(
                dev[0], dev[1], dev[2], dev[3], dev[4], dev[6], hseq, ws,
                *(cp.asarray(v) for v in d), reverse=reverse)
            errs += [rel_err(cp.asnumpy(a), w) for a, w in zip(grads, lstm_backward(ref[3], *d),
                                                                strict=True)]
            print(f"check {shape} reverse={reverse}: max rel err {max(errs):.2e}")
            worst = max(worst, max(errs))
    return worst


def bench(cp, torch, rounds, batch=64, time_steps=50, size=512):
    rng = np.random.default_rng(0)
    x, h0, c0, k, r, b, _ = random_lstm_inputs(rng, batch, time_steps, size, size)
    dev = [cp.asarray(v) for v in (x, h0, c0, k, r, b)]
    d_hseq = cp.asarray(rng.standard_normal((batch, time_steps, size)).astype(np.float32))
    zeros = cp.zeros((batch, size), cp.float32)
    m = cuda_kernels.module()

    def ours():
        hseq, _, _, ws = cuda_kernels.fused_lstm_forward(*dev)
        cuda_kernels.fused_lstm_backward(dev[0], dev[1], dev[2], dev[3], dev[4], None, hseq, ws,
                                         d_hseq, zeros, zeros)

    lstm = torch.nn.LSTM(size, size, batch_first=True).cuda()
    tx = torch.as_tensor(x, device="cuda").requires_grad_(True)
    th = (torch.as_tensor(h0, device="cuda"), torch.as_tensor(c0, device="cuda"))
    tg = torch.as_tensor(cp.asnumpy(d_hseq), device="cuda")

    def cudnn():
        out, _ = lstm(tx, th)
        out.backward(tg)

    def timed(fn):
        start, stop = cp.cuda.Event(), cp.cuda.Event()
        torch.cuda.synchronize()
        start.record()
        fn()
        torch.cuda.synchronize()
        stop.record()
        stop.synchronize()
        return cp.cuda.get_elapsed_time(start, stop)

    impls = {
        "tfmtl_fp32": lambda: (m.set_allow_tf32(False), ours()),
        "tfmtl_tf32": lambda: (m.set_allow_tf32(True), ours()),
        "cudnn": cudnn,
    }
    for fn in impls.values():
        for _ in range(3):
            fn()
    times = {name: [] for name in impls}
    for _ in range(rounds):
        for name, fn in impls.items():
            times[name].append(timed(fn))
    m.set_allow_tf32(False)
    return {name: statistics.median(v) for name, v in times.items()}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--json", default=None, help="write the results to this file")
    args = parser.parse_args()
    import cupy as cp
    import torch

    m = cuda_kernels.module()
    print(f"devices: {m.device_count()}; GPU: {torch.cuda.get_device_name(0)}; "
          f"torch {torch.__version__}, cudnn {torch.backends.cudnn.version()}, "
          f"cudnn.allow_tf32={torch.backends.cudnn.allow_tf32}")
    worst = check(cp)
    medians = bench(cp, torch, args.rounds)
    print("B=64 T=50 E=H=512 forward+backward, median ms:")
    for name, ms in medians.items():
        print(f"  {name:<12} {ms:8.3f} ms  ({ms / medians['cudnn']:.2f}x cuDNN)")
    ok = medians["tfmtl_fp32"] <= 1.5 * medians["cudnn"] or \
        medians["tfmtl_tf32"] <= 1.5 * medians["cudnn"]
    print(f"max rel err vs NumPy: {worst:.2e}; within 1.5x of cuDNN: {ok}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"gpu": torch.cuda.get_device_name(0), "max_rel_err": worst,
                       "median_ms": medians, "within_1_5x": ok}, f, indent=2)


if __name__ == "__main__":
    main()
