// The inner loops of the CPU kernels, compiled once per instruction set
// (simd_avx512.cc with -mavx512f -mavx512dq -mavx2 -mfma, simd_avx2.cc with
// -mavx2 -mfma, simd_generic.cc with no flags) from one source,
// simd_kernels.inc, and picked at run time by the CPU's features.
//
// Only plain data crosses this boundary: the per-ISA translation units use no
// C++ library templates, so the linker can never merge an AVX2 copy of an
// inline function into the portable path.
#ifndef TFMTL_OPS_SIMD_KERNELS_H_
#define TFMTL_OPS_SIMD_KERNELS_H_

#include <cstdint>

namespace tfmtl {
namespace simd {

// Register tile of the micro-kernels: kMR rows by kNR columns.
constexpr int kMR = 6;
constexpr int kNR = 16;

// One forward time step of the fused LSTM, for the column panels [p0, p1).
// Column panel p holds the four gates (i, f, c, o) of the four hidden units
// 4p..4p+3, so each panel's tile is finished in registers: recurrent product,
// gate nonlinearities and state update.
struct LstmForwardStep {
  int64_t batch;
  int64_t units_padded;  // Hp, a multiple of 16.
  int64_t input_size;    // E.
  const float* x;        // row of example b at this time step: x + b * x_row_stride.
  int64_t x_row_stride;
  const float* h_prev;   // [batch, Hp]
  const float* c_prev;   // [batch, Hp]
  float* h_cur;          // [batch, Hp]
  float* c_cur;          // [batch, Hp]
  const float* panels;   // [Hp / 4][E + Hp][16]: kernel rows, then recurrent rows.
  const float* bias;     // [4 * Hp], interleaved like the panels.
  const uint8_t* active; // [batch]: 1 where this step is within the sequence.
  float* gates;          // [batch, 4 * Hp] activated gates, interleaved (workspace;
                         // null: not kept).
  float* c_out;          // [batch, Hp] cell state after the step (workspace).
};

// Gate gradients of one backward time step for the unit chunks [q0, q1) (four
// units each). Consumes dh (recurrent + output gradient) and dc, writes the
// pre-activation gradients dz (interleaved) and the new dc.
struct LstmBackwardStep {
  int64_t batch;
  int64_t units;          // H (columns of dh_out).
  int64_t units_padded;   // Hp.
  const float* gates;     // [batch, 4 * Hp]
  const float* c;         // [batch, Hp] cell state after this step.
  const float* c_prev;    // [batch, Hp] cell state before it.
  const float* dh_out;    // gradient of this step's output: dh_out + b * dh_out_stride, H wide; may be null.
  int64_t dh_out_stride;
  float* dh;              // [batch, Hp] recurrent gradient of h (read).
  float* dc;              // [batch, Hp] gradient of c (read and written).
  float* dz;              // row b at dz + b * dz_stride, 4 * Hp wide (written).
  int64_t dz_stride;
  const uint8_t* active;
};

// The products of one step's dz (rows in cache) with the transposed weights:
//   dh[b, 16p..16p+15] = dz_b . U^T[:, 16p..] for the active rows, panels [p0, p1);
//   dx_b[16q..16q+15]  = dz_b . W^T[:, 16q..] for every row, panels [q0, q1).
struct LstmBackwardProduct {
  int64_t batch;
  int64_t units_padded;
  const float* dz;       // row b at dz + b * dz_stride, 4 * Hp wide.
  int64_t dz_stride;
  const float* panels;   // [Hp / 16][4 * Hp][16]
  float* dh;             // [batch, Hp]
  const uint8_t* active;
  int64_t input;          // E
  const float* x_panels;  // [ceil(E / 16)][4 * Hp][16]
  float* dx;              // row b at dx + b * dx_stride, E wide.
  int64_t dx_stride;
};

struct Kernels {
  const char* name;
  // Packs op(A)[m, k] into row panels of kMR: out[(i / kMR) * k * kMR + kk * kMR + i % kMR].
  void (*pack_a)(bool trans, const float* a, int64_t lda, int64_t m, int64_t k, float* out);
  // Packs op(B)[k, n] into column panels of kNR: out[(j / kNR) * k * kNR + kk * kNR + j % kNR].
  void (*pack_b)(bool trans, const float* b, int64_t ldb, int64_t k, int64_t n, float* out);
  // C[m, n] = alpha * Ap * Bp + beta * C over packed blocks (beta == 0 never reads C).
  void (*macro_kernel)(int64_t m, int64_t n, int64_t k, const float* ap, const float* bp,
                       float alpha, float beta, float* c, int64_t ldc);
  void (*lstm_forward)(const LstmForwardStep& s, int64_t p0, int64_t p1);
  void (*lstm_backward)(const LstmBackwardStep& s, int64_t q0, int64_t q1);
  void (*lstm_backward_product)(const LstmBackwardProduct& s, int64_t p0, int64_t p1,
                                int64_t q0, int64_t q1);
  // Elementwise, for tests: out = sigmoid(x), out = tanh(x).
  void (*sigmoid)(const float* x, int64_t n, float* out);
  void (*tanh)(const float* x, int64_t n, float* out);
};

namespace generic {
const Kernels* Get();
}
namespace avx2 {
const Kernels* Get();
}
namespace avx512 {
const Kernels* Get();
}

// The kernels for this CPU: AVX-512 (F and DQ) when present, else AVX2+FMA,
// else portable. The environment variable TFMTL_CPU_ISA (avx2, generic) caps
// the choice.
const Kernels& Active();
// Overrides the choice ("avx512", "avx2", "generic" or "" for automatic);
// returns false when the named set cannot run on this CPU.
bool SetActive(const char* name);

}  // namespace simd
}  // namespace tfmtl

#endif  // TFMTL_OPS_SIMD_KERNELS_H_
