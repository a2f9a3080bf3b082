"""Loading a trained workdir's weights (what evaluation, export and resuming share)."""

from __future__ import annotations

import os

import tensorflow as tf

CHECKPOINT_DIR = "checkpoints"
BEST_DIR = "best"


def restore_model(workdir: str, model, which: str = "best") -> str:
    """Loads the weights of `which` ("best" or "latest") checkpoint into `model`.

    Returns:
        The checkpoint path that was loaded.
    """
    folder = os.path.join(workdir, BEST_DIR if which == "best" else CHECKPOINT_DIR)
    path = tf.train.latest_checkpoint(folder)
    if path is None and which == "best":
        folder = os.path.join(workdir, CHECKPOINT_DIR)
        path = tf.train.latest_checkpoint(folder)
    if path is None:
        raise FileNotFoundError(f"{folder}: no checkpoint found; has this workdir been trained?")
    tf.train.Checkpoint(model=model).restore(path).expect_partial().assert_existing_objects_matched()
    return path
