// Op registrations: Tfmtl>FusedLSTM and Tfmtl>FusedLSTMGrad (fused_lstm.h).
#include "tensorflow/core/framework/common_shape_fns.h"
#include "tensorflow/core/framework/op.h"
#include "tensorflow/core/framework/shape_inference.h"

namespace tfmtl {

using ::tensorflow::Status;
using ::tensorflow::shape_inference::DimensionHandle;
using ::tensorflow::shape_inference::InferenceContext;
using ::tensorflow::shape_inference::ShapeHandle;

namespace {

// Checks the ranks and the agreeing dimensions of the forward inputs; returns
// B, T, E and H.
Status ForwardDims(InferenceContext* c, DimensionHandle* batch, DimensionHandle* time,
                   DimensionHandle* input, DimensionHandle* units) {
  ShapeHandle x, h0, c0, kernel, recurrent, bias, lengths;
  TF_RETURN_IF_ERROR(c->WithRank(c->input(0), 3, &x));
  TF_RETURN_IF_ERROR(c->WithRank(c->input(1), 2, &h0));
  TF_RETURN_IF_ERROR(c->WithRank(c->input(2), 2, &c0));
  TF_RETURN_IF_ERROR(c->WithRank(c->input(3), 2, &kernel));
  TF_RETURN_IF_ERROR(c->WithRank(c->input(4), 2, &recurrent));
  TF_RETURN_IF_ERROR(c->WithRank(c->input(5), 1, &bias));
  TF_RETURN_IF_ERROR(c->WithRank(c->input(6), 1, &lengths));
  DimensionHandle b = c->Dim(x, 0);
  TF_RETURN_IF_ERROR(c->Merge(b, c->Dim(h0, 0), &b));
  TF_RETURN_IF_ERROR(c->Merge(b, c->Dim(c0, 0), &b));
  TF_RETURN_IF_ERROR(c->Merge(b, c->Dim(lengths, 0), &b));
  DimensionHandle e = c->Dim(x, 2);
  TF_RETURN_IF_ERROR(c->Merge(e, c->Dim(kernel, 0), &e));
  DimensionHandle h = c->Dim(recurrent, 0);
  TF_RETURN_IF_ERROR(c->Merge(h, c->Dim(h0, 1), &h));
  TF_RETURN_IF_ERROR(c->Merge(h, c->Dim(c0, 1), &h));
  DimensionHandle g;
  TF_RETURN_IF_ERROR(c->Multiply(h, 4, &g));
  TF_RETURN_IF_ERROR(c->Merge(g, c->Dim(kernel, 1), &g));
  TF_RETURN_IF_ERROR(c->Merge(g, c->Dim(recurrent, 1), &g));
  TF_RETURN_IF_ERROR(c->Merge(g, c->Dim(bias, 0), &g));
  *batch = b;
  *time = c->Dim(x, 1);
  *input = e;
  *units = h;
  return Status();
}

}  // namespace

REGISTER_OP("Tfmtl>FusedLSTM")
    .Input("x: T")
    .Input("h0: T")
    .Input("c0: T")
    .Input("kernel: T")
    .Input("recurrent_kernel: T")
    .Input("bias: T")
    .Input("lengths: int32")
    .Output("hseq: T")
    .Output("h_last: T")
    .Output("c_last: T")
    .Output("workspace: T")
    .Attr("reverse: bool = false")
    .Attr("save_workspace: bool = true")
    .Attr("T: {float, double} = DT_FLOAT")
    .SetShapeFn([](InferenceContext* c) {
      DimensionHandle b, t, e, h;
      TF_RETURN_IF_ERROR(ForwardDims(c, &b, &t, &e, &h));
      c->set_output(0, c->MakeShape({b, t, h}));
      c->set_output(1, c->MakeShape({b, h}));
      c->set_output(2, c->MakeShape({b, h}));
      c->set_output(3, c->Vector(InferenceContext::kUnknownDim));
      return Status();
    })
    .Doc(R"doc(
LSTM over a whole sequence (keras.layers.LSTM's gates and weight layout).

x: [batch, time, input]. h0, c0: [batch, units]. kernel: [input, 4 * units],
recurrent_kernel: [units, 4 * units], bias: [4 * units], gates i, f, c, o.
lengths: [batch], steps 0..lengths[b]-1 are in the sequence (0 <= lengths <= time).
hseq: [batch, time, units], zero past each length. h_last, c_last: state after
the last step in the sequence. workspace: what FusedLSTMGrad needs.
reverse: run each sequence from lengths[b]-1 down to 0; hseq stays aligned
with x.
save_workspace: false for inference: workspace is then empty and not written
(the gradient recomputes the forward pass if it is asked for anyway).
)doc");

REGISTER_OP("Tfmtl>FusedLSTMGrad")
    .Input("x: T")
    .Input("h0: T")
    .Input("c0: T")
    .Input("kernel: T")
    .Input("recurrent_kernel: T")
    .Input("bias: T")
    .Input("lengths: int32")
    .Input("hseq: T")
    .Input("workspace: T")
    .Input("d_hseq: T")
    .Input("d_h_last: T")
    .Input("d_c_last: T")
    .Output("dz: T")
    .Output("dh0: T")
    .Output("dc0: T")
    .Output("d_kernel: T")
    .Output("d_recurrent_kernel: T")
    .Output("d_bias: T")
    .Attr("reverse: bool = false")
    .Attr("T: {float, double} = DT_FLOAT")
    .SetShapeFn([](InferenceContext* c) {
      DimensionHandle b, t, e, h;
      TF_RETURN_IF_ERROR(ForwardDims(c, &b, &t, &e, &h));
      c->set_output(0, c->Vector(InferenceContext::kUnknownDim));
      for (int i = 1; i < 6; ++i) c->set_output(i, c->input(i));
      return Status();
    })
    .Doc(R"doc(
Gradients of Tfmtl>FusedLSTM (backpropagation through time) but dx.
dz: the gates' pre-activation gradients of every step (a device-specific
layout) from which Tfmtl>FusedLSTMGradInput computes dx. Apart, so that
TensorFlow prunes dx where nothing needs it (an LSTM reading model inputs).
)doc");

REGISTER_OP("Tfmtl>FusedLSTMGradInput")
    .Input("dz: T")
    .Input("x: T")
    .Input("kernel: T")
    .Output("dx: T")
    .Attr("T: {float, double} = DT_FLOAT")
    .SetShapeFn([](InferenceContext* c) {
      ShapeHandle x, kernel, dz;
      TF_RETURN_IF_ERROR(c->WithRank(c->input(0), 1, &dz));
      TF_RETURN_IF_ERROR(c->WithRank(c->input(1), 3, &x));
      TF_RETURN_IF_ERROR(c->WithRank(c->input(2), 2, &kernel));
      DimensionHandle e = c->Dim(x, 2);
      TF_RETURN_IF_ERROR(c->Merge(e, c->Dim(kernel, 0), &e));
      c->set_output(0, x);
      return Status();
    })
    .Doc("dx of Tfmtl>FusedLSTM from the dz of Tfmtl>FusedLSTMGrad (x gives the shape).");

}  // namespace tfmtl
