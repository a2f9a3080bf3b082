"""The grouping benchmark's knob check: POS, chunks and NER of the synthetic corpus,
with the NER column related to the chunks or not (``data.ner``, tfmtl/data/synthetic.py).

    tfmtl-group --config=configs/grouping_synthetic.py:chunks --workdir=runs/group_chunks \
        --budget=2,3 --method=exhaustive
    tfmtl-group --config=configs/grouping_synthetic.py:lexical --workdir=runs/group_lexical \
        --budget=2,3 --method=exhaustive

Variants: ``chunks`` (entities are whole NP chunks of names: NER shares the chunk and
POS structure) and ``lexical`` (the same sentences, each word form an entity or not by a
fixed hash of the form: NER shares nothing with them). A small model (a 1-layer BiLSTM
of 64 units) trained 3,000 steps of batches of 32 from 1,600 training sentences: near
convergence, where sharing is decided by what the tasks have in common (at a few hundred
steps every multi-task network is behind its single-task ones, related or not: each task
then gets a share of the shared layers' Adam-normalised updates).
"""

from tfmtl.config import base_config
from tfmtl.data import NER_MODES
from tfmtl.experiment import task_config

TASKS = ("pos", "chunk", "ner")
STEPS = 3000


def get_config(variant: str = "chunks"):
    if variant not in NER_MODES:
        raise ValueError(f"unknown variant {variant!r}; use one of {', '.join(NER_MODES)}")
    config = base_config()
    data = dict(format="synthetic", sentences=2000, seed=7, ner=variant)
    for task in TASKS:
        config.tasks[task] = task_config("tagging", data=dict(data, column=task))
    config.model.embeddings.text.word_dim = 32
    config.model.embeddings.text.char.type = "cnn"
    config.model.embeddings.text.char.units = 16
    config.model.embeddings.text.dropout = 0.2
    config.model.encoders.shared.layers = 1
    config.model.encoders.shared.units = 64
    config.model.encoders.shared.lstm = "fused"
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
