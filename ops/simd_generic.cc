// The portable CPU inner loops; compile with no instruction-set flags.
#define TFMTL_SIMD_NS generic
#include "simd_kernels.inc"
