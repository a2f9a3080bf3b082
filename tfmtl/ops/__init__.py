"""Python face of tfmtl's native ops: loading, gradients, fallbacks, layers.

The ops live in one shared library built from ``ops/`` by setup.py and loaded
lazily; without it (or with ``TFMTL_DISABLE_NATIVE_OPS=1``) every function and
layer here falls back to stock TensorFlow with the same results.
"""

from tfmtl.ops.fused_lstm import FusedLSTM, fused_lstm
from tfmtl.ops.gradient_reversal import (
    SCHEDULES,
    GradientReversal,
    ganin_schedule,
    gradient_reversal,
)
from tfmtl.ops.loader import native_ops_available
from tfmtl.ops.stock import to_stock, to_stock_layer

__all__ = [
    "SCHEDULES",
    "FusedLSTM",
    "GradientReversal",
    "fused_lstm",
    "ganin_schedule",
    "gradient_reversal",
    "native_ops_available",
    "to_stock",
    "to_stock_layer",
]
