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
constexpr int64_t kNc = 32 * simd::kNR;  // 512 columns
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
  // Tasks are (column block, row block) pairs, column-major; a thread packs
  // each slice of B once for all the row blocks it has in that column block.
  parallel_->For(mb * nb, [&](int64_t begin, int64_t end) {
    Scratch ap(14, kMc * kKc);
    Scratch bp(15, kNc * kKc);
    for (int64_t task = begin; task < end;) {
      const int64_t jb = task / mb;
      const int64_t last = std::min(end, (jb + 1) * mb);  // tasks of this column block
      const int64_t j0 = jb * kNc, nc = std::min(kNc, n - j0);
      for (int64_t k0 = 0; k0 < k; k0 += kKc) {
        const int64_t kc = std::min(kKc, k - k0);
        kern.pack_b(trans_b, trans_b ? b + j0 * ldb + k0 : b + k0 * ldb + j0, ldb, kc, nc,
                    bp.data());
        for (int64_t t = task; t < last; ++t) {
          const int64_t i0 = (t % mb) * kMc, mc = std::min(kMc, m - i0);
          kern.pack_a(trans_a, trans_a ? a + k0 * lda + i0 : a + i0 * lda + k0, lda, mc, kc,
                      ap.data());
          kern.macro_kernel(mc, nc, kc, ap.data(), bp.data(), alpha, k0 == 0 ? beta : 1.0f,
                            c + i0 * ldc + j0, ldc);
        }
      }
      task = last;
    }
  });
}

}  // namespace tfmtl
