"""Layers that compute in float32 inside a mixed-precision model."""

from __future__ import annotations

import keras


def float32_under_mixed_policy(kwargs: dict) -> dict:
    """A layer's constructor `kwargs`, with ``dtype="float32"`` when they name no dtype and
    Keras' default dtype policy is a mixed one (``mixed_bfloat16``, ``mixed_float16``:
    16-bit computations, float32 variables).

    For the layers that must compute in float32 whatever the model's policy (a loss, the
    CRF's likelihood parameters): Keras casts their floating inputs to float32, and their
    variables, float32 under a mixed policy anyway, are read as they are. Under any other
    policy the kwargs are unchanged, so the layer is built exactly as before.
    """
    if kwargs.get("dtype") is None and keras.config.dtype_policy().name.startswith("mixed_"):
        kwargs = {**kwargs, "dtype": "float32"}
    return kwargs
