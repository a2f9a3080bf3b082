// A 64-byte aligned float array for the CPU kernels' scratch memory.
#ifndef TFMTL_OPS_ALIGNED_BUFFER_H_
#define TFMTL_OPS_ALIGNED_BUFFER_H_

#include <cstdint>
#include <cstdlib>
#include <new>

namespace tfmtl {

class AlignedBuffer {
 public:
  AlignedBuffer() = default;
  explicit AlignedBuffer(int64_t n) { Resize(n); }
  ~AlignedBuffer() { std::free(data_); }
  AlignedBuffer(const AlignedBuffer&) = delete;
  AlignedBuffer& operator=(const AlignedBuffer&) = delete;

  // Contents are not kept.
  void Resize(int64_t n) {
    n = n < 1 ? 1 : n;
    if (n <= capacity_) return;
    std::free(data_);
    const size_t bytes = ((static_cast<size_t>(n) * sizeof(float) + 63) / 64) * 64;
    data_ = static_cast<float*>(std::aligned_alloc(64, bytes));
    if (data_ == nullptr) throw std::bad_alloc();
    capacity_ = n;
  }
  float* data() { return data_; }
  const float* data() const { return data_; }

 private:
  float* data_ = nullptr;
  int64_t capacity_ = 0;
};

// Scratch memory that stays with the thread between calls, one buffer per
// slot (each call site its own slot), so repeated calls do not page-fault
// fresh memory in. Requests above kMaxCachedFloats get a buffer of their own.
class Scratch {
 public:
  static constexpr int kSlots = 16;
  static constexpr int64_t kMaxCachedFloats = int64_t{8} << 20;  // 32 MiB

  Scratch(int slot, int64_t n) {
    if (n > kMaxCachedFloats || slot < 0 || slot >= kSlots) {
      own_.Resize(n);
      data_ = own_.data();
    } else {
      thread_local AlignedBuffer cache[kSlots];
      cache[slot].Resize(n);
      data_ = cache[slot].data();
    }
  }
  float* data() { return data_; }

 private:
  AlignedBuffer own_;
  float* data_ = nullptr;
};

}  // namespace tfmtl

#endif  // TFMTL_OPS_ALIGNED_BUFFER_H_
