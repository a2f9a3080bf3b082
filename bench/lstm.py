"""Benchmark: a BiLSTM tagger layer, FusedLSTM against its CPU peers.

Workload: x[B, T, 100] -> BiLSTM(H=256) (1 or 2 layers) -> Dense(45) ->
softmax cross-entropy, SGD, float32. Timed: the train step (forward, backward,
update) and the forward pass alone, for

  * fused:     tfmtl.ops.FusedLSTM in Keras, tf.function
  * keras:     keras.layers.LSTM, tf.function
  * blocklstm: tf.raw_ops.BlockLSTM (V1; V2's registered gradient assumes V1's
               gate order in TF 2.21), tf.function
  * torch:     PyTorch nn.LSTM (oneDNN's fused RNN on CPU), when installed
  * floor:     the step's FLOPs over this machine's measured 2048^3 sgemm rate

The implementations are interleaved round by round, in a new order each round
(the machine is shared and noisy), and medians are reported with ratios
against FusedLSTM.

Usage:
  python bench/lstm.py                    # all configurations
  python bench/lstm.py --rounds 15 --configs 32x40x1,128x40x1
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import keras  # noqa: E402

from tfmtl.ops import FusedLSTM, native_ops_available  # noqa: E402

E, H, C = 100, 256, 45
LR = 0.01


def lstm_flops(batch, time, layers):
    """Forward FLOPs of the BiLSTM stack and the Dense head."""
    flops, e = 0, E
    for _ in range(layers):
        flops += 2 * (2 * batch * time * (e + H) * 4 * H)
        e = 2 * H
    return flops + 2 * batch * time * 2 * H * C


def sgemm_rate():
    a = tf.random.normal([2048, 2048])
    f = tf.function(lambda a: tf.matmul(a, a))
    f(a).numpy()
    best = float("inf")
    for _ in range(5):
        t0 = time.perf_counter()
        f(a).numpy()
        best = min(best, time.perf_counter() - t0)
    return 2 * 2048**3 / best


def data(batch, time_steps, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, time_steps, E)).astype(np.float32)
    y = rng.integers(0, C, size=(batch, time_steps)).astype(np.int32)
    return x, y


# -- Keras models (fused / keras) ----------------------------------------------


def keras_impl(lstm_cls, batch, time_steps, layers):
    keras.utils.set_random_seed(0)
    inputs = keras.Input((time_steps, E))
    h = inputs
    for _ in range(layers):
        h = keras.layers.Bidirectional(lstm_cls(H, return_sequences=True))(h)
    model = keras.Model(inputs, keras.layers.Dense(C)(h))
    opt = keras.optimizers.SGD(LR)
    xent = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    x, y = (tf.constant(v) for v in data(batch, time_steps))

    @tf.function
    def train():
        with tf.GradientTape() as tape:
            loss = xent(y, model(x, training=True))
        grads = tape.gradient(loss, model.trainable_weights)
        opt.apply_gradients(zip(grads, model.trainable_weights, strict=True))
        return loss

    @tf.function
    def infer():
        return model(x, training=False)

    return (lambda: train().numpy()), (lambda: infer().numpy())


# -- tf.raw_ops.BlockLSTM ------------------------------------------------------


def blocklstm_impl(batch, time_steps, layers):
    rng = np.random.default_rng(0)
    variables = []
    e = E
    for _ in range(layers):
        for _direction in range(2):
            w = tf.Variable(rng.standard_normal((e + H, 4 * H)).astype(np.float32) * 0.05)
            b = tf.Variable(np.zeros(4 * H, np.float32))
            variables += [w, b]
        e = 2 * H
    dense_w = tf.Variable(rng.standard_normal((2 * H, C)).astype(np.float32) * 0.05)
    dense_b = tf.Variable(np.zeros(C, np.float32))
    variables += [dense_w, dense_b]
    x, y = (tf.constant(v) for v in data(batch, time_steps))
    zeros = tf.zeros([batch, H])
    peep = tf.zeros([H])

    def direction(xt, w, b):
        return tf.raw_ops.BlockLSTM(
            seq_len_max=tf.constant(time_steps, tf.int64), x=xt, cs_prev=zeros, h_prev=zeros,
            w=w, wci=peep, wcf=peep, wco=peep, b=b, forget_bias=0.0, cell_clip=-1.0,
            use_peephole=False).h

    def forward():
        h = tf.transpose(x, [1, 0, 2])  # time-major
        for layer in range(layers):
            w_f, b_f, w_b, b_b = variables[4 * layer:4 * layer + 4]
            fw = direction(h, w_f, b_f)
            bw = tf.reverse(direction(tf.reverse(h, [0]), w_b, b_b), [0])
            h = tf.concat([fw, bw], axis=2)
        logits = tf.einsum("tbh,hc->btc", h, dense_w) + dense_b
        return logits

    @tf.function
    def train():
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(
                tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=forward()))
        for v, g in zip(variables, tape.gradient(loss, variables), strict=True):
            v.assign_sub(LR * g)
        return loss

    @tf.function
    def infer():
        return forward()

    return (lambda: train().numpy()), (lambda: infer().numpy())


# -- PyTorch (in its own process, so its OpenMP threads and TF's pools do not
#    share one address space; each call is timed inside the worker) ------------


def _torch_worker(conn, batch, time_steps, layers):
    import torch

    torch.manual_seed(0)
    torch.set_num_threads(os.cpu_count() or 2)
    lstm = torch.nn.LSTM(E, H, num_layers=layers, bidirectional=True, batch_first=True)
    dense = torch.nn.Linear(2 * H, C)
    params = list(lstm.parameters()) + list(dense.parameters())
    opt = torch.optim.SGD(params, lr=LR)
    xn, yn = data(batch, time_steps)
    x, y = torch.from_numpy(xn), torch.from_numpy(yn).long()

    def train():
        opt.zero_grad()
        out, _ = lstm(x)
        loss = torch.nn.functional.cross_entropy(dense(out).reshape(-1, C), y.reshape(-1))
        loss.backward()
        opt.step()
        return loss.item()

    def infer():
        with torch.no_grad():
            out, _ = lstm(x)
            return dense(out).numpy()

    fns = {"train": train, "infer": infer}
    conn.send("ready")
    while True:
        cmd = conn.recv()
        if cmd == "stop":
            return
        t0 = time.perf_counter()
        fns[cmd]()
        conn.send(time.perf_counter() - t0)


class TorchImpl:
    def __init__(self, batch, time_steps, layers):
        import multiprocessing as mp

        ctx = mp.get_context("spawn")
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_torch_worker, args=(child, batch, time_steps, layers),
                                daemon=True)
        self.proc.start()
        assert self.conn.recv() == "ready"

    def call(self, mode):
        self.conn.send(mode)
        return self.conn.recv()

    def close(self):
        self.conn.send("stop")
        self.proc.join(10)


def torch_available():
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


# -- driver --------------------------------------------------------------------


def bench_config(batch, time_steps, layers, rounds, rate, with_torch):
    impls = {
        "fused": keras_impl(FusedLSTM, batch, time_steps, layers),
        "keras": keras_impl(keras.layers.LSTM, batch, time_steps, layers),
        "blocklstm": blocklstm_impl(batch, time_steps, layers),
    }
    torch_impl = TorchImpl(batch, time_steps, layers) if with_torch else None
    if torch_impl is not None:
        impls["torch"] = (lambda: torch_impl.call("train"), lambda: torch_impl.call("infer"))
    times = {(name, mode): [] for name in impls for mode in ("train", "infer")}
    for train, infer in impls.values():  # warm up: tracing, first allocations
        for _ in range(2):
            train()
            infer()
    order = list(impls)
    for r in range(rounds):
        # A new order each round, so no implementation always follows another.
        random.Random(r).shuffle(order)
        for mode, index in (("train", 0), ("infer", 1)):
            for name in order:
                t0 = time.perf_counter()
                result = impls[name][index]()
                elapsed = time.perf_counter() - t0
                if name == "torch":
                    # The worker reports its own time (no pipe latency); let its
                    # OpenMP threads stop spinning before the next measurement.
                    times[(name, mode)].append(result)
                    time.sleep(0.05)
                else:
                    times[(name, mode)].append(elapsed)
    if torch_impl is not None:
        torch_impl.close()
    flops = lstm_flops(batch, time_steps, layers)
    rows = []
    for mode, factor in (("train", 3), ("infer", 1)):
        fused = statistics.median(times[("fused", mode)])
        for name in impls:
            t = statistics.median(times[(name, mode)])
            rows.append((f"B={batch},T={time_steps},L={layers}", mode, name, t * 1e3,
                         t / fused))
        floor = factor * flops / rate
        rows.append((f"B={batch},T={time_steps},L={layers}", mode, "floor", floor * 1e3,
                     floor / fused))
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--configs", default="32x40x1,32x40x2,128x40x1,32x100x1",
                        help="comma-separated BxTxLAYERS")
    parser.add_argument("--no-torch", action="store_true")
    args = parser.parse_args(argv)
    if not native_ops_available():
        print("WARNING: native ops not built; 'fused' runs the TensorFlow fallback")
    with_torch = torch_available() and not args.no_torch
    rate = sgemm_rate()
    print(f"load average before: {os.getloadavg()[0]:.2f} (other processes make every number "
          "noisier; PyTorch's OpenMP threads suffer most)")
    print(f"sgemm 2048^3 (tf.matmul): {rate / 1e9:.1f} GFLOP/s; "
          f"{os.cpu_count()} CPUs; TF {tf.__version__}; native ops: {native_ops_available()}; "
          f"torch: {with_torch}")
    print(f"{'config':<16} {'mode':<6} {'impl':<10} {'median ms':>10} {'x fused':>8}")
    for config in args.configs.split(","):
        b, t, layers = (int(v) for v in config.split("x"))
        for row in bench_config(b, t, layers, args.rounds, rate, with_torch):
            print(f"{row[0]:<16} {row[1]:<6} {row[2]:<10} {row[3]:>10.1f} {row[4]:>8.2f}",
                  flush=True)
    print("'x fused' = median time / FusedLSTM's median time (above 1: slower than fused).")
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    print("reproduce: python bench/lstm.py " + " ".join(argv if argv is not None else sys.argv[1:]))


if __name__ == "__main__":
    main()
