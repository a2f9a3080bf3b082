// pybind11 module tfmtl.ops._tfmtl_kernels: the CPU kernels on NumPy arrays,
// for tests and benchmarks without TensorFlow. It registers no TensorFlow op.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>

#include "fused_lstm.h"
#include "gradient_reversal.h"
#include "simd_kernels.h"
#include "thread_pool.h"

namespace py = pybind11;

namespace tfmtl {
namespace {

using F32 = py::array_t<float, py::array::c_style | py::array::forcecast>;
using I32 = py::array_t<int32_t, py::array::c_style | py::array::forcecast>;

ThreadPool* Pool(int threads) {
  static std::mutex mu;
  std::lock_guard<std::mutex> lock(mu);
  static std::unique_ptr<ThreadPool> pool;
  static int pool_threads = -1;
  if (!pool || pool_threads != threads) {
    pool.reset(new ThreadPool(threads));
    pool_threads = threads;
  }
  return pool.get();
}

void Expect(bool ok, const std::string& what) {
  if (!ok) throw std::invalid_argument(what);
}

void CheckShape(const py::array& a, std::initializer_list<int64_t> dims, const char* name) {
  std::string want = "[";
  bool ok = a.ndim() == static_cast<py::ssize_t>(dims.size());
  int i = 0;
  for (int64_t d : dims) {
    want += (i ? ", " : "") + std::to_string(d);
    if (ok && a.shape(i) != d) ok = false;
    ++i;
  }
  want += "]";
  Expect(ok, std::string(name) + " must have shape " + want);
}

LSTMShape ShapeOf(const F32& x, const F32& recurrent_kernel, bool reverse) {
  Expect(x.ndim() == 3, "x must be [batch, time, input]");
  Expect(recurrent_kernel.ndim() == 2, "recurrent_kernel must be [units, 4 * units]");
  LSTMShape s;
  s.batch = x.shape(0);
  s.time = x.shape(1);
  s.input = x.shape(2);
  s.units = recurrent_kernel.shape(0);
  s.reverse = reverse;
  return s;
}

py::tuple Forward(F32 x, F32 h0, F32 c0, F32 kernel, F32 recurrent_kernel, F32 bias,
                  py::object lengths, bool reverse, int threads) {
  const LSTMShape s = ShapeOf(x, recurrent_kernel, reverse);
  const int64_t B = s.batch, T = s.time, E = s.input, H = s.units;
  CheckShape(h0, {B, H}, "h0");
  CheckShape(c0, {B, H}, "c0");
  CheckShape(kernel, {E, 4 * H}, "kernel");
  CheckShape(recurrent_kernel, {H, 4 * H}, "recurrent_kernel");
  CheckShape(bias, {4 * H}, "bias");
  I32 len;
  if (!lengths.is_none()) {
    len = lengths.cast<I32>();
    CheckShape(len, {B}, "lengths");
  }
  F32 hseq({B, T, H}), h_last({B, H}), c_last({B, H});
  F32 workspace({FusedLSTMWorkspaceSize(s)});
  FusedLSTMForwardArgs a;
  a.x = x.data();
  a.h0 = h0.data();
  a.c0 = c0.data();
  a.kernel = kernel.data();
  a.recurrent_kernel = recurrent_kernel.data();
  a.bias = bias.data();
  a.lengths = lengths.is_none() ? nullptr : len.data();
  a.hseq = hseq.mutable_data();
  a.h_last = h_last.mutable_data();
  a.c_last = c_last.mutable_data();
  a.workspace = workspace.mutable_data();
  {
    py::gil_scoped_release release;
    ThreadPool* pool = Pool(threads);
    PackedGemm gemm(pool);
    FusedLSTMForwardCpu(s, a, pool, &gemm);
  }
  return py::make_tuple(hseq, h_last, c_last, workspace);
}

py::tuple Backward(F32 x, F32 h0, F32 c0, F32 kernel, F32 recurrent_kernel, py::object lengths,
                   F32 hseq, F32 workspace, F32 d_hseq, F32 d_h_last, F32 d_c_last, bool reverse,
                   int threads) {
  const LSTMShape s = ShapeOf(x, recurrent_kernel, reverse);
  const int64_t B = s.batch, T = s.time, E = s.input, H = s.units;
  CheckShape(h0, {B, H}, "h0");
  CheckShape(c0, {B, H}, "c0");
  CheckShape(kernel, {E, 4 * H}, "kernel");
  CheckShape(hseq, {B, T, H}, "hseq");
  CheckShape(workspace, {FusedLSTMWorkspaceSize(s)}, "workspace");
  CheckShape(d_hseq, {B, T, H}, "d_hseq");
  CheckShape(d_h_last, {B, H}, "d_h_last");
  CheckShape(d_c_last, {B, H}, "d_c_last");
  I32 len;
  if (!lengths.is_none()) {
    len = lengths.cast<I32>();
    CheckShape(len, {B}, "lengths");
  }
  F32 dx({B, T, E}), dh0({B, H}), dc0({B, H}), dk({E, 4 * H}), dr({H, 4 * H}), db({4 * H});
  FusedLSTMBackwardArgs a;
  a.x = x.data();
  a.h0 = h0.data();
  a.c0 = c0.data();
  a.kernel = kernel.data();
  a.recurrent_kernel = recurrent_kernel.data();
  a.lengths = lengths.is_none() ? nullptr : len.data();
  a.hseq = hseq.data();
  a.workspace = workspace.data();
  a.d_hseq = d_hseq.data();
  a.d_h_last = d_h_last.data();
  a.d_c_last = d_c_last.data();
  a.dx = dx.mutable_data();
  a.dh0 = dh0.mutable_data();
  a.dc0 = dc0.mutable_data();
  a.d_kernel = dk.mutable_data();
  a.d_recurrent_kernel = dr.mutable_data();
  a.d_bias = db.mutable_data();
  {
    py::gil_scoped_release release;
    ThreadPool* pool = Pool(threads);
    PackedGemm gemm(pool);
    FusedLSTMBackwardCpu(s, a, pool, &gemm);
  }
  return py::make_tuple(dx, dh0, dc0, dk, dr, db);
}

F32 Sgemm(F32 a, F32 b, bool trans_a, bool trans_b, int threads) {
  Expect(a.ndim() == 2 && b.ndim() == 2, "a and b must be matrices");
  const int64_t m = trans_a ? a.shape(1) : a.shape(0);
  const int64_t k = trans_a ? a.shape(0) : a.shape(1);
  const int64_t kb = trans_b ? b.shape(1) : b.shape(0);
  const int64_t n = trans_b ? b.shape(0) : b.shape(1);
  Expect(k == kb, "inner dimensions differ");
  F32 c({m, n});
  {
    py::gil_scoped_release release;
    ThreadPool* pool = Pool(threads);
    PackedGemm gemm(pool);
    gemm.Sgemm(trans_a, trans_b, m, n, k, 1.0f, a.data(), a.shape(1), b.data(), b.shape(1), 0.0f,
               c.mutable_data(), n);
  }
  return c;
}

F32 GradientReversalBackward(F32 grad, float lam) {
  F32 out(std::vector<py::ssize_t>(grad.shape(), grad.shape() + grad.ndim()));
  GradientReversalBackwardCpu<float>(grad.data(), lam, grad.size(), out.mutable_data());
  return out;
}

F32 Elementwise(F32 x, const std::string& fn) {
  F32 out(std::vector<py::ssize_t>(x.shape(), x.shape() + x.ndim()));
  const simd::Kernels& k = simd::Active();
  (fn == "tanh" ? k.tanh : k.sigmoid)(x.data(), x.size(), out.mutable_data());
  return out;
}

}  // namespace
}  // namespace tfmtl

