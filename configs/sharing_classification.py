"""MR, SUBJ and SST (binary) on the deduplicated split: single-task and each sharing scheme.

    tfmtl-data split --config=configs/sentiment_corpora.py --out=runs/sentiment_split
    tfmtl-train --config=configs/sharing_classification.py:adversarial \
        --workdir=runs/sharing_adversarial --config.data_dir=runs/sentiment_split

The three corpora share most of their sentences, so they are read from the
split ``tfmtl-data split`` writes (every training set stripped of every dev
and test sentence of all three; bench/sharing.py writes it itself). Each is
its own corpus (domain), as the 16 product and movie review sets of Liu, Qiu
and Huang (2017) are.

Variants (``--config=configs/sharing_classification.py:VARIANT``):
    mr, subj, sst: one task alone (single-task; `steps` updates);
    hard: the three tasks on one BiLSTM;
    soft, cross_stitch, sluice: a column per task, as the schemes define;
    private: shared-private, neither adversary nor orthogonality penalty;
    adversarial: shared-private with both (Liu et al. 2017's ASP-MTL);
    adversarial_raw: the same with the orthogonality penalty on unnormalized features
        (it collapses the shared features; kept to show it).
    adversarial_norm: the same as adversarial, its discriminator reading the pooled
        features scaled to unit norm (shrinking them cannot fool it).
    adversarial_std: the same, its discriminator reading each pooled dimension
        standardized by running statistics (as the probe reads them).
    private_all, adversarial_all: private and adversarial trained with step "all" (each
        step a batch of every corpus, equal weights), so the discriminator sees the three
        corpora in every update rather than one corpus a step (which a discriminator can
        answer from its bias alone).

A multi-task variant trains 3 x `steps` steps, drawing the tasks uniformly, so
each task gets as many updates as it does alone; its best checkpoint is the
one with the best mean dev accuracy of the three.
"""

from tfmtl.config import base_config
from tfmtl.experiment import task_config
from tfmtl.models.sharing import scheme_config

TASKS = ("mr", "subj", "sst")
SCHEMES = ("hard", "soft", "cross_stitch", "sluice", "private", "adversarial",
           "adversarial_raw", "adversarial_norm", "adversarial_std", "private_all",
           "adversarial_all")
VARIANTS = (*TASKS, *SCHEMES)
STEPS = 2000  # Updates per task.


def get_config(variant: str = "adversarial"):
    if variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r}; use one of {', '.join(VARIANTS)}")
    config = base_config()
    config.data_dir = "runs/sentiment_split"  # The output of tfmtl-data split.
    for task in (variant,) if variant in TASKS else TASKS:
        config.tasks[task] = task_config("classification", pooling="max_mean", data=dict(
            format="tsv", train=f"{task}/train.tsv", dev=f"{task}/dev.tsv",
            test=f"{task}/test.tsv"))
    config.model.embeddings.text.lowercase = True
    config.model.embeddings.text.word_dim = 100
    config.model.embeddings.text.word_dropout = 0.05
    config.model.embeddings.text.dropout = 0.3
    config.model.embeddings.text.char.type = "cnn"
    config.model.embeddings.text.char.units = 50
    config.model.encoders.shared.layers = 1
    config.model.encoders.shared.units = 100
    config.model.encoders.shared.dropout = 0.3
    config.model.encoders.shared.lstm = "fused"  # The native op (stock TF fallback); same weights.
    if variant.startswith(("private", "adversarial")):
        config.model.sharing = "shared_private"
        off = {"adversarial": 0.0, "orthogonality": 0.0}
        options = {"private": off, "private_all": off,
                   "adversarial_raw": {"normalize": False},
                   "adversarial_norm": {"discriminator_input": "normalized"},
                   "adversarial_std": {"discriminator_input": "standardized"}}.get(variant, {})
        config.model.schemes.shared_private = scheme_config("shared_private", **options)
    elif variant in SCHEMES:
        config.model.sharing = variant
    config.training.batch_size = 32
    config.training.steps = STEPS if variant in TASKS else STEPS * len(TASKS)
    config.training.eval_every = 250
    config.training.checkpoint_every = 500
    if variant not in TASKS:
        config.training.reference_task = "mr"
        config.training.select = "mean"
        if variant.endswith("_all"):
            # Each step a batch of every corpus: as many updates per task, a third of the
            # steps, evaluated as often per update.
            config.training.step = "all"
            config.training.steps = STEPS
            config.training.eval_every = 250 // len(TASKS)
            config.training.checkpoint_every = 500 // len(TASKS)
        else:
            config.training.sampler.type = "uniform"
    config.training.optimizer.schedule = "cosine"
    return config
