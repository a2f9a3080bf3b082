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

// CUDA version (gradient_reversal_kernels.cu.cc), enqueued on `stream` (a
// cudaStream_t). Returns an empty string on success, else the error.
template <typename T>
const char* GradientReversalBackwardGpu(const T* grad, T lambda, int64_t n, T* out,
                                        void* stream);

}  // namespace tfmtl

#endif  // TFMTL_OPS_GRADIENT_REVERSAL_H_
