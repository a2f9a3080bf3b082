"""CoNLL-2000 chunking with UD English EWT UPOS (another corpus): each sharing scheme.

    tfmtl-train --config=configs/sharing_tagging.py:sluice --workdir=runs/sharing_sluice \
        --config.data_dir=../shared/data

The data folder holds conll2000/ (train.txt, test.txt; the last 500 training
sentences are the dev set) and ud_english_ewt/ (the treebank's train, dev and
test files). Chunking is the main task: the best checkpoint is the one with
the best chunking dev F1, and its test F1 is the score.

Variants (``--config=configs/sharing_tagging.py:VARIANT``):
    alone: chunking alone (`steps` updates);
    hard, soft, cross_stitch, sluice: both tasks, as the schemes define;
    private: shared-private, neither adversary nor orthogonality penalty;
    adversarial: shared-private with both;
    adversarial_raw: the same with the orthogonality penalty on unnormalized features.
    adversarial_norm: the same as adversarial, its discriminator reading the pooled
        features scaled to unit norm (shrinking them cannot fool it).
    adversarial_std: the same, its discriminator reading each pooled dimension
        standardized by running statistics (as the probe reads them).

A two-task variant trains 2 x `steps` steps, drawing the tasks uniformly, so
chunking gets as many updates as it does alone. Both tasks read the top layer
(sluice's betas then mix both layers for each).
"""

from tfmtl.config import base_config
from tfmtl.experiment import task_config
from tfmtl.models.sharing import scheme_config

SCHEMES = ("hard", "soft", "cross_stitch", "sluice", "private", "adversarial",
           "adversarial_raw", "adversarial_norm", "adversarial_std")
VARIANTS = ("alone", *SCHEMES)
STEPS = 4000  # Updates of the chunking task.


def get_config(variant: str = "sluice"):
    if variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r}; use one of {', '.join(VARIANTS)}")
    config = base_config()
    config.data_dir = "../shared/data"  # Holds conll2000/ and ud_english_ewt/.
    config.tasks.chunk = task_config("tagging", data=dict(
        format="conll", column="2", train="conll2000/train.txt", test="conll2000/test.txt",
        holdout=500))
    if variant != "alone":
        ud = "ud_english_ewt/en_ewt-ud"
        config.tasks.upos = task_config("tagging", data=dict(
            format="conllu", column="upos", train=f"{ud}-train.conllu",
            dev=f"{ud}-dev.conllu", test=f"{ud}-test.conllu"))
        config.training.sampler.type = "uniform"
    config.model.embeddings.text.lowercase = True
    config.model.embeddings.text.word_dim = 100
    config.model.embeddings.text.word_dropout = 0.05
    config.model.embeddings.text.dropout = 0.3
    config.model.embeddings.text.char.type = "cnn"
    config.model.embeddings.text.char.units = 50
    config.model.encoders.shared.layers = 2
    config.model.encoders.shared.units = 100
    config.model.encoders.shared.dropout = 0.3
    config.model.encoders.shared.lstm = "fused"  # The native op (stock TF fallback); same weights.
    if variant.startswith(("private", "adversarial")):
        config.model.sharing = "shared_private"
        options = {"private": {"adversarial": 0.0, "orthogonality": 0.0},
                   "adversarial_raw": {"normalize": False},
                   "adversarial_norm": {"discriminator_input": "normalized"},
                   "adversarial_std": {"discriminator_input": "standardized"}}.get(variant, {})
        config.model.schemes.shared_private = scheme_config("shared_private", **options)
    elif variant in SCHEMES:
        config.model.sharing = variant
    config.training.batch_size = 32
    config.training.steps = STEPS if variant == "alone" else 2 * STEPS
    config.training.reference_task = "chunk"
    config.training.optimizer.schedule = "cosine"
    config.training.eval_every = 500
    config.training.checkpoint_every = 1000
    return config
