// The CPU inner loops for AVX-512 (two-panel products) on top of AVX2+FMA;
// compile with -mavx512f -mavx512dq -mavx2 -mfma.
#define TFMTL_SIMD_NS avx512
#include "simd_kernels.inc"
