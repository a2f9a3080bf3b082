// pybind11 module tfmtl.ops._tfmtl_kernels_cuda: the CUDA kernels on device
// pointers (for example CuPy or PyTorch arrays through
// __cuda_array_interface__), for tests and benchmarks without TensorFlow.
// Pointers and streams are passed as integers; 0 is the default stream. It
// imports on machines without a GPU (device_count() is then 0) and registers
// no TensorFlow op.
#include <cuda_runtime.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <stdexcept>
#include <string>

#include "cublas_loader.h"
#include "fused_lstm.h"
#include "gradient_reversal.h"

namespace py = pybind11;

namespace tfmtl {
namespace {

template <typename T>
T* Ptr(uintptr_t p) {
  return reinterpret_cast<T*>(p);
}

void Raise(const char* err) {
  if (err[0] != '\0') throw std::runtime_error(err);
}

LSTMShape Shape(int64_t batch, int64_t time, int64_t input, int64_t units, bool reverse) {
  if (batch < 0 || time < 0 || input < 0 || units < 0) {
    throw std::invalid_argument("negative dimension");
  }
  LSTMShape s;
  s.batch = batch;
  s.time = time;
  s.input = input;
  s.units = units;
  s.reverse = reverse;
  return s;
}

int DeviceCount() {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    cudaGetLastError();  // clear the sticky-free error state
    return 0;
  }
  return n;
}

void Synchronize(uintptr_t stream) {
  const cudaError_t err = cudaStreamSynchronize(reinterpret_cast<cudaStream_t>(stream));
  if (err != cudaSuccess) {
    throw std::runtime_error(std::string("cudaStreamSynchronize failed: ") +
                             cudaGetErrorString(err));
  }
}

}  // namespace
}  // namespace tfmtl

