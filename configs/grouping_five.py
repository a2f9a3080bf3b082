"""Five real tasks for the grouping benchmark (issue: Standley et al. 2020 on NLP):
CoNLL-2000 chunking and POS, UD English-EWT UPOS, WNUT-17 NER and sentence polarity.

    tfmtl-data split --config=configs/sentiment_corpora.py --out=runs/sentiment_split
    tfmtl-group --config=configs/grouping_five.py --workdir=runs/group_five \
        --budget=2,3,4,5 --method=all

Data: ``config.data_dir`` holds conll2000/ (train.txt and test.txt; its last 500
training sentences are the dev set), ud_english_ewt/ and wnut17/ (their own dev and
test files); polarity is the MR corpus of the deduplicated MR/SUBJ/SST split that
``tfmtl-data split`` writes to runs/sentiment_split of this repository (absolute paths
here: ``--config.tasks.polarity.data.train=...`` and its dev and test point elsewhere).

One small model (a 1-layer BiLSTM of 64 units over words and a character CNN) trained
for 1,000 steps of batches of 32: every network of a grouping search gets as many
steps, whatever its size (``tfmtl-group`` trains each on the ``all`` step, one batch of
each member per step). Small enough that the 31 networks of an exhaustive search train
in about an hour on two cores.
"""

import os

from tfmtl.config import base_config
from tfmtl.experiment import task_config

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
#: Where ``tfmtl-data split`` writes the deduplicated MR/SUBJ/SST split by default.
SPLIT_DIR = os.path.join(REPO, "runs", "sentiment_split")
TASKS = ("chunk", "pos", "upos", "ner", "polarity")
STEPS = 1000


def get_config():
    config = base_config()
    config.data_dir = "../shared/data"  # Holds conll2000/, ud_english_ewt/ and wnut17/.
    conll = dict(format="conll", train="conll2000/train.txt", test="conll2000/test.txt",
                 holdout=500)
    config.tasks.chunk = task_config("tagging", data=dict(conll, column="2"))
    config.tasks.pos = task_config("tagging", data=dict(conll, column="1"))
    ud = "ud_english_ewt/en_ewt-ud"
    config.tasks.upos = task_config("tagging", data=dict(
        format="conllu", column="upos", train=f"{ud}-train.conllu", dev=f"{ud}-dev.conllu",
        test=f"{ud}-test.conllu"))
    config.tasks.ner = task_config("tagging", data=dict(
        format="conll", column="1", train="wnut17/wnut17train.conll",
        dev="wnut17/emerging.dev.conll", test="wnut17/emerging.test.annotated"))
    mr = os.path.join(SPLIT_DIR, "mr")
    config.tasks.polarity = task_config("classification", pooling="max_mean", data=dict(
        format="tsv", train=os.path.join(mr, "train.tsv"), dev=os.path.join(mr, "dev.tsv"),
        test=os.path.join(mr, "test.tsv")))
    config.model.embeddings.text.lowercase = True
    config.model.embeddings.text.word_dim = 64
    config.model.embeddings.text.word_dropout = 0.05
    config.model.embeddings.text.dropout = 0.3
    config.model.embeddings.text.char.type = "cnn"
    config.model.embeddings.text.char.units = 32
    config.model.encoders.shared.layers = 1
    config.model.encoders.shared.units = 64
    config.model.encoders.shared.dropout = 0.3
    config.model.encoders.shared.lstm = "fused"  # The native op (stock TF fallback); same weights.
    config.training.batch_size = 32
    config.training.steps = STEPS
    # As tfmtl-train runs it: all tasks in one network, as tfmtl-group trains its groups.
    config.training.step = "all"
    config.training.select = "loss"
    config.training.reference_task = "chunk"
    config.training.optimizer.schedule = "cosine"
    config.training.eval_every = 250
    config.training.checkpoint_every = 250
    return config
