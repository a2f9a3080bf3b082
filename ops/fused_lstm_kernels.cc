// TensorFlow kernels of Tfmtl>FusedLSTM and Tfmtl>FusedLSTMGrad: CPU (float32
// through the packed SIMD kernels and the intra-op thread pool, float64 through
// plain loops) and, when built with CUDA, GPU (float32).
#if GOOGLE_CUDA
#define EIGEN_USE_GPU
#endif

#include <string>

#include "fused_lstm.h"
#include "tensorflow/core/framework/op_kernel.h"
#include "tensorflow/core/framework/tensor.h"
#include "tf_parallel.h"

namespace tfmtl {

using ::tensorflow::OpKernel;
using ::tensorflow::OpKernelConstruction;
using ::tensorflow::OpKernelContext;
using ::tensorflow::Tensor;
using ::tensorflow::TensorShape;
namespace errors = ::tensorflow::errors;

// OP_REQUIRES for helpers that return false on failure.
#define TFMTL_CHECK(ctx, cond, error)                  \
  do {                                                 \
    if (!(cond)) {                                     \
      (ctx)->CtxFailure(__FILE__, __LINE__, (error));  \
      return false;                                    \
    }                                                  \
  } while (0)
#define TFMTL_CHECK_OK(ctx, expr)                            \
  do {                                                       \
    const auto _status = (expr);                             \
    if (!_status.ok()) {                                     \
      (ctx)->CtxFailureWithWarning(__FILE__, __LINE__, _status); \
      return false;                                          \
    }                                                        \
  } while (0)

namespace {

// Checks the forward inputs (0..6) and returns their shape.
bool CheckInputs(OpKernelContext* ctx, bool reverse, bool check_lengths, LSTMShape* s) {
  const Tensor& x = ctx->input(0);
  const Tensor& kernel = ctx->input(3);
  const Tensor& recurrent = ctx->input(4);
  TFMTL_CHECK(ctx, x.dims() == 3,
                    errors::InvalidArgument("x must be [batch, time, input], got ",
                                            x.shape().DebugString()));
  TFMTL_CHECK(ctx, recurrent.dims() == 2 && recurrent.dim_size(1) == 4 * recurrent.dim_size(0),
              errors::InvalidArgument("recurrent_kernel must be [units, 4 * units], got ",
                                      recurrent.shape().DebugString()));
  s->batch = x.dim_size(0);
  s->time = x.dim_size(1);
  s->input = x.dim_size(2);
  s->units = recurrent.dim_size(0);
  s->reverse = reverse;
  const int64_t B = s->batch, E = s->input, H = s->units;
  const struct {
    int index;
    TensorShape shape;
    const char* name;
  } expected[] = {{1, TensorShape({B, H}), "h0"},
                  {2, TensorShape({B, H}), "c0"},
                  {3, TensorShape({E, 4 * H}), "kernel"},
                  {5, TensorShape({4 * H}), "bias"},
                  {6, TensorShape({B}), "lengths"}};
  for (const auto& e : expected) {
    TFMTL_CHECK(ctx, ctx->input(e.index).shape() == e.shape,
                errors::InvalidArgument(e.name, " must have shape ", e.shape.DebugString(),
                                        " (x ", x.shape().DebugString(), ", kernel ",
                                        kernel.shape().DebugString(), ", recurrent_kernel ",
                                        recurrent.shape().DebugString(), "), got ",
                                        ctx->input(e.index).shape().DebugString()));
  }
  if (check_lengths) {
    const auto lengths = ctx->input(6).flat<int32_t>();
    for (int64_t b = 0; b < B; ++b) {
      TFMTL_CHECK(ctx, lengths(b) >= 0 && lengths(b) <= s->time,
                  errors::InvalidArgument("lengths[", b, "] = ", lengths(b),
                                          " is outside [0, time = ", s->time, "]"));
    }
  }
  return true;
}

#define TFMTL_REQUIRE_INPUTS(ctx, reverse, host, s) \
  do {                                              \
    if (!CheckInputs(ctx, reverse, host, s)) return; \
    if (!ctx->status().ok()) return;                \
  } while (0)

}  // namespace

template <typename Device, typename T>
class FusedLSTMOp;
template <typename Device, typename T>
class FusedLSTMGradOp;

template <typename T>
struct CpuForward {
  static void Run(OpKernelContext* ctx, const LSTMShape& s, const FusedLSTMForwardArgsT<T>& a);
};
template <>
void CpuForward<float>::Run(OpKernelContext* ctx, const LSTMShape& s,
                            const FusedLSTMForwardArgs& a) {
  OpActivity activity;
  TfParallel parallel(ctx);
  PackedGemm gemm(&parallel);
  FusedLSTMForwardCpu(s, a, &parallel, &gemm);
}
template <>
void CpuForward<double>::Run(OpKernelContext*, const LSTMShape& s,
                             const FusedLSTMForwardArgsT<double>& a) {
  FusedLSTMForwardCpu(s, a);
}

template <typename T>
struct CpuBackward {
  static void Run(OpKernelContext* ctx, const LSTMShape& s, const FusedLSTMBackwardArgsT<T>& a);
};
template <>
void CpuBackward<float>::Run(OpKernelContext* ctx, const LSTMShape& s,
                             const FusedLSTMBackwardArgs& a) {
  OpActivity activity;
  TfParallel parallel(ctx);
  PackedGemm gemm(&parallel);
  FusedLSTMBackwardCpu(s, a, &parallel, &gemm);
}
template <>
void CpuBackward<double>::Run(OpKernelContext*, const LSTMShape& s,
                              const FusedLSTMBackwardArgsT<double>& a) {
  FusedLSTMBackwardCpu(s, a);
}

// Allocates the forward outputs and fills the argument struct.
template <typename T>
bool PrepareForward(OpKernelContext* ctx, const LSTMShape& s, bool save_workspace,
                    FusedLSTMForwardArgsT<T>* a) {
  const int64_t B = s.batch, T_ = s.time, H = s.units;
  Tensor *hseq, *h_last, *c_last, *workspace;
  TFMTL_CHECK_OK(ctx, ctx->allocate_output(0, TensorShape({B, T_, H}), &hseq));
  TFMTL_CHECK_OK(ctx, ctx->allocate_output(1, TensorShape({B, H}), &h_last));
  TFMTL_CHECK_OK(ctx, ctx->allocate_output(2, TensorShape({B, H}), &c_last));
  const int64_t workspace_size = save_workspace ? FusedLSTMWorkspaceSize(s) : 0;
  TFMTL_CHECK_OK(ctx, ctx->allocate_output(3, TensorShape({workspace_size}), &workspace));
  a->x = ctx->input(0).flat<T>().data();
  a->h0 = ctx->input(1).flat<T>().data();
  a->c0 = ctx->input(2).flat<T>().data();
  a->kernel = ctx->input(3).flat<T>().data();
  a->recurrent_kernel = ctx->input(4).flat<T>().data();
  a->bias = ctx->input(5).flat<T>().data();
  a->lengths = ctx->input(6).flat<int32_t>().data();
  a->hseq = hseq->flat<T>().data();
  a->h_last = h_last->flat<T>().data();
  a->c_last = c_last->flat<T>().data();
  a->workspace = save_workspace ? workspace->flat<T>().data() : nullptr;
  return true;
}

template <typename T>
bool PrepareBackward(OpKernelContext* ctx, const LSTMShape& s, FusedLSTMBackwardArgsT<T>* a) {
  const int64_t B = s.batch, T_ = s.time, H = s.units;
  const struct {
    int index;
    TensorShape shape;
    const char* name;
  } expected[] = {{7, TensorShape({B, T_, H}), "hseq"},
                  {8, TensorShape({FusedLSTMWorkspaceSize(s)}), "workspace"},
                  {9, TensorShape({B, T_, H}), "d_hseq"},
                  {10, TensorShape({B, H}), "d_h_last"},
                  {11, TensorShape({B, H}), "d_c_last"}};
  for (const auto& e : expected) {
    TFMTL_CHECK(ctx, ctx->input(e.index).shape() == e.shape,
                      errors::InvalidArgument(e.name, " must have shape ", e.shape.DebugString(),
                                              ", got ",
                                              ctx->input(e.index).shape().DebugString()));
  }
  Tensor* out[6];
  TFMTL_CHECK_OK(ctx, ctx->allocate_output(0, TensorShape({FusedLSTMDzSize(s)}), &out[0]));
  for (int i = 1; i < 6; ++i) {
    TFMTL_CHECK_OK(ctx, ctx->allocate_output(i, ctx->input(i).shape(), &out[i]));
  }
  a->x = ctx->input(0).flat<T>().data();
  a->h0 = ctx->input(1).flat<T>().data();
  a->c0 = ctx->input(2).flat<T>().data();
  a->kernel = ctx->input(3).flat<T>().data();
  a->recurrent_kernel = ctx->input(4).flat<T>().data();
  a->lengths = ctx->input(6).flat<int32_t>().data();
  a->hseq = ctx->input(7).flat<T>().data();
  a->workspace = ctx->input(8).flat<T>().data();
  a->d_hseq = ctx->input(9).flat<T>().data();
  a->d_h_last = ctx->input(10).flat<T>().data();
  a->d_c_last = ctx->input(11).flat<T>().data();
  a->dx = nullptr;  // Tfmtl>FusedLSTMGradInput's job
  a->dz = out[0]->flat<T>().data();
  a->dh0 = out[1]->flat<T>().data();
  a->dc0 = out[2]->flat<T>().data();
  a->d_kernel = out[3]->flat<T>().data();
  a->d_recurrent_kernel = out[4]->flat<T>().data();
  a->d_bias = out[5]->flat<T>().data();
  return true;
}

template <typename T>
class FusedLSTMOp<::Eigen::ThreadPoolDevice, T> : public OpKernel {
 public:
  explicit FusedLSTMOp(OpKernelConstruction* ctx) : OpKernel(ctx) {
    OP_REQUIRES_OK(ctx, ctx->GetAttr("reverse", &reverse_));
    OP_REQUIRES_OK(ctx, ctx->GetAttr("save_workspace", &save_workspace_));
  }
  void Compute(OpKernelContext* ctx) override {
    LSTMShape s;
    TFMTL_REQUIRE_INPUTS(ctx, reverse_, true, &s);
    FusedLSTMForwardArgsT<T> a;
    if (!PrepareForward(ctx, s, save_workspace_, &a)) return;
    CpuForward<T>::Run(ctx, s, a);
  }

