// Parallel (parallel.h) over TensorFlow's intra-op thread pool.
#ifndef TFMTL_OPS_TF_PARALLEL_H_
#define TFMTL_OPS_TF_PARALLEL_H_

#include <algorithm>

#include "parallel.h"
#include "tensorflow/core/framework/op_kernel.h"
#include "tensorflow/core/platform/threadpool.h"

namespace tfmtl {

class TfParallel final : public Parallel {
 public:
  explicit TfParallel(::tensorflow::OpKernelContext* ctx)
      : pool_(ctx->device()->tensorflow_cpu_worker_threads()->workers) {}
  int NumThreads() const override { return std::max(1, pool_->NumThreads()); }
  void For(int64_t n, const std::function<void(int64_t, int64_t)>& fn) override {
    if (n <= 0) return;
    const int64_t shards = std::min<int64_t>(n, NumThreads());
    if (shards == 1) {
      fn(0, n);
      return;
    }
    pool_->ParallelFor(shards, ::tsl::thread::ThreadPool::SchedulingParams::Fixed(1),
                       [&](int64_t s0, int64_t s1) {
                         for (int64_t s = s0; s < s1; ++s) {
                           const int64_t begin = n * s / shards, end = n * (s + 1) / shards;
                           if (begin < end) fn(begin, end);
                         }
                       });
  }

 private:
  ::tsl::thread::ThreadPool* pool_;
};

}  // namespace tfmtl

#endif  // TFMTL_OPS_TF_PARALLEL_H_
