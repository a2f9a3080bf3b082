"""The networks a grouping search chooses from: a group of tasks at a size.

A *network* is one model trained on a group of tasks. Full-size networks cost
1; half-size networks (the encoder's units halved) cost 0.5 and exist only for
single tasks, as in Standley et al. 2019. A budget is the total cost of the
chosen networks, so it counts in halves: :func:`budget_units` turns a budget
into those halves.

Reference:
    Standley, Zamir, Chen, Guibas, Malik and Savarese, "Which Tasks Should Be
    Learned Together in Multi-task Learning?", ICML 2020 (arXiv 1905.07553).
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

FULL = "full"
HALF = "half"
SIZES = (FULL, HALF)
COSTS = {FULL: 1.0, HALF: 0.5}
# A budget counts in halves of a full network; UNITS converts a network's cost into them.
UNITS = {FULL: 2, HALF: 1}


class GroupingError(ValueError):
    """A grouping request or its scores are invalid; the message names what is wrong."""


class BudgetError(GroupingError):
    """The budget cannot pay for any set of networks that covers every task.

    Attributes:
        budget: the budget asked for.
        cheapest: the cost of the cheapest set of candidate networks that covers
            every task.
    """

    def __init__(self, budget: float, cheapest: float):
        self.budget = budget
        self.cheapest = cheapest
        super().__init__(f"budget {format_budget(budget)} is below the cheapest cover of every "
                         f"task, which costs {format_budget(cheapest)}")


@dataclasses.dataclass(frozen=True)
class Network:
    """One network: a non-empty group of tasks trained together, at a size.

    Args:
        tasks: the task names of the group.
        size: ``"full"`` (cost 1) or ``"half"`` (cost 0.5, a single task only).
    """

    tasks: frozenset[str]
    size: str = FULL

    def __post_init__(self):
        tasks = self.tasks
        if isinstance(tasks, str) or not isinstance(tasks, Iterable):
            raise GroupingError(f"a network's tasks must be a collection of names, got {tasks!r}")
        tasks = frozenset(tasks)
        object.__setattr__(self, "tasks", tasks)
        if not tasks:
            raise GroupingError("a network needs at least one task")
        for task in tasks:
            if not isinstance(task, str) or not task:
                raise GroupingError(f"task names must be non-empty strings, got {task!r}")
        if self.size not in SIZES:
            raise GroupingError(f"network size must be one of {SIZES}, got {self.size!r}")
        if self.size == HALF and len(tasks) != 1:
            raise GroupingError(f"half-size networks hold a single task, got {sorted(tasks)}")

    @property
    def cost(self) -> float:
        """1 for a full-size network, 0.5 for a half-size one."""
        return COSTS[self.size]

    @property
    def units(self) -> int:
        """The cost in halves of a full network (2 or 1)."""
        return UNITS[self.size]

    def sorted_tasks(self, order: Sequence[str] | None = None) -> list[str]:
        """The tasks in `order` (the task set's order), or alphabetically."""
        if order is None:
            return sorted(self.tasks)
        position = {task: i for i, task in enumerate(order)}
        return sorted(self.tasks, key=lambda task: (position.get(task, len(position)), task))

    def label(self, order: Sequence[str] | None = None) -> str:
        """``chunk+pos``, with `` (half)`` for a half-size network."""
        text = "+".join(self.sorted_tasks(order))
        return f"{text} (half)" if self.size == HALF else text


def as_network(key: Any, size: str = FULL) -> Network:
    """A score table's key as a :class:`Network`: a network, or a collection of names."""
    if isinstance(key, Network):
        return key
    if isinstance(key, str):
        raise GroupingError(f"a group must be a collection of task names, got the string {key!r}")
    return Network(frozenset(key), size)


def validate_tasks(tasks: Iterable[str], *, minimum: int = 1) -> tuple[str, ...]:
    """The task names as a tuple, checked: non-empty distinct strings, at least `minimum`."""
    if isinstance(tasks, str):
        raise GroupingError(f"tasks must be a collection of names, got the string {tasks!r}")
    names = tuple(tasks)
    for name in names:
        if not isinstance(name, str) or not name:
            raise GroupingError(f"task names must be non-empty strings, got {name!r}")
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise GroupingError(f"task names repeat: {', '.join(duplicates)}")
    if len(names) < minimum:
        raise GroupingError(f"grouping needs at least {minimum} task(s), got {len(names)}"
                            + (f": {', '.join(names)}" if names else ""))
    return names


def groups(tasks: Sequence[str], sizes: Iterable[int] | None = None) -> Iterator[frozenset[str]]:
    """The groups of `tasks` of the given sizes (every non-empty subset by default), smallest
    first, each size in the order of `tasks`."""
    tasks = validate_tasks(tasks)
    sizes = range(1, len(tasks) + 1) if sizes is None else sorted(set(sizes))
    for size in sizes:
        for combination in itertools.combinations(tasks, size):
            yield frozenset(combination)


def budget_units(budget: float) -> int:
    """A budget in halves of a full network: the most that whole halves of it can pay for.

    A fractional budget such as 2.5 is allowed; 2.7 pays for what 2.5 does.
    """
    if isinstance(budget, bool) or not isinstance(budget, int | float):
        raise GroupingError(f"a budget must be a number, got {budget!r}")
    if not math.isfinite(budget) or budget < 0:
        raise GroupingError(f"a budget must be a finite number >= 0, got {budget!r}")
    return int(math.floor(budget * 2 + 1e-9))


def format_budget(budget: float) -> str:
    """A budget as groups.json keys it: ``"2"``, ``"2.5"`` (no trailing ``.0``)."""
    if isinstance(budget, str):
        budget = parse_budget(budget)
    if float(budget).is_integer():
        return str(int(budget))
    return repr(float(budget))


def parse_budget(text: str) -> float:
    """The budget of a groups.json key (``"2"``, ``"2.5"``)."""
    try:
        value = float(text)
    except (TypeError, ValueError):
        raise GroupingError(f"not a budget: {text!r}") from None
    budget_units(value)
    return value
