// CUDA fused LSTM (fused_lstm.h), float32. Framework-free: shared by the
// TensorFlow GPU kernels and the pybind11 CUDA module.
//
// Forward: one product X W for all steps (cuBLAS), then per step
// h_{t-1} U accumulated into that step's rows (cuBLAS, beta = 1) and one
// elementwise kernel (bias, gates, state update, lengths). Backward: per step
// one elementwise kernel (gate gradients) and dz_t U^T (cuBLAS); then dW, dU,
// dx and the bias gradient as single products over all steps.
//
// Layouts: Keras gate order i, f, c, o. The workspace holds the activated
// gates [T, B, 4H] then the cell states [T, B, H] (within
// FusedLSTMWorkspaceSize).
#if GOOGLE_CUDA

#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>
#include <string>

#include "cublas_loader.h"
#include "fused_lstm.h"

namespace tfmtl {
namespace {

constexpr int kThreads = 256;

thread_local std::string t_error;

const char* Fail(const char* what, cudaError_t err) {
  t_error = std::string(what) + " failed: " + cudaGetErrorName(err) + ": " +
            cudaGetErrorString(err);
  return t_error.c_str();
}
const char* Fail(const char* what, const char* err) {
  t_error = std::string(what) + ": " + err;
  return t_error.c_str();
}

#define TFMTL_CUDA(expr)                                           \
  do {                                                             \
    const cudaError_t _err = (expr);                               \
    if (_err != cudaSuccess) return Fail(#expr, _err);             \
  } while (0)
#define TFMTL_LAUNCHED(name)                                       \
  do {                                                             \
    const cudaError_t _err = cudaGetLastError();                   \
    if (_err != cudaSuccess) return Fail("launch of " name, _err); \
  } while (0)
#define TFMTL_CUBLAS(expr)                                         \
  do {                                                             \
    const char* _msg = (expr);                                     \
    if (_msg[0] != '\0') return Fail(#expr, _msg);                 \
  } while (0)

inline int Blocks(int64_t n) { return static_cast<int>((n + kThreads - 1) / kThreads); }
// Scratch regions start on 256-byte boundaries.
inline int64_t Align64(int64_t n) { return (n + 63) / 64 * 64; }

__device__ __forceinline__ float Sigmoid(float x) { return 1.0f / (1.0f + expf(-x)); }

__device__ __forceinline__ int Length(const int32_t* lengths, int b, int time) {
  if (lengths == nullptr) return time;
  return min(max(lengths[b], 0), time);
}

// z (row b at z + b * z_stride, bias not yet added) -> gates, c, h.
__global__ void ForwardStep(int batch, int units, int time, int t, const float* __restrict__ z,
                            int64_t z_stride, const float* __restrict__ bias,
                            const int32_t* __restrict__ lengths, const float* __restrict__ h_prev,
                            const float* __restrict__ c_prev, float* __restrict__ h_cur,
                            float* __restrict__ c_cur, float* __restrict__ gates,
                            float* __restrict__ c_out, float* __restrict__ hseq) {
  const int64_t idx = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (idx >= static_cast<int64_t>(batch) * units) return;
  const int b = static_cast<int>(idx / units), u = static_cast<int>(idx % units);
  const int H = units;
  float* g = gates != nullptr ? gates + static_cast<int64_t>(b) * 4 * H : nullptr;
  float* out = hseq + (static_cast<int64_t>(b) * time + t) * H + u;
  if (t >= Length(lengths, b, time)) {
    h_cur[idx] = h_prev[idx];
    c_cur[idx] = c_prev[idx];
    if (gates != nullptr) {
      c_out[idx] = c_prev[idx];
      g[u] = g[H + u] = g[2 * H + u] = g[3 * H + u] = 0.0f;
    }
    *out = 0.0f;
    return;
  }
  const float* zr = z + b * z_stride;
  const float i = Sigmoid(zr[u] + bias[u]);
  const float f = Sigmoid(zr[H + u] + bias[H + u]);
  const float gg = tanhf(zr[2 * H + u] + bias[2 * H + u]);
  const float o = Sigmoid(zr[3 * H + u] + bias[3 * H + u]);
  const float c = f * c_prev[idx] + i * gg;
  const float h = o * tanhf(c);
  if (gates != nullptr) {  // no workspace in inference
    g[u] = i;
    g[H + u] = f;
    g[2 * H + u] = gg;
    g[3 * H + u] = o;
    c_out[idx] = c;
  }
  c_cur[idx] = c;
  h_cur[idx] = h;
  *out = h;
}

// Gate gradients of step t. The recurrent dh is dh_prod (the product of the
// step processed before, t_done) where that step was in the sequence, else the
// carried dh; it is stored back to dh. Also writes this step's row of Hprev.
__global__ void BackwardStep(int batch, int units, int time, int t, int t_before, int t_done,
                             bool first, const int32_t* __restrict__ lengths,
                             const float* __restrict__ gates, const float* __restrict__ c_t,
                             const float* __restrict__ c_before, const float* __restrict__ c0,
                             const float* __restrict__ h0, const float* __restrict__ hseq,
                             const float* __restrict__ d_hseq, const float* __restrict__ dh_prod,
                             float* __restrict__ dh, float* __restrict__ dc,
                             float* __restrict__ dz, float* __restrict__ hprev) {
  const int64_t idx = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (idx >= static_cast<int64_t>(batch) * units) return;
  const int b = static_cast<int>(idx / units), u = static_cast<int>(idx % units);
  const int H = units;
  const int len = Length(lengths, b, time);
  float dh_rec = dh[idx];
  if (t_done >= 0 && t_done < len) dh_rec = dh_prod[idx];
  dh[idx] = dh_rec;
  const int64_t row = static_cast<int64_t>(b) * time + t;
  float* dzr = dz + row * 4 * H;
  const bool has_before = !first && t_before < len;
  hprev[row * H + u] = has_before ? hseq[(static_cast<int64_t>(b) * time + t_before) * H + u]
                                  : h0[idx];
  if (t >= len) {
    dzr[u] = dzr[H + u] = dzr[2 * H + u] = dzr[3 * H + u] = 0.0f;
    return;
  }
  const float* g = gates + static_cast<int64_t>(b) * 4 * H;
  const float i = g[u], f = g[H + u], gg = g[2 * H + u], o = g[3 * H + u];
  const float dht = dh_rec + d_hseq[row * H + u];
  const float tc = tanhf(c_t[idx]);
  const float dct = dc[idx] + dht * o * (1.0f - tc * tc);
  const float cp = first ? c0[idx] : c_before[idx];
  dzr[u] = dct * gg * i * (1.0f - i);
  dzr[H + u] = dct * cp * f * (1.0f - f);
  dzr[2 * H + u] = dct * i * (1.0f - gg * gg);
  dzr[3 * H + u] = dht * tc * o * (1.0f - o);
  dc[idx] = dct * f;
}

// dh0 from the last product (where that step was in the sequence).
__global__ void BackwardFinish(int batch, int units, int time, int t_done,
                               const int32_t* __restrict__ lengths,
                               const float* __restrict__ dh_prod, const float* __restrict__ dh,
                               float* __restrict__ dh0) {
  const int64_t idx = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (idx >= static_cast<int64_t>(batch) * units) return;
  const int b = static_cast<int>(idx / units);
  dh0[idx] = (t_done >= 0 && t_done < Length(lengths, b, time)) ? dh_prod[idx] : dh[idx];
}

__global__ void Fill(float* p, int64_t n, float v) {
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    p[i] = v;
  }
}

}  // namespace

int64_t FusedLSTMGpuScratchSize(const LSTMShape& s, bool backward) {
  const int64_t B = s.batch, T = s.time, H = s.units;
  if (!backward) {
    // xw [B*T, 4H], h and c double buffers.
    return Align64(B * T * 4 * H) + 4 * Align64(B * H);
  }
  // dz [B*T, 4H] (unless the caller keeps it), hprev [B*T, H], dh, dc,
  // dh_prod [B, H], ones [B*T].
  return Align64(B * T * 4 * H) + Align64(B * T * H) + 3 * Align64(B * H) + Align64(B * T);
}

const char* FusedLSTMForwardGpu(const LSTMShape& s, const FusedLSTMForwardArgs& a,
                                float* scratch, void* stream_ptr) {
  cudaStream_t stream = static_cast<cudaStream_t>(stream_ptr);
  const int64_t B = s.batch, T = s.time, E = s.input, H = s.units, G = 4 * H;
  const size_t state_bytes = B * H * sizeof(float);
  if (B == 0 || H == 0) return "";
  if (B * H > 0x7fffffffLL) return Fail("FusedLSTMForwardGpu", "batch * units above 2^31");
  float* xw = scratch;
  float* h_buf[2] = {xw + Align64(B * T * G), nullptr};
  h_buf[1] = h_buf[0] + Align64(B * H);
  float* c_buf[2] = {h_buf[1] + Align64(B * H), nullptr};
  c_buf[1] = c_buf[0] + Align64(B * H);
  TFMTL_CUDA(cudaMemcpyAsync(h_buf[0], a.h0, state_bytes, cudaMemcpyDeviceToDevice, stream));
  TFMTL_CUDA(cudaMemcpyAsync(c_buf[0], a.c0, state_bytes, cudaMemcpyDeviceToDevice, stream));
  if (T > 0) {
    if (E > 0) {
      TFMTL_CUBLAS(cublas::Sgemm(stream, false, false, B * T, G, E, 1.0f, a.x, E, a.kernel, G,
                                 0.0f, xw, G));
    } else {
      Fill<<<Blocks(std::min<int64_t>(B * T * G, 1 << 20)), kThreads, 0, stream>>>(xw, B * T * G,
                                                                                   0.0f);
      TFMTL_LAUNCHED("Fill");
    }
  }
  float* ws_gates = a.workspace;
  float* ws_c = a.workspace != nullptr ? a.workspace + T * B * G : nullptr;
  int cur = 0;
  for (int64_t step = 0; step < T; ++step) {
    const int64_t t = s.reverse ? T - 1 - step : step;
    float* z = xw + t * G;  // row b at z + b * T * G
    TFMTL_CUBLAS(cublas::Sgemm(stream, false, false, B, G, H, 1.0f, h_buf[cur], H,
                               a.recurrent_kernel, G, 1.0f, z, T * G));
    ForwardStep<<<Blocks(B * H), kThreads, 0, stream>>>(
        static_cast<int>(B), static_cast<int>(H), static_cast<int>(T), static_cast<int>(t), z,
        T * G, a.bias, a.lengths, h_buf[cur], c_buf[cur], h_buf[1 - cur], c_buf[1 - cur],
        ws_gates != nullptr ? ws_gates + t * B * G : nullptr,
        ws_c != nullptr ? ws_c + t * B * H : nullptr, a.hseq);
    TFMTL_LAUNCHED("ForwardStep");
    cur = 1 - cur;
  }
  TFMTL_CUDA(cudaMemcpyAsync(a.h_last, h_buf[cur], state_bytes, cudaMemcpyDeviceToDevice,
                             stream));
  TFMTL_CUDA(cudaMemcpyAsync(a.c_last, c_buf[cur], state_bytes, cudaMemcpyDeviceToDevice,
                             stream));
  return "";
}

const char* FusedLSTMBackwardGpu(const LSTMShape& s, const FusedLSTMBackwardArgs& a,
                                 float* scratch, void* stream_ptr) {
  cudaStream_t stream = static_cast<cudaStream_t>(stream_ptr);
  const int64_t B = s.batch, T = s.time, E = s.input, H = s.units, G = 4 * H;
  const size_t state_bytes = B * H * sizeof(float);
  if (B * H > 0x7fffffffLL) return Fail("FusedLSTMBackwardGpu", "batch * units above 2^31");
  if (B == 0 || T == 0 || H == 0) {
    if (state_bytes > 0) {
      TFMTL_CUDA(cudaMemcpyAsync(a.dh0, a.d_h_last, state_bytes, cudaMemcpyDeviceToDevice,
                                 stream));
      TFMTL_CUDA(cudaMemcpyAsync(a.dc0, a.d_c_last, state_bytes, cudaMemcpyDeviceToDevice,
                                 stream));
    }
    if (E * G > 0) TFMTL_CUDA(cudaMemsetAsync(a.d_kernel, 0, E * G * sizeof(float), stream));
    if (H * G > 0) {
      TFMTL_CUDA(cudaMemsetAsync(a.d_recurrent_kernel, 0, H * G * sizeof(float), stream));
      TFMTL_CUDA(cudaMemsetAsync(a.d_bias, 0, G * sizeof(float), stream));
    }
    return "";
  }
  float* dz = a.dz != nullptr ? a.dz : scratch;
  float* hprev = scratch + Align64(B * T * G);
  float* dh = hprev + Align64(B * T * H);
  float* dc = dh + Align64(B * H);
  float* dh_prod = dc + Align64(B * H);
  float* ones = dh_prod + Align64(B * H);
  TFMTL_CUDA(cudaMemcpyAsync(dh, a.d_h_last, state_bytes, cudaMemcpyDeviceToDevice, stream));
  TFMTL_CUDA(cudaMemcpyAsync(dc, a.d_c_last, state_bytes, cudaMemcpyDeviceToDevice, stream));
  const float* ws_gates = a.workspace;
  const float* ws_c = a.workspace + T * B * G;
  int64_t t_done = -1;
  for (int64_t step = T - 1; step >= 0; --step) {
    const int64_t t = s.reverse ? T - 1 - step : step;
    const int64_t t_before = s.reverse ? t + 1 : t - 1;
    const bool first = step == 0;
    BackwardStep<<<Blocks(B * H), kThreads, 0, stream>>>(
        static_cast<int>(B), static_cast<int>(H), static_cast<int>(T), static_cast<int>(t),
        static_cast<int>(t_before), static_cast<int>(t_done), first, a.lengths,
        ws_gates + t * B * G, ws_c + t * B * H, first ? nullptr : ws_c + t_before * B * H, a.c0,
        a.h0, a.hseq, a.d_hseq, dh_prod, dh, dc, dz, hprev);
    TFMTL_LAUNCHED("BackwardStep");
    // dh_prod = dz_t U^T (rows b * T + t of dz).
    TFMTL_CUBLAS(cublas::Sgemm(stream, false, true, B, H, G, 1.0f, dz + t * G, T * G,
                               a.recurrent_kernel, G, 0.0f, dh_prod, H));
    t_done = t;
  }
  BackwardFinish<<<Blocks(B * H), kThreads, 0, stream>>>(
      static_cast<int>(B), static_cast<int>(H), static_cast<int>(T), static_cast<int>(t_done),
      a.lengths, dh_prod, dh, a.dh0);
  TFMTL_LAUNCHED("BackwardFinish");
  TFMTL_CUDA(cudaMemcpyAsync(a.dc0, dc, state_bytes, cudaMemcpyDeviceToDevice, stream));
  const int64_t n = B * T;
  if (E > 0) {
    TFMTL_CUBLAS(cublas::Sgemm(stream, true, false, E, G, n, 1.0f, a.x, E, dz, G, 0.0f,
                               a.d_kernel, G));
    if (a.dx != nullptr) {
      TFMTL_CUBLAS(cublas::Sgemm(stream, false, true, n, E, G, 1.0f, dz, G, a.kernel, G, 0.0f,
                                 a.dx, E));
    }
  }
  TFMTL_CUBLAS(cublas::Sgemm(stream, true, false, H, G, n, 1.0f, hprev, H, dz, G, 0.0f,
                             a.d_recurrent_kernel, G));
  Fill<<<Blocks(std::min<int64_t>(n, 1 << 20)), kThreads, 0, stream>>>(ones, n, 1.0f);
  TFMTL_LAUNCHED("Fill");
  TFMTL_CUBLAS(cublas::Sgemm(stream, false, false, 1, G, n, 1.0f, ones, n, dz, G, 0.0f,
                             a.d_bias, G));
  return "";
}

const char* FusedLSTMBackwardInputGpu(const LSTMShape& s, const float* dz, const float* kernel,
                                      float* dx, void* stream) {
  const int64_t n = s.batch * s.time, E = s.input, G = 4 * s.units;
  if (n * E == 0) return "";
  TFMTL_CUBLAS(cublas::Sgemm(stream, false, true, n, E, G, 1.0f, dz, G, kernel, G, 0.0f, dx, E));
  return "";
}

}  // namespace tfmtl

#endif  // GOOGLE_CUDA
