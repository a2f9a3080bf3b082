"""Trains the tiny config 20 ``all`` steps with each weighting variant under one strategy, in
one process, and saves every logged weighting scalar and the final weights (an .npz per
variant): what test_weighting_strategies.py compares across the default, mirrored and
multi-worker strategies. One process trains every variant, so the start of TensorFlow (and
of a multi-worker cluster, from TF_CONFIG) is paid once.

    python -m tests.training.weighting_strategies_worker --strategy=mirrored --out=DIR \
        [--variants=mgda,imtl:representation]
"""

import argparse
import os

import keras
import numpy as np

from tests import tiny_config
from tfmtl.experiment import Experiment
from tfmtl.training import validate
from tfmtl.training.distribute import make_strategy, worker_index
from tfmtl.training.trainer import _make_steps
from tfmtl.training.weightings import make_weighting

STEPS = 20
#: Every weighting, and each gradient weighting that takes it in the representation mode.
VARIANTS = ("equal", "static", "uncertainty", "dwa", "rlw", "gls", "famo", "gradnorm",
            "mgda", "pcgrad", "cagrad", "imtl", "aligned_mtl", "nash_mtl",
            "gradnorm:representation", "mgda:representation", "imtl:representation",
            "aligned_mtl:representation")


def variant_config(variant: str, strategy: str):
    """The tiny config's chunking and (on sentences of their own: a second group) sentence
    labels, the all step with `variant`'s weighting, no dropout (each replica would draw its
    own masks), no bucketing, SGD (Adam's g / sqrt(v) magnifies float noise on near-zero
    gradients), DWA over periods of 5 steps; one BiLSTM layer over words alone (a small graph:
    every variant is traced under each strategy)."""
    kind, _, mode = variant.partition(":")
    config = tiny_config.get_config(("chunk", "label"))
    config.tasks.label.data.seed = 4
    config.model.embeddings.text.dropout = 0.0
    config.model.encoders.shared.dropout = 0.0
    config.model.encoders.shared.layers = 1
    config.model.embeddings.text.char.type = "none"
    config.training.update(steps=STEPS, buckets=0, step="all")
    config.training.optimizer.update(type="sgd", learning_rate=0.3)
    config.training.weighting.type = kind
    if kind == "static":
        config.tasks.label.loss_weight = 0.5
    if kind == "dwa":
        config.training.weighting.period = 5
    if mode:
        config.training.weighting.gradients = mode
    config.distribute.strategy = strategy
    if strategy == "mirrored":
        config.distribute.cpu_devices = 2
    return validate(config)


def train(variant: str, strategy, config) -> dict:
    """The weighting's metrics after every step, the final trainable variables and the
    weighting's final state."""
    keras.utils.set_random_seed(config.seed)
    experiment = Experiment.create(config)
    with strategy.scope():
        model = experiment.build_model()
        weighting = make_weighting(config.training.weighting, experiment.tasks)
        weighting.build()
        optimizer = keras.optimizers.SGD(learning_rate=config.training.optimizer.learning_rate)
        optimizer.build([*model.model.trainable_variables, *weighting.trainable_variables])
    step, _ = _make_steps(experiment, strategy, model, optimizer, weighting, [], 0)
    out = {}
    for i in range(STEPS):
        step(i)
        for key, value in weighting.metrics().items():
            out[f"weighting/{key}/{i}"] = np.asarray(value)
    for variable in model.model.trainable_variables:
        out[f"variable/{variable.path}"] = variable.numpy()
    for index, variable in enumerate(weighting.variables):  # Its whole (checkpointed) state.
        out[f"weighting_state/{index}"] = variable.numpy()
    return out


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--strategy", required=True, choices=("default", "mirrored",
                                                               "multi_worker"))
    parser.add_argument("--out", required=True)
    parser.add_argument("--variants", default=",".join(VARIANTS))
    args = parser.parse_args()
    variants = args.variants.split(",")
    strategy = make_strategy(variant_config(variants[0], args.strategy).distribute)
    os.makedirs(args.out, exist_ok=True)
    for variant in variants:
        values = train(variant, strategy, variant_config(variant, args.strategy))
        name = f"{variant.replace(':', '-')}-{worker_index(strategy)}.npz"
        np.savez(os.path.join(args.out, name), **values)
        print("done", variant, flush=True)


if __name__ == "__main__":
    main()
