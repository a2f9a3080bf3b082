#include "cublas_loader.h"

#include <dlfcn.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

// From the CUDA runtime: libtensorflow_framework exports it in the TF op
// library, the static runtime provides it in the pybind11 module.
extern "C" int cudaGetDevice(int* device);

namespace tfmtl {
namespace cublas {
namespace {

using Handle = void*;
using CreateFn = int (*)(Handle*);
using SetStreamFn = int (*)(Handle, void*);
using SetMathModeFn = int (*)(Handle, int);
using SgemmFn = int (*)(Handle, int, int, int, int, int, const float*, const float*, int,
                        const float*, int, const float*, float*, int);
using StatusStringFn = const char* (*)(int);

constexpr int kOpN = 0, kOpT = 1;
constexpr int kDefaultMath = 0, kTF32TensorOpMath = 3;

struct Api {
  bool ok = false;
  std::string error;
  CreateFn create = nullptr;
  SetStreamFn set_stream = nullptr;
  SetMathModeFn set_math_mode = nullptr;
  SgemmFn sgemm = nullptr;
  StatusStringFn status_string = nullptr;
};

const Api& GetApi() {
  static Api api;
  static std::once_flag once;
  std::call_once(once, [] {
    // By soname first (finds a cuBLAS that TensorFlow or PyTorch already
    // loaded), then pip's nvidia-cublas wheel beside the library that exports
    // the CUDA runtime (libtensorflow_framework), then the CUDA toolkit.
    std::vector<std::string> names;
    if (const char* env = std::getenv("TFMTL_CUBLAS"); env != nullptr && env[0] != '\0') {
      names.push_back(env);
    }
    names.insert(names.end(), {"libcublas.so.12", "libcublas.so.13", "libcublas.so"});
    Dl_info info;
    if (dladdr(reinterpret_cast<void*>(&cudaGetDevice), &info) != 0 && info.dli_fname) {
      std::string dir(info.dli_fname);
      dir = dir.substr(0, dir.find_last_of('/') + 1);
      names.push_back(dir + "../nvidia/cublas/lib/libcublas.so.12");
    }
    for (const char* dir : {"/usr/local/cuda/lib64/", "/usr/local/cuda/targets/x86_64-linux/lib/"}) {
      for (const char* so : {"libcublas.so.13", "libcublas.so.12", "libcublas.so"}) {
        names.push_back(std::string(dir) + so);
      }
    }
    void* lib = nullptr;
    std::string tried;
    for (const std::string& name : names) {
      lib = dlopen(name.c_str(), RTLD_NOW | RTLD_LOCAL);
      if (lib != nullptr) break;
      tried += (tried.empty() ? "" : ", ") + name;
    }
    if (lib == nullptr) {
      api.error = "cannot dlopen cuBLAS (tried " + tried + "; set TFMTL_CUBLAS to its path)";
      return;
    }
    api.create = reinterpret_cast<CreateFn>(dlsym(lib, "cublasCreate_v2"));
    api.set_stream = reinterpret_cast<SetStreamFn>(dlsym(lib, "cublasSetStream_v2"));
    api.set_math_mode = reinterpret_cast<SetMathModeFn>(dlsym(lib, "cublasSetMathMode"));
    api.sgemm = reinterpret_cast<SgemmFn>(dlsym(lib, "cublasSgemm_v2"));
    api.status_string = reinterpret_cast<StatusStringFn>(dlsym(lib, "cublasGetStatusString"));
    if (!api.create || !api.set_stream || !api.set_math_mode || !api.sgemm) {
      api.error = "cuBLAS lacks cublasCreate_v2/cublasSetStream_v2/cublasSetMathMode/"
                  "cublasSgemm_v2";
      return;
    }
    api.ok = true;
  });
  return api;
}

std::atomic<int> g_allow_tf32{-1};  // -1: not decided yet

bool AllowTF32() {
  int v = g_allow_tf32.load();
  if (v < 0) {
    const char* env = std::getenv("TFMTL_ALLOW_TF32");
    v = (env != nullptr && env[0] == '1') ? 1 : 0;
    g_allow_tf32.store(v);
  }
  return v == 1;
}

thread_local std::string t_error;

const char* Fail(const std::string& what) {
  t_error = what;
  return t_error.c_str();
}

std::string StatusText(const Api& api, int status) {
  std::string s = "status " + std::to_string(status);
  if (api.status_string != nullptr) s += std::string(" (") + api.status_string(status) + ")";
  return s;
}

}  // namespace

void SetAllowTF32(bool allow) { g_allow_tf32.store(allow ? 1 : 0); }

const char* Sgemm(void* stream, bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k,
                  float alpha, const float* a, int64_t lda, const float* b, int64_t ldb,
                  float beta, float* c, int64_t ldc) {
  if (m <= 0 || n <= 0) return "";
  const Api& api = GetApi();
  if (!api.ok) return Fail(api.error);
  const int64_t kMax = 0x7fffffff;
  if (m > kMax || n > kMax || k > kMax || lda > kMax || ldb > kMax || ldc > kMax) {
    return Fail("cuBLAS sgemm: dimension above 2^31");
  }
  int device = 0;
  if (int err = cudaGetDevice(&device); err != 0) {
    return Fail("cudaGetDevice failed with error " + std::to_string(err));
  }
  // One handle per thread and device: cuBLAS handles are not to be shared
  // between threads that set different streams.
  thread_local std::unordered_map<int, Handle> handles;
  Handle& h = handles[device];
  if (h == nullptr) {
    if (int st = api.create(&h); st != 0) {
      h = nullptr;
      return Fail("cublasCreate failed: " + StatusText(api, st));
    }
  }
  if (int st = api.set_stream(h, stream); st != 0) {
    return Fail("cublasSetStream failed: " + StatusText(api, st));
  }
  if (int st = api.set_math_mode(h, AllowTF32() ? kTF32TensorOpMath : kDefaultMath); st != 0) {
    return Fail("cublasSetMathMode failed: " + StatusText(api, st));
  }
  // Row-major C = op(A) op(B) is column-major C^T = op(B)^T op(A)^T.
  const int st = api.sgemm(h, trans_b ? kOpT : kOpN, trans_a ? kOpT : kOpN, static_cast<int>(n),
                           static_cast<int>(m), static_cast<int>(k), &alpha, b,
                           static_cast<int>(ldb), a, static_cast<int>(lda), &beta, c,
                           static_cast<int>(ldc));
  if (st != 0) {
    char dims[160];
    std::snprintf(dims, sizeof(dims), " (m=%lld n=%lld k=%lld ta=%d tb=%d)",
                  static_cast<long long>(m), static_cast<long long>(n),
                  static_cast<long long>(k), trans_a, trans_b);
    return Fail("cublasSgemm failed: " + StatusText(api, st) + dims);
  }
  return "";
}

}  // namespace cublas
}  // namespace tfmtl
