r"""Time per ``all`` step of each loss weighting relative to ``equal``, in one process.

    python bench/weighting_speed.py [--config=configs/weighting_ud.py]
        [--data_dir=../shared/data/ud_english_ewt] [--steps=50] [--rounds=6]
        [--weightings=equal,pcgrad,...]

Builds the config once per weighting (``equal`` first) and times its training steps
exactly as tfmtl-train runs them, in interleaved rounds (``--rounds`` x ``--steps``
steps each: 300 by default) so that a change of machine load hits every weighting
alike. Prints the median ms/step over the rounds and the ratio to ``equal``, with the
CPU model it ran on, and each method's bar: loss-only ≤ 1.05x (``famo``, which
evaluates the losses again after its update, ≤ 1.4x), exact per-task gradients
≤ (K + 0.5)x for K tasks, representation gradients (``KIND_rep``: ``mgda_rep``,
``imtl_rep``, ``aligned_mtl_rep``, ``gradnorm_rep``, the config's variants) ≤ 1.6x.
"""

import importlib.util
import os

from absl import app, flags
from interleaved_timing import median_ms_per_step

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

_CONFIG = flags.DEFINE_string("config", os.path.join(REPO, "configs", "weighting_ud.py"),
                              "A config whose variants are weighting names.")
_DATA_DIR = flags.DEFINE_string("data_dir", os.path.join(REPO, "..", "shared", "data",
                                                         "ud_english_ewt"), "Its data_dir.")
_STEPS = flags.DEFINE_integer("steps", 50, "Steps timed per weighting and round.",
                              lower_bound=1)
_ROUNDS = flags.DEFINE_integer("rounds", 6, "Interleaved rounds.", lower_bound=1)
_WARMUP = flags.DEFINE_integer("warmup", 10, "Untimed steps first (tracing).", lower_bound=1)
_WEIGHTINGS = flags.DEFINE_list("weightings", [], "Weightings (default: every registered "
                                "one and each representation-mode one, KIND_rep; equal always "
                                "first).")


def make_stepper(config):
    """``step(i)``: the i-th ``all`` step of a fresh run of `config` (default strategy)."""
    import tensorflow as tf

    from tfmtl.experiment import Experiment
    from tfmtl.training.callbacks import make_callbacks
    from tfmtl.training.optimizers import build_optimizer
    from tfmtl.training.trainer import _make_steps
    from tfmtl.training.weightings import make_weighting

    experiment = Experiment.create(config)
    strategy = tf.distribute.get_strategy()
    model = experiment.build_model()
    weighting = make_weighting(config.training.weighting, experiment.tasks)
    weighting.build()
    optimizer = build_optimizer(config.training.optimizer, config.training.steps)
    optimizer.build([*model.model.trainable_variables, *weighting.trainable_variables])
    step, _ = _make_steps(experiment, strategy, model, optimizer, weighting,
                          make_callbacks(config), 0)
    return step


def main(argv):
    del argv
    from tfmtl.runs.run_worker import provenance
    from tfmtl.training.validation import validate
    from tfmtl.training.weightings import WEIGHTINGS

    spec = importlib.util.spec_from_file_location("weighting_config", _CONFIG.value)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    every = [*WEIGHTINGS.names(), *(f"{k}_rep" for k in module.REPRESENTATION)]
    names = ["equal", *[w for w in (_WEIGHTINGS.value or every) if w != "equal"]]
    steppers, tasks = {}, 0
    for name in names:
        config = module.get_config(name)
        config.data_dir = os.path.abspath(_DATA_DIR.value)
        tasks = len(config.tasks)
        steppers[name] = make_stepper(validate(config))
    medians = median_ms_per_step(steppers, _STEPS.value, _ROUNDS.value, _WARMUP.value)
    machine = provenance()
    print(f"{_CONFIG.value}: {tasks} tasks, {_STEPS.value} steps x {_ROUNDS.value} rounds on "
          f"{machine['cpu']} ({machine['vector_extension']}, {os.cpu_count()} CPUs), "
          f"TensorFlow {machine['tensorflow']}, tfmtl {machine['tfmtl_commit']}")
    print("| weighting | kind | ms/step (median) | / equal | bar |\n|---|---|---:|---:|---:|")
    equal = medians["equal"]
    for name in names:
        cls = WEIGHTINGS.get(name.removesuffix("_rep"))
        kind = "gradients" if cls.needs_gradients else "loss"
        bar = (1.6 if name.endswith("_rep") else tasks + 0.5 if cls.needs_gradients else
               1.4 if cls.needs_reevaluation else 1.05)
        if name.endswith("_rep"):
            kind = "representation gradients"
        ms = medians[name]
        print(f"| {name} | {kind} | {ms:.1f} | {ms / equal:.2f} | ≤ {bar:.2f} |")


if __name__ == "__main__":
    app.run(main)
