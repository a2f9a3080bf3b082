"""Universal POS tagging on a UD treebank (CoNLL-U).

    tfmtl-train --config=configs/ud_pos.py --workdir=runs/ud_pos \
        --config.tasks.upos.data.train=/path/en_x-ud-train.conllu \
        --config.tasks.upos.data.dev=/path/en_x-ud-dev.conllu \
        --config.tasks.upos.data.test=/path/en_x-ud-test.conllu

Defaults to UD English-EWT beside the repository; any treebank works with only
the data paths changed.
"""

from tfmtl.config import base_config
from tfmtl.experiment import task_config


def get_config():
    config = base_config()
    config.data_dir = "../shared/data/ud_english_ewt"  # Folder of the default treebank.
    config.tasks.upos = task_config("tagging", layer=-1, data=dict(
        format="conllu", column="upos", train="en_ewt-ud-train.conllu",
        dev="en_ewt-ud-dev.conllu", test="en_ewt-ud-test.conllu",
    ))
    config.model.embeddings.text.word_dim = 100
    config.model.embeddings.text.word_dropout = 0.05
    config.model.embeddings.text.dropout = 0.3
    config.model.embeddings.text.char.type = "cnn"
    config.model.embeddings.text.char.units = 64
    config.model.encoders.shared.layers = 2
    config.model.encoders.shared.units = 128
    config.model.encoders.shared.lstm = "fused"  # The native op (stock TF fallback); same weights.
    config.training.steps = 8000
    config.training.eval_every = 1000
    config.training.checkpoint_every = 1000
    return config
