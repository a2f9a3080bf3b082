"""Soft parameter sharing: a column per task, pulled together by an L2 penalty."""

from __future__ import annotations

import ml_collections
from keras import ops

from tfmtl.config import ConfigError
from tfmtl.layers.weight_distance import WeightDistance
from tfmtl.models.sharing import SHARING
from tfmtl.models.sharing._columns import ColumnScheme


@SHARING.register("soft")
class SoftSharing(ColumnScheme):
    """Each task has its own encoder column of the same shape; the penalty
    ``weight * sum over pairs of columns of ||W_a - W_b||^2`` over corresponding
    weights (every LSTM kernel, recurrent kernel and bias; between two columns
    of different depths, of the layers both have) keeps them close, logged as
    ``<encoder>/soft``. With ``weight`` 0 the columns are independent single-task
    encoders over shared embeddings.

    Reference:
        Duong, Cohn, Bird and Cook, "Low Resource Dependency Parsing: Cross-lingual
        Parameter Sharing in a Neural Network Parser", ACL 2015.
    """

    @classmethod
    def default_config(cls) -> ml_collections.ConfigDict:
        c = ml_collections.ConfigDict()
        c.weight = 1e-3  # lambda: weight of the squared L2 distance between columns.
        return c

    @classmethod
    def check_config(cls, options, key, config):
        if options.weight < 0:
            raise ConfigError(f"{key}.weight", f"must be >= 0, got {options.weight}")

    full_depth = False  # A task at layer 1 has a one-layer column.

    def scheme_losses(self, tasks, raw, mask):
        if len(self.columns) < 2:
            return {}
        penalty = WeightDistance([column.rnns for column in self.columns],
                                 self.options.weight, name=f"{self.name}_soft")
        return {"soft": penalty(ops.cast(mask, "float32"))}
