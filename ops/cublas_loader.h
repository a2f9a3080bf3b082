// cuBLAS opened with dlopen at the first GPU call, so that no library of ours
// has a link-time dependency on CUDA libraries (the TF op library must load on
// machines without CUDA). Framework-free; needs no CUDA headers.
#ifndef TFMTL_OPS_CUBLAS_LOADER_H_
#define TFMTL_OPS_CUBLAS_LOADER_H_

#include <cstdint>

namespace tfmtl {
namespace cublas {

// Row-major single-precision product on `stream` (a cudaStream_t) with the
// semantics of Gemm::Sgemm (parallel.h), on the current device. Returns an
// empty string on success, else what failed.
const char* Sgemm(void* stream, bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k,
                  float alpha, const float* a, int64_t lda, const float* b, int64_t ldb,
                  float beta, float* c, int64_t ldc);

// Lets cuBLAS use TF32 tensor cores for float32 products (default: off, or
// the environment variable TFMTL_ALLOW_TF32=1).
void SetAllowTF32(bool allow);

}  // namespace cublas
}  // namespace tfmtl

#endif  // TFMTL_OPS_CUBLAS_LOADER_H_
