// A fork-join thread pool implementing Parallel (parallel.h) for the pybind11
// module. Each For() cuts its range into a few chunks per thread that the
// caller and the woken workers claim from an atomic counter; the caller never
// waits for a worker that has not started, only for chunks under way, so a
// busy machine delays a join by little. Workers spin briefly between jobs,
// then sleep.
#ifndef TFMTL_OPS_THREAD_POOL_H_
#define TFMTL_OPS_THREAD_POOL_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "parallel.h"

namespace tfmtl {

class ThreadPool final : public Parallel {
 public:
  // num_threads <= 0: one per hardware thread.
  explicit ThreadPool(int num_threads);
  ~ThreadPool() override;
  int NumThreads() const override { return num_threads_; }
  void For(int64_t n, const std::function<void(int64_t, int64_t)>& fn) override;

 private:
  struct Job {
    const std::function<void(int64_t, int64_t)>* fn;
    int64_t n;
    int64_t chunks;
    std::atomic<int64_t> next{0};
    std::atomic<int64_t> done{0};
  };
  static void Work(Job* job);
  void Worker();

  const int num_threads_;
  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::atomic<uint64_t> generation_{0};
  std::shared_ptr<Job> job_;  // guarded by mu_
  bool stop_ = false;         // guarded by mu_
};

}  // namespace tfmtl

#endif  // TFMTL_OPS_THREAD_POOL_H_
