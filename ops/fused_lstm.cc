// CPU fused LSTM (fused_lstm.h).
//
// Forward: the kernel and the recurrent kernel are packed once per call into
// column panels of 16 = four hidden units x four gates, kernel rows first,
// then recurrent rows. Each time step is then one fork-join over the panels:
// a thread computes [x_t, h_{t-1}] times its panels, adds the bias, applies
// the gate nonlinearities and updates c and h of its units while the tile is
// still in registers, so the only synchronisation is the join at the end of
// the step.
//
// Backward: per step, the elementwise gate gradients dz_t for a thread's
// units, followed (next step) by dh_{t-1} = dz_t U^T for the same units and a
// share of dx_t = dz_t W^T while dz_t is in cache: one join per step. The
// weight gradients are then one large product over all time steps at once:
// [dW; dU] = [X, Hprev]^T dZ.
#include <algorithm>
#include <cstring>
#include <vector>

#include "aligned_buffer.h"
#include "fused_lstm.h"
#include "simd_kernels.h"

namespace tfmtl {
namespace {

constexpr int64_t kNR = simd::kNR;

// Column c of the interleaved layout (panel c / 16 holds units 4 * (c / 16) ..
// + 3; within it gate (c % 16) / 4 and unit lane c % 4) as a column of the
// Keras layout [i | f | c | o], or -1 for padding units.
inline int64_t KerasColumn(int64_t c, int64_t units) {
  const int64_t unit = 4 * (c / kNR) + c % 4;
  const int64_t gate = (c % kNR) / 4;
  return unit < units ? gate * units + unit : -1;
}

inline int64_t Length(const int32_t* lengths, int64_t b, int64_t time) {
  if (lengths == nullptr) return time;
  return std::min<int64_t>(std::max<int32_t>(lengths[b], 0), time);
}

// Copies rows [B, H] into [B, Hp] with zero padding.
void PadRows(const float* src, int64_t rows, int64_t h, int64_t hp, float* dst) {
  for (int64_t r = 0; r < rows; ++r) {
    if (src != nullptr) {
      std::memcpy(dst + r * hp, src + r * h, h * sizeof(float));
    } else {
      std::memset(dst + r * hp, 0, h * sizeof(float));
    }
    std::memset(dst + r * hp + h, 0, (hp - h) * sizeof(float));
  }
}

void UnpadRows(const float* src, int64_t rows, int64_t h, int64_t hp, float* dst) {
  for (int64_t r = 0; r < rows; ++r) std::memcpy(dst + r * h, src + r * hp, h * sizeof(float));
}

}  // namespace

void FusedLSTMForwardCpu(const LSTMShape& s, const FusedLSTMForwardArgs& a, Parallel* parallel,
                         Gemm* /*gemm*/) {
  const int64_t B = s.batch, T = s.time, E = s.input, H = s.units, Hp = PaddedUnits(H);
  if (B == 0) return;
  const int64_t kt = E + Hp;
  const int64_t n_panels = Hp / 4;
  // Packed weights: [Hp / 4][E + Hp][16].
  Scratch panels(0, n_panels * kt * kNR);
  Scratch bias(1, 4 * Hp);
  // Row k of [kernel; recurrent_kernel] goes to row k of every panel: panel
  // p's row is units 4p..4p+3 of each gate block, four runs of four floats
  // (contiguous copies: cheap enough for the calling thread alone).
  for (int64_t p = 0; p < n_panels; ++p) {
    const int64_t u0 = 4 * p, units = std::max<int64_t>(0, std::min<int64_t>(4, H - u0));
    float* panel = panels.data() + p * kt * kNR;
    for (int64_t k = 0; k < kt; ++k) {
      const float* src = k < E ? a.kernel + k * 4 * H
                               : (k - E < H ? a.recurrent_kernel + (k - E) * 4 * H : nullptr);
      float* dst = panel + k * kNR;
      if (src == nullptr || units == 0) {
        std::memset(dst, 0, kNR * sizeof(float));
        continue;
      }
      for (int64_t gate = 0; gate < 4; ++gate) {
        std::memcpy(dst + 4 * gate, src + gate * H + u0, units * sizeof(float));
        for (int64_t l = units; l < 4; ++l) dst[4 * gate + l] = 0.0f;
      }
    }
  }
  for (int64_t c = 0; c < 4 * Hp; ++c) {
    const int64_t col = KerasColumn(c, H);
    bias.data()[c] = col < 0 ? 0.0f : a.bias[col];
  }
  Scratch state(2, 4 * B * Hp);
  float* h_prev = state.data();
  float* c_prev = h_prev + B * Hp;
  float* h_cur = c_prev + B * Hp;
  float* c_cur = h_cur + B * Hp;
  PadRows(a.h0, B, H, Hp, h_prev);
  PadRows(a.c0, B, H, Hp, c_prev);
  std::vector<int64_t> len(B);
  for (int64_t b = 0; b < B; ++b) len[b] = Length(a.lengths, b, T);
  std::vector<uint8_t> active(B);

  const simd::Kernels& kern = simd::Active();
  float* ws_gates = a.workspace;
  float* ws_c = a.workspace != nullptr ? a.workspace + 4 * T * B * Hp : nullptr;
  for (int64_t step = 0; step < T; ++step) {
    const int64_t t = s.reverse ? T - 1 - step : step;
    for (int64_t b = 0; b < B; ++b) active[b] = t < len[b];
    simd::LstmForwardStep st;
    st.batch = B;
    st.units_padded = Hp;
    st.input_size = E;
    st.x = a.x + t * E;
    st.x_row_stride = T * E;
    st.h_prev = h_prev;
    st.c_prev = c_prev;
    st.h_cur = h_cur;
    st.c_cur = c_cur;
    st.panels = panels.data();
    st.bias = bias.data();
    st.active = active.data();
    st.gates = ws_gates != nullptr ? ws_gates + t * B * 4 * Hp : nullptr;
    st.c_out = ws_c != nullptr ? ws_c + t * B * Hp : nullptr;
    parallel->For(n_panels, [&](int64_t p0, int64_t p1) {
      kern.lstm_forward(st, p0, p1);
      const int64_t u0 = 4 * p0, u1 = std::min<int64_t>(4 * p1, H);
      if (u1 <= u0) return;
      for (int64_t b = 0; b < B; ++b) {
        float* out = a.hseq + (b * T + t) * H + u0;
        if (active[b]) {
          std::memcpy(out, h_cur + b * Hp + u0, (u1 - u0) * sizeof(float));
        } else {
          std::memset(out, 0, (u1 - u0) * sizeof(float));
        }
      }
    });
    std::swap(h_prev, h_cur);
    std::swap(c_prev, c_cur);
  }
  UnpadRows(h_prev, B, H, Hp, a.h_last);
  UnpadRows(c_prev, B, H, Hp, a.c_last);
}

void FusedLSTMBackwardCpu(const LSTMShape& s, const FusedLSTMBackwardArgs& a, Parallel* parallel,
                          Gemm* gemm) {
  const int64_t B = s.batch, T = s.time, E = s.input, H = s.units, Hp = PaddedUnits(H);
  const int64_t G = 4 * Hp;
  // Results with no time steps: gradients pass straight to the initial state.
  if (B == 0) {
    std::fill(a.d_kernel, a.d_kernel + E * 4 * H, 0.0f);
    std::fill(a.d_recurrent_kernel, a.d_recurrent_kernel + H * 4 * H, 0.0f);
    std::fill(a.d_bias, a.d_bias + 4 * H, 0.0f);
    return;
  }
  const simd::Kernels& kern = simd::Active();
  const int64_t n_unit_panels = Hp / kNR;
  // U^T packed in panels of 16 units: [Hp / 16][G][16] (interleaved rows).
  Scratch ut_panels(3, n_unit_panels * G * kNR);
  parallel->For(n_unit_panels, [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      float* panel = ut_panels.data() + p * G * kNR;
      for (int64_t c = 0; c < G; ++c) {
        const int64_t col = KerasColumn(c, H);
        for (int64_t j = 0; j < kNR; ++j) {
          const int64_t unit = p * kNR + j;
          panel[c * kNR + j] =
              (col < 0 || unit >= H) ? 0.0f : a.recurrent_kernel[unit * 4 * H + col];
        }
      }
    }
  });

