"""Per-task scores of candidate networks, measured or estimated.

Every estimate maps each candidate :class:`~tfmtl.grouping.networks.Network`
to the score of each of its tasks, *lower is better* (dev losses, as in
Standley et al.; a metric where higher is better enters negated). The search
(:mod:`tfmtl.grouping.search`) reads nothing else, so the methods differ only
in where their scores come from:

* :func:`measured`: the scores as trained (``exhaustive``: every group at full
  length; ``esa``: the same at a fraction of the steps).
* :func:`hoa`: Standley's higher-order approximation: a task's score in a group
  of three or more is the mean of its scores in the pairs with each other
  member; singles and pairs as measured.
* :func:`tag`: Fifty et al.'s task affinity grouping. ``Z[i][j]`` is the
  affinity of task ``i`` onto task ``j`` (one plain gradient step on ``i``'s
  gradient, at the optimizer's learning rate, lowers ``j``'s loss by the fraction
  ``Z``, as in TAG's paper: not divided by the learning rate; averaged over the
  run). As in TAG's network selection, task ``j``'s score in a group
  of two or more is the affinity onto ``j`` from the other members, averaged
  over them (``reduction="sum"`` totals them instead), negated so that lower is
  better: the search's total is then minus TAG's objective, and the search
  picks TAG's groups. TAG never prefers a single-task network (its selection
  gives one a score of -1e6), so singletons are not candidates unless
  ``singleton_score`` (for example ``0.0``: no transfer) admits them;
  half-size networks have no affinity and are never TAG candidates.

References:
    Standley et al., "Which Tasks Should Be Learned Together in Multi-task
    Learning?", ICML 2020 (arXiv 1905.07553).
    Fifty, Amid, Zhao, Yu, Anil and Finn, "Efficiently Identifying Task
    Groupings for Multi-Task Learning", NeurIPS 2021 (arXiv 2109.04617), and
    its network selection (google-research/tag/network_selection).
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from tfmtl.grouping.networks import (
    FULL,
    HALF,
    GroupingError,
    Network,
    as_network,
    validate_tasks,
)

GroupScores = Mapping[Any, Mapping[str, float]]
"""Measured scores: ``{frozenset(group): {task: score}}`` (a key may also be a
:class:`Network`, or any collection of names)."""


@dataclasses.dataclass(frozen=True, eq=False)
class Estimate:
    """Each candidate network's per-task scores (lower is better).

    Attributes:
        method: the estimation method (``exhaustive``, ``esa``, ``hoa``, ``tag``, ...).
        tasks: the task names, in order.
        scores: ``{network: {task: score}}`` for every candidate network.
        missing: groups the method needed and did not get (a failed or absent
            run); groups that depend on them are not candidates.
        unit: what the scores are: ``"score"`` (the measured score, loss or
            negated metric) or ``"negated affinity"`` (TAG).
    """

    method: str
    tasks: tuple[str, ...]
    scores: Mapping[Network, Mapping[str, float]]
    missing: tuple[frozenset[str], ...] = ()
    unit: str = "score"

    @property
    def complete(self) -> bool:
        """Whether every run the method needed was there."""
        return not self.missing

    def score(self, network: Network, task: str) -> float:
        """The score of `task` in `network`."""
        return self.scores[network][task]


def _score(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise GroupingError(f"{where}: a score must be a number, got {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise GroupingError(f"{where}: a score must be finite, got {value!r}")
    return value


def _network_scores(network: Network, scores: Any) -> dict[str, float]:
    where = f"group {network.label()}"
    if not isinstance(scores, Mapping):
        raise GroupingError(f"{where}: scores must map task names to numbers, got {scores!r}")
    extra = sorted(set(scores) - network.tasks, key=str)
    lacking = sorted(network.tasks - set(scores))
    if extra or lacking:
        raise GroupingError(f"{where}: needs a score for each member and nothing else"
                            + (f"; not members: {', '.join(map(str, extra))}" if extra else "")
                            + (f"; no score for: {', '.join(lacking)}" if lacking else ""))
    return {task: _score(scores[task], f"{where}, task {task!r}") for task in sorted(scores)}


def _parse(scores: GroupScores, tasks: Iterable[str] | None,
           half: Mapping[str, float] | None) -> tuple[tuple[str, ...], dict[Network, dict]]:
    if not isinstance(scores, Mapping):
        raise GroupingError(f"scores must map groups to {{task: score}}, got {type(scores)}")
    parsed: dict[Network, dict[str, float]] = {}
    for key, values in scores.items():
        network = as_network(key)
        if network in parsed:
            raise GroupingError(f"group {network.label()} is given twice")
        parsed[network] = _network_scores(network, values)
    for task, value in (half or {}).items():
        network = Network(frozenset({task}), HALF)
        parsed[network] = {task: _score(value, f"half-size network of {task!r}")}
    named = set().union(*(network.tasks for network in parsed)) if parsed else set()
    if tasks is None:
        tasks = sorted(named)
    tasks = validate_tasks(tasks)
    unknown = sorted(named - set(tasks))
    if unknown:
        raise GroupingError(f"scores name tasks outside the task set {list(tasks)}: "
                            f"{', '.join(unknown)}")
    return tasks, parsed


def _ordered(tasks: Sequence[str], parsed: Mapping[Network, dict]) -> dict[Network, dict]:
    position = {task: i for i, task in enumerate(tasks)}

    def key(network: Network):
        members = sorted(position[t] for t in network.tasks)
        return len(members), members, network.size != FULL

    return {network: parsed[network] for network in sorted(parsed, key=key)}


def measured(scores: GroupScores, tasks: Iterable[str] | None = None, *,
             half: Mapping[str, float] | None = None, method: str = "exhaustive") -> Estimate:
    """Measured scores as an estimate: every group given is a candidate, as scored.

    Args:
        scores: ``{frozenset(group): {task: score}}``, each group's dev score of
            each member (lower is better).
        tasks: the task names in order (default: every task named, sorted).
        half: ``{task: score}`` of half-size single-task networks, if trained.
        method: the name to report (``exhaustive``, or ``esa`` for runs at a
            fraction of the steps).

    Returns:
        An :class:`Estimate`.

    Raises:
        GroupingError: a malformed score table (a member without a score, a
            score for a non-member, a non-finite score, an unknown task).
    """
    tasks, parsed = _parse(scores, tasks, half)
    return Estimate(method, tasks, _ordered(tasks, parsed))


def hoa(scores: GroupScores, tasks: Iterable[str] | None = None, *,
        half: Mapping[str, float] | None = None, max_size: int | None = None) -> Estimate:
    """Standley's higher-order approximation from single-task and pair scores.

    A task's score in a group of three or more is the mean of its scores in the
    pairs with each other member; singles and pairs are as measured (scores of
    larger groups in `scores` are ignored). A group needing a pair (or single)
    that is absent is not a candidate, and the absent run is listed in
    :attr:`Estimate.missing`.

    Example: pairs a&b = (a 0.1, b 0.2), b&c = (b 0.3, c 0.4) and a&c = (a 0.5,
    c 0.6) give, in the group abc, a 0.3, b 0.25 and c 0.5.

    Args:
        scores: ``{frozenset(group): {task: score}}`` with the singles and pairs.
        tasks: the task names in order (default: every task named, sorted).
        half: ``{task: score}`` of half-size single-task networks, if trained.
        max_size: estimate groups up to this size (default: all tasks).

    Returns:
        An :class:`Estimate` over every group whose pairs were measured.
    """
    tasks, parsed = _parse(scores, tasks, half)
    n = len(tasks)
    max_size = n if max_size is None else max_size
    result: dict[Network, dict[str, float]] = {}
    missing: list[frozenset[str]] = []
    for network, values in parsed.items():
        if network.size == HALF or len(network.tasks) <= 2:
            result[network] = values
    for group in itertools.chain(itertools.combinations(tasks, 1),
                                 itertools.combinations(tasks, 2)):
        if Network(frozenset(group)) not in result:
            missing.append(frozenset(group))
    pair = {network.tasks: values for network, values in result.items()
            if network.size == FULL and len(network.tasks) == 2}
    for size in range(3, max_size + 1):
        for group in itertools.combinations(tasks, size):
            values = {}
            for task in group:
                partners = [pair.get(frozenset((task, other))) for other in group if other != task]
                if any(p is None for p in partners):
                    break
                values[task] = math.fsum(p[task] for p in partners) / len(partners)
            else:
                result[Network(frozenset(group))] = values
    return Estimate("hoa", tasks, _ordered(tasks, result), tuple(missing))


def affinity_matrix(affinity: Mapping[str, Mapping[str, float]] | np.ndarray,
                    tasks: Sequence[str] | None = None) -> tuple[tuple[str, ...], np.ndarray]:
    """TAG affinities as ``(tasks, Z)`` with ``Z[i, j]`` the affinity of task i onto task j.

    Args:
        affinity: ``{i: {j: Z(i->j)}}`` (every ordered pair of distinct tasks;
            the diagonal, a task onto itself, is optional and unused), or a
            square array in the order of `tasks`.
        tasks: the task names (required with an array; default: the mapping's
            keys, in order).
    """
    if isinstance(affinity, Mapping):
        tasks = validate_tasks(tasks if tasks is not None else list(affinity), minimum=1)
        z = np.zeros((len(tasks), len(tasks)))
        unknown = sorted(set(affinity) - set(tasks))
        if unknown:
            raise GroupingError(f"affinities name tasks outside {list(tasks)}: {unknown}")
        for i, source in enumerate(tasks):
            row = affinity.get(source)
            if not isinstance(row, Mapping):
                raise GroupingError(f"no affinities from task {source!r}")
            unknown = sorted(set(row) - set(tasks))
            if unknown:
                raise GroupingError(f"affinities from {source!r} name unknown tasks: {unknown}")
            for j, target in enumerate(tasks):
                if i == j:
                    continue
                if target not in row:
                    raise GroupingError(f"no affinity of {source!r} onto {target!r}")
                z[i, j] = _score(row[target], f"affinity of {source!r} onto {target!r}")
        return tasks, z
    if tasks is None:
        raise GroupingError("an affinity array needs the task names")
    tasks = validate_tasks(tasks, minimum=1)
    z = np.array(affinity, dtype=np.float64)
    if z.shape != (len(tasks), len(tasks)):
        raise GroupingError(f"an affinity array for {len(tasks)} tasks must be "
                            f"{len(tasks)}x{len(tasks)}, got shape {z.shape}")
    off_diagonal = ~np.eye(len(tasks), dtype=bool)
    if not np.all(np.isfinite(z[off_diagonal])):
        raise GroupingError("affinities must be finite")
    z[~off_diagonal] = 0.0
    return tasks, z


def tag(affinity: Mapping[str, Mapping[str, float]] | np.ndarray,
        tasks: Sequence[str] | None = None, *, reduction: str = "mean",
        singleton_score: float | None = None, max_size: int | None = None) -> Estimate:
    """Group scores from TAG's inter-task affinities, as in TAG's network selection.

    Task j's score in a group G of two or more tasks is
    ``-mean(Z[i][j] for i in G if i != j)`` (``reduction="sum"``: the sum):
    minus the affinity onto j from the other members, so that lower is better
    like every other estimate. The search then minimises minus the total
    affinity of each task's best chosen group, which is what TAG's selection
    maximises (it averages over tasks; the argmax is the same).

    Args:
        affinity: ``{i: {j: Z(i->j)}}`` or an array ``Z[i, j]`` in the order of `tasks`.
        tasks: the task names (required with an array).
        reduction: ``"mean"`` (TAG's selection) or ``"sum"`` over the other members.
        singleton_score: the score of a single-task network; None (default) leaves
            single-task networks out, as TAG's selection never picks them.
        max_size: score groups up to this size (default: all tasks).

    Returns:
        An :class:`Estimate` with :attr:`Estimate.unit` ``"negated affinity"``.
    """
    if reduction not in ("mean", "sum"):
        raise GroupingError(f"TAG reduction must be 'mean' or 'sum', got {reduction!r}")
    tasks, z = affinity_matrix(affinity, tasks)
    n = len(tasks)
    max_size = n if max_size is None else max_size
    result: dict[Network, dict[str, float]] = {}
    if singleton_score is not None:
        value = _score(singleton_score, "singleton_score")
        for task in tasks:
            result[Network(frozenset({task}))] = {task: value}
    for size in range(2, max_size + 1):
        for members in itertools.combinations(range(n), size):
            index = list(members)
            onto = z[np.ix_(index, index)].sum(axis=0)  # Diagonal is zero: the others only.
            if reduction == "mean":
                onto = onto / (size - 1)
            result[Network(frozenset(tasks[i] for i in index))] = {
                tasks[j]: -float(value) for j, value in zip(index, onto, strict=True)}
    return Estimate("tag", tasks, result, unit="negated affinity")
