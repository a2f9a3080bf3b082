// Small interfaces through which the framework-free kernels get their threads
// and their matrix product, so that each binding can plug in its own: the
// TensorFlow binding uses TensorFlow's intra-op thread pool, the pybind11
// module a std::thread pool of its own (thread_pool.h).
#ifndef TFMTL_OPS_PARALLEL_H_
#define TFMTL_OPS_PARALLEL_H_

#include <cstdint>
#include <functional>

namespace tfmtl {

// Fork-join parallelism. For(n, fn) calls fn(begin, end) on a partition of
// [0, n) into at most NumThreads() contiguous ranges, one per thread, and
// returns when every call has returned. Implementations must not deadlock when
// several For() calls run at once from different threads.
class Parallel {
 public:
  virtual ~Parallel() = default;
  virtual int NumThreads() const = 0;
  virtual void For(int64_t n, const std::function<void(int64_t, int64_t)>& fn) = 0;
};

// Runs everything on the calling thread.
class SerialParallel final : public Parallel {
 public:
  int NumThreads() const override { return 1; }
  void For(int64_t n, const std::function<void(int64_t, int64_t)>& fn) override {
    if (n > 0) fn(0, n);
  }
};

// Row-major single-precision matrix product:
//   C[M, N] = alpha * op(A)[M, K] * op(B)[K, N] + beta * C
// where op(A) is A ([M, K], leading dimension lda) or, with trans_a, the
// transpose of A stored as [K, M]; likewise for B. beta == 0 never reads C.
class Gemm {
 public:
  virtual ~Gemm() = default;
  virtual void Sgemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                     const float* a, int64_t lda, const float* b, int64_t ldb, float beta,
                     float* c, int64_t ldc) = 0;
};

// Our own packed, cache-blocked, multi-threaded sgemm (gemm.cc): AVX2+FMA
// micro-kernels where the CPU has them, portable code otherwise.
class PackedGemm final : public Gemm {
 public:
  explicit PackedGemm(Parallel* parallel) : parallel_(parallel) {}
  void Sgemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
             const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c,
             int64_t ldc) override;

 private:
  Parallel* parallel_;
};

}  // namespace tfmtl

#endif  // TFMTL_OPS_PARALLEL_H_
