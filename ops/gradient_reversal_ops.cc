// Op registrations: Tfmtl>GradientReversal and its gradient (gradient_reversal.h).
#include "tensorflow/core/framework/common_shape_fns.h"
#include "tensorflow/core/framework/op.h"
#include "tensorflow/core/framework/shape_inference.h"

namespace tfmtl {

using ::tensorflow::Status;
using ::tensorflow::shape_inference::InferenceContext;
using ::tensorflow::shape_inference::ShapeHandle;

namespace {
Status UnchangedWithScalarLambda(InferenceContext* c) {
  ShapeHandle unused;
  TF_RETURN_IF_ERROR(c->WithRank(c->input(1), 0, &unused));
  return ::tensorflow::shape_inference::UnchangedShape(c);
}
}  // namespace

REGISTER_OP("Tfmtl>GradientReversal")
    .Input("x: T")
    .Input("lam: T")
    .Output("y: T")
    .Attr("T: {half, bfloat16, float, double}")
    .SetShapeFn(UnchangedWithScalarLambda)
    .Doc(R"doc(
Gradient reversal: y = x; the gradient of x is -lam times the gradient of y.
lam: scalar, read at run time (so a schedule can drive it).
)doc");

REGISTER_OP("Tfmtl>GradientReversalGrad")
    .Input("grad: T")
    .Input("lam: T")
    .Output("output: T")
    .Attr("T: {half, bfloat16, float, double}")
    .SetShapeFn(UnchangedWithScalarLambda)
    .Doc("output = -lam * grad: the gradient of Tfmtl>GradientReversal.");

}  // namespace tfmtl
