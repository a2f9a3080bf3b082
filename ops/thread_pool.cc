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
constexpr int kSpinIterations = 4000;  // a few microseconds before sleeping
}

ThreadPool::ThreadPool(int num_threads)
    : num_threads_(num_threads > 0
                       ? num_threads
                       : std::max(1, static_cast<int>(std::thread::hardware_concurrency()))) {
  for (int i = 1; i < num_threads_; ++i) workers_.emplace_back([this] { Worker(); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
    generation_.fetch_add(1);
  }
  cv_.notify_all();
  for (auto& w : workers_) w.join();
}

// Claims and runs chunks until none is left; the job's function is only
// touched after a successful claim, and For() waits for every claimed chunk.
void ThreadPool::Work(Job* job) {
  for (;;) {
    const int64_t c = job->next.fetch_add(1, std::memory_order_relaxed);
    if (c >= job->chunks) return;
    (*job->fn)(job->n * c / job->chunks, job->n * (c + 1) / job->chunks);
    job->done.fetch_add(1, std::memory_order_release);
  }
}

void ThreadPool::Worker() {
  uint64_t seen = 0;
  for (;;) {
    uint64_t now = generation_.load(std::memory_order_acquire);
    for (int spin = 0; now == seen && spin < kSpinIterations; ++spin) {
      TFMTL_PAUSE();
      now = generation_.load(std::memory_order_acquire);
    }
    std::shared_ptr<Job> job;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return stop_ || generation_.load() != seen; });
      if (stop_) return;
      seen = generation_.load();
      job = job_;
    }
    if (job) Work(job.get());
  }
}

void ThreadPool::For(int64_t n, const std::function<void(int64_t, int64_t)>& fn) {
  if (n <= 0) return;
  const int64_t chunks = std::min<int64_t>(n, num_threads_ == 1 ? 1 : 4 * num_threads_);
  if (chunks == 1) {
    fn(0, n);
    return;
  }
  auto job = std::make_shared<Job>();
  job->fn = &fn;
  job->n = n;
  job->chunks = chunks;
  {
    std::lock_guard<std::mutex> lock(mu_);
    job_ = job;
    generation_.fetch_add(1, std::memory_order_acq_rel);
  }
  cv_.notify_all();
  Work(job.get());
  int spins = 0;
  while (job->done.load(std::memory_order_acquire) < chunks) {
    if (++spins > 64) std::this_thread::yield();
    TFMTL_PAUSE();
  }
}

}  // namespace tfmtl
