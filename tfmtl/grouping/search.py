"""The best set of networks under a budget.

Given an :class:`~tfmtl.grouping.estimates.Estimate` (each candidate network's
per-task scores, lower is better) and a budget B, choose networks whose costs
(full-size 1, half-size 0.5) sum to at most B so that every task is in a
chosen network, each task is scored by the best (lowest) chosen network that
contains it, and the sum of the task scores is least. Networks may overlap: a
task in two chosen networks takes the better one, as in Standley et al.
The search is exact, by either of two solvers that check each other in
the tests:

* ``"branch_and_bound"`` (default): each task is scored by exactly one chosen
  network, so a selection is a partition of the tasks into blocks, each scored
  by the best candidate that contains it (precomputed for every subset of
  tasks); a depth-first search over the blocks, best bound first, prunes with
  exact bounds near the leaves and Lagrangian bounds above them (see
  ``_branch_and_bound``). Its tables grow as 2**tasks: up to 20 tasks; 12 tasks
  with every group a candidate take about a second.
* ``"milp"``: the assignment integer program, solved by SciPy's HiGHS
  (``scipy.optimize.milp``): ``x_n`` network n is chosen, ``y_nt`` task t is
  scored by network n; ``sum_n y_nt = 1``, ``y_nt <= x_n``,
  ``sum_n cost_n x_n <= B``; minimise ``sum score_nt y_nt`` (HiGHS stops
  within its absolute gap, 1e-6, of the optimum).

Reference:
    Standley et al., "Which Tasks Should Be Learned Together in Multi-task
    Learning?", ICML 2020 (arXiv 1905.07553).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping, Sequence

from tfmtl.grouping._branch_and_bound import BranchAndBound
from tfmtl.grouping._integer_program import solve_integer_program
from tfmtl.grouping._problem import Problem
from tfmtl.grouping.estimates import Estimate
from tfmtl.grouping.networks import FULL, BudgetError, GroupingError, Network, budget_units

SOLVERS = ("branch_and_bound", "milp")


@dataclasses.dataclass(frozen=True)
class TaskScore:
    """A task's score in a selection and the index of the network it comes from."""

    score: float
    network: int


@dataclasses.dataclass(frozen=True)
class Selection:
    """A chosen set of networks and what each task scores in it.

    Attributes:
        budget: the budget it was chosen under (None for a set given by hand).
        networks: the chosen networks, in the task set's order.
        per_task: each task's score and the index (into `networks`) of the
            network it is scored by: the best chosen network that contains it.
        total: the sum of the task scores.
    """

    budget: float | None
    networks: tuple[Network, ...]
    per_task: Mapping[str, TaskScore]
    total: float

    @property
    def cost(self) -> float:
        """The cost of the chosen networks."""
        return sum(network.cost for network in self.networks)


def _canonical(networks: Iterable[Network], tasks: Sequence[str]) -> list[Network]:
    position = {task: i for i, task in enumerate(tasks)}

    def key(network: Network):
        return sorted(position[t] for t in network.tasks), network.size != FULL

    return sorted(set(networks), key=key)


def evaluate(networks: Iterable[Network], estimate: Estimate,
             budget: float | None = None) -> Selection:
    """Scores a set of networks under `estimate`: each task by its best network.

    Networks that score no task (another chosen network is at least as good for
    each of their tasks) are dropped. Use it to score one method's pick with
    another's scores (an HOA pick under the exhaustive measurements).

    Raises:
        GroupingError: a network is not a candidate of `estimate`, or a task is
            in no network.
    """
    chosen = _canonical(networks, estimate.tasks)
    for network in chosen:
        if network not in estimate.scores:
            raise GroupingError(f"network {network.label(estimate.tasks)} has no "
                                f"{estimate.method} scores")
    best: dict[str, tuple[float, int]] = {}
    for index, network in enumerate(chosen):
        for task, score in estimate.scores[network].items():
            if task not in best or score < best[task][0]:
                best[task] = (score, index)
    uncovered = [task for task in estimate.tasks if task not in best]
    if uncovered:
        raise GroupingError(f"no chosen network holds task(s) {', '.join(uncovered)}")
    used = sorted({index for _, index in best.values()})
    renumber = {old: new for new, old in enumerate(used)}
    per_task = {task: TaskScore(best[task][0], renumber[best[task][1]])
                for task in estimate.tasks}
    total = math.fsum(entry.score for entry in per_task.values())
    return Selection(budget, tuple(chosen[i] for i in used), per_task, total)


def cheapest_cover(estimate: Estimate) -> float:
    """The cost of the cheapest set of candidate networks that covers every task.

    Raises:
        GroupingError: a task is in no candidate network.
    """
    return Problem(estimate).cheapest_units() / 2


def _units(problem: Problem, budget: float, cheapest: int) -> int:
    units = budget_units(budget)
    if units < cheapest:
        raise BudgetError(budget, cheapest / 2)
    return min(units, 2 * problem.n)  # More never helps: a full network per task at most.


def search(estimate: Estimate, budget: float, *, solver: str = "branch_and_bound") -> Selection:
    """The best set of networks under `budget` (exact).

    Args:
        estimate: the candidate networks and their per-task scores.
        budget: the most the chosen networks may cost (full-size 1, half-size
            0.5); fractional budgets such as 2.5 are allowed.
        solver: ``"branch_and_bound"`` or ``"milp"``.

    Returns:
        The :class:`Selection` with the least total score (ties: whichever the
        solver meets first).

    Raises:
        BudgetError: the budget is below the cheapest cover of every task.
        GroupingError: a bad budget or solver, or a task in no candidate network.
    """
    return search_budgets(estimate, [budget], solver=solver)[float(budget)]


def search_budgets(estimate: Estimate, budgets: Iterable[float], *,
                   solver: str = "branch_and_bound") -> dict[float, Selection]:
    """:func:`search` at each budget (the branch and bound tables are built once).

    Returns:
        ``{budget: Selection}`` in the order given.

    Raises:
        BudgetError: a budget is below the cheapest cover of every task.
    """
    if solver not in SOLVERS:
        raise GroupingError(f"unknown solver {solver!r}: choose from {', '.join(SOLVERS)}")
    problem = Problem(estimate)
    cheapest = problem.cheapest_units()
    units = {}
    for budget in budgets:
        units[float(budget)] = _units(problem, budget, cheapest)
    if solver == "milp":
        solve = lambda u: solve_integer_program(problem, u)  # noqa: E731
    else:
        solve = BranchAndBound(problem).solve
    return {budget: evaluate(solve(u), estimate, budget) for budget, u in units.items()}
