"""What training, evaluation and export all start from: the validated config,
the tasks, their vocabularies and data, and the model they build.

It lives below :mod:`tfmtl.training` and :mod:`tfmtl.export`, so that neither
imports the other.
"""

from tfmtl.experiment.experiment import (
    CONFIG_FILE,
    LABELS_DIR,
    VOCAB_DIR,
    Experiment,
    task_batch,
)
from tfmtl.experiment.validation import from_json, task_config, validate
from tfmtl.experiment.weights import BEST_DIR, CHECKPOINT_DIR, restore_model

__all__ = [
    "BEST_DIR",
    "CHECKPOINT_DIR",
    "CONFIG_FILE",
    "LABELS_DIR",
    "VOCAB_DIR",
    "Experiment",
    "from_json",
    "restore_model",
    "task_batch",
    "task_config",
    "validate",
]
