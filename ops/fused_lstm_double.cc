// float64 fused LSTM (fused_lstm.h): plain loops on one thread, the same
// semantics as the float32 kernels, for numerical gradient checks. Its
// workspace holds the activated gates [T, B, 4H] (Keras order) and the cell
// states [T, B, H], well within FusedLSTMWorkspaceSize.
#include <algorithm>
#include <cmath>
#include <vector>

#include "fused_lstm.h"

namespace tfmtl {
namespace {

inline double Sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }

inline int64_t Length(const int32_t* lengths, int64_t b, int64_t time) {
  if (lengths == nullptr) return time;
  return std::min<int64_t>(std::max<int32_t>(lengths[b], 0), time);
}

}  // namespace

void FusedLSTMForwardCpu(const LSTMShape& s, const FusedLSTMForwardArgsT<double>& a) {
  const int64_t B = s.batch, T = s.time, E = s.input, H = s.units, G = 4 * H;
  std::vector<double> h(B * H, 0.0), c(B * H, 0.0), z(G);
  if (a.h0) std::copy(a.h0, a.h0 + B * H, h.begin());
  if (a.c0) std::copy(a.c0, a.c0 + B * H, c.begin());
  // Without a workspace (inference) the gates go to a scratch row.
  std::vector<double> scratch_gates(a.workspace != nullptr ? 0 : G);
  double* ws_gates = a.workspace;
  double* ws_c = a.workspace != nullptr ? a.workspace + T * B * G : nullptr;
  for (int64_t step = 0; step < T; ++step) {
    const int64_t t = s.reverse ? T - 1 - step : step;
    for (int64_t b = 0; b < B; ++b) {
      double* gates = ws_gates != nullptr ? ws_gates + (t * B + b) * G : scratch_gates.data();
      double* hb = h.data() + b * H;
      double* cb = c.data() + b * H;
      double* out = a.hseq + (b * T + t) * H;
      if (t >= Length(a.lengths, b, T)) {
        std::fill(gates, gates + G, 0.0);
        std::fill(out, out + H, 0.0);
        if (ws_c != nullptr) std::copy(cb, cb + H, ws_c + (t * B + b) * H);
        continue;
      }
      for (int64_t j = 0; j < G; ++j) z[j] = a.bias[j];
      const double* xb = a.x + (b * T + t) * E;
      for (int64_t k = 0; k < E; ++k) {
        const double* w = a.kernel + k * G;
        for (int64_t j = 0; j < G; ++j) z[j] += xb[k] * w[j];
      }
      for (int64_t k = 0; k < H; ++k) {
        const double* u = a.recurrent_kernel + k * G;
        for (int64_t j = 0; j < G; ++j) z[j] += hb[k] * u[j];
      }
      for (int64_t u = 0; u < H; ++u) {
        const double i = Sigmoid(z[u]), f = Sigmoid(z[H + u]);
        const double g = std::tanh(z[2 * H + u]), o = Sigmoid(z[3 * H + u]);
        gates[u] = i;
        gates[H + u] = f;
        gates[2 * H + u] = g;
        gates[3 * H + u] = o;
        cb[u] = f * cb[u] + i * g;
        hb[u] = o * std::tanh(cb[u]);
        out[u] = hb[u];
      }
      if (ws_c != nullptr) std::copy(cb, cb + H, ws_c + (t * B + b) * H);
    }
  }
  std::copy(h.begin(), h.end(), a.h_last);
  std::copy(c.begin(), c.end(), a.c_last);
}

