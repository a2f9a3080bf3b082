"""A stack of (Bi)LSTM layers that exposes every layer's output."""

from __future__ import annotations

import keras

from tfmtl.models.lstm import make_lstm


class SharedEncoder:
    """Builds N (Bi)LSTM layers with dropout between them.

    Calling it on a KerasTensor returns the list of every layer's output
    (after dropout), lowest first, so that task heads can read the layer
    they are supervised at. The layers are separate functional nodes, so a
    task model that reads layer 1 computes layer 1 only.

    Args:
        layers: number of layers.
        units: LSTM units per direction.
        bidirectional: BiLSTM (outputs 2 * units) or left-to-right LSTM.
        dropout: dropout rate on each layer's output.
        lstm: LSTM implementation name (see tfmtl.models.lstm).
        name: prefix of the layer names (``{name}_1``, ``{name}_2``, ...).
    """

    def __init__(self, layers: int, units: int, *, bidirectional: bool = True,
                 dropout: float = 0.0, lstm: str = "keras", name: str = "encoder"):
        self.units = units
        self.bidirectional = bidirectional
        self.rnns = []
        self.dropouts = []
        for i in range(1, layers + 1):
            rnn = make_lstm(lstm, units, return_sequences=True, name=f"{name}_{i}_lstm")
            if bidirectional:
                rnn = keras.layers.Bidirectional(rnn, name=f"{name}_{i}")
            self.rnns.append(rnn)
            self.dropouts.append(keras.layers.Dropout(dropout, name=f"{name}_{i}_dropout"))

    @property
    def output_dim(self) -> int:
        return self.units * (2 if self.bidirectional else 1)

    def __call__(self, x, mask, depth: int | None = None, between=None) -> list:
        """Returns the outputs of layers 1..depth (all layers by default).

        Args:
            x: the embedded tokens.
            mask: True on real tokens.
            depth: how many layers to build.
            between: optional ``between(layer, output) -> list`` called with each
                layer's 1-based index and output; the tensors it returns are
                concatenated to that output as the next layer's input.
        """
        outputs = []
        layers = list(zip(self.rnns, self.dropouts, strict=True))[:depth]
        for i, (rnn, dropout) in enumerate(layers):
            x = dropout(rnn(x, mask=mask))
            outputs.append(x)
            extras = between(i + 1, x) if between is not None else None
            if extras:
                x = keras.layers.Concatenate(name=f"{rnn.name}_and_labels")([x, *extras])
        return outputs
