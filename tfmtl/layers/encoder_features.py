"""What an encoder gives the heads that read it."""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass
class EncoderFeatures:
    """The outputs of an encoder's layers, as Keras tensors, for heads to pick from.

    Layers are 1-based, lowest first. A BiLSTM layer's output is the
    concatenation ``[forward, backward]``; :meth:`forward` and :meth:`backward`
    give each direction's half (Rei 2017's language-model loss reads them
    apart: the forward state at t has seen words 1..t, the backward one words
    t..T). Every tensor is after the layer's dropout.

    Attributes:
        outputs: per layer, float [batch, time, units * directions].
        mask: bool [batch, time], True on real tokens.
        units: LSTM units per direction.
        bidirectional: whether the layers are BiLSTMs.
        states: per layer, its final states ``(h, c)`` per direction (forward first),
            when the encoder was built to return them (else empty).
        name: the encoder's name.
        words: int [batch, time], the word ids the encoder read (before word dropout), for
            heads whose targets are the words themselves (language models); set by the model
            builder.
    """

    outputs: list
    mask: object
    units: int
    bidirectional: bool
    states: list = dataclasses.field(default_factory=list)
    name: str = ""
    words: object = None

    @property
    def num_layers(self) -> int:
        """The layers built so far (a head between layers sees those below it)."""
        return len(self.outputs)

    def output(self, layer: int):
        """Layer `layer`'s output (1-based; -1 = the top layer built)."""
        return self.outputs[self._index(layer)]

    def forward(self, layer: int):
        """The forward (left-to-right) half of layer `layer`'s output: [batch, time, units]."""
        output = self.output(layer)
        return output[..., : self.units] if self.bidirectional else output

    def backward(self, layer: int):
        """The backward (right-to-left) half of a BiLSTM layer's output: [batch, time, units].

        Raises:
            ValueError: the encoder is unidirectional.
        """
        if not self.bidirectional:
            raise ValueError(f"encoder {self.name!r} is unidirectional: it has no backward half")
        return self.output(layer)[..., self.units:]

    def final_states(self, layer: int) -> tuple:
        """Layer `layer`'s final ``(h, c)`` per direction (forward first).

        Raises:
            ValueError: the encoder was built without states.
        """
        if not self.states:
            raise ValueError(f"encoder {self.name!r} was built without its final states")
        return self.states[self._index(layer)]

    def _index(self, layer: int) -> int:
        if layer == -1:
            return len(self.outputs) - 1
        if not 1 <= layer <= len(self.outputs):
            raise ValueError(f"encoder {self.name!r}: no layer {layer} (it has "
                             f"{len(self.outputs)} built)")
        return layer - 1
