"""CoNLL-2000 chunking as the main task, with POS supervised at layer 1.

    tfmtl-train --config=configs/conll2000_pos_chunk.py --workdir=runs/conll2000 \
        --config.data_dir=/path/to/conll2000

Søgaard and Goldberg (2016): a low-level task (POS) supervised at a lower
layer than the high-level one (chunking) of a 3-layer BiLSTM. The data folder
holds train.txt and test.txt (word POS chunk); the last 500 training
sentences are the dev set. POS and chunk labels of a sentence train together
in one step (``training.joint``), so every variant has the same budget: the
same steps over the same chunking batches.

Variants (``--config=configs/conll2000_pos_chunk.py:VARIANT``):
    layer1: POS at layer 1 (default);
    top: POS at the top layer, with chunking (classic hard sharing);
    alone: chunking alone;
    labels: POS at layer 1, its predicted tag distribution fed (embedded) into
        layers 2 and 3 as in Hashimoto et al. (2017);
    lm: POS at layer 1 plus Rei's (2017) language-model objective on layer 1
        (each direction predicts its neighbour word, in the chunking batches);
    lm_crf: as lm, with a CRF output for chunking (the BiLSTM-CRF of Rei's and
        Lample et al.'s numbers).
"""

from tfmtl.config import base_config
from tfmtl.experiment import task_config

VARIANTS = ("layer1", "top", "alone", "labels", "lm", "lm_crf")


def get_config(variant: str = "layer1"):
    if variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r}; use one of {', '.join(VARIANTS)}")
    config = base_config()
    config.data_dir = "../shared/data/conll2000"  # Folder with train.txt and test.txt.
    conll = dict(format="conll", train="train.txt", test="test.txt", holdout=500)
    config.tasks.chunk = task_config("tagging", layer=-1, data=dict(column="2", **conll))
    if variant != "alone":
        pos_layer = -1 if variant == "top" else 1
        config.tasks.pos = task_config("tagging", layer=pos_layer, data=dict(column="1", **conll))
        if variant == "labels":
            config.tasks.pos.label_embedding = 32
    if variant in ("lm", "lm_crf"):
        config.tasks.lm = task_config("language_model", accompanies="chunk", layer=1)
    if variant == "lm_crf":
        config.tasks.chunk.output = "crf"
    # Words lowercased; the character CNN sees the case.
    config.model.embeddings.text.lowercase = True
    config.model.embeddings.text.word_dim = 100
    config.model.embeddings.text.word_dropout = 0.05
    config.model.embeddings.text.dropout = 0.3
    config.model.embeddings.text.char.type = "cnn"
    config.model.embeddings.text.char.dim = 32
    config.model.embeddings.text.char.units = 64
    config.model.encoders.shared.layers = 3
    config.model.encoders.shared.units = 128
    config.model.encoders.shared.dropout = 0.3
    config.model.encoders.shared.lstm = "fused"  # The native op (stock TF fallback); same weights.
    config.training.batch_size = 32
    config.training.joint = True  # POS and chunk labels of the same sentences: one step.
    config.training.reference_task = "chunk"
    config.training.steps = 8000
    config.training.optimizer.schedule = "cosine"
    config.training.eval_every = 500
    config.training.checkpoint_every = 1000
    return config
