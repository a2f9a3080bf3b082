"""Sentence polarity (MR) on the deduplicated split, alone or with an auxiliary objective.

    tfmtl-data split --config=configs/sentiment_corpora.py --out=runs/sentiment_split
    tfmtl-data lexicon --out=runs/sentiment_split/lexicon.tsv ../shared/data/sst/train.txt
    tfmtl-train --config=configs/polarity.py --workdir=runs/polarity \
        --config.data_dir=runs/sentiment_split

MR has no split of its own and shares most sentences with SST and SUBJ:
``tfmtl-data split`` writes the deduplicated train/dev/test this config reads
(bench/objectives.py runs both steps itself).

Variants (``--config=configs/polarity.py:VARIANT``):
    alone: the polarity classifier alone (default);
    lexicon: + which classes of a sentiment lexicon (SST's training single-word
        phrases with strong labels) the sentence has a word of (Yu and Jiang 2016);
    lm: + Rei's (2017) language-model objective on layer 1.
"""

from tfmtl.config import base_config
from tfmtl.experiment import task_config

VARIANTS = ("alone", "lexicon", "lm")


def get_config(variant: str = "alone"):
    if variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r}; use one of {', '.join(VARIANTS)}")
    config = base_config()
    config.data_dir = "runs/sentiment_split"  # The output of tfmtl-data split.
    config.tasks.polarity = task_config("classification", pooling="max_mean", data=dict(
        format="tsv", train="mr/train.tsv", dev="mr/dev.tsv", test="mr/test.tsv"))
    if variant == "lexicon":
        config.tasks.lexicon = task_config("lexicon", accompanies="polarity",
                                           lexicon="lexicon.tsv")
    if variant == "lm":
        config.tasks.lm = task_config("language_model", accompanies="polarity", layer=1)
    config.training.reference_task = "polarity"
    config.model.embeddings.text.lowercase = True
    config.model.embeddings.text.word_dim = 100
    config.model.embeddings.text.word_dropout = 0.05
    config.model.embeddings.text.dropout = 0.3
    config.model.embeddings.text.char.type = "cnn"
    config.model.embeddings.text.char.units = 64
    config.model.encoders.shared.layers = 2
    config.model.encoders.shared.units = 128
    config.model.encoders.shared.lstm = "fused"  # The native op (stock TF fallback); same weights.
    config.training.batch_size = 32
    config.training.steps = 4000
    config.training.optimizer.schedule = "cosine"
    config.training.eval_every = 500
    config.training.checkpoint_every = 500
    return config
