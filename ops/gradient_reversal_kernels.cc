// TensorFlow kernels of Tfmtl>GradientReversal (identity: the output shares
// the input's buffer) and Tfmtl>GradientReversalGrad (-lam * grad) on CPU and,
// when built with CUDA, GPU.
#if GOOGLE_CUDA
#define EIGEN_USE_GPU
#endif

#include <string>

#include "gradient_reversal.h"
#include "tensorflow/core/framework/op_kernel.h"
#include "tensorflow/core/framework/register_types.h"
#include "tensorflow/core/framework/tensor.h"

namespace tfmtl {

using ::tensorflow::OpKernel;
using ::tensorflow::OpKernelConstruction;
using ::tensorflow::OpKernelContext;
using ::tensorflow::Tensor;
using ::tensorflow::TensorShapeUtils;

class GradientReversalOp : public OpKernel {
 public:
  explicit GradientReversalOp(OpKernelConstruction* ctx) : OpKernel(ctx) {}
  void Compute(OpKernelContext* ctx) override {
    OP_REQUIRES(ctx, TensorShapeUtils::IsScalar(ctx->input(1).shape()),
                ::tensorflow::errors::InvalidArgument("lam must be a scalar, got shape ",
                                                      ctx->input(1).shape().DebugString()));
    ctx->set_output(0, ctx->input(0));
  }
};

// Reads the scalar lam on the host: it lives in host memory on every device.
template <typename T>
float LambdaOf(const Tensor& t) {
  return static_cast<float>(t.scalar<T>()());
}

template <typename Device, typename T>
class GradientReversalGradOp : public OpKernel {
 public:
  explicit GradientReversalGradOp(OpKernelConstruction* ctx) : OpKernel(ctx) {}
  void Compute(OpKernelContext* ctx) override;
};

template <typename T>
class GradientReversalGradOp<::Eigen::ThreadPoolDevice, T> : public OpKernel {
 public:
  explicit GradientReversalGradOp(OpKernelConstruction* ctx) : OpKernel(ctx) {}
  void Compute(OpKernelContext* ctx) override {
    const Tensor& grad = ctx->input(0);
    const Tensor& lam = ctx->input(1);
    OP_REQUIRES(ctx, TensorShapeUtils::IsScalar(lam.shape()),
                ::tensorflow::errors::InvalidArgument("lam must be a scalar"));
    Tensor* out = nullptr;
    OP_REQUIRES_OK(ctx, ctx->forward_input_or_allocate_output({0}, 0, grad.shape(), &out));
    GradientReversalBackwardCpu<T>(grad.flat<T>().data(), lam.scalar<T>()(), grad.NumElements(),
                                   out->flat<T>().data());
  }
};

#define REGISTER_CPU(T)                                                                      \
  REGISTER_KERNEL_BUILDER(                                                                   \
      Name("Tfmtl>GradientReversal").Device(::tensorflow::DEVICE_CPU).TypeConstraint<T>("T"), \
      GradientReversalOp);                                                                   \
  REGISTER_KERNEL_BUILDER(Name("Tfmtl>GradientReversalGrad")                                 \
                              .Device(::tensorflow::DEVICE_CPU)                              \
                              .TypeConstraint<T>("T"),                                       \
                          GradientReversalGradOp<::Eigen::ThreadPoolDevice, T>);
REGISTER_CPU(::Eigen::half);
REGISTER_CPU(::Eigen::bfloat16);
REGISTER_CPU(float);
REGISTER_CPU(double);
#undef REGISTER_CPU

#if GOOGLE_CUDA

namespace {
const char* LaunchGrad(const float* g, float lam, int64_t n, float* o, void* s) {
  return GradientReversalBackwardGpu(g, lam, n, o, s);
}
const char* LaunchGrad(const double* g, float lam, int64_t n, double* o, void* s) {
  return GradientReversalBackwardGpu(g, static_cast<double>(lam), n, o, s);
}
const char* LaunchGrad(const ::Eigen::half* g, float lam, int64_t n, ::Eigen::half* o, void* s) {
  return GradientReversalBackwardGpuHalf(reinterpret_cast<const uint16_t*>(g), lam, n,
                                         reinterpret_cast<uint16_t*>(o), s);
}
const char* LaunchGrad(const ::Eigen::bfloat16* g, float lam, int64_t n, ::Eigen::bfloat16* o,
                       void* s) {
  return GradientReversalBackwardGpuBf16(reinterpret_cast<const uint16_t*>(g), lam, n,
                                         reinterpret_cast<uint16_t*>(o), s);
}
}  // namespace

template <typename T>
class GradientReversalGradOp<::Eigen::GpuDevice, T> : public OpKernel {
 public:
  explicit GradientReversalGradOp(OpKernelConstruction* ctx) : OpKernel(ctx) {}
  void Compute(OpKernelContext* ctx) override {
    const Tensor& grad = ctx->input(0);
    const Tensor& lam = ctx->input(1);
    OP_REQUIRES(ctx, TensorShapeUtils::IsScalar(lam.shape()),
                ::tensorflow::errors::InvalidArgument("lam must be a scalar"));
    Tensor* out = nullptr;
    OP_REQUIRES_OK(ctx, ctx->forward_input_or_allocate_output({0}, 0, grad.shape(), &out));
    if (grad.NumElements() == 0) return;
    const char* err = LaunchGrad(grad.flat<T>().data(), LambdaOf<T>(lam), grad.NumElements(),
                                 out->flat<T>().data(),
                                 static_cast<void*>(ctx->eigen_gpu_device().stream()));
    OP_REQUIRES(ctx, err[0] == '\0', ::tensorflow::errors::Internal(err));
  }
};

#define REGISTER_GPU(T)                                                                      \
  REGISTER_KERNEL_BUILDER(Name("Tfmtl>GradientReversal")                                     \
                              .Device(::tensorflow::DEVICE_GPU)                              \
                              .HostMemory("lam")                                             \
                              .TypeConstraint<T>("T"),                                       \
                          GradientReversalOp);                                               \
  REGISTER_KERNEL_BUILDER(Name("Tfmtl>GradientReversalGrad")                                 \
                              .Device(::tensorflow::DEVICE_GPU)                              \
                              .HostMemory("lam")                                             \
                              .TypeConstraint<T>("T"),                                       \
                          GradientReversalGradOp<::Eigen::GpuDevice, T>);
REGISTER_GPU(::Eigen::half);
REGISTER_GPU(::Eigen::bfloat16);
REGISTER_GPU(float);
REGISTER_GPU(double);
#undef REGISTER_GPU

#endif  // GOOGLE_CUDA

}  // namespace tfmtl
