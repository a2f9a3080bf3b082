"""A very small config for the run store's end-to-end tests: chunking and a sentence
label on 200 synthetic sentences, one 8-unit LSTM layer, 12 steps.

    tfmtl-sweep --config=tests/runs/mini_config.py --seeds=0 --runs_dir=/tmp/store
"""

from tfmtl.config import base_config
from tfmtl.experiment import task_config


def get_config():
    config = base_config()
    synthetic = dict(format="synthetic", sentences=200, seed=3)
    config.tasks.chunk = task_config("tagging", data=dict(column="chunk", **synthetic))
    config.tasks.label = task_config("classification", data=dict(**synthetic))
    config.model.embeddings.text.word_dim = 8
    config.model.embeddings.text.char.type = "none"
    config.model.encoders.shared.layers = 1
    config.model.encoders.shared.units = 8
    config.training.batch_size = 16
    config.training.eval_batch_size = 64
    config.training.reference_task = "chunk"
    config.training.steps = 12
    config.training.eval_every = 6
    config.training.checkpoint_every = 4
    config.training.log_every = 4
    return config
