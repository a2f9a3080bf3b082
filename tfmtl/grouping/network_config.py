"""The config of one network of a grouping search, as a config file of its own.

``tfmtl-group`` trains each network as ``tfmtl-train --config=THIS_FILE:SPEC``: `SPEC` is
a JSON object (:func:`network_spec`) naming the user's config (``PATH[:ARG]``), its
``--config.KEY=VALUE`` overrides, the group's tasks, its size, the fraction of the steps
and the dev losses that normalise its members'. The user's config is loaded with its
overrides first and then made the network's (:func:`network_config`), so that a halved
encoder is half of what the user asked for, and the run store identifies the run by the
resolved config, as every other run.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence

import ml_collections

from tfmtl.config import base_config, encoder_config
from tfmtl.grouping.networks import HALF, GroupingError

#: This file: ``tfmtl-train --config=NETWORK_CONFIG:SPEC``.
NETWORK_CONFIG = os.path.abspath(__file__)


def network_config(config: ml_collections.ConfigDict, tasks: Sequence[str], *,
                   size: str = "full", fraction: float = 1.0,
                   loss_baselines: Mapping[str, float] | None = None,
                   affinity_every: int = 0) -> ml_collections.ConfigDict:
    """The user's (unvalidated) `config` made the network of `tasks`.

    * Only `tasks` are kept; they train on the ``all`` step (every member every step, with
      the config's weighting), for the config's ``steps`` times `fraction` (at least 1),
      evaluated and checkpointed as often per step as the config says, scaled alike. A
      network of any size takes as many steps, so each member gets as many updates as it
      gets alone.
    * The checkpoint is chosen on the mean of the members' dev losses, each divided by its
      entry of `loss_baselines` (the member's single-task network's best dev loss;
      ``training.select = "loss"``).
    * ``size="half"`` halves every encoder's units (at least 1).
    * ``affinity_every > 0`` records TAG's affinities every that many steps.
    * What named the other tasks or drew tasks (the sampler, Δm baselines, the reference
      task when it is not a member) is set back to its default.
    """
    missing = [t for t in tasks if t not in config.tasks]
    if missing:
        raise GroupingError(f"task(s) {', '.join(missing)} not in the config's tasks "
                            f"({', '.join(config.tasks)})")
    config = ml_collections.ConfigDict(config.to_dict())
    for name in list(config.tasks):
        if name not in tasks:
            del config.tasks[name]
    defaults = base_config()
    t = config.training
    t.step = "all"
    t.joint = False
    t.sampler = defaults.training.sampler
    for entry in config.tasks.values():
        if "mixing_ratio" in entry:
            entry.mixing_ratio = 1.0
    if t.get("reference_task", "") not in tasks:
        t.reference_task = tasks[0] if len(tasks) > 1 else ""
    t.select = "loss"
    t.baselines = ml_collections.ConfigDict()
    t.loss_baselines = ml_collections.ConfigDict(
        {name: float(value) for name, value in (loss_baselines or {}).items() if name in tasks})
    steps = t.get("steps", defaults.training.steps)
    t.steps = max(1, round(steps * fraction))
    for key in ("eval_every", "checkpoint_every", "log_every"):
        every = t.get(key, defaults.training[key])
        t[key] = max(1, round(every * fraction))
    if size == HALF:
        for encoder in config.model.encoders.values():
            encoder.units = max(1, encoder.get("units", encoder_config().units) // 2)
    if affinity_every:
        from tfmtl.training.callbacks import callback_config

        t.callbacks.tag_affinity = callback_config("tag_affinity", every=affinity_every)
    return config


def network_spec(config: str, overrides: Sequence[str], tasks: Sequence[str], *,
                 size: str = "full", fraction: float = 1.0,
                 loss_baselines: Mapping[str, float] | None = None,
                 affinity_every: int = 0) -> str:
    """``NETWORK_CONFIG:SPEC``, the config argument that trains this network."""
    spec = {"config": config, "overrides": list(overrides), "tasks": list(tasks),
            "size": size, "fraction": fraction,
            "loss_baselines": dict(sorted((loss_baselines or {}).items())),
            "affinity_every": affinity_every}
    return f"{NETWORK_CONFIG}:{json.dumps(spec, sort_keys=True)}"


def get_config(spec: str) -> ml_collections.ConfigDict:
    """The network :func:`network_spec` describes (the user's config loaded first, with its
    overrides, as tfmtl-train loads it)."""
    from tfmtl.runs import _core

    try:
        s = json.loads(spec)
    except json.JSONDecodeError as e:
        raise GroupingError(f"{NETWORK_CONFIG}: the argument is not a network spec: {e}") \
            from None
    loaded = _core.load_config(s["config"], s["overrides"], where="tfmtl-group --config")
    return network_config(loaded, s["tasks"], size=s["size"], fraction=s["fraction"],
                          loss_baselines=s["loss_baselines"],
                          affinity_every=s["affinity_every"])
