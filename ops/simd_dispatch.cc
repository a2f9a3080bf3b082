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

bool CpuHasAvx512() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  return CpuHasAvx2Fma() && __builtin_cpu_supports("avx512f") &&
         __builtin_cpu_supports("avx512dq");
#else
  return false;
#endif
}

// The named set, or null when this CPU cannot run it.
const Kernels* Named(const char* name) {
  if (std::strcmp(name, "generic") == 0) return generic::Get();
  if (std::strcmp(name, "avx2") == 0) return CpuHasAvx2Fma() ? avx2::Get() : nullptr;
  if (std::strcmp(name, "avx512") == 0) return CpuHasAvx512() ? avx512::Get() : nullptr;
  return nullptr;
}

const Kernels* Automatic() {
  const char* env = std::getenv("TFMTL_CPU_ISA");
  if (env != nullptr && env[0] != '\0') {
    if (const Kernels* k = Named(env)) return k;
  }
  if (CpuHasAvx512()) return avx512::Get();
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
  const Kernels* k = Named(name);
  if (k == nullptr) return false;
  g_active.store(k, std::memory_order_release);
  return true;
}

}  // namespace simd
}  // namespace tfmtl
