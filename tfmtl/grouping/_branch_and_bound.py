"""The grouping search by branch and bound over blocks of tasks.

Each task is scored by exactly one chosen network, so a selection is a
partition of the tasks into *blocks*, each block scored by one network that
contains it (a network scoring two blocks is one network, cheaper). The best
network for a block B is the candidate containing B with the least sum of the
scores of B's tasks; it is precomputed for every subset of tasks.

The search takes the first unassigned task and branches on its block (every
subset of the unassigned tasks that contains it, or its half-size network),
best bound first, pruning a branch when its bound is no better than the best
selection found. The bound of the unassigned tasks U with r half-units left:

* r < 4: exact (at most one full network fits): precomputed for every U;
* else Lagrangian: for any mu >= 0, each task's least ``score + mu * share``
  over the candidates that hold it (``share``: its network's cost over its
  number of tasks, at most |U| of which a block inside U can use), summed over
  U, minus ``mu * r``, is a lower bound; the table holds the best of a grid
  of multipliers for every (r, U).

Tables grow as ``2**tasks``.
"""

from __future__ import annotations

import numpy as np

from tfmtl.grouping._problem import Problem
from tfmtl.grouping.networks import GroupingError, Network

MAX_TASKS = 20


def _subset_sums(weights: np.ndarray) -> np.ndarray:
    """``out[..., mask]``: the sum of ``weights[..., i]`` over the bits i of mask."""
    out = np.zeros(weights.shape[:-1] + (1,))
    for i in range(weights.shape[-1]):
        out = np.concatenate([out, out + weights[..., i:i + 1]], axis=-1)
    return out


