"""A brute-force oracle for the grouping search: every affordable set of networks."""

from __future__ import annotations

import itertools
import math

import numpy as np

from tfmtl.grouping import Estimate, budget_units


def brute_force_total(estimate: Estimate, budget: float) -> float:
    """The least total over every set of candidate networks that costs at most `budget`
    and covers every task (each task scored by its best chosen network); inf if none."""
    tasks = list(estimate.tasks)
    networks = list(estimate.scores)
    table = np.full((len(networks), len(tasks)), np.inf)
    for row, network in enumerate(networks):
        for task, score in estimate.scores[network].items():
            table[row, tasks.index(task)] = score
    units = np.array([network.units for network in networks])
    limit = budget_units(budget)
    best = math.inf
    most = min(len(networks), limit)  # Every network costs at least one unit.
    for count in range(1, most + 1):
        combos = np.array(list(itertools.combinations(range(len(networks)), count)),
                          dtype=np.int64).reshape(-1, count)
        combos = combos[units[combos].sum(axis=1) <= limit]
        for start in range(0, len(combos), 20000):
            chunk = combos[start:start + 20000]
            totals = table[chunk].min(axis=1).sum(axis=1)
            if len(totals):
                best = min(best, float(totals.min()))
    return best
