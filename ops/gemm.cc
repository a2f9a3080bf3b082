// PackedGemm: a cache-blocked sgemm over the packed micro-kernels of
// simd_kernels.h. The output is cut into kMc x kNc blocks handed out to the
// threads; each block runs over K in kKc slices, packing its slice of A (kept
// in L2) and of B (streamed through L1 panel by panel).
#include <algorithm>

#include "aligned_buffer.h"
#include "parallel.h"
#include "simd_kernels.h"

namespace tfmtl {
namespace {

constexpr int64_t kMc = 16 * simd::kMR;  // 96 rows
constexpr int64_t kNc = 16 * simd::kNR;  // 256 columns
constexpr int64_t kKc = 256;

void ScaleC(int64_t m, int64_t n, float beta, float* c, int64_t ldc) {
  for (int64_t i = 0; i < m; ++i) {
    float* row = c + i * ldc;
    if (beta == 0.0f) {
      std::fill(row, row + n, 0.0f);
    } else {
      for (int64_t j = 0; j < n; ++j) row[j] *= beta;
    }
  }
}

}  // namespace

void PackedGemm::Sgemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                       const float* a, int64_t lda, const float* b, int64_t ldb, float beta,
                       float* c, int64_t ldc) {
  if (m <= 0 || n <= 0) return;
  if (k <= 0 || alpha == 0.0f) {
    ScaleC(m, n, beta, c, ldc);
    return;
  }
  const simd::Kernels& kern = simd::Active();
  const int64_t mb = (m + kMc - 1) / kMc;
  const int64_t nb = (n + kNc - 1) / kNc;
  parallel_->For(mb * nb, [&](int64_t begin, int64_t end) {
    AlignedBuffer ap(kMc * kKc);
    AlignedBuffer bp(kNc * kKc);
    for (int64_t task = begin; task < end; ++task) {
      // Consecutive tasks share a column block, so B stays warm in cache.
      const int64_t jb = task / mb, ib = task % mb;
      const int64_t i0 = ib * kMc, j0 = jb * kNc;
      const int64_t mc = std::min(kMc, m - i0), nc = std::min(kNc, n - j0);
      for (int64_t k0 = 0; k0 < k; k0 += kKc) {
        const int64_t kc = std::min(kKc, k - k0);
        const float* a_blk = trans_a ? a + k0 * lda + i0 : a + i0 * lda + k0;
        const float* b_blk = trans_b ? b + j0 * ldb + k0 : b + k0 * ldb + j0;
        kern.pack_a(trans_a, a_blk, lda, mc, kc, ap.data());
        kern.pack_b(trans_b, b_blk, ldb, kc, nc, bp.data());
        kern.macro_kernel(mc, nc, kc, ap.data(), bp.data(), alpha, k0 == 0 ? beta : 1.0f,
                          c + i0 * ldc + j0, ldc);
      }
    }
  });
}

}  // namespace tfmtl
