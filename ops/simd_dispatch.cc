// Picks the CPU inner loops (simd_kernels.h) by the features of this CPU.
#include <atomic>
#include <cstdlib>
#include <cstring>

#include "simd_kernels.h"

namespace tfmtl {
namespace simd {
namespace {

bool CpuHasAvx2Fma() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
  return false;
#endif
}

const Kernels* Automatic() {
  const char* env = std::getenv("TFMTL_CPU_ISA");
  if (env != nullptr && std::strcmp(env, "generic") == 0) return generic::Get();
  return CpuHasAvx2Fma() ? avx2::Get() : generic::Get();
}

std::atomic<const Kernels*> g_active{nullptr};

}  // namespace

const Kernels& Active() {
  const Kernels* k = g_active.load(std::memory_order_acquire);
  if (k == nullptr) {
    k = Automatic();
    g_active.store(k, std::memory_order_release);
  }
  return *k;
}

bool SetActive(const char* name) {
  if (name == nullptr || name[0] == '\0') {
    g_active.store(Automatic(), std::memory_order_release);
    return true;
  }
  if (std::strcmp(name, "generic") == 0) {
    g_active.store(generic::Get(), std::memory_order_release);
    return true;
  }
  if (std::strcmp(name, "avx2") == 0 && CpuHasAvx2Fma()) {
    g_active.store(avx2::Get(), std::memory_order_release);
    return true;
  }
  return false;
}

}  // namespace simd
}  // namespace tfmtl