PYBIND11_MODULE(_tfmtl_kernels_cuda, m) {
  using namespace tfmtl;
  m.doc() = "tfmtl native CUDA kernels on device pointers (no TensorFlow).";
  m.def("device_count", &DeviceCount, "Number of CUDA devices (0 without a GPU or driver).");
  m.def("synchronize", &Synchronize, py::arg("stream") = 0);
  m.def("set_allow_tf32", &cublas::SetAllowTF32, py::arg("allow"),
        "Lets cuBLAS use TF32 tensor cores for the float32 products.");
  m.def(
      "workspace_size",
      [](int64_t batch, int64_t time, int64_t units) {
        return FusedLSTMWorkspaceSize(Shape(batch, time, 0, units, false));
      },
      py::arg("batch"), py::arg("time"), py::arg("units"), "Workspace floats.");
  m.def(
      "scratch_size",
      [](int64_t batch, int64_t time, int64_t input, int64_t units, bool backward) {
        return FusedLSTMGpuScratchSize(Shape(batch, time, input, units, false), backward);
      },
      py::arg("batch"), py::arg("time"), py::arg("input"), py::arg("units"),
      py::arg("backward"), "Device scratch floats (256-byte aligned) for one call.");
  m.def(
      "fused_lstm_forward",
      [](int64_t batch, int64_t time, int64_t input, int64_t units, uintptr_t x, uintptr_t h0,
         uintptr_t c0, uintptr_t kernel, uintptr_t recurrent_kernel, uintptr_t bias,
         uintptr_t lengths, uintptr_t hseq, uintptr_t h_last, uintptr_t c_last,
         uintptr_t workspace, uintptr_t scratch, bool reverse, uintptr_t stream) {
        const LSTMShape s = Shape(batch, time, input, units, reverse);
        FusedLSTMForwardArgs a;
        a.x = Ptr<const float>(x);
        a.h0 = Ptr<const float>(h0);
        a.c0 = Ptr<const float>(c0);
        a.kernel = Ptr<const float>(kernel);
        a.recurrent_kernel = Ptr<const float>(recurrent_kernel);
        a.bias = Ptr<const float>(bias);
        a.lengths = Ptr<const int32_t>(lengths);
        a.hseq = Ptr<float>(hseq);
        a.h_last = Ptr<float>(h_last);
        a.c_last = Ptr<float>(c_last);
        a.workspace = Ptr<float>(workspace);
        py::gil_scoped_release release;
        Raise(FusedLSTMForwardGpu(s, a, Ptr<float>(scratch), reinterpret_cast<void*>(stream)));
      },
      py::arg("batch"), py::arg("time"), py::arg("input"), py::arg("units"), py::arg("x"),
      py::arg("h0"), py::arg("c0"), py::arg("kernel"), py::arg("recurrent_kernel"),
      py::arg("bias"), py::arg("lengths"), py::arg("hseq"), py::arg("h_last"),
      py::arg("c_last"), py::arg("workspace"), py::arg("scratch"), py::arg("reverse") = false,
      py::arg("stream") = 0,
      "Enqueues the forward pass; lengths may be 0 (all steps). Device pointers as ints.");
  m.def(
      "fused_lstm_backward",
      [](int64_t batch, int64_t time, int64_t input, int64_t units, uintptr_t x, uintptr_t h0,
         uintptr_t c0, uintptr_t kernel, uintptr_t recurrent_kernel, uintptr_t lengths,
         uintptr_t hseq, uintptr_t workspace, uintptr_t d_hseq, uintptr_t d_h_last,
         uintptr_t d_c_last, uintptr_t dx, uintptr_t dh0, uintptr_t dc0, uintptr_t d_kernel,
         uintptr_t d_recurrent_kernel, uintptr_t d_bias, uintptr_t scratch, bool reverse,
         uintptr_t stream) {
        const LSTMShape s = Shape(batch, time, input, units, reverse);
        FusedLSTMBackwardArgs a;
        a.x = Ptr<const float>(x);
        a.h0 = Ptr<const float>(h0);
        a.c0 = Ptr<const float>(c0);
        a.kernel = Ptr<const float>(kernel);
        a.recurrent_kernel = Ptr<const float>(recurrent_kernel);
        a.lengths = Ptr<const int32_t>(lengths);
        a.hseq = Ptr<const float>(hseq);
        a.workspace = Ptr<const float>(workspace);
        a.d_hseq = Ptr<const float>(d_hseq);
        a.d_h_last = Ptr<const float>(d_h_last);
        a.d_c_last = Ptr<const float>(d_c_last);
        a.dx = Ptr<float>(dx);
        a.dh0 = Ptr<float>(dh0);
        a.dc0 = Ptr<float>(dc0);
        a.d_kernel = Ptr<float>(d_kernel);
        a.d_recurrent_kernel = Ptr<float>(d_recurrent_kernel);
        a.d_bias = Ptr<float>(d_bias);
        py::gil_scoped_release release;
        Raise(FusedLSTMBackwardGpu(s, a, Ptr<float>(scratch), reinterpret_cast<void*>(stream)));
      },
      py::arg("batch"), py::arg("time"), py::arg("input"), py::arg("units"), py::arg("x"),
      py::arg("h0"), py::arg("c0"), py::arg("kernel"), py::arg("recurrent_kernel"),
      py::arg("lengths"), py::arg("hseq"), py::arg("workspace"), py::arg("d_hseq"),
      py::arg("d_h_last"), py::arg("d_c_last"), py::arg("dx"), py::arg("dh0"), py::arg("dc0"),
      py::arg("d_kernel"), py::arg("d_recurrent_kernel"), py::arg("d_bias"), py::arg("scratch"),
      py::arg("reverse") = false, py::arg("stream") = 0,
      "Enqueues the backward pass (every pointer required). Device pointers as ints.");
  m.def(
      "gradient_reversal_backward",
      [](uintptr_t grad, double lam, int64_t n, uintptr_t out, const std::string& dtype,
         uintptr_t stream) {
        void* st = reinterpret_cast<void*>(stream);
        if (dtype == "float32") {
          Raise(GradientReversalBackwardGpu(Ptr<const float>(grad), static_cast<float>(lam), n,
                                            Ptr<float>(out), st));
        } else if (dtype == "float64") {
          Raise(GradientReversalBackwardGpu(Ptr<const double>(grad), lam, n, Ptr<double>(out),
                                            st));
        } else if (dtype == "float16") {
          Raise(GradientReversalBackwardGpuHalf(Ptr<const uint16_t>(grad),
                                                static_cast<float>(lam), n,
                                                Ptr<uint16_t>(out), st));
        } else if (dtype == "bfloat16") {
          Raise(GradientReversalBackwardGpuBf16(Ptr<const uint16_t>(grad),
                                                static_cast<float>(lam), n,
                                                Ptr<uint16_t>(out), st));
        } else {
          throw std::invalid_argument("dtype must be float32, float64, float16 or bfloat16");
        }
      },
      py::arg("grad"), py::arg("lam"), py::arg("n"), py::arg("out"),
      py::arg("dtype") = "float32", py::arg("stream") = 0, "out = -lam * grad on the device.");
}