  // W^T packed in panels of 16 inputs: [ceil(E / 16)][G][16], for dx.
  const int64_t n_input_panels = a.dx != nullptr ? (E + kNR - 1) / kNR : 0;
  Scratch wt_panels(4, n_input_panels * G * kNR);
  parallel->For(n_input_panels, [&](int64_t q0, int64_t q1) {
    for (int64_t q = q0; q < q1; ++q) {
      float* panel = wt_panels.data() + q * G * kNR;
      for (int64_t c = 0; c < G; ++c) {
        const int64_t col = KerasColumn(c, H);
        for (int64_t j = 0; j < kNR; ++j) {
          const int64_t e = q * kNR + j;
          panel[c * kNR + j] = (col < 0 || e >= E) ? 0.0f : a.kernel[e * 4 * H + col];
        }
      }
    }
  });

  std::vector<int64_t> len(B);
  for (int64_t b = 0; b < B; ++b) len[b] = Length(a.lengths, b, T);
  // dZ for all steps, rows in the order of x: [B * T, G] (the caller's when
  // it keeps dz for FusedLSTMBackwardInputCpu).
  Scratch dz_scratch(5, a.dz != nullptr ? 0 : B * T * G);
  float* const dz_all = a.dz != nullptr ? a.dz : dz_scratch.data();
  const bool with_dx = a.dx != nullptr;
  Scratch state(6, 3 * B * Hp);
  float* dh = state.data();
  float* dc = dh + B * Hp;
  float* c0 = dc + B * Hp;
  PadRows(a.d_h_last, B, H, Hp, dh);
  PadRows(a.d_c_last, B, H, Hp, dc);
  PadRows(a.c0, B, H, Hp, c0);
  const float* ws_gates = a.workspace;
  const float* ws_c = a.workspace + 4 * T * B * Hp;