 private:
  bool reverse_;
  bool save_workspace_;
};

template <typename T>
class FusedLSTMGradOp<::Eigen::ThreadPoolDevice, T> : public OpKernel {
 public:
  explicit FusedLSTMGradOp(OpKernelConstruction* ctx) : OpKernel(ctx) {
    OP_REQUIRES_OK(ctx, ctx->GetAttr("reverse", &reverse_));
  }
  void Compute(OpKernelContext* ctx) override {
    LSTMShape s;
    TFMTL_REQUIRE_INPUTS(ctx, reverse_, true, &s);
    FusedLSTMBackwardArgsT<T> a;
    if (!PrepareBackward(ctx, s, &a)) return;
    CpuBackward<T>::Run(ctx, s, a);
  }

 private:
  bool reverse_;
};

// Checks dz, x and kernel of Tfmtl>FusedLSTMGradInput; returns the shape.
bool CheckGradInputs(OpKernelContext* ctx, LSTMShape* s) {
  const Tensor& dz = ctx->input(0);
  const Tensor& x = ctx->input(1);
  const Tensor& kernel = ctx->input(2);
  TFMTL_CHECK(ctx, x.dims() == 3 && kernel.dims() == 2 && kernel.dim_size(0) == x.dim_size(2) &&
                       kernel.dim_size(1) % 4 == 0,
              errors::InvalidArgument("x must be [batch, time, input] and kernel [input, 4 * "
                                      "units], got ", x.shape().DebugString(), " and ",
                                      kernel.shape().DebugString()));
  s->batch = x.dim_size(0);
  s->time = x.dim_size(1);
  s->input = x.dim_size(2);
  s->units = kernel.dim_size(1) / 4;
  TFMTL_CHECK(ctx, dz.dims() == 1 && dz.dim_size(0) == FusedLSTMDzSize(*s),
              errors::InvalidArgument("dz must have ", FusedLSTMDzSize(*s), " elements, got ",
                                      dz.shape().DebugString()));
  return true;
}

template <typename Device, typename T>
class FusedLSTMGradInputOp;

template <typename T>
class FusedLSTMGradInputOp<::Eigen::ThreadPoolDevice, T> : public OpKernel {
 public:
  explicit FusedLSTMGradInputOp(OpKernelConstruction* ctx) : OpKernel(ctx) {}
  void Compute(OpKernelContext* ctx) override {
    LSTMShape s;
    if (!CheckGradInputs(ctx, &s)) return;
    Tensor* dx = nullptr;
    OP_REQUIRES_OK(ctx, ctx->allocate_output(0, ctx->input(1).shape(), &dx));
    Run(ctx, s, ctx->input(0).flat<T>().data(), ctx->input(2).flat<T>().data(),
        dx->flat<T>().data());
  }

