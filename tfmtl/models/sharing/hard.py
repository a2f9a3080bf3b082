"""Hard parameter sharing: one encoder for all tasks."""

from __future__ import annotations

from collections.abc import Sequence

import ml_collections

from tfmtl.models.shared_encoder import SharedEncoder
from tfmtl.models.sharing import SHARING


@SHARING.register("hard")
class HardSharing:
    """Every task reads one shared encoder, each at the layer its config names.

    With tasks at different layers this is low-level supervision (Søgaard and
    Goldberg 2016); with all at the top it is classic hard sharing (Caruana
    1997). A task that feeds its labels (``label_embedding``) passes its
    predicted label distribution, embedded, to the layers above its own
    (Hashimoto et al. 2017).

    Args:
        model_config: the ``config.model`` section.
    """

    def __init__(self, model_config: ml_collections.ConfigDict):
        e = model_config.encoder
        self.encoder = SharedEncoder(
            e.layers, e.units, bidirectional=e.bidirectional, dropout=e.dropout, lstm=e.lstm
        )
        self.num_layers = e.layers

    def __call__(self, embedded, mask, tasks: Sequence) -> dict:
        needed = max(task.layer(self.num_layers) for task in tasks)
        logits = {}

        def heads(layer, output):
            extras = []
            for task in tasks:
                if task.layer(self.num_layers) == layer:
                    logits[task.name] = task.build_head(output, mask)
                    labels = task.label_features(logits[task.name]) if layer < needed else None
                    if labels is not None:
                        extras.append(labels)
            return extras

        self.encoder(embedded, mask, depth=needed, between=heads)
        return {task.name: logits[task.name] for task in tasks}
