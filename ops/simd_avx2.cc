// The CPU inner loops for AVX2+FMA; compile with -mavx2 -mfma.
#define TFMTL_SIMD_NS avx2
#include "simd_kernels.inc"
