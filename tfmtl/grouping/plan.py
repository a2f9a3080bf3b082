"""Which trainings each estimation method needs.

* ``hoa``: every single task and every pair, at full length; the higher-order
  approximation estimates larger groups from the pairs.
* ``exhaustive``: every non-empty group, at full length.
* ``esa``: the runs of the method it accompanies (``exhaustive`` when that is
  planned too or when ESA is asked for alone, as in Standley et al.; else
  ``hoa``), each at ``fraction`` of the steps (early-stopped approximation).
* ``tag``: one run of all tasks with the lookahead affinity recorded.

With ``half_size``, every single task is also trained as a half-size network
(cost 0.5), by each method that trains single tasks. The plan lists every
training once, with the methods that use it; a training shared by two methods
(a pair for HOA and for exhaustive) is one run.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence

from tfmtl.grouping.networks import FULL, HALF, GroupingError, Network, groups, validate_tasks

METHODS = ("exhaustive", "hoa", "esa", "tag")


@dataclasses.dataclass(frozen=True)
class PlannedRun:
    """One training of a grouping plan.

    Attributes:
        network: the group of tasks and its size.
        fraction: the fraction of the configured steps it trains (1.0, or ESA's).
        affinity: whether the run records TAG's lookahead affinities.
        methods: the methods whose estimates read this run.
    """

    network: Network
    fraction: float = 1.0
    affinity: bool = False
    methods: tuple[str, ...] = ()

    @property
    def key(self) -> tuple[Network, float, bool]:
        """What makes two planned runs the same training."""
        return self.network, self.fraction, self.affinity


@dataclasses.dataclass(frozen=True)
class GroupingPlan:
    """The trainings that a set of estimation methods needs.

    Attributes:
        tasks: the task names, in the config's order.
        methods: the methods planned, in :data:`METHODS` order.
        half_size: whether half-size single-task networks are candidates.
        fraction: the fraction of the steps of ESA's runs.
        esa_of: the method whose runs ESA shortens (None without ESA).
        runs: every training, once, singles first, then pairs, ..., then the
            affinity run.
    """

    tasks: tuple[str, ...]
    methods: tuple[str, ...]
    half_size: bool
    fraction: float
    esa_of: str | None
    runs: tuple[PlannedRun, ...]

    def runs_for(self, method: str) -> tuple[PlannedRun, ...]:
        """The runs that `method` reads."""
        return tuple(run for run in self.runs if method in run.methods)

    @property
    def network_trainings(self) -> float:
        """The compute of the plan in full-length network trainings (each run its fraction)."""
        return sum(run.fraction for run in self.runs)

    @property
    def task_trainings(self) -> float:
        """The compute in task-trainings: each run's fraction times its number of tasks."""
        return sum(run.fraction * len(run.network.tasks) for run in self.runs)


def _methods(methods: str | Iterable[str]) -> tuple[str, ...]:
    if isinstance(methods, str):
        methods = METHODS if methods == "all" else [m.strip() for m in methods.split(",")]
    methods = set(methods)
    unknown = sorted(methods - set(METHODS))
    if unknown:
        raise GroupingError(f"unknown grouping method(s) {', '.join(map(repr, unknown))}: "
                            f"choose from {', '.join(METHODS)} or 'all'")
    if not methods:
        raise GroupingError("no grouping method given")
    return tuple(m for m in METHODS if m in methods)


def plan_runs(tasks: Sequence[str], methods: str | Iterable[str] = "hoa", *,
              half_size: bool = False, fraction: float = 0.2) -> GroupingPlan:
    """Plans the trainings of `methods` for `tasks`.

    Args:
        tasks: the task names (at least two: grouping one task has nothing to choose).
        methods: ``"all"``, a comma-separated string or a collection of
            ``exhaustive``, ``hoa``, ``esa``, ``tag``.
        half_size: also train each single task as a half-size network.
        fraction: ESA's fraction of the steps, in (0, 1).

    Returns:
        A :class:`GroupingPlan`.

    Raises:
        GroupingError: fewer than two tasks, an unknown method or a bad fraction.
    """
    tasks = validate_tasks(tasks, minimum=2)
    methods = _methods(methods)
    if isinstance(fraction, bool) or not isinstance(fraction, int | float) \
            or not 0 < fraction < 1:
        raise GroupingError(f"the ESA fraction must be a number in (0, 1), got {fraction!r}")
    fraction = float(fraction)
    esa_of = None
    if "esa" in methods:
        esa_of = "hoa" if "hoa" in methods and "exhaustive" not in methods else "exhaustive"

    def networks_of(method: str) -> list[Network]:
        sizes = (1, 2) if method == "hoa" else None
        found = [Network(group) for group in groups(tasks, sizes)]
        if half_size:
            found[len(tasks):len(tasks)] = [Network({task}, HALF) for task in tasks]
        return found

    wanted: dict[tuple, PlannedRun] = {}

    def add(network: Network, method: str, fraction: float = 1.0, affinity: bool = False):
        run = PlannedRun(network, fraction, affinity)
        previous = wanted.get(run.key)
        used_by = (previous.methods if previous else ()) + (method,)
        wanted[run.key] = dataclasses.replace(run, methods=used_by)

    for method in methods:
        if method in ("exhaustive", "hoa"):
            for network in networks_of(method):
                add(network, method)
        elif method == "esa":
            for network in networks_of(esa_of):
                add(network, method, fraction)
        else:
            add(Network(frozenset(tasks), FULL), method, affinity=True)

    position = {task: i for i, task in enumerate(tasks)}

    def order(run: PlannedRun):
        members = sorted(position[t] for t in run.network.tasks)
        return (run.affinity, run.fraction != 1.0, len(members), members,
                run.network.size != FULL)

    return GroupingPlan(tasks=tasks, methods=methods, half_size=bool(half_size),
                        fraction=fraction, esa_of=esa_of,
                        runs=tuple(sorted(wanted.values(), key=order)))
