// Gradient reversal (Ganin & Lempitsky 2015): the identity going forward,
// grad -> -lambda * grad going backward, with lambda a run-time scalar so that
// a schedule can drive it.
//
// The plain algorithm, free of any framework.
#ifndef TFMTL_OPS_GRADIENT_REVERSAL_H_
#define TFMTL_OPS_GRADIENT_REVERSAL_H_

#include <cstdint>

namespace tfmtl {

// out[i] = -lambda * grad[i]; out may alias grad.
template <typename T>
void GradientReversalBackwardCpu(const T* grad, T lambda, int64_t n, T* out) {
  const T scale = -lambda;
  for (int64_t i = 0; i < n; ++i) out[i] = scale * grad[i];
}

// CUDA versions (gradient_reversal_kernels.cu.cc), enqueued on `stream` (a
// cudaStream_t). Return an empty string on success, else the failing call and
// its error. The 16-bit ones take IEEE half / bfloat16 bit patterns.
const char* GradientReversalBackwardGpu(const float* grad, float lambda, int64_t n, float* out,
                                        void* stream);
const char* GradientReversalBackwardGpu(const double* grad, double lambda, int64_t n,
                                        double* out, void* stream);
const char* GradientReversalBackwardGpuHalf(const uint16_t* grad, float lambda, int64_t n,
                                            uint16_t* out, void* stream);
const char* GradientReversalBackwardGpuBf16(const uint16_t* grad, float lambda, int64_t n,
                                            uint16_t* out, void* stream);

}  // namespace tfmtl

#endif  // TFMTL_OPS_GRADIENT_REVERSAL_H_
