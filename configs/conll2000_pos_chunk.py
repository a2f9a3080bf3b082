"""CoNLL-2000 chunking as the main task with POS supervised at layer 1.

    tfmtl-train --config=configs/conll2000_pos_chunk.py --workdir=runs/conll2000 \
        --config.data_dir=/path/to/conll2000

Søgaard and Goldberg (2016): a low-level task (POS) supervised at a lower
layer than the high-level one (chunking) of a 3-layer BiLSTM. The data folder
holds train.txt and test.txt (word POS chunk); the last 500 training
sentences are the dev set.
"""

from tfmtl.config import base_config, task_config


def get_config():
    config = base_config()
    config.data_dir = "../shared/data/conll2000"  # Folder with train.txt and test.txt.
    conll = dict(format="conll", train="train.txt", test="test.txt", holdout=500)
    config.tasks.chunk = task_config("tagging", layer=-1, data=dict(column="2", **conll))
    config.tasks.pos = task_config("tagging", layer=1, data=dict(column="1", **conll))
    config.model.word_dim = 100
    config.model.word_dropout = 0.05
    config.model.embedding_dropout = 0.3
    config.model.char.type = "cnn"
    config.model.char.units = 64
    config.model.encoder.layers = 3
    config.model.encoder.units = 128
    config.model.encoder.dropout = 0.3
    config.training.batch_size = 32
    config.training.steps = 12000
    config.training.eval_every = 1000
    config.training.checkpoint_every = 1000
    config.training.reference_task = "chunk"
    return config
