"""An LSTM decoder: teacher-forced over a whole target, or one step at a time."""

from __future__ import annotations

from collections.abc import Sequence

import keras
from keras import ops

from tfmtl.layers.lstm import make_lstm
from tfmtl.layers.luong_attention import LuongAttention

States = Sequence[tuple]
"""Per decoder layer, its (h, c)."""


class LSTMDecoder:
    """N LSTM layers over a target language's embedded tokens, started from given
    states, with optional Luong global attention over an encoder's outputs, and a
    softmax projection to the target vocabulary.

    Calling it on KerasTensors builds the teacher-forced graph: every target
    position at once, so the fused LSTM runs each layer in one op. :meth:`step`
    computes one position for a batch of hypotheses with the same weights (each
    layer's Keras cell, the attention and the projection), for greedy and beam
    search; the two agree position by position (tested).

    Args:
        layers: LSTM layers.
        units: LSTM units.
        vocab_size: target vocabulary size (the projection's classes).
        dropout: dropout on each layer's output in training.
        lstm: LSTM implementation name (see tfmtl.layers.lstm).
        attention: "none", "dot" or "general" (see :class:`LuongAttention`); the
            attentional state has ``units`` units.
        name: prefix of the layer names.
    """

    def __init__(self, layers: int, units: int, vocab_size: int, *, dropout: float = 0.0,
                 lstm: str = "keras", attention: str = "none", name: str = "decoder"):
        self.units = units
        self.name = name
        self.rnns = [make_lstm(lstm, units, return_sequences=True, return_state=True,
                               name=f"{name}_{i}_lstm") for i in range(1, layers + 1)]
        self.dropouts = [keras.layers.Dropout(dropout, name=f"{name}_{i}_dropout")
                         for i in range(1, layers + 1)]
        self.attention = (None if attention == "none" else
                          LuongAttention(attention, units, name=f"{name}_attention"))
        self.projection = keras.layers.Dense(vocab_size, name=f"{name}_projection")

    @property
    def layers(self) -> int:
        return len(self.rnns)

    def __call__(self, x, mask, initial_states: States, memory=None, memory_mask=None):
        """Logits [batch, time, vocab] of each next token, teacher-forced.

        Args:
            x: [batch, time, dim] the embedded target, shifted right (start token first).
            mask: [batch, time] True on real positions.
            initial_states: each layer's (h, c), [batch, units] each.
            memory, memory_mask: the encoder's outputs and their mask (attention only).
        """
        for rnn, dropout, (h, c) in zip(self.rnns, self.dropouts, initial_states, strict=True):
            x, _, _ = rnn(x, mask=mask, initial_state=[h, c])
            x = dropout(x)
        if self.attention is not None:
            x, _ = self.attention(x, memory, memory_mask=memory_mask)
        return self.projection(x)

    def step(self, x, states: States, memory=None, memory_mask=None):
        """One position for a batch of hypotheses (inference: no dropout).

        Args:
            x: [n, dim] the embedded previous tokens.
            states: each layer's (h, c), [n, units] each.
            memory, memory_mask: [n, source, d] and [n, source] (attention only).

        Returns:
            (log-probabilities [n, vocab] of the next token, the new states).
        """
        new_states = []
        for rnn, (h, c) in zip(self.rnns, states, strict=True):
            x, (h, c) = rnn.cell(x, [h, c], training=False)
            new_states.append((h, c))
        if self.attention is not None:
            x, _ = self.attention(x, memory, memory_mask=memory_mask)
        return ops.log_softmax(self.projection(x), axis=-1), new_states


class StateBridge:
    """Initial decoder states from an encoder's final states.

    Layer by layer when the depths match and each decoder layer is as wide as the
    encoder layer's directions together (a BiLSTM's forward and backward (h, c)
    concatenated); otherwise a learned bridge: ``tanh(W [all layers' final h and c])``
    for each decoder layer's h and c.

    Args:
        encoder_layers: the encoder's layers.
        encoder_width: units of an encoder layer's directions together.
        decoder_layers, decoder_units: the decoder's.
        name: prefix of the bridge's layer names.
    """

    def __init__(self, encoder_layers: int, encoder_width: int, decoder_layers: int,
                 decoder_units: int, name: str = "bridge"):
        self.direct = encoder_layers == decoder_layers and encoder_width == decoder_units
        self.name = name
        self.dense = [] if self.direct else [
            keras.layers.Dense(decoder_units, activation="tanh", name=f"{name}_{i}_{kind}")
            for i in range(1, decoder_layers + 1) for kind in "hc"]

    def __call__(self, encoder_states: Sequence) -> list[tuple]:
        """Args:
            encoder_states: per encoder layer, a tuple of its directions' (h, c).

        Returns:
            Per decoder layer, its (h, c).
        """
        joined = []
        for i, directions in enumerate(encoder_states, 1):
            h = [d[0] for d in directions]
            c = [d[1] for d in directions]
            if len(directions) > 1:
                h = keras.layers.Concatenate(name=f"{self.name}_{i}_h_joined")(h)
                c = keras.layers.Concatenate(name=f"{self.name}_{i}_c_joined")(c)
            else:
                h, c = h[0], c[0]
            joined.append((h, c))
        if self.direct:
            return joined
        flat = [t for pair in joined for t in pair]
        x = flat[0] if len(flat) == 1 else keras.layers.Concatenate(
            name=f"{self.name}_input")(flat)
        dense = iter(self.dense)
        return [(next(dense)(x), next(dense)(x)) for _ in range(len(self.dense) // 2)]
