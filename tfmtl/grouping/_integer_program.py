"""The grouping search as an integer program, solved by SciPy's HiGHS.

The assignment formulation: ``x_n`` (binary) network n is chosen; ``y_nt``
(continuous in [0, 1], integral at an optimum) task t is scored by network n.
``sum_n y_nt = 1`` for every task, ``y_nt <= x_n``, ``sum_n units_n x_n <= U``;
minimise ``sum score_nt y_nt``.
"""

from __future__ import annotations

import numpy as np

from tfmtl.grouping._problem import Problem
from tfmtl.grouping.networks import GroupingError, Network


def solve_integer_program(problem: Problem, units: int) -> list[Network]:
    """The networks of an optimal selection within `units` half-units."""
    try:
        from scipy import optimize, sparse
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ImportError("solver='milp' needs SciPy (pip install scipy); the default "
                          "solver='branch_and_bound' does not") from error

    count = len(problem.networks)
    position = {task: i for i, task in enumerate(problem.tasks)}
    network_of, task_of, objective = [], [], []
    for index, scores in enumerate(problem.scores):
        for task, score in scores.items():
            network_of.append(index)
            task_of.append(position[task])
            objective.append(score)
    n, m = problem.n, len(objective)
    y = count + np.arange(m)
    links = n + np.arange(m)
    rows = np.concatenate([task_of, links, links, np.full(count, n + m)])
    cols = np.concatenate([y, y, network_of, np.arange(count)])
    values = np.concatenate([np.ones(m), np.ones(m), -np.ones(m), problem.units]).astype(float)
    matrix = sparse.csr_array((values, (rows, cols)), shape=(n + m + 1, count + m))
    lower = np.concatenate([np.ones(n), np.full(m, -np.inf), [-np.inf]])
    upper = np.concatenate([np.ones(n), np.zeros(m), [float(units)]])
    result = optimize.milp(
        np.concatenate([np.zeros(count), objective]),
        constraints=optimize.LinearConstraint(matrix, lower, upper),
        integrality=np.concatenate([np.ones(count), np.zeros(m)]),
        bounds=optimize.Bounds(0.0, 1.0),
        options={"mip_rel_gap": 0.0})
    if result.status != 0 or result.x is None:
        raise GroupingError(f"the integer program found no optimum: {result.message}")
    return [problem.networks[i] for i in np.flatnonzero(result.x[:count] > 0.5)]
