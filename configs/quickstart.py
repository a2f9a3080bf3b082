"""Quickstart: POS, chunking and a sentence label on the built-in synthetic corpus.

    tfmtl-train --config=configs/quickstart.py --workdir=runs/quickstart

Needs no files: the synthetic toy language is generated from the seed. POS is
supervised at layer 1, chunking and the sentence label at the top.
"""

from tfmtl.config import base_config
from tfmtl.experiment import task_config


def get_config():
    config = base_config()
    synthetic = dict(format="synthetic", sentences=4000, seed=1)
    config.tasks.chunk = task_config("tagging", layer=-1, data=dict(column="chunk", **synthetic))
    config.tasks.pos = task_config("tagging", layer=1, data=dict(column="pos", **synthetic))
    config.tasks.label = task_config(
        "classification", layer=-1, pooling="max_mean", data=dict(**synthetic)
    )
    config.model.encoders.shared.layers = 2
    config.model.encoders.shared.units = 64
    config.model.encoders.shared.lstm = "fused"  # The native op (stock TF fallback); same weights.
    config.model.embeddings.text.word_dim = 48
    config.model.embeddings.text.char.units = 48
    config.training.reference_task = "chunk"
    config.training.steps = 1500
    config.training.eval_every = 500
    config.training.checkpoint_every = 500
    config.training.log_every = 100
    return config
