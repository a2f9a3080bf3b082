"""A stack of (Bi)LSTM layers that exposes every layer's output."""

from __future__ import annotations

import keras

from tfmtl.layers.encoder_features import EncoderFeatures
from tfmtl.layers.lstm import make_bidirectional, make_lstm


class LSTMStack:
    """Builds N (Bi)LSTM layers with dropout between them.

    Calling it on a KerasTensor returns :class:`EncoderFeatures` holding every
    layer's output (after dropout), so that task heads can read the layer they
    are supervised at, or one direction of it. The layers are separate
    functional nodes, so a task model that reads layer 1 computes layer 1 only.

    Args:
        layers: number of layers.
        units: LSTM units per direction.
        bidirectional: BiLSTM (outputs 2 * units) or left-to-right LSTM.
        dropout: dropout rate on each layer's output.
        lstm: LSTM implementation name (see tfmtl.layers.lstm).
        return_state: also keep each layer's final states (h, c) per direction.
        name: prefix of the layer names (``{name}_1``, ``{name}_2``, ...).
    """

    def __init__(self, layers: int, units: int, *, bidirectional: bool = True,
                 dropout: float = 0.0, lstm: str = "keras", return_state: bool = False,
                 name: str = "encoder"):
        self.units = units
        self.bidirectional = bidirectional
        self.return_state = return_state
        self.name = name
        self.rnns = []
        self.dropouts = []
        for i in range(1, layers + 1):
            kwargs = {"return_state": True} if return_state else {}
            if bidirectional:
                rnn = make_bidirectional(lstm, units, return_sequences=True, name=f"{name}_{i}",
                                         lstm_name=f"{name}_{i}_lstm", **kwargs)
            else:
                rnn = make_lstm(lstm, units, return_sequences=True, name=f"{name}_{i}_lstm",
                                **kwargs)
            self.rnns.append(rnn)
            self.dropouts.append(keras.layers.Dropout(dropout, name=f"{name}_{i}_dropout"))

    @property
    def output_dim(self) -> int:
        return self.units * (2 if self.bidirectional else 1)

    def __call__(self, x, mask, depth: int | None = None, between=None) -> EncoderFeatures:
        """Returns the features of layers 1..depth (all layers by default).

        Args:
            x: the embedded tokens.
            mask: True on real tokens.
            depth: how many layers to build.
            between: optional ``between(layer, features) -> list`` called after each
                layer with its 1-based index and the features so far; the tensors it
                returns are concatenated to that layer's output as the next layer's input.
        """
        features = EncoderFeatures([], mask, self.units, self.bidirectional, name=self.name)
        layers = list(zip(self.rnns, self.dropouts, strict=True))[:depth]
        for i, (rnn, dropout) in enumerate(layers):
            result = rnn(x, mask=mask)
            if self.return_state:
                result, *states = result
                features.states.append(tuple(zip(states[::2], states[1::2], strict=True)))
            x = dropout(result)
            features.outputs.append(x)
            extras = between(i + 1, features) if between is not None else None
            if extras:
                x = keras.layers.Concatenate(name=f"{rnn.name}_and_labels")([x, *extras])
        return features
