"""Universal POS tagging on a UD treebank (CoNLL-U).

    tfmtl-train --config=configs/ud_pos.py --workdir=runs/ud_pos \
        --config.tasks.upos.data.train=/path/en_x-ud-train.conllu \
        --config.tasks.upos.data.dev=/path/en_x-ud-dev.conllu \
        --config.tasks.upos.data.test=/path/en_x-ud-test.conllu

Defaults to UD English-EWT beside the repository; any treebank works with only
the data paths changed.

Variants (``--config=configs/ud_pos.py:VARIANT``), the same encoder and features:
    alone: UPOS alone (default);
    log_frequency: + each word's frequency class as an auxiliary tagging task at the
        top layer (Plank, Søgaard and Goldberg 2016);
    lm: + Rei's (2017) language-model objective on layer 1.
"""

from tfmtl.config import base_config
from tfmtl.experiment import task_config

VARIANTS = ("alone", "log_frequency", "lm")


def get_config(variant: str = "alone"):
    if variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r}; use one of {', '.join(VARIANTS)}")
    config = base_config()
    config.data_dir = "../shared/data/ud_english_ewt"  # Folder of the default treebank.
    config.tasks.upos = task_config("tagging", layer=-1, data=dict(
        format="conllu", column="upos", train="en_ewt-ud-train.conllu",
        dev="en_ewt-ud-dev.conllu", test="en_ewt-ud-test.conllu",
    ))
    if variant == "log_frequency":
        config.tasks.frequency = task_config("log_frequency", accompanies="upos", layer=-1)
    if variant == "lm":
        config.tasks.lm = task_config("language_model", accompanies="upos", layer=1)
    config.training.reference_task = "upos"
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
