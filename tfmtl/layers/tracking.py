"""Finding a model's layers of one kind, wherever the model keeps them."""

from __future__ import annotations

import tensorflow as tf


def tracked_layers(model, kind: type) -> list:
    """Every object of type `kind` that `model` tracks, each once, in the order TensorFlow's
    public view of tracked objects (``tf.train.TrackableView``) lists them: nested models,
    wrappers and the layers a custom layer keeps in its attributes (which Keras' ``layers``
    does not reach)."""
    found, seen = [], set()
    for obj in tf.train.TrackableView(model).descendants():
        if isinstance(obj, kind) and id(obj) not in seen:
            seen.add(id(obj))
            found.append(obj)
    return found
