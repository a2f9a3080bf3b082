"""LSTM implementations for the shared encoder, selected by name.

Every implementation builds a layer with the API and the weights layout of
``keras.layers.LSTM`` (``cell.kernel``, ``cell.recurrent_kernel``,
``cell.bias``; gate order i, f, c, o), so switching implementations never
changes a checkpoint. Add one by writing a module in this package:

    @LSTMS.register("mine")
    def make_lstm(units, *, return_sequences=True, go_backwards=False, name=None):
        return MyLSTM(units, return_sequences=return_sequences, ...)

An implementation may also register the wrapper its bidirectional layers are
built with (a subclass of ``keras.layers.Bidirectional`` with its weights), for
example one that runs both directions together:

    @BIDIRECTIONAL.register("mine")
    class MyBidirectional(keras.layers.Bidirectional): ...

The others get ``keras.layers.Bidirectional``.
"""

from tfmtl.registry import Registry

LSTMS = Registry("LSTM implementation", "tfmtl.layers.lstm")
BIDIRECTIONAL = Registry("bidirectional LSTM wrapper", "tfmtl.layers.lstm")


def make_lstm(implementation: str, units: int, **kwargs):
    """Builds an LSTM layer of the named implementation.

    Args:
        implementation: registered name: "keras", "fused" or "export".
        units: hidden size.
        **kwargs: `return_sequences`, `go_backwards`, `return_state`, `name`, forwarded to the
            implementation's factory.
    """
    return LSTMS.get(implementation)(units, **kwargs)


def make_bidirectional(implementation: str, units: int, *, name: str | None = None,
                       lstm_name: str | None = None, **kwargs):
    """Builds a bidirectional layer of two LSTMs of the named implementation.

    Its wrapper is the one the implementation registered in :data:`BIDIRECTIONAL`, else
    ``keras.layers.Bidirectional``; either way the weights are those of a Keras
    ``Bidirectional`` of two LSTMs (``forward_layer``, ``backward_layer``).

    Args:
        implementation: registered name: "keras", "fused" or "export".
        units: hidden size per direction.
        name: the bidirectional layer's name.
        lstm_name: the LSTM's name (its directions are ``forward_<lstm_name>`` and
            ``backward_<lstm_name>``).
        **kwargs: `return_sequences`, `return_state`, forwarded to the LSTM's factory.
    """
    import keras

    layer = make_lstm(implementation, units, name=lstm_name, **kwargs)
    wrapper = (BIDIRECTIONAL.get(implementation) if implementation in BIDIRECTIONAL
               else keras.layers.Bidirectional)
    return wrapper(layer, name=name)


__all__ = ["BIDIRECTIONAL", "LSTMS", "make_bidirectional", "make_lstm"]
