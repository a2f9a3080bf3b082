"""Hard parameter sharing: one encoder for all tasks."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from tfmtl.models.sharing import SHARING, HeadBuilder, Shared, SharingScheme


@SHARING.register("hard")
class HardSharing(SharingScheme):
    """Every task reads one shared encoder, each at the layer its config names.

    With tasks at different layers this is low-level supervision (Søgaard and
    Goldberg 2016); with all at the top it is classic hard sharing (Caruana
    1997). A task that feeds its labels (``label_embedding``) passes its
    predicted label distribution, embedded, to the layers above its own
    (Hashimoto et al. 2017).
    """

    def __init__(self, name, encoder_config, seed=0, options=None):
        super().__init__(name, encoder_config, seed, options)
        self.num_layers = encoder_config.layers

    def __call__(self, embedded, mask, tasks: Sequence, heads: HeadBuilder) -> Shared:
        # Built here, once: the stack keeps its layers' final states only when a task reads
        # them (the same weights either way).
        self.encoder = self.make_stack(
            return_state=any(task.reads_final_states for task in tasks))
        needed = max(task.layer(self.num_layers) for task in tasks)
        outputs, read = {}, {}

        def between(layer, features):
            extras = []
            for task in tasks:
                if task.layer(self.num_layers) == layer:
                    outputs[task.name] = heads(task, features)
                    # What it read: the layers up to its own (the stack grows on above it).
                    read[task.name] = dataclasses.replace(
                        features, outputs=list(features.outputs), states=list(features.states))
                    labels = task.label_features(outputs[task.name]) if layer < needed else None
                    if labels is not None:
                        extras.append(labels)
            return extras

        self.encoder(embedded, mask, depth=needed, between=between)
        return Shared(features={task.name: read[task.name] for task in tasks},
                      outputs={task.name: outputs[task.name] for task in tasks})
