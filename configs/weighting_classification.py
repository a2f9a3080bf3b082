"""MR, SUBJ and SST (binary) on their deduplicated split, every step a batch of each corpus,
combined by a loss weighting: the sentence-classification trio of the weighting benchmark.

    tfmtl-data split --config=configs/sentiment_corpora.py --out=runs/sentiment_split
    tfmtl-train --config=configs/weighting_classification.py:pcgrad \
        --workdir=runs/weighting_classification --config.data_dir=runs/sentiment_split

Variants (``--config=configs/weighting_classification.py:VARIANT``): a weighting name (the
multi-task run with its defaults), ``KIND_rep`` for a gradient weighting that takes
representation gradients (``mgda_rep``: MGDA-UB; ``imtl_rep``, ``aligned_mtl_rep``,
``gradnorm_rep``), or ``mr``, ``subj``, ``sst``: one task alone, the single-task runs of
configs/sharing_classification.py itself (the same runs: the run store trains them once).
The model and data are that config's ``hard`` variant (one shared 1-layer BiLSTM of 100
units), trained on the ``all`` step for as many steps as a task trains alone (2,000), so
every task gets as many updates as its single-task run; the best checkpoint is the one
with the best mean dev accuracy of the three.
"""

import importlib.util
import os

from tfmtl.config import base_config
from tfmtl.training.weightings import WEIGHTINGS

_spec = importlib.util.spec_from_file_location(
    "_sharing_classification", os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                            "sharing_classification.py"))
sharing = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(sharing)

TASKS = sharing.TASKS
#: The gradient weightings that take representation gradients (variant ``KIND_rep``).
REPRESENTATION = ("mgda", "imtl", "aligned_mtl", "gradnorm")


def variants() -> tuple[str, ...]:
    return (*TASKS, *WEIGHTINGS.names(), *(f"{k}_rep" for k in REPRESENTATION))


def get_config(variant: str = "equal"):
    if variant not in variants():
        raise ValueError(f"unknown variant {variant!r}; use one of {', '.join(variants())}")
    if variant in TASKS:
        return sharing.get_config(variant)
    config = sharing.get_config("hard")
    config.training.sampler = base_config().training.sampler  # The all step draws nothing.
    config.training.step = "all"
    config.training.steps = sharing.STEPS
    # As often per update as the single-task runs (and the sampled multi-task ones).
    config.training.eval_every = 250 // len(TASKS)
    config.training.checkpoint_every = 500 // len(TASKS)
    kind = variant.removesuffix("_rep")
    config.training.weighting.type = kind
    if variant.endswith("_rep"):
        config.training.weighting.gradients = "representation"
    return config
