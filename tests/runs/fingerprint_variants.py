"""The variants the wide numerics fingerprint trains: the tiny config through each code path
whose numbers a run store entry depends on (sharing schemes, step kinds, the fused LSTM,
the task types and their options). See ``test_numerics_fingerprint_wide.py``."""

from tests import tiny_config
from tfmtl.experiment import task_config
from tfmtl.models.sharing import scheme_config

VARIANTS = ("hard", "all_static", "fused", "unidirectional", "label_embedding", "crf",
            "language_model", "log_frequency", "soft", "cross_stitch", "sluice",
            "shared_private")
STEPS = 6


def get_config(variant: str):
    if variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r}; use one of {', '.join(VARIANTS)}")
    config = tiny_config.get_config()
    config.training.update(steps=STEPS, eval_every=STEPS, checkpoint_every=STEPS,
                           log_every=2)
    config.tasks.label.data.seed = 4  # A corpus of its own: two domains for shared-private.
    if variant == "all_static":
        config.training.step = "all"
        config.training.weighting.type = "static"
        config.tasks.pos.loss_weight = 0.5
    elif variant == "fused":
        config.model.encoders.shared.lstm = "fused"
    elif variant == "unidirectional":
        config.model.encoders.shared.bidirectional = False
    elif variant == "label_embedding":
        config.tasks.pos.label_embedding = 8
    elif variant == "crf":
        config.tasks.chunk.output = "crf"
    elif variant == "language_model":
        config.tasks.lm = task_config("language_model", accompanies="chunk", vocab=30, hidden=8)
    elif variant == "log_frequency":
        config.tasks.freq = task_config("log_frequency", accompanies="pos")
    elif variant == "shared_private":
        config.model.sharing = "shared_private"
        config.model.schemes.shared_private = scheme_config(
            "shared_private", adversarial=0.1, orthogonality=0.01)
    elif variant != "hard":
        config.model.sharing = variant
    return config
