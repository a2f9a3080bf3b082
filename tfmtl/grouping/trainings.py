"""Training a grouping plan's networks through the run store, and what they score.

The engine of ``tfmtl-group``: each planned run is a ``tfmtl-train`` of the network's
config (:mod:`tfmtl.grouping.network_config`) executed as a sweep cell
(:class:`tfmtl.runs.Sweep`), so a finished network is never trained again, a killed
search restarted with the same command resumes, a failed network is recorded with its
error and the rest go on, and the local pool and Ray run them alike. Single-task
networks (and TAG's all-task run) train first: each group's checkpoint is then chosen
on its members' dev losses divided by theirs (``training.loss_baselines``).
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
from collections.abc import Mapping, Sequence

from tfmtl.grouping.estimates import Estimate, hoa, measured, tag
from tfmtl.grouping.network_config import network_spec
from tfmtl.grouping.networks import FULL, GroupingError, Network
from tfmtl.grouping.plan import GroupingPlan, PlannedRun

SCORES = ("loss", "metric")


@dataclasses.dataclass(frozen=True)
class NetworkRun:
    """What became of one planned training.

    Attributes:
        planned: the planned run.
        run_id: its id in the run store.
        error: the recorded error of a failed run (None: it finished).
        dev: each member's dev score at the chosen checkpoint (lower is better: the loss,
            or the main metric negated where higher is better).
        test: the same on test.
        workdir: the run's folder in the store.
        parameters: the network's trainable parameters (from its last checkpoint; 0 when
            unknown): what a half-size network really saves.
    """

    planned: PlannedRun
    run_id: str
    error: str | None = None
    dev: Mapping[str, float] = dataclasses.field(default_factory=dict)
    test: Mapping[str, float] = dataclasses.field(default_factory=dict)
    workdir: str = ""
    parameters: int = 0

    @property
    def finished(self) -> bool:
        return self.error is None


def variant_name(planned: PlannedRun, order: Sequence[str]) -> str:
    """How the sweep report and the progress bar name a planned run."""
    name = planned.network.label(order)
    if planned.network.size != FULL:
        name += f" ({planned.network.size})"
    if planned.fraction != 1.0:
        name += f" @{planned.fraction:g}"
    if planned.affinity:
        name += " [affinity]"
    return name


class GroupTrainer:
    """Trains planned networks of one user config through a run store.

    Args:
        config: the user's config, ``PATH[:ARG]``.
        overrides: its ``KEY=VALUE`` overrides.
        store: the :class:`tfmtl.runs.RunStore`.
        executor: a :class:`tfmtl.runs.LocalExecutor` or :class:`tfmtl.runs.RayExecutor`.
        score: ``loss`` (each member's dev loss, as Standley et al.) or ``metric`` (its
            main dev metric, negated where higher is better).
        seed: the seed of every network.
        affinity_every: TAG's measurement period (steps).
        progress: show the sweeps' progress bars.
    """

    def __init__(self, config: str, overrides: Sequence[str], store, executor, *,
                 score: str = "loss", seed: int = 0, affinity_every: int = 10,
                 progress: bool = True):
        if score not in SCORES:
            raise GroupingError(f"--score must be one of {', '.join(SCORES)}, got {score!r}")
        self.config = config
        self.overrides = tuple(overrides)
        self.store = store
        self.executor = executor
        self.score = score
        self.seed = seed
        self.affinity_every = affinity_every
        self.progress = progress
        self._metrics: dict[str, dict[str, tuple[str, bool]]] = {}

    def spec(self, planned: PlannedRun, loss_baselines: Mapping[str, float] | None = None
             ) -> str:
        return network_spec(self.config, self.overrides, sorted(planned.network.tasks),
                            size=planned.network.size, fraction=planned.fraction,
                            loss_baselines=loss_baselines,
                            affinity_every=self.affinity_every if planned.affinity else 0)

    def train(self, planned: Sequence[PlannedRun], order: Sequence[str]
              ) -> dict[tuple, NetworkRun]:
        """Trains `planned` (single tasks and affinity runs first, then the groups with
        their members' single-task dev losses); every run's outcome by its key."""
        first = [p for p in planned if len(p.network.tasks) == 1 or p.affinity]
        second = [p for p in planned if p not in first]
        done = self._execute(first, order, {})
        # A group's members are normalised by their single-task networks at the group's
        # length: train those the plan lacks (a --retrain set's, say) first.
        lacking_singles: dict[tuple, PlannedRun] = {}
        for group in second:
            for task in sorted(group.network.tasks):
                single = PlannedRun(Network(frozenset({task})), group.fraction)
                if single.key not in done:
                    lacking_singles.setdefault(single.key, single)
        done.update(self._execute(list(lacking_singles.values()), order, {}))
        baselines: dict[float, dict[str, float]] = {}
        for key, run in done.items():
            network, fraction, affinity = key
            if run.finished and len(network.tasks) == 1 and network.size == FULL \
                    and not affinity:
                (task,) = network.tasks
                loss = self.store.metrics(run.run_id)["dev"][task]["loss"]
                baselines.setdefault(fraction, {})[task] = float(loss)
        for p in second:
            lacking = sorted(t for t in p.network.tasks
                             if t not in baselines.get(p.fraction, {}))
            if lacking:
                print(f"tfmtl-group: warning: {variant_name(p, order)}: no single-task dev "
                      f"loss of {', '.join(lacking)} (its network failed): the checkpoint "
                      "is chosen on its raw dev loss", file=sys.stderr)
        done.update(self._execute(second, order, baselines))
        return done

    def _execute(self, planned, order, baselines) -> dict[tuple, NetworkRun]:
        from tfmtl.runs import Sweep, Variant

        if not planned:
            return {}
        variants = [Variant(variant_name(p, order),
                            config=self.spec(p, baselines.get(p.fraction)))
                    for p in planned]
        sweep = Sweep(variants[0].config, variants, seeds=[self.seed])
        result = sweep.execute(self.store, self.executor, progress=self.progress)
        by_name = {e.variant: e for e in result.entries}
        out = {}
        for p, variant in zip(planned, variants, strict=True):
            entry = by_name[variant.name]
            workdir = self.store.workdir(entry.run_id)
            if entry.status != "finished":
                out[p.key] = NetworkRun(p, entry.run_id, error=entry.error or "failed",
                                        workdir=workdir)
                continue
            metrics = self.store.metrics(entry.run_id)
            out[p.key] = NetworkRun(
                p, entry.run_id, dev=self._scores(entry.run_id, metrics["dev"], p),
                test=self._scores(entry.run_id, metrics.get("test", {}), p),
                workdir=workdir, parameters=trainable_parameters(workdir))
        return out

    def _scores(self, run_id: str, split: Mapping, planned: PlannedRun) -> dict[str, float]:
        scores = {}
        for task in planned.network.tasks:
            if task not in split:
                continue
            if self.score == "loss":
                scores[task] = float(split[task]["loss"])
            else:
                metric, lower = self.main_metric(run_id, task)
                value = float(split[task][metric])
                scores[task] = value if lower else -value
        return scores

    def main_metric(self, run_id: str, task: str) -> tuple[str, bool]:
        """The task's main metric in the run and whether lower is better (from its workdir:
        a tagger's depends on its labels)."""
        if run_id not in self._metrics:
            from tfmtl.experiment import Experiment
            from tfmtl.training import validate

            workdir = self.store.workdir(run_id)
            with open(os.path.join(workdir, "config.json"), encoding="utf-8") as f:
                config = validate(json.load(f), check_files=False)
            experiment = Experiment.load_vocabularies(config, workdir)
            self._metrics[run_id] = {
                t.name: (t.main_metric, t.main_metric in t.lower_is_better)
                for t in experiment.tasks}
        return self._metrics[run_id][task]


def trainable_parameters(workdir: str) -> int:
    """The trainable parameters of a trained workdir's model: the sizes of the variables the
    optimizer of its last checkpoint trains (0 without a checkpoint, e.g. a run restored
    from a results archive)."""
    import numpy as np
    import tensorflow as tf

    path = tf.train.latest_checkpoint(os.path.join(workdir, "checkpoints"))
    if path is None:
        return 0
    return int(sum(np.prod(shape) for name, shape in tf.train.list_variables(path)
                   if name.startswith("optimizer/_trainable_variables/")))


def group_scores(runs: Mapping[tuple, NetworkRun], *, fraction: float = 1.0,
                 split: str = "dev") -> tuple[dict[frozenset, dict[str, float]],
                                              dict[str, float]]:
    """The finished full-size networks' scores at `fraction` (``{group: {task: score}}``)
    and the half-size single-task ones (``{task: score}``)."""
    full, half = {}, {}
    for (network, f, affinity), run in runs.items():
        if affinity or f != fraction or not run.finished:
            continue
        values = run.dev if split == "dev" else run.test
        if network.size == FULL:
            full[network.tasks] = dict(values)
        else:
            (task,) = network.tasks
            half[task] = values[task]
    return full, half


def estimates(plan: GroupingPlan, runs: Mapping[tuple, NetworkRun]
              ) -> tuple[dict[str, Estimate], dict[str, tuple[frozenset, ...]]]:
    """Each planned method's estimate from the runs, and the runs each one lacks (failed)."""
    out, missing = {}, {}
    full, half = group_scores(runs)
    half = half if plan.half_size else None
    for method in plan.methods:
        failed = tuple(sorted((p.network.tasks for p in plan.runs_for(method)
                               if not runs[p.key].finished), key=sorted))
        missing[method] = failed
        if method == "exhaustive":
            out[method] = measured(full, plan.tasks, half=half)
        elif method == "hoa":
            pairs = {g: v for g, v in full.items() if len(g) <= 2}
            out[method] = hoa(pairs, plan.tasks, half=half)
        elif method == "esa":
            shortened, short_half = group_scores(runs, fraction=plan.fraction)
            out[method] = measured(shortened, plan.tasks,
                                   half=short_half if plan.half_size else None, method="esa")
        elif method == "tag":
            (affinity_run,) = [runs[p.key] for p in plan.runs_for("tag")]
            if affinity_run.finished:
                out[method] = tag(read_affinity(affinity_run.workdir), plan.tasks)
    return out, missing


def read_affinity(workdir: str) -> dict:
    """TAG's affinities from a run's ``affinity.json``."""
    from tfmtl.training.callbacks.tag_affinity import AFFINITY_FILE

    path = os.path.join(workdir, AFFINITY_FILE)
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)["affinity"]
    except (OSError, KeyError, json.JSONDecodeError) as e:
        raise GroupingError(f"{path}: no affinities ({e})") from None


__all__ = ["SCORES", "GroupTrainer", "NetworkRun", "estimates", "group_scores",
           "read_affinity", "trainable_parameters", "variant_name"]
