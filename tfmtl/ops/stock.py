"""Rebuilds a model with stock Keras layers only, for export.

A SavedModel must hold only ops that stock TensorFlow Serving knows. FusedLSTM
keeps keras.layers.LSTM's weights, and GradientReversal is the identity at
inference, so swapping them for `keras.layers.LSTM` and `keras.layers.Identity`
gives the same function with the same weights.
"""

from __future__ import annotations

import keras

from tfmtl.ops.fused_lstm import FusedLSTM
from tfmtl.ops.gradient_reversal import GradientReversal


def to_stock_layer(layer: keras.layers.Layer) -> keras.layers.Layer:
    """Returns a fresh, unbuilt stock equivalent of `layer` (or a clone of it)."""
    if isinstance(layer, FusedLSTM):
        return keras.layers.LSTM.from_config(layer.get_config())
    if isinstance(layer, GradientReversal):
        return keras.layers.Identity(name=layer.name)
    if isinstance(layer, keras.layers.Bidirectional):
        config = layer.get_config()
        forward = to_stock_layer(layer.forward_layer)
        backward = to_stock_layer(layer.backward_layer)
        return keras.layers.Bidirectional(
            forward, backward_layer=backward, merge_mode=config["merge_mode"],
            weights=None, name=layer.name,
        )
    return layer.__class__.from_config(layer.get_config())


def to_stock(model: keras.Model) -> keras.Model:
    """Clones a functional or sequential model with stock layers and copies its weights.

    GradientReversal's `progress` variable has no place in the stock model (an
    identity); every other weight is copied layer by layer, matched by name.
    """
    stock = keras.models.clone_model(model, clone_function=to_stock_layer)
    sources = {layer.name: layer for layer in model.layers}
    for layer in stock.layers:
        source = sources[layer.name]
        if isinstance(source, GradientReversal):
            continue
        layer.set_weights(source.get_weights())
    return stock
