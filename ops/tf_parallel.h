// Parallel (parallel.h) over TensorFlow's intra-op thread pool.
//
// The work is cut into a few chunks per thread, claimed from an atomic
// counter by the calling thread and by helpers scheduled on the pool. The
// caller never waits for a helper that has not started: when the pool is busy
// (say, the other direction of a bidirectional LSTM), the caller does the
// chunks itself and only waits for chunks already under way. So the fused
// LSTM's per-step joins cannot stall on an unscheduled task, and two
// concurrent ops cannot deadlock.
//
// Ops that hold an OpActivity count themselves as running; For() then asks
// for helpers only for the threads the other running fused ops leave free, so
// the two directions of a bidirectional LSTM each run on their own core
// without per-step joins, and a lone LSTM uses them all.
#ifndef TFMTL_OPS_TF_PARALLEL_H_
#define TFMTL_OPS_TF_PARALLEL_H_

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <memory>
#include <thread>

#include "parallel.h"
#include "tensorflow/core/framework/op_kernel.h"
#include "tensorflow/core/platform/threadpool.h"

namespace tfmtl {

// TFMTL_CPU_THREADS=N caps the threads one op uses (default: the pool's).
inline int ThreadCap() {
  static const int cap = [] {
    const char* env = std::getenv("TFMTL_CPU_THREADS");
    return env != nullptr ? std::max(1, std::atoi(env)) : 1 << 20;
  }();
  return cap;
}

inline std::atomic<int>& RunningOps() {
  static std::atomic<int> running{0};
  return running;
}

// Counts the enclosing op as running for its lifetime.
class OpActivity {
 public:
  OpActivity() { RunningOps().fetch_add(1, std::memory_order_relaxed); }
  ~OpActivity() { RunningOps().fetch_sub(1, std::memory_order_relaxed); }
  OpActivity(const OpActivity&) = delete;
  OpActivity& operator=(const OpActivity&) = delete;
};

class TfParallel final : public Parallel {
 public:
  explicit TfParallel(::tensorflow::OpKernelContext* ctx)
      : pool_(ctx->device()->tensorflow_cpu_worker_threads()->workers) {}
  int NumThreads() const override {
    return std::max(1, std::min(pool_->NumThreads(), ThreadCap()));
  }

  void For(int64_t n, const std::function<void(int64_t, int64_t)>& fn) override {
    if (n <= 0) return;
    const int threads = NumThreads();
    const int64_t chunks = std::min<int64_t>(n, threads == 1 ? 1 : 4 * threads);
    if (chunks == 1) {
      fn(0, n);
      return;
    }
    struct State {
      std::atomic<int64_t> next{0};
      std::atomic<int64_t> done{0};
    };
    auto state = std::make_shared<State>();
    const std::function<void(int64_t, int64_t)>* body = &fn;
    // Claims and runs chunks until none is left; `body` is only touched after
    // a successful claim, so a helper that starts late never sees it.
    auto work = [state, body, n, chunks]() {
      for (;;) {
        const int64_t c = state->next.fetch_add(1, std::memory_order_relaxed);
        if (c >= chunks) return;
        (*body)(n * c / chunks, n * (c + 1) / chunks);
        state->done.fetch_add(1, std::memory_order_release);
      }
    };
    const int others = std::max(0, RunningOps().load(std::memory_order_relaxed) - 1);
    const int helpers = std::max(0, threads - 1 - others);
    for (int i = 0; i < helpers; ++i) pool_->Schedule(work);
    work();
    int spins = 0;
    while (state->done.load(std::memory_order_acquire) < chunks) {
      if (++spins > 64) std::this_thread::yield();
    }
  }

 private:
  ::tsl::thread::ThreadPool* pool_;
};

}  // namespace tfmtl

#endif  // TFMTL_OPS_TF_PARALLEL_H_