  std::vector<uint8_t> active(B), active_prev(B);
  int64_t t_prev = -1;  // the step whose dz feeds this iteration's product
  for (int64_t step = T - 1; step >= -1; --step) {
    const bool has_step = step >= 0;
    const int64_t t = has_step ? (s.reverse ? T - 1 - step : step) : -1;
    if (has_step) {
      for (int64_t b = 0; b < B; ++b) active[b] = t < len[b];
    }
    simd::LstmBackwardProduct prod;
    prod.batch = B;
    prod.units_padded = Hp;
    prod.dz = t_prev >= 0 ? dz_all + t_prev * G : nullptr;
    prod.dz_stride = T * G;
    prod.panels = ut_panels.data();
    prod.dh = dh;
    prod.active = active_prev.data();
    prod.input = E;
    prod.x_panels = wt_panels.data();
    prod.dx = (with_dx && t_prev >= 0) ? a.dx + t_prev * E : nullptr;
    prod.dx_stride = T * E;
    simd::LstmBackwardStep st;
    if (has_step) {
      const bool first = step == 0;  // first step of the forward pass
      const int64_t t_before = s.reverse ? t + 1 : t - 1;
      st.batch = B;
      st.units = H;
      st.units_padded = Hp;
      st.gates = ws_gates + t * B * G;
      st.c = ws_c + t * B * Hp;
      st.c_prev = first ? c0 : ws_c + t_before * B * Hp;
      st.dh_out = a.d_hseq ? a.d_hseq + t * H : nullptr;
      st.dh_out_stride = T * H;
      st.dh = dh;
      st.dc = dc;
      st.dz = dz_all + t * G;
      st.dz_stride = T * G;
      st.active = active.data();
    }
    parallel->For(n_unit_panels, [&](int64_t p0, int64_t p1) {
      if (t_prev >= 0) {
        const int64_t q = with_dx ? n_input_panels : 0;
        kern.lstm_backward_product(prod, p0, p1, p0 * q / n_unit_panels, p1 * q / n_unit_panels);
      }
      if (has_step) kern.lstm_backward(st, 4 * p0, 4 * p1);
    });
    t_prev = t;
    std::swap(active, active_prev);
  }
  UnpadRows(dh, B, H, Hp, a.dh0);
  UnpadRows(dc, B, H, Hp, a.dc0);

