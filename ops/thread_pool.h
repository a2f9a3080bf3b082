// A fork-join thread pool implementing Parallel (parallel.h) for the pybind11
// module. Workers spin briefly between jobs, so the per-step joins of the
// fused LSTM cost microseconds, then sleep.
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
  // Calls from several threads at once are serialised.
  void For(int64_t n, const std::function<void(int64_t, int64_t)>& fn) override;

 private:
  void Worker(int index);
  void RunShard(int shard);

  const int num_threads_;
  std::vector<std::thread> workers_;
  std::mutex call_mu_;  // one For() at a time
  std::mutex mu_;
  std::condition_variable cv_;
  // Worker i runs shard i of call number assigned_[i] once that changes.
  std::unique_ptr<std::atomic<uint64_t>[]> assigned_;
  uint64_t calls_ = 0;
  std::atomic<int> pending_{0};
  std::atomic<bool> stop_{false};
  const std::function<void(int64_t, int64_t)>* fn_ = nullptr;
  int64_t n_ = 0;
  int shards_ = 0;
};

}  // namespace tfmtl

#endif  // TFMTL_OPS_THREAD_POOL_H_
