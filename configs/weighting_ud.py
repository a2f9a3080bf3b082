"""Four heads on one corpus, combined by a loss weighting: UD English-EWT's UPOS, XPOS,
DEPREL and FEATS (each a tag per token) over the same sentences, trained on the ``all``
step (every update sees every task's loss on the same batch).

    tfmtl-train --config=configs/weighting_ud.py:pcgrad --workdir=runs/weighting_ud \
        --config.data_dir=../shared/data/ud_english_ewt

Variants (``--config=configs/weighting_ud.py:VARIANT``): a weighting name (``equal``,
``static``, ``uncertainty``, ``dwa``, ``rlw``, ``gls``, ``famo``, ``pcgrad``, ``mgda``,
``imtl``, ``cagrad``, ``aligned_mtl``, ``nash_mtl``, ``gradnorm``: the multi-task run with
its defaults), ``KIND_rep`` for a gradient weighting that takes representation gradients
(``mgda_rep``: MGDA-UB; ``imtl_rep``, ``aligned_mtl_rep``, ``gradnorm_rep``), or
``single_TASK`` (TASK alone, the same budget and model: the Δm baselines). A budget that
fits 2 cores: 3,000 updates of a 1-layer BiLSTM of 128 units with a character CNN; the
best checkpoint on the mean of the tasks' dev accuracies.
"""

from tfmtl.config import base_config
from tfmtl.experiment import task_config
from tfmtl.training.weightings import WEIGHTINGS

TASKS = ("upos", "xpos", "deprel", "feats")
#: The gradient weightings that take representation gradients (variant ``KIND_rep``).
REPRESENTATION = ("mgda", "imtl", "aligned_mtl", "gradnorm")


def variants() -> tuple[str, ...]:
    return (*WEIGHTINGS.names(), *(f"{k}_rep" for k in REPRESENTATION),
            *(f"single_{t}" for t in TASKS))


def get_config(variant: str = "equal"):
    if variant not in variants():
        raise ValueError(f"unknown variant {variant!r}; use one of {', '.join(variants())}")
    config = base_config()
    config.data_dir = "../shared/data/ud_english_ewt"  # Folder of the treebank.
    tasks = [variant[len("single_"):]] if variant.startswith("single_") else TASKS
    for name in tasks:
        config.tasks[name] = task_config("tagging", data=dict(
            format="conllu", column=name, train="en_ewt-ud-train.conllu",
            dev="en_ewt-ud-dev.conllu", test="en_ewt-ud-test.conllu"))
    config.training.reference_task = tasks[0]
    if len(tasks) > 1:
        config.training.step = "all"
        config.training.weighting.type = variant.removesuffix("_rep")
        if variant.endswith("_rep"):
            config.training.weighting.gradients = "representation"
        config.training.select = "mean"
    config.model.embeddings.text.word_dim = 100
    config.model.embeddings.text.dropout = 0.3
    config.model.embeddings.text.char.type = "cnn"
    config.model.embeddings.text.char.units = 64
    config.model.encoders.shared.layers = 1
    config.model.encoders.shared.units = 128
    config.model.encoders.shared.lstm = "fused"  # The native op (stock TF fallback).
    config.training.batch_size = 32
    config.training.steps = 3000
    config.training.optimizer.schedule = "cosine"
    config.training.eval_every = 500
    config.training.checkpoint_every = 500
    return config
