"""A lean inference-only LSTM of stock ops, installed into the exported model's LSTM layers.

Keras' LSTM on CPU runs one ``while`` loop per direction with the input
projection, masking and bookkeeping inside every step, which makes serving one
sentence cost milliseconds per layer. For export the same weights run here as
one loop per (bidirectional) layer, time-major: the input projections of every
step and both directions come from one batched matmul up front, and each step
does one batched matmul for both directions. The weights are copied once at export into the
layout this needs (both directions side by side, gate blocks reordered so the
three sigmoid gates are contiguous). The results equal Keras' (gates i, f, c,
o; a masked step keeps the state and outputs zeros in a sequence output) up to
float rounding, with stock TensorFlow ops only.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf


def supported(layer: keras.layers.Layer) -> bool:
    """True when `layer` is an LSTM (or a Bidirectional of two) this module can run.

    Subclasses of ``keras.layers.LSTM`` with its weights (tfmtl's FusedLSTM)
    qualify; layers with other activations, no bias, states in or out, or
    stateful ones keep their own call.
    """
    if isinstance(layer, keras.layers.Bidirectional):
        return (layer.merge_mode == "concat" and not layer.return_state
                and supported(layer.forward_layer) and supported(layer.backward_layer)
                and not layer.forward_layer.go_backwards and layer.backward_layer.go_backwards
                and layer.forward_layer.return_sequences == layer.backward_layer.return_sequences)
    if not isinstance(layer, keras.layers.LSTM):
        return False
    cell = layer.cell
    return (cell.activation is keras.activations.tanh
            and cell.recurrent_activation is keras.activations.sigmoid
            and cell.use_bias and not layer.return_state and not layer.stateful
            and not layer.unroll and layer.compute_dtype == "float32")


def _sigmoid_gates_first(weights: np.ndarray, units: int) -> np.ndarray:
    """Reorders Keras' gate blocks (i, f, c, o) on the last axis as (i, f, o, c)."""
    return np.concatenate([weights[..., : 2 * units], weights[..., 3 * units :],
                           weights[..., 2 * units : 3 * units]], axis=-1)


class InferenceLSTM(tf.Module):
    """The weights of one LSTM or Bidirectional LSTM layer, laid out for :meth:`__call__`.

    Args:
        layer: a built layer for which :func:`supported` is true.
    """

    def __init__(self, layer: keras.layers.Layer):
        super().__init__(name=f"{layer.name}_inference")
        directions = ([layer.forward_layer, layer.backward_layer]
                      if isinstance(layer, keras.layers.Bidirectional) else [layer])
        self.units = directions[0].units
        self.return_sequences = directions[0].return_sequences
        self.backwards = tuple(lstm.go_backwards for lstm in directions)
        # Masked steps of a sequence output: zeros, or (Keras' default outside a
        # Bidirectional) the previous step's output.
        self.zero_output = bool(directions[0].zero_output_for_mask)
        kernels, biases, recurrent = [], [], []
        for lstm in directions:
            cell = lstm.cell
            kernels.append(_sigmoid_gates_first(np.asarray(cell.kernel.numpy()), self.units))
            biases.append(_sigmoid_gates_first(np.asarray(cell.bias.numpy()), self.units)[None])
            recurrent.append(_sigmoid_gates_first(np.asarray(cell.recurrent_kernel.numpy()),
                                                  self.units))
        # Per direction: [features, 4 units], [1, 4 units], [units, 4 units].
        self.kernel = tf.Variable(np.stack(kernels), trainable=False, name="kernel")
        self.bias = tf.Variable(np.stack(biases), trainable=False, name="bias")
        self.recurrent_kernel = tf.Variable(np.stack(recurrent), trainable=False,
                                            name="recurrent_kernel")

    def __call__(self, sequences, mask=None):
        """What the layer returns for ``(sequences, mask=mask, training=False)``.

        Args:
            sequences: float32 [batch, time, features].
            mask: bool [batch, time] (True on real steps), or None.

        Returns:
            [batch, time, units * directions] for sequence outputs, else
            [batch, units * directions].
        """
        units = self.units
        count = len(self.backwards)
        x = tf.convert_to_tensor(sequences, tf.float32)
        shape = tf.shape(x)
        batch, time = shape[0], shape[1]
        if mask is None:
            mask = tf.ones(tf.stack([batch, time]), tf.bool)
        # Time-major throughout: each step reads one contiguous [directions, batch, ...] slice,
        # and a backward direction reads its input reversed in time (as go_backwards does).
        x = tf.reshape(tf.transpose(x, [1, 0, 2]), tf.stack([time * batch, shape[2]]))
        mask = tf.transpose(tf.cast(mask, tf.bool))
        projected = []
        for index, back in enumerate(self.backwards):
            # One 2-D matmul per direction: much faster on CPU than a batched one.
            xw = tf.nn.bias_add(tf.matmul(x, self.kernel[index]), self.bias[index, 0])
            xw = tf.reshape(xw, tf.stack([time, batch, 4 * units]))
            projected.append(tf.reverse(xw, [0]) if back else xw)
        # [directions, time, batch, 4 units] and [directions, time, batch, 1].
        xw = tf.stack(projected)
        steps_mask = tf.stack([tf.reverse(mask, [0]) if back else mask
                               for back in self.backwards])[..., None]
        kernel = self.recurrent_kernel
        zeros = tf.zeros(tf.stack([count, batch, units]))
        return_sequences, zero_output = self.return_sequences, self.zero_output

        def step(t, h, c, outputs):
            z = tf.gather(xw, t, axis=1) + tf.matmul(h, kernel)
            i, f, o = tf.split(tf.sigmoid(z[..., : 3 * units]), 3, axis=-1)
            c_new = f * c + i * tf.tanh(z[..., 3 * units :])
            h_new = o * tf.tanh(c_new)
            m = tf.gather(steps_mask, t, axis=1)
            h = tf.where(m, h_new, h)
            if return_sequences:
                outputs = outputs.write(t, tf.where(m, h_new, 0.0) if zero_output else h)
            return t + 1, h, tf.where(m, c_new, c), outputs

        outputs = tf.TensorArray(tf.float32, size=time if return_sequences else 0,
                                 element_shape=tf.TensorShape([count, None, units]))
        _, h, _, outputs = tf.while_loop(
            lambda t, *_: t < time, step, (tf.constant(0), zeros, zeros, outputs),
            parallel_iterations=1,
        )
        if not return_sequences:
            return tf.concat(tf.unstack(h, num=count), axis=-1) if count > 1 else h[0]
        sequence = tf.unstack(outputs.stack(), num=count, axis=1)  # Each [time, batch, units].
        results = [tf.reverse(s, [0]) if back else s
                   for s, back in zip(sequence, self.backwards, strict=True)]
        result = tf.concat(results, axis=-1) if count > 1 else results[0]
        return tf.transpose(result, [1, 0, 2])


def install(model: keras.Model) -> list[InferenceLSTM]:
    """Routes every supported LSTM layer of `model` (nested ones too) through an InferenceLSTM.

    Meant for a model instance built for export, with its weights loaded: the
    layers' ``call`` is replaced and reads a copy of the weights made now, so
    training or restoring the model afterwards would not reach the calls.

    Returns:
        The InferenceLSTMs, whose variables an export must save.
    """
    layers = list(model._flatten_layers(include_self=False, recursive=True))
    inner = set()
    for layer in layers:
        if isinstance(layer, keras.layers.Bidirectional):
            inner.update((id(layer.forward_layer), id(layer.backward_layer)))
    modules = []
    for layer in layers:
        if id(layer) in inner or not supported(layer):
            continue
        module = InferenceLSTM(layer)
        # Layers call self.call, so an instance attribute takes over from the method.
        layer.call = _inference_call(layer.name, module)
        modules.append(module)
    return modules


def replaced_variables(model: keras.Model) -> set[int]:
    """Ids of the variables of `model`'s layers that :func:`install` rerouted."""
    ids = set()
    for layer in model._flatten_layers(include_self=False, recursive=True):
        if "call" in vars(layer):
            ids.update(id(v) for v in layer.variables)
    return ids


def _inference_call(name: str, module: InferenceLSTM):
    def call(sequences, initial_state=None, mask=None, training=None):
        if initial_state is not None:
            raise ValueError(f"{name}: the exported LSTM takes no initial state")
        return module(sequences, mask)

    return call
