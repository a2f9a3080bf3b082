"""Gradients of the native ops, registered once when the library loads."""

import tensorflow as tf

_registered = False


def register(library) -> None:
    global _registered
    if _registered:
        return
    _registered = True

    @tf.RegisterGradient("Tfmtl>GradientReversal")
    def _gradient_reversal_grad(op, grad):
        return [library.tfmtl_gradient_reversal_grad(grad, op.inputs[1]), None]

    @tf.RegisterGradient("Tfmtl>GradientReversalGrad")
    def _gradient_reversal_grad_grad(op, grad):
        return [library.tfmtl_gradient_reversal_grad(grad, op.inputs[1]), None]

    @tf.RegisterGradient("Tfmtl>FusedLSTM")
    def _fused_lstm_grad(op, d_hseq, d_h_last, d_c_last, _d_workspace):
        hseq, h_last, c_last, workspace = op.outputs
        if not op.get_attr("save_workspace"):
            # Run for inference, yet differentiated: recompute with a workspace.
            _, _, _, workspace = library.tfmtl_fused_lstm(
                *op.inputs, reverse=op.get_attr("reverse"), save_workspace=True)
        d_hseq = tf.zeros_like(hseq) if d_hseq is None else d_hseq
        d_h_last = tf.zeros_like(h_last) if d_h_last is None else d_h_last
        d_c_last = tf.zeros_like(c_last) if d_c_last is None else d_c_last
        x, kernel = op.inputs[0], op.inputs[3]
        dz, dh0, dc0, d_kernel, d_recurrent, d_bias = library.tfmtl_fused_lstm_grad(
            *op.inputs, hseq, workspace, d_hseq, d_h_last, d_c_last,
            reverse=op.get_attr("reverse"),
        )
        # A separate op, so that TensorFlow prunes it where nothing needs dx.
        dx = library.tfmtl_fused_lstm_grad_input(dz, x, kernel)
        return [dx, dh0, dc0, d_kernel, d_recurrent, d_bias, None]
