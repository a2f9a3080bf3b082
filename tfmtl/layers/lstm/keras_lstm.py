"""The stock Keras LSTM."""

import keras

from tfmtl.layers.lstm import LSTMS


@LSTMS.register("keras")
def make_keras_lstm(units: int, *, return_sequences: bool = True, go_backwards: bool = False,
                    return_state: bool = False, name: str | None = None) -> keras.layers.Layer:
    return keras.layers.LSTM(
        units, return_sequences=return_sequences, go_backwards=go_backwards,
        return_state=return_state, name=name
    )
