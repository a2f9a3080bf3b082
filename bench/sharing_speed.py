r"""Time per training step of each sharing scheme, relative to hard sharing, in one process.

    python bench/sharing_speed.py [--config=configs/sharing_classification.py]
        [--data_dir=runs/sentiment_split] [--steps=50] [--rounds=5]

Builds each variant of the config (``hard`` first, then the other schemes),
and times its training steps exactly as tfmtl-train runs them (the sampled
step of each task group, drawn by the config's sampler), in interleaved
rounds so that a change of machine load hits every scheme alike. Prints the
median ms/step over the rounds and the ratio to hard sharing, with the CPU
model it ran on.
"""

import importlib.util
import os

from absl import app, flags
from interleaved_timing import median_ms_per_step

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCHEMES = ("hard", "soft", "cross_stitch", "sluice", "private", "adversarial")

_CONFIG = flags.DEFINE_string("config", os.path.join(REPO, "configs",
                                                     "sharing_classification.py"),
                              "A config with the schemes as variants.")
_DATA_DIR = flags.DEFINE_string("data_dir", "runs/sentiment_split", "Its data_dir.")
_STEPS = flags.DEFINE_integer("steps", 50, "Steps timed per scheme and round.", lower_bound=1)
_ROUNDS = flags.DEFINE_integer("rounds", 5, "Interleaved rounds.", lower_bound=1)
_WARMUP = flags.DEFINE_integer("warmup", 20, "Untimed steps first (tracing).", lower_bound=1)


def make_stepper(config):
    """``step(i)``: the i-th training step of a fresh run of `config`, as tfmtl-train runs
    it (default strategy)."""
    import tensorflow as tf

    from tfmtl.experiment import Experiment
    from tfmtl.training.callbacks import make_callbacks
    from tfmtl.training.optimizers import build_optimizer
    from tfmtl.training.trainer import _make_steps

    experiment = Experiment.create(config)
    strategy = tf.distribute.get_strategy()
    model = experiment.build_model()
    optimizer = build_optimizer(config.training.optimizer, config.training.steps)
    optimizer.build(model.model.trainable_variables)
    step, _ = _make_steps(experiment, strategy, model, optimizer, None,
                          make_callbacks(config), 0)
    return step


def main(argv):
    del argv
    from tfmtl.runs.run_worker import provenance
    from tfmtl.training.validation import validate

    spec = importlib.util.spec_from_file_location("sharing_config", _CONFIG.value)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    steppers = {}
    for scheme in SCHEMES:
        config = module.get_config(scheme)
        config.data_dir = os.path.abspath(_DATA_DIR.value)
        steppers[scheme] = make_stepper(validate(config))
    medians = median_ms_per_step(steppers, _STEPS.value, _ROUNDS.value, _WARMUP.value)
    machine = provenance()
    print(f"{_CONFIG.value}: {_STEPS.value} steps x {_ROUNDS.value} rounds on {machine['cpu']} "
          f"({machine['vector_extension']}, {os.cpu_count()} CPUs), tfmtl "
          f"{machine['tfmtl_commit']}")
    print("| scheme | ms/step (median) | / hard |\n|---|---:|---:|")
    hard = medians["hard"]
    for scheme in SCHEMES:
        ms = medians[scheme]
        print(f"| {scheme} | {ms:.1f} | {ms / hard:.2f} |")


if __name__ == "__main__":
    app.run(main)
