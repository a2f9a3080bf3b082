"""The base of the schemes that give every task a column of its own (soft sharing,
cross-stitch, sluice): columns built layer by layer, so that a scheme can mix their
outputs after each layer and choose what each head reads."""

from __future__ import annotations

from collections.abc import Sequence

import keras

from tfmtl.layers.encoder_features import EncoderFeatures
from tfmtl.models.sharing import HeadBuilder, Shared, SharingScheme


class ColumnScheme(SharingScheme):
    """One (Bi)LSTM column per task, each shaped as the encoder's config says.

    Column ``t`` (layers ``<encoder>_<t>_1``, ...) is task t's encoder; a
    task reads its own column at its ``layer``. Schemes that mix the columns
    build them all to the highest layer a task reads (low-level supervision: a
    task at layer 1 is supervised on its column's first layer, and its column's
    layers above still feed the other columns through the mixing); otherwise a
    column stops at its task's layer. A task that feeds its labels upwards
    (``label_embedding``) feeds them to every column's next layer, as with hard
    sharing, where the one column is every task's. The word and character
    embeddings stay shared.

    Subclasses override :meth:`mix` (the columns' outputs of a layer -> each
    column's next input), :meth:`head_features` (what a head reads) and
    :meth:`scheme_losses`.
    """

    def __init__(self, name, encoder_config, seed=0, options=None):
        super().__init__(name, encoder_config, seed, options)
        self.num_layers = encoder_config.layers

    def column_name(self, task) -> str:
        return f"{self.name}_{task.name}"

    def mix(self, layer: int, outputs: list) -> list:
        """Each column's input to layer ``layer + 1`` from the columns' outputs of
        ``layer`` (in task order). Default: each column its own."""
        return outputs

    def head_features(self, task, column: EncoderFeatures, layer: int) -> EncoderFeatures:
        """The features task's head reads at its ``layer``. Default: its column's."""
        return column

    def scheme_losses(self, tasks: Sequence, raw: list[list], mask) -> dict:
        """The scheme's named losses, given every column's per-layer outputs before mixing
        (``raw[c][layer - 1]``, columns in task order). Default: none."""
        return {}

    #: Whether every column is built to the highest layer a task reads (schemes that mix
    #: the columns after each layer need them all); else each column stops at its task's.
    full_depth = True

    def __call__(self, embedded, mask, tasks: Sequence, heads: HeadBuilder) -> Shared:
        needed = max(task.layer(self.num_layers) for task in tasks)
        depths = [needed if self.full_depth else task.layer(self.num_layers) for task in tasks]
        self.columns = [self.make_stack(name=self.column_name(task), layers=depth,
                                        return_state=task.reads_final_states)
                        for task, depth in zip(tasks, depths, strict=True)]
        inputs = dict.fromkeys(range(len(tasks)), embedded)
        features = [EncoderFeatures([], mask, stack.units, stack.bidirectional,
                                    name=stack.name) for stack in self.columns]
        raw: list[list] = [[] for _ in tasks]
        outputs, read = {}, {}
        for layer in range(1, needed + 1):
            built = [c for c, depth in enumerate(depths) if depth >= layer]
            produced = []
            for c in built:
                stack = self.columns[c]
                rnn, dropout = stack.rnns[layer - 1], stack.dropouts[layer - 1]
                result = rnn(inputs[c], mask=mask)
                if stack.return_state:
                    result, *states = result
                    features[c].states.append(tuple(zip(states[::2], states[1::2],
                                                        strict=True)))
                produced.append(dropout(result))
                raw[c].append(produced[-1])
            mixed = dict(zip(built, self.mix(layer, produced), strict=True))
            extras = []
            for c in built:
                task = tasks[c]
                features[c].outputs.append(mixed[c])
                if task.layer(self.num_layers) == layer:
                    read[task.name] = self.head_features(task, features[c], layer)
                    outputs[task.name] = heads(task, read[task.name])
                    labels = task.label_features(outputs[task.name]) if layer < needed else None
                    if labels is not None:
                        extras.append(labels)
            inputs = dict(mixed)
            if extras:
                for c in built:
                    inputs[c] = keras.layers.Concatenate(
                        name=f"{self.columns[c].rnns[layer - 1].name}_and_labels")(
                        [mixed[c], *extras])
        return Shared(features=read, outputs={task.name: outputs[task.name] for task in tasks},
                      losses=self.scheme_losses(tasks, raw, mask))
