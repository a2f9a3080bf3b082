"""Float64 NumPy reference of the fused LSTM (forward and BPTT) and helpers."""

import numpy as np


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def lstm_forward(x, h0, c0, kernel, recurrent_kernel, bias, lengths=None, reverse=False):
    """Returns hseq [B, T, H], h_last, c_last and a cache for `lstm_backward`."""
    x = np.asarray(x, np.float64)
    B, T, _ = x.shape
    H = recurrent_kernel.shape[0]
    lengths = np.full(B, T) if lengths is None else np.asarray(lengths)
    h, c = np.array(h0, np.float64), np.array(c0, np.float64)
    hseq = np.zeros((B, T, H))
    cache = {}
    order = range(T - 1, -1, -1) if reverse else range(T)
    for t in order:
        active = (t < lengths)[:, None]
        z = x[:, t] @ kernel + h @ recurrent_kernel + bias
        i, f, g, o = sigmoid(z[:, :H]), sigmoid(z[:, H:2 * H]), np.tanh(z[:, 2 * H:3 * H]), \
            sigmoid(z[:, 3 * H:])
        c_new = f * c + i * g
        h_new = o * np.tanh(c_new)
        cache[t] = (h, c, i, f, g, o, c_new, active)
        h = np.where(active, h_new, h)
        c = np.where(active, c_new, c)
        hseq[:, t] = np.where(active, h_new, 0.0)
    return hseq, h, c, (x, kernel, recurrent_kernel, order, cache)


def lstm_backward(cache, d_hseq, d_h_last, d_c_last):
    """Returns dx, dh0, dc0, d_kernel, d_recurrent_kernel, d_bias."""
    x, kernel, recurrent_kernel, order, steps = cache
    H = recurrent_kernel.shape[0]
    dx = np.zeros_like(x)
    dk = np.zeros_like(kernel, dtype=np.float64)
    dr = np.zeros_like(recurrent_kernel, dtype=np.float64)
    db = np.zeros(4 * H)
    dh = np.array(d_h_last, np.float64)
    dc = np.array(d_c_last, np.float64)
    for t in reversed(list(order)):
        h_prev, c_prev, i, f, g, o, c_new, active = steps[t]
        dh_t = dh + d_hseq[:, t]
        tc = np.tanh(c_new)
        d_o = dh_t * tc
        dc_t = dc + dh_t * o * (1 - tc ** 2)
        dz = np.concatenate([dc_t * g * i * (1 - i), dc_t * c_prev * f * (1 - f),
                             dc_t * i * (1 - g ** 2), d_o * o * (1 - o)], axis=1)
        dz = np.where(active, dz, 0.0)
        dx[:, t] = dz @ kernel.T
        dk += x[:, t].T @ dz
        dr += h_prev.T @ dz
        db += dz.sum(0)
        dh = np.where(active, dz @ recurrent_kernel.T, dh)
        dc = np.where(active, dc_t * f, dc)
    return dx, dh, dc, dk, dr, db


def rel_err(a, b):
    """max |a - b| / max |b| (0 when both are zero)."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    scale = np.max(np.abs(b)) if b.size else 0.0
    diff = np.max(np.abs(a - b)) if b.size else 0.0
    return 0.0 if diff == 0 else diff / max(scale, 1e-30)


def random_lstm_inputs(rng, batch, time, input_size, units, scale=0.5):
    """float32 inputs, initial state, weights and ragged lengths."""
    f32 = np.float32
    x = rng.standard_normal((batch, time, input_size)).astype(f32)
    h0 = (0.3 * rng.standard_normal((batch, units))).astype(f32)
    c0 = (0.3 * rng.standard_normal((batch, units))).astype(f32)
    kernel = scale * rng.standard_normal((input_size, 4 * units)) / np.sqrt(max(input_size, 1))
    kernel = kernel.astype(f32)
    recurrent = (scale * rng.standard_normal((units, 4 * units)) / np.sqrt(units)).astype(f32)
    bias = (0.1 * rng.standard_normal(4 * units)).astype(f32)
    lengths = rng.integers(0, time + 1, size=batch).astype(np.int32)
    return x, h0, c0, kernel, recurrent, bias, lengths