void FusedLSTMBackwardCpu(const LSTMShape& s, const FusedLSTMBackwardArgsT<double>& a) {
  const int64_t B = s.batch, T = s.time, E = s.input, H = s.units, G = 4 * H;
  if (a.dx != nullptr) std::fill(a.dx, a.dx + B * T * E, 0.0);
  if (a.dz != nullptr) std::fill(a.dz, a.dz + B * T * G, 0.0);
  std::fill(a.d_kernel, a.d_kernel + E * G, 0.0);
  std::fill(a.d_recurrent_kernel, a.d_recurrent_kernel + H * G, 0.0);
  std::fill(a.d_bias, a.d_bias + G, 0.0);
  std::vector<double> dh(B * H, 0.0), dc(B * H, 0.0), dz(G), hprev(H);
  if (a.d_h_last) std::copy(a.d_h_last, a.d_h_last + B * H, dh.begin());
  if (a.d_c_last) std::copy(a.d_c_last, a.d_c_last + B * H, dc.begin());
  const double* ws_gates = a.workspace;
  const double* ws_c = a.workspace + T * B * G;
  for (int64_t step = T - 1; step >= 0; --step) {
    const int64_t t = s.reverse ? T - 1 - step : step;
    const int64_t tp = s.reverse ? t + 1 : t - 1;  // the step before, in time
    for (int64_t b = 0; b < B; ++b) {
      const int64_t len = Length(a.lengths, b, T);
      if (t >= len) continue;
      const double* gates = ws_gates + (t * B + b) * G;
      const double* cb = ws_c + (t * B + b) * H;
      const bool first = step == 0;
      const double* cp = first ? (a.c0 ? a.c0 + b * H : nullptr) : ws_c + (tp * B + b) * H;
      const double* hp = (!first && tp < len) ? a.hseq + (b * T + tp) * H
                                               : (a.h0 ? a.h0 + b * H : nullptr);
      double* dhb = dh.data() + b * H;
      double* dcb = dc.data() + b * H;
      for (int64_t u = 0; u < H; ++u) {
        const double i = gates[u], f = gates[H + u], g = gates[2 * H + u], o = gates[3 * H + u];
        const double dht = dhb[u] + (a.d_hseq ? a.d_hseq[(b * T + t) * H + u] : 0.0);
        const double tc = std::tanh(cb[u]);
        const double dct = dcb[u] + dht * o * (1.0 - tc * tc);
        dz[u] = dct * g * i * (1.0 - i);
        dz[H + u] = dct * (cp ? cp[u] : 0.0) * f * (1.0 - f);
        dz[2 * H + u] = dct * i * (1.0 - g * g);
        dz[3 * H + u] = dht * tc * o * (1.0 - o);
        dcb[u] = dct * f;
      }
      for (int64_t u = 0; u < H; ++u) hprev[u] = hp ? hp[u] : 0.0;
      const double* xb = a.x + (b * T + t) * E;
      double* dxb = a.dx != nullptr ? a.dx + (b * T + t) * E : nullptr;
      if (a.dz != nullptr) std::copy(dz.begin(), dz.end(), a.dz + (b * T + t) * G);
      for (int64_t k = 0; k < E; ++k) {
        const double* w = a.kernel + k * G;
        double* dw = a.d_kernel + k * G;
        double acc = 0.0;
        for (int64_t j = 0; j < G; ++j) {
          acc += dz[j] * w[j];
          dw[j] += xb[k] * dz[j];
        }
        if (dxb != nullptr) dxb[k] = acc;
      }
      for (int64_t k = 0; k < H; ++k) {
        const double* u = a.recurrent_kernel + k * G;
        double* du = a.d_recurrent_kernel + k * G;
        double acc = 0.0;
        for (int64_t j = 0; j < G; ++j) {
          acc += dz[j] * u[j];
          du[j] += hprev[k] * dz[j];
        }
        dhb[k] = acc;
      }
      for (int64_t j = 0; j < G; ++j) a.d_bias[j] += dz[j];
    }
  }
  std::copy(dh.begin(), dh.end(), a.dh0);
  std::copy(dc.begin(), dc.end(), a.dc0);
}

void FusedLSTMBackwardInputCpu(const LSTMShape& s, const double* dz, const double* kernel,
                               double* dx) {
  const int64_t n = s.batch * s.time, E = s.input, G = 4 * s.units;
  for (int64_t r = 0; r < n; ++r) {
    for (int64_t k = 0; k < E; ++k) {
      double acc = 0.0;
      for (int64_t j = 0; j < G; ++j) acc += dz[r * G + j] * kernel[k * G + j];
      dx[r * E + k] = acc;
    }
  }
}

}  // namespace tfmtl