PYBIND11_MODULE(_tfmtl_kernels, m) {
  using namespace tfmtl;
  m.doc() = "tfmtl native CPU kernels on NumPy arrays (no TensorFlow).";
  m.def("fused_lstm_forward", &Forward, py::arg("x"), py::arg("h0"), py::arg("c0"),
        py::arg("kernel"), py::arg("recurrent_kernel"), py::arg("bias"),
        py::arg("lengths") = py::none(), py::arg("reverse") = false, py::arg("threads") = 0,
        "Returns (hseq, h_last, c_last, workspace).");
  m.def("fused_lstm_backward", &Backward, py::arg("x"), py::arg("h0"), py::arg("c0"),
        py::arg("kernel"), py::arg("recurrent_kernel"), py::arg("lengths"), py::arg("hseq"),
        py::arg("workspace"), py::arg("d_hseq"), py::arg("d_h_last"), py::arg("d_c_last"),
        py::arg("reverse") = false, py::arg("threads") = 0,
        "Returns (dx, dh0, dc0, d_kernel, d_recurrent_kernel, d_bias).");
  m.def("workspace_size", [](int64_t batch, int64_t time, int64_t units) {
    LSTMShape s;
    s.batch = batch;
    s.time = time;
    s.units = units;
    return FusedLSTMWorkspaceSize(s);
  });
  m.def("sgemm", &Sgemm, py::arg("a"), py::arg("b"), py::arg("trans_a") = false,
        py::arg("trans_b") = false, py::arg("threads") = 0);
  m.def("gradient_reversal_backward", &GradientReversalBackward, py::arg("grad"),
        py::arg("lam"));
  m.def("elementwise", &Elementwise, py::arg("x"), py::arg("fn"));
  m.def("cpu_isa", [] { return std::string(simd::Active().name); });
  m.def("set_cpu_isa", [](const std::string& name) {
    if (!simd::SetActive(name.c_str())) throw std::invalid_argument("cannot use ISA " + name);
  });
}
