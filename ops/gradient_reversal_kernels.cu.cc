// CUDA gradient reversal (gradient_reversal.h): out = -lambda * grad.
// Framework-free: shared by the TensorFlow GPU kernels and the pybind11
// CUDA module.
#if GOOGLE_CUDA

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <string>

#include "gradient_reversal.h"

namespace tfmtl {
namespace {

constexpr int kThreads = 256;
thread_local std::string t_error;

template <typename T, typename S>
__global__ void Reverse(const T* __restrict__ grad, S scale, int64_t n, T* __restrict__ out) {
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    out[i] = scale * grad[i];
  }
}

__global__ void ReverseHalf(const __half* __restrict__ grad, float scale, int64_t n,
                            __half* __restrict__ out) {
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    out[i] = __float2half(scale * __half2float(grad[i]));
  }
}

__global__ void ReverseBf16(const __nv_bfloat16* __restrict__ grad, float scale, int64_t n,
                            __nv_bfloat16* __restrict__ out) {
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    out[i] = __float2bfloat16(scale * __bfloat162float(grad[i]));
  }
}

int Blocks(int64_t n) {
  return static_cast<int>(std::min<int64_t>((n + kThreads - 1) / kThreads, 4096));
}

const char* Check(const char* what) {
  const cudaError_t err = cudaGetLastError();
  if (err == cudaSuccess) return "";
  t_error = std::string("launch of ") + what + " failed: " + cudaGetErrorName(err) + ": " +
            cudaGetErrorString(err);
  return t_error.c_str();
}

}  // namespace

const char* GradientReversalBackwardGpu(const float* grad, float lambda, int64_t n, float* out,
                                        void* stream) {
  if (n <= 0) return "";
  Reverse<<<Blocks(n), kThreads, 0, static_cast<cudaStream_t>(stream)>>>(grad, -lambda, n, out);
  return Check("GradientReversal (float32)");
}

const char* GradientReversalBackwardGpu(const double* grad, double lambda, int64_t n,
                                        double* out, void* stream) {
  if (n <= 0) return "";
  Reverse<<<Blocks(n), kThreads, 0, static_cast<cudaStream_t>(stream)>>>(grad, -lambda, n, out);
  return Check("GradientReversal (float64)");
}

const char* GradientReversalBackwardGpuHalf(const uint16_t* grad, float lambda, int64_t n,
                                            uint16_t* out, void* stream) {
  if (n <= 0) return "";
  ReverseHalf<<<Blocks(n), kThreads, 0, static_cast<cudaStream_t>(stream)>>>(
      reinterpret_cast<const __half*>(grad), -lambda, n, reinterpret_cast<__half*>(out));
  return Check("GradientReversal (float16)");
}

const char* GradientReversalBackwardGpuBf16(const uint16_t* grad, float lambda, int64_t n,
                                            uint16_t* out, void* stream) {
  if (n <= 0) return "";
  ReverseBf16<<<Blocks(n), kThreads, 0, static_cast<cudaStream_t>(stream)>>>(
      reinterpret_cast<const __nv_bfloat16*>(grad), -lambda, n,
      reinterpret_cast<__nv_bfloat16*>(out));
  return Check("GradientReversal (bfloat16)");
}

}  // namespace tfmtl

#endif  // GOOGLE_CUDA