 private:
  static void Run(OpKernelContext* ctx, const LSTMShape& s, const float* dz, const float* kernel,
                  float* dx) {
    OpActivity activity;
    TfParallel parallel(ctx);
    PackedGemm gemm(&parallel);
    FusedLSTMBackwardInputCpu(s, dz, kernel, dx, &parallel, &gemm);
  }
  static void Run(OpKernelContext*, const LSTMShape& s, const double* dz, const double* kernel,
                  double* dx) {
    FusedLSTMBackwardInputCpu(s, dz, kernel, dx);
  }
};

#define REGISTER_CPU(T)                                                                   \
  REGISTER_KERNEL_BUILDER(Name("Tfmtl>FusedLSTMGradInput")                                 \
                              .Device(::tensorflow::DEVICE_CPU)                             \
                              .TypeConstraint<T>("T"),                                      \
                          FusedLSTMGradInputOp<::Eigen::ThreadPoolDevice, T>);              \
  REGISTER_KERNEL_BUILDER(                                                                \
      Name("Tfmtl>FusedLSTM").Device(::tensorflow::DEVICE_CPU).TypeConstraint<T>("T"),   \
      FusedLSTMOp<::Eigen::ThreadPoolDevice, T>);                                         \
  REGISTER_KERNEL_BUILDER(                                                                \
      Name("Tfmtl>FusedLSTMGrad").Device(::tensorflow::DEVICE_CPU).TypeConstraint<T>("T"), \
      FusedLSTMGradOp<::Eigen::ThreadPoolDevice, T>);
REGISTER_CPU(float);
REGISTER_CPU(double);
#undef REGISTER_CPU

#if GOOGLE_CUDA

namespace {
// Device scratch for the CUDA kernels, 256-byte aligned by TF's allocator.
bool GpuScratch(OpKernelContext* ctx, const LSTMShape& s, bool backward, Tensor* scratch) {
  const int64_t n = std::max<int64_t>(FusedLSTMGpuScratchSize(s, backward), 1);
  TFMTL_CHECK_OK(ctx, ctx->allocate_temp(::tensorflow::DT_FLOAT, TensorShape({n}), scratch));
  return true;
}
void* StreamOf(OpKernelContext* ctx) {
  return static_cast<void*>(ctx->eigen_gpu_device().stream());
}
}  // namespace

template <>
class FusedLSTMOp<::Eigen::GpuDevice, float> : public OpKernel {
 public:
  explicit FusedLSTMOp(OpKernelConstruction* ctx) : OpKernel(ctx) {
    OP_REQUIRES_OK(ctx, ctx->GetAttr("reverse", &reverse_));
    OP_REQUIRES_OK(ctx, ctx->GetAttr("save_workspace", &save_workspace_));
  }
  void Compute(OpKernelContext* ctx) override {
    LSTMShape s;
    // lengths is in device memory: the kernels clamp it to [0, time].
    TFMTL_REQUIRE_INPUTS(ctx, reverse_, false, &s);
    FusedLSTMForwardArgs a;
    if (!PrepareForward(ctx, s, save_workspace_, &a)) return;
    Tensor scratch;
    if (!GpuScratch(ctx, s, false, &scratch)) return;
    const char* err = FusedLSTMForwardGpu(s, a, scratch.flat<float>().data(), StreamOf(ctx));
    OP_REQUIRES(ctx, err[0] == '\0', errors::Internal("Tfmtl>FusedLSTM: ", err));
  }

