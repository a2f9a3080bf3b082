"""Learned linear mixing of task columns: cross-stitch units and sluice alphas."""

from __future__ import annotations

import keras
import numpy as np
from keras import ops


def mixing_init(size: int, self_weight: float) -> np.ndarray:
    """A ``size`` x ``size`` mixing matrix: ``self_weight`` on the diagonal and the rest of
    each row spread evenly over the other entries (rows sum to 1)."""
    if size == 1:
        return np.ones((1, 1), np.float32)
    matrix = np.full((size, size), (1.0 - self_weight) / (size - 1), np.float32)
    np.fill_diagonal(matrix, self_weight)
    return matrix


@keras.saving.register_keras_serializable(package="tfmtl")
class ColumnMixing(keras.layers.Layer):
    """Mixes K columns' layer outputs, each split into S subspaces, by a learned matrix.

    Column k's output [batch, time, directions * units] is split per direction into
    ``subspaces`` equal parts; subspace s of column k is part s of every direction.
    Output subspace (k, s) is ``sum over (j, r) of alpha[k*S + s, j*S + r]`` times input
    subspace (j, r), so every task's input to its next layer is a learned linear
    combination of all columns' outputs. With one subspace this is a cross-stitch unit
    (Misra et al. 2016); with several, the alpha of a sluice network (Ruder et al. 2019).

    Args:
        columns: K, the number of columns (tasks).
        subspaces: S, parts each direction's units are split into.
        directions: 2 for BiLSTM outputs ([forward, backward]), 1 otherwise.
        self_weight: the initial weight of a subspace on itself (the rest of its row is
            spread evenly: near the identity, so training starts close to separate columns).

    Reference:
        Misra, Shrivastava, Gupta and Hebert, "Cross-stitch Networks for Multi-task
        Learning", CVPR 2016. Ruder, Bingel, Augenstein and Søgaard, "Latent Multi-task
        Architecture Learning", AAAI 2019.
    """

    def __init__(self, columns: int, subspaces: int = 1, directions: int = 2,
                 self_weight: float = 0.9, **kwargs):
        super().__init__(**kwargs)
        if columns < 1 or subspaces < 1 or directions not in (1, 2):
            raise ValueError(f"need columns >= 1, subspaces >= 1 and directions 1 or 2; got "
                             f"{columns}, {subspaces}, {directions}")
        self.columns = columns
        self.subspaces = subspaces
        self.directions = directions
        self.self_weight = self_weight
        self.supports_masking = True  # Each column keeps its (the same) token mask.

    def build(self, input_shape):
        dim = input_shape[0][-1]
        if len(input_shape) != self.columns:
            raise ValueError(f"{self.name}: expected {self.columns} columns, got "
                             f"{len(input_shape)}")
        if dim is None or dim % (self.directions * self.subspaces):
            raise ValueError(f"{self.name}: width {dim} does not split into {self.directions} "
                             f"direction(s) of {self.subspaces} subspaces")
        self.part = dim // (self.directions * self.subspaces)
        size = self.columns * self.subspaces
        self.alpha = self.add_weight(
            name="alpha", shape=(size, size),
            initializer=keras.initializers.Constant(mixing_init(size, self.self_weight)))

    def call(self, inputs):
        k, s, d = self.columns, self.subspaces, self.directions
        shape = ops.shape(inputs[0])
        # [K, batch, time, directions, S, part]
        x = ops.stack([ops.reshape(column, (shape[0], shape[1], d, s, self.part))
                       for column in inputs])
        alpha = ops.reshape(ops.cast(self.alpha, x.dtype), (k, s, k, s))
        mixed = ops.einsum("ksjr,jbtdru->kbtdsu", alpha, x)
        return [ops.reshape(mixed[i], shape) for i in range(k)]

    def compute_mask(self, inputs, mask=None):
        return mask

    def compute_output_shape(self, input_shape):
        return list(input_shape)

    def get_config(self):
        return {**super().get_config(), "columns": self.columns, "subspaces": self.subspaces,
                "directions": self.directions, "self_weight": self.self_weight}
