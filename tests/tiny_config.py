"""A tiny three-task config on the synthetic corpus, for fast end-to-end tests."""

from tfmtl.config import base_config
from tfmtl.experiment import task_config


def get_config(tasks=("chunk", "pos", "label")):
    """The config; `tasks` keeps only those of its tasks (chunk first: the reference task),
    for tests of one task's behaviour that need not trace three tasks' steps."""
    config = base_config()
    synthetic = dict(format="synthetic", sentences=400, seed=3)
    config.tasks.chunk = task_config("tagging", data=dict(column="chunk", **synthetic))
    config.tasks.pos = task_config("tagging", layer=1, data=dict(column="pos", **synthetic))
    config.tasks.label = task_config("classification", data=dict(**synthetic))
    config.model.embeddings.text.word_dim = 16
    config.model.embeddings.text.char.dim = 8
    config.model.embeddings.text.char.units = 8
    config.model.encoders.shared.layers = 2
    config.model.encoders.shared.units = 16
    config.training.batch_size = 16
    config.training.eval_batch_size = 64
    config.training.reference_task = "chunk"
    config.training.steps = 40
    config.training.eval_every = 20
    config.training.checkpoint_every = 10
    config.training.log_every = 10
    for name in ("chunk", "pos", "label"):
        if name not in tasks:
            del config.tasks[name]
    return config
