"""Cross-stitch networks: task columns mixed by learned weights after every layer."""

from __future__ import annotations

import ml_collections

from tfmtl.config import ConfigError
from tfmtl.layers.column_mixing import ColumnMixing
from tfmtl.models.sharing import SHARING
from tfmtl.models.sharing._columns import ColumnScheme


def check_self_weight(options, key: str) -> None:
    if not 0.0 <= options.self_weight <= 1.0:
        raise ConfigError(f"{key}.self_weight", f"must be in [0, 1], got {options.self_weight}")


@SHARING.register("cross_stitch")
class CrossStitch(ColumnScheme):
    """A column per task; after each layer, a cross-stitch unit replaces every
    column's output by a learned linear combination of all columns' outputs (a
    K x K alpha per layer, ``self_weight`` on the diagonal at the start, the
    rest spread over the other columns), which is the next layer's input and
    what the heads at that layer read. The alphas are logged to TensorBoard
    (``sharing/<encoder>_alpha_<layer>/<row>_<column>``).

    Reference:
        Misra, Shrivastava, Gupta and Hebert, "Cross-stitch Networks for Multi-task
        Learning", CVPR 2016.
    """

    @classmethod
    def default_config(cls) -> ml_collections.ConfigDict:
        c = ml_collections.ConfigDict()
        c.self_weight = 0.9  # Initial alpha of a column on itself (rows sum to 1).
        return c

    @classmethod
    def check_config(cls, options, key, config):
        check_self_weight(options, key)

    #: Subspaces per column (sluice networks split each layer; a cross-stitch unit does not).
    subspaces = 1

    def mix(self, layer, outputs):
        stack = self.columns[0]
        unit = ColumnMixing(len(outputs), self.subspaces, 2 if stack.bidirectional else 1,
                            self.options.self_weight, name=f"{self.name}_alpha_{layer}")
        return unit(outputs)
