// Fused LSTM over a whole sequence, forward and backward (BPTT), float32.
//
// The plain algorithm, free of any framework: tensors are raw pointers to
// dense row-major arrays; threads and matrix products come through
// parallel.h on CPU, and the caller's CUDA stream on GPU.
//
// Layout and semantics are those of keras.layers.LSTM (tanh / sigmoid):
//   x        [B, T, E]   inputs, batch-major
//   h0, c0   [B, H]      initial state
//   kernel   [E, 4H]     gate blocks in the order i, f, c, o
//   recurrent_kernel [H, 4H], bias [4H]
//   lengths  [B] int32   steps 0..lengths[b]-1 are in the sequence (null: all T)
//   hseq     [B, T, H]   h at each input step, zero past the length
//   h_last, c_last [B, H] state after the last step in the sequence
//   z_t = x_t kernel + h_{t-1} recurrent_kernel + bias
//   i, f, o = sigmoid(z_i, z_f, z_o); g = tanh(z_c)
//   c_t = f c_{t-1} + i g; h_t = o tanh(c_t)
// With reverse, example b runs over lengths[b]-1, ..., 0 (the steps past its
// length are skipped, like tf.reverse_sequence), and hseq stays aligned with
// the input steps.
//
// The forward pass fills a workspace (the activated gates and the cell states
// of every step) that the backward pass reads; its size is
// FusedLSTMWorkspaceSize floats, the same on CPU and GPU. A null workspace
// (inference) is not written.
#ifndef TFMTL_OPS_FUSED_LSTM_H_
#define TFMTL_OPS_FUSED_LSTM_H_

#include <cstdint>

#include "parallel.h"

namespace tfmtl {

struct LSTMShape {
  int64_t batch = 0;   // B
  int64_t time = 0;    // T
  int64_t input = 0;   // E
  int64_t units = 0;   // H
  bool reverse = false;
};

// Hidden units rounded up to the CPU kernels' panel width (16).
inline int64_t PaddedUnits(int64_t units) { return (units + 15) / 16 * 16; }

// Floats of workspace for one call: 5 * T * B * PaddedUnits(H).
inline int64_t FusedLSTMWorkspaceSize(const LSTMShape& s) {
  return 5 * s.time * s.batch * PaddedUnits(s.units);
}

template <typename T>
struct FusedLSTMForwardArgsT {
  const T* x = nullptr;
  const T* h0 = nullptr;
  const T* c0 = nullptr;
  const T* kernel = nullptr;
  const T* recurrent_kernel = nullptr;
  const T* bias = nullptr;
  const int32_t* lengths = nullptr;  // may be null
  T* hseq = nullptr;
  T* h_last = nullptr;
  T* c_last = nullptr;
  T* workspace = nullptr;
};

template <typename T>
struct FusedLSTMBackwardArgsT {
  // Forward inputs and results.
  const T* x = nullptr;
  const T* h0 = nullptr;
  const T* c0 = nullptr;
  const T* kernel = nullptr;
  const T* recurrent_kernel = nullptr;
  const int32_t* lengths = nullptr;  // may be null
  const T* hseq = nullptr;
  const T* workspace = nullptr;
  // Incoming gradients (any may be null: zero).
  const T* d_hseq = nullptr;
  const T* d_h_last = nullptr;
  const T* d_c_last = nullptr;
  // Results. dx may be null: then dx is left to FusedLSTMBackwardInput*,
  // which reads dz (the gates' pre-activation gradients, FusedLSTMDzSize
  // floats in a device-specific layout) written here when dz is not null.
  T* dx = nullptr;
  T* dz = nullptr;
  T* dh0 = nullptr;
  T* dc0 = nullptr;
  T* d_kernel = nullptr;
  T* d_recurrent_kernel = nullptr;
  T* d_bias = nullptr;
};

using FusedLSTMForwardArgs = FusedLSTMForwardArgsT<float>;
using FusedLSTMBackwardArgs = FusedLSTMBackwardArgsT<float>;

// Floats of dz for one call: T * B * 4 * PaddedUnits(H).
inline int64_t FusedLSTMDzSize(const LSTMShape& s) {
  return s.time * s.batch * 4 * PaddedUnits(s.units);
}

// float32: packed SIMD kernels, threads and products from `parallel`/`gemm`.
void FusedLSTMForwardCpu(const LSTMShape& shape, const FusedLSTMForwardArgs& args,
                         Parallel* parallel, Gemm* gemm);
void FusedLSTMBackwardCpu(const LSTMShape& shape, const FusedLSTMBackwardArgs& args,
                          Parallel* parallel, Gemm* gemm);

// dx [B, T, E] from the dz a backward call wrote: one product dz W^T.
void FusedLSTMBackwardInputCpu(const LSTMShape& shape, const float* dz, const float* kernel,
                               float* dx, Parallel* parallel, Gemm* gemm);

// float64: plain loops on one thread, for gradient checks and references.
void FusedLSTMForwardCpu(const LSTMShape& shape, const FusedLSTMForwardArgsT<double>& args);
void FusedLSTMBackwardCpu(const LSTMShape& shape, const FusedLSTMBackwardArgsT<double>& args);
void FusedLSTMBackwardInputCpu(const LSTMShape& shape, const double* dz, const double* kernel,
                               double* dx);

// CUDA versions (fused_lstm_kernels.cu.cc), on device pointers, enqueued on
// `stream` (a cudaStream_t). The device scratch they need is passed in:
// FusedLSTMGpuScratchSize floats, 256-byte aligned. Return an empty string on
// success, else the failing CUDA or cuBLAS call and its error.
int64_t FusedLSTMGpuScratchSize(const LSTMShape& shape, bool backward);
const char* FusedLSTMForwardGpu(const LSTMShape& shape, const FusedLSTMForwardArgs& args,
                                float* scratch, void* stream);
const char* FusedLSTMBackwardGpu(const LSTMShape& shape, const FusedLSTMBackwardArgs& args,
                                 float* scratch, void* stream);
const char* FusedLSTMBackwardInputGpu(const LSTMShape& shape, const float* dz,
                                      const float* kernel, float* dx, void* stream);

}  // namespace tfmtl

#endif  // TFMTL_OPS_FUSED_LSTM_H_
