"""The fused LSTM of tfmtl.ops: one native op per sequence, Keras weights."""

import keras

from tfmtl.layers.lstm import LSTMS
from tfmtl.ops.fused_lstm import FusedLSTM


@LSTMS.register("fused")
def make_fused_lstm(units: int, *, return_sequences: bool = True, go_backwards: bool = False,
                    return_state: bool = False, name: str | None = None) -> keras.layers.Layer:
    return FusedLSTM(
        units, return_sequences=return_sequences, go_backwards=go_backwards,
        return_state=return_state, name=name
    )