  // [x_t, h_{t-1}] of every step, rows in the order of x, [B * T, E + Hp]
  // (h0 at a sequence's first step): dW and dU are then one product with dZ.
  const int64_t kt = E + Hp;
  Scratch xh(7, B * T * kt);
  parallel->For(B, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      for (int64_t t = 0; t < T; ++t) {
        float* dst = xh.data() + (b * T + t) * kt;
        std::memcpy(dst, a.x + (b * T + t) * E, E * sizeof(float));
        dst += E;
        const int64_t tp = s.reverse ? t + 1 : t - 1;
        const float* src = (tp >= 0 && tp < len[b]) ? a.hseq + (b * T + tp) * H
                                                    : (a.h0 ? a.h0 + b * H : nullptr);
        if (src) {
          std::memcpy(dst, src, H * sizeof(float));
        } else {
          std::memset(dst, 0, H * sizeof(float));
        }
        std::memset(dst + H, 0, (Hp - H) * sizeof(float));
      }
    }
  });
  const int64_t n = B * T;
  Scratch dw_il(8, kt * G);
  float* dw = dw_il.data();
  float* du = dw + E * G;
  gemm->Sgemm(true, false, kt, G, n, 1.0f, xh.data(), kt, dz_all, G, 0.0f, dw, G);
  std::vector<double> db(G, 0.0);
  {
    // Column sums in float rows, accumulated per block in double.
    std::vector<float> acc(G);
    for (int64_t r0 = 0; r0 < n; r0 += 64) {
      std::fill(acc.begin(), acc.end(), 0.0f);
      for (int64_t r = r0; r < std::min(n, r0 + 64); ++r) {
        const float* row = dz_all + r * G;
        for (int64_t c = 0; c < G; ++c) acc[c] += row[c];
      }
      for (int64_t c = 0; c < G; ++c) db[c] += acc[c];
    }
  }
  std::vector<int64_t> cols(G);
  for (int64_t c = 0; c < G; ++c) {
    cols[c] = KerasColumn(c, H);
    if (cols[c] >= 0) a.d_bias[cols[c]] = static_cast<float>(db[c]);
  }
  // Row by row: each row of [dW; dU] is read in order and scattered within
  // one row of the Keras layout.
  parallel->For(E + H, [&](int64_t k0, int64_t k1) {
    for (int64_t k = k0; k < k1; ++k) {
      const float* src = k < E ? dw + k * G : du + (k - E) * G;
      float* dst = k < E ? a.d_kernel + k * 4 * H : a.d_recurrent_kernel + (k - E) * 4 * H;
      for (int64_t c = 0; c < G; ++c) {
        if (cols[c] >= 0) dst[cols[c]] = src[c];
      }
    }
  });
}

void FusedLSTMBackwardInputCpu(const LSTMShape& s, const float* dz, const float* kernel,
                               float* dx, Parallel* parallel, Gemm* gemm) {
  const int64_t B = s.batch, T = s.time, E = s.input, H = s.units, Hp = PaddedUnits(H);
  const int64_t G = 4 * Hp;
  if (B * T * E == 0) return;
  // W in the interleaved, padded column order of dz: [E, G].
  Scratch w_il(9, E * G);
  parallel->For(E, [&](int64_t k0, int64_t k1) {
    for (int64_t k = k0; k < k1; ++k) {
      for (int64_t c = 0; c < G; ++c) {
        const int64_t col = KerasColumn(c, H);
        w_il.data()[k * G + c] = col < 0 ? 0.0f : kernel[k * 4 * H + col];
      }
    }
  });
  gemm->Sgemm(false, true, B * T, E, G, 1.0f, dz, G, w_il.data(), G, 0.0f, dx, E);
}

}  // namespace tfmtl