class BranchAndBound:
    """Exact selections for one problem at any budget; the tables are built once."""

    def __init__(self, problem: Problem):
        n = problem.n
        if n > MAX_TASKS:
            raise GroupingError(f"the branch and bound tables grow as 2**tasks: at most "
                                f"{MAX_TASKS} tasks, got {n}; use solver='milp'")
        self.problem = problem
        size = 1 << n
        masks = np.arange(size, dtype=np.int64)
        self.masks = masks
        self._blocks()
        self._multiplier_sums()
        # The blocks whose first task is t: the options when t is the first unassigned task.
        lowest = masks & -masks
        self.options = []
        for t in range(n):
            chosen = np.flatnonzero((lowest == 1 << t) & np.isfinite(self.value))
            block, cost = chosen.astype(np.int64), np.full(len(chosen), 2, dtype=np.int64)
            value, source = self.value[chosen], self.source[chosen]
            if np.isfinite(self.half_value[t]):
                if self.value[1 << t] >= self.half_value[t]:  # The full single is dominated.
                    keep = block != 1 << t
                    block, cost, value, source = block[keep], cost[keep], value[keep], source[keep]
                block = np.append(block, np.int64(1 << t))
                cost = np.append(cost, np.int64(1))
                value = np.append(value, self.half_value[t])
                source = np.append(source, self.half_source[t])
            self.options.append((block, cost, value, source))

    def _blocks(self) -> None:
        """The best full network of every block, and the half-size network of each task."""
        problem, n = self.problem, self.problem.n
        self.value = np.full(1 << n, np.inf)
        self.source = np.full(1 << n, -1, dtype=np.int64)
        self.half_value = np.full(n, np.inf)
        self.half_source = np.full(n, -1, dtype=np.int64)
        for index, (mask, units, scores) in enumerate(
                zip(problem.masks, problem.units, problem.scores, strict=True)):
            members = [i for i in range(n) if mask >> i & 1]
            values = np.array([scores[problem.tasks[i]] for i in members])
            if units == 1:
                if values[0] < self.half_value[members[0]]:
                    self.half_value[members[0]] = values[0]
                    self.half_source[members[0]] = index
                continue
            sums = _subset_sums(values)
            blocks = _subset_sums(np.array([float(1 << i) for i in members])).astype(np.int64)
            better = sums < self.value[blocks]
            self.value[blocks[better]] = sums[better]
            self.source[blocks[better]] = index
        self.value[0] = np.inf

    def _multiplier_sums(self) -> None:
        """``self.sums[k, U]``: the sum over U of each task's least score + mu_k * share."""
        problem, n, masks = self.problem, self.problem.n, self.masks
        held: list[list[tuple[float, int, int]]] = [[] for _ in range(n)]
        for mask, units, scores in zip(problem.masks, problem.units, problem.scores,
                                       strict=True):
            k = bin(mask).count("1")
            for i in range(n):
                if mask >> i & 1:
                    held[i].append((scores[problem.tasks[i]], units, k))
        values = [v for scores in problem.scores for v in scores.values()]
        spread = (max(values) - min(values)) or 1.0
        self.mu = np.concatenate([[0.0], spread * np.geomspace(1e-3, 4.0 * n * n + 4.0, 48)])
        popcount = np.zeros(len(masks), dtype=np.int64)
        for i in range(n):
            popcount += (masks >> i) & 1
        self.sums = np.zeros((len(self.mu), len(masks)))
        for cap in range(1, n + 1):
            weights = np.empty((len(self.mu), n))
            for i, entries in enumerate(held):
                score = np.array([e[0] for e in entries])
                share = np.array([e[1] / min(e[2], cap) for e in entries])
                weights[:, i] = (score[None, :] + self.mu[:, None] * share[None, :]).min(axis=1)
            at = popcount == cap
            self.sums[:, at] = _subset_sums(weights)[:, at]

    def _bound(self, units: int) -> np.ndarray:
        """``bound[r, U]``: a lower bound on covering U with at most r half-units."""
        masks = self.masks
        has_half = bool(np.isfinite(self.half_value).any())
        least = np.where(np.isfinite(self.value), 2, 2 if has_half else 4)
        least[1 << np.flatnonzero(np.isfinite(self.half_value))] = 1
        least[0] = 0
        bound = np.empty((units + 1, len(masks)))
        for r in range(units + 1):
            bound[r] = (self.sums - self.mu[:, None] * r).max(axis=0)
            bound[r, least > r] = np.inf
        bound[:, 0] = 0.0
        exact = np.full(len(masks), np.inf)
        exact[0] = 0.0
        bound[0] = exact
        halves = np.flatnonzero(np.isfinite(self.half_value))
        for r in range(1, min(units, 3) + 1):
            previous, exact = exact, exact.copy()
            if r >= 2:
                exact = np.minimum(exact, self.value)
            for u in halves:
                holds = (masks >> u & 1).astype(bool)
                exact[holds] = np.minimum(exact[holds], self.half_value[u]
                                          + previous[masks[holds] ^ (1 << int(u))])
            bound[r] = exact
        return bound

    def solve(self, units: int) -> list[Network]:
        """The networks of an optimal selection within `units` half-units (which must
        pay for a cover)."""
        bound = self._bound(units)
        everything = (1 << self.problem.n) - 1
        best = [np.inf]
        best_sources: list[list[int]] = [[]]
        stack: list[int] = []

        def below(lower):  # Strictly better than the best so far, beyond rounding.
            if not np.isfinite(best[0]):
                return lower < np.inf
            return lower < best[0] - 1e-12 * max(1.0, abs(best[0]))

        def search(left: int, budget: int, total: float) -> None:
            t = (left & -left).bit_length() - 1
            block, cost, value, source = self.options[t]
            fits = ((block & (everything ^ left)) == 0) & (cost <= budget)
            block, cost, value, source = block[fits], cost[fits], value[fits], source[fits]
            rest = left ^ block
            lower = total + value + bound[budget - cost, rest]
            done = rest == 0
            if done.any():
                k = int(np.argmin(np.where(done, lower, np.inf)))
                if below(lower[k]):
                    best[0] = float(lower[k])
                    best_sources[0] = stack + [int(source[k])]
            going = np.flatnonzero(~done & below(lower))
            for k in going[np.argsort(lower[going], kind="stable")]:
                if not below(lower[k]):
                    break
                stack.append(int(source[k]))
                search(int(rest[k]), budget - int(cost[k]), total + float(value[k]))
                stack.pop()

        search(everything, units, 0.0)
        if not np.isfinite(best[0]):
            raise GroupingError(f"no cover of every task within {units / 2} (this is a bug: "
                                "the budget was checked against the cheapest cover)")
        return [self.problem.networks[i] for i in best_sources[0]]
