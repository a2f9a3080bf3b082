"""LSTM implementations for the shared encoder, selected by name.

Every implementation builds a layer with the API and the weights layout of
``keras.layers.LSTM`` (``cell.kernel``, ``cell.recurrent_kernel``,
``cell.bias``; gate order i, f, c, o), so switching implementations never
changes a checkpoint. Add one by writing a module in this package:

    @LSTMS.register("mine")
    def make_lstm(units, *, return_sequences=True, go_backwards=False, name=None):
        return MyLSTM(units, return_sequences=return_sequences, ...)
"""

from tfmtl.registry import Registry

LSTMS = Registry("LSTM implementation", "tfmtl.layers.lstm")


def make_lstm(implementation: str, units: int, **kwargs):
    """Builds an LSTM layer of the named implementation.

    Args:
        implementation: registered name: "keras", "fused" or "export".
        units: hidden size.
        **kwargs: `return_sequences`, `go_backwards`, `return_state`, `name`, forwarded to the
            implementation's factory.
    """
    return LSTMS.get(implementation)(units, **kwargs)


__all__ = ["LSTMS", "make_lstm"]
