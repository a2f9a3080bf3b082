#include "thread_pool.h"

#include <algorithm>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define TFMTL_PAUSE() _mm_pause()
#else
#define TFMTL_PAUSE() ((void)0)
#endif

namespace tfmtl {
namespace {
constexpr int kSpinIterations = 20000;  // tens of microseconds before sleeping
}

ThreadPool::ThreadPool(int num_threads)
    : num_threads_(num_threads > 0
                       ? num_threads
                       : std::max(1, static_cast<int>(std::thread::hardware_concurrency()))),
      assigned_(new std::atomic<uint64_t>[num_threads_]) {
  for (int i = 0; i < num_threads_; ++i) assigned_[i].store(0);
  for (int i = 1; i < num_threads_; ++i) workers_.emplace_back([this, i] { Worker(i); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_.store(true);
    for (int i = 1; i < num_threads_; ++i) assigned_[i].fetch_add(1);
  }
  cv_.notify_all();
  for (auto& w : workers_) w.join();
}

void ThreadPool::RunShard(int shard) {
  const int64_t begin = n_ * shard / shards_;
  const int64_t end = n_ * (shard + 1) / shards_;
  if (begin < end) (*fn_)(begin, end);
}

void ThreadPool::Worker(int index) {
  uint64_t seen = 0;
  std::atomic<uint64_t>& mine = assigned_[index];
  for (;;) {
    uint64_t now = mine.load(std::memory_order_acquire);
    for (int spin = 0; now == seen && spin < kSpinIterations; ++spin) {
      TFMTL_PAUSE();
      now = mine.load(std::memory_order_acquire);
    }
    if (now == seen) {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return mine.load(std::memory_order_acquire) != seen; });
      now = mine.load(std::memory_order_acquire);
    }
    seen = now;
    if (stop_.load()) return;
    RunShard(index);
    pending_.fetch_sub(1, std::memory_order_acq_rel);
  }
}

void ThreadPool::For(int64_t n, const std::function<void(int64_t, int64_t)>& fn) {
  if (n <= 0) return;
  const int shards = static_cast<int>(std::min<int64_t>(n, num_threads_));
  if (shards == 1) {
    fn(0, n);
    return;
  }
  std::lock_guard<std::mutex> call_lock(call_mu_);
  fn_ = &fn;
  n_ = n;
  shards_ = shards;
  pending_.store(shards - 1, std::memory_order_release);
  ++calls_;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (int i = 1; i < shards; ++i) assigned_[i].store(calls_, std::memory_order_release);
  }
  cv_.notify_all();
  RunShard(0);
  while (pending_.load(std::memory_order_acquire) != 0) TFMTL_PAUSE();
}

}  // namespace tfmtl
