"""The CPU fused-LSTM kernels alone, through the pybind11 module (no TensorFlow).

One direction, forward and backward (BPTT, with dx), per instruction set the
CPU can run (AVX-512, AVX2, portable), on one thread or more; then two
directions at once on two threads (as a BiLSTM runs them), against one.
Medians; GFLOP/s counts the products only (forward 2 * B * T * (E + H) * 4H,
backward twice that).

    python bench/lstm_kernels.py
    python bench/lstm_kernels.py --shapes 32x40x512x256 --isas avx512,avx2 --threads 2
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def median_ms(fn, repeats: int) -> float:
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times)) * 1000


def time_kernels(kernels, inputs, threads: int, repeats: int) -> tuple[float, float, float]:
    """Forward, backward, and two directions at once (ms) with the active kernel set."""
    x, h0, c0, k, r, bias, lengths = inputs

    def forward(reverse=False):
        return kernels.fused_lstm_forward(x, h0, c0, k, r, bias, lengths, reverse, threads)

    def both():
        other = threading.Thread(target=forward, args=(True,))
        other.start()
        forward()
        other.join()

    hseq, h_last, _, workspace = forward()
    d_hseq, d_state = np.ones_like(hseq), np.ones_like(h_last)
    backward = lambda: kernels.fused_lstm_backward(  # noqa: E731
        x, h0, c0, k, r, lengths, hseq, workspace, d_hseq, d_state, d_state, False, threads)
    return median_ms(forward, repeats), median_ms(backward, repeats), median_ms(both, repeats)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shapes", default="32x40x100x256,128x40x100x256,32x40x512x256",
                        help="comma-separated BxTxExH")
    parser.add_argument("--isas", default="avx512,avx2",
                        help="kernel sets (avx512, avx2, generic); those this CPU cannot run "
                             "are skipped")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args(argv)

    from tests.ops.reference import random_lstm_inputs
    from tfmtl.ops import _tfmtl_kernels as kernels

    default_isa = kernels.cpu_isa()
    isas = [i for i in args.isas.split(",") if i]
    runnable = []
    for isa in isas:
        try:
            kernels.set_cpu_isa(isa)
            runnable.append(isa)
        except ValueError:
            print(f"{isa}: this CPU cannot run it")
    rng = np.random.default_rng(0)
    print(f"threads {args.threads}; medians of {args.repeats}")
    for shape in args.shapes.split(","):
        b, t, e, h = (int(v) for v in shape.split("x"))
        inputs = random_lstm_inputs(rng, b, t, e, h)
        inputs[-1][:] = t  # full lengths
        flops = 2 * b * t * (e + h) * 4 * h
        for isa in runnable:
            kernels.set_cpu_isa(isa)
            fwd, bwd, pair = time_kernels(kernels, inputs, args.threads, args.repeats)
            print(f"B={b} T={t} E={e} H={h} {isa:8} forward {fwd:7.2f} ms "
                  f"({flops / fwd / 1e6:4.0f} GFLOP/s)  backward {bwd:7.2f} ms "
                  f"({2 * flops / bwd / 1e6:4.0f} GFLOP/s)  two directions at once "
                  f"{pair:7.2f} ms")
    kernels.set_cpu_isa(default_isa)


if __name__ == "__main__":
    main()