 private:
  bool reverse_;
  bool save_workspace_;
};

template <>
class FusedLSTMGradOp<::Eigen::GpuDevice, float> : public OpKernel {
 public:
  explicit FusedLSTMGradOp(OpKernelConstruction* ctx) : OpKernel(ctx) {
    OP_REQUIRES_OK(ctx, ctx->GetAttr("reverse", &reverse_));
  }
  void Compute(OpKernelContext* ctx) override {
    LSTMShape s;
    TFMTL_REQUIRE_INPUTS(ctx, reverse_, false, &s);
    FusedLSTMBackwardArgs a;
    if (!PrepareBackward(ctx, s, &a)) return;
    Tensor scratch;
    if (!GpuScratch(ctx, s, true, &scratch)) return;
    const char* err = FusedLSTMBackwardGpu(s, a, scratch.flat<float>().data(), StreamOf(ctx));
    OP_REQUIRES(ctx, err[0] == '\0', errors::Internal("Tfmtl>FusedLSTMGrad: ", err));
  }

 private:
  bool reverse_;
};

REGISTER_KERNEL_BUILDER(
    Name("Tfmtl>FusedLSTM").Device(::tensorflow::DEVICE_GPU).TypeConstraint<float>("T"),
    FusedLSTMOp<::Eigen::GpuDevice, float>);
REGISTER_KERNEL_BUILDER(
    Name("Tfmtl>FusedLSTMGrad").Device(::tensorflow::DEVICE_GPU).TypeConstraint<float>("T"),
    FusedLSTMGradOp<::Eigen::GpuDevice, float>);

template <>
class FusedLSTMGradInputOp<::Eigen::GpuDevice, float> : public OpKernel {
 public:
  explicit FusedLSTMGradInputOp(OpKernelConstruction* ctx) : OpKernel(ctx) {}
  void Compute(OpKernelContext* ctx) override {
    LSTMShape s;
    if (!CheckGradInputs(ctx, &s)) return;
    Tensor* dx = nullptr;
    OP_REQUIRES_OK(ctx, ctx->allocate_output(0, ctx->input(1).shape(), &dx));
    const char* err = FusedLSTMBackwardInputGpu(s, ctx->input(0).flat<float>().data(),
                                                ctx->input(2).flat<float>().data(),
                                                dx->flat<float>().data(), StreamOf(ctx));
    OP_REQUIRES(ctx, err[0] == '\0', errors::Internal("Tfmtl>FusedLSTMGradInput: ", err));
  }
};

REGISTER_KERNEL_BUILDER(Name("Tfmtl>FusedLSTMGradInput")
                            .Device(::tensorflow::DEVICE_GPU)
                            .TypeConstraint<float>("T"),
                        FusedLSTMGradInputOp<::Eigen::GpuDevice, float>);

#endif  // GOOGLE_CUDA

}  // namespace tfmtl
