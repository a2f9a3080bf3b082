"""An estimate as bit masks: what both solvers of :mod:`tfmtl.grouping.search` read."""

from __future__ import annotations

from tfmtl.grouping.estimates import Estimate
from tfmtl.grouping.networks import GroupingError


class Problem:
    """The candidate networks of an estimate, each as a bit mask of its tasks.

    Attributes:
        tasks: the task names; task i is bit ``1 << i``.
        networks: the candidate networks, in the estimate's order.
        masks: each network's tasks as a bit mask.
        units: each network's cost in halves of a full network (2 or 1).
        scores: each network's ``{task: score}``.
    """

    def __init__(self, estimate: Estimate):
        self.tasks = tuple(estimate.tasks)
        self.n = len(self.tasks)
        bit = {task: 1 << i for i, task in enumerate(self.tasks)}
        self.networks = list(estimate.scores)
        self.masks = [sum(bit[t] for t in network.tasks) for network in self.networks]
        self.units = [network.units for network in self.networks]
        self.scores = [estimate.scores[network] for network in self.networks]
        covered = 0
        for mask in self.masks:
            covered |= mask
        lacking = [task for task in self.tasks if not covered & bit[task]]
        if lacking:
            raise GroupingError(f"no {estimate.method} candidate network holds task(s) "
                                f"{', '.join(lacking)}: no budget covers them")

    def cheapest_units(self) -> int:
        """The fewest half-units of networks that cover every task.

        Breadth first over the sets of tasks covered; a full network inside
        another is never needed for a cover.
        """
        full = sorted({m for m, u in zip(self.masks, self.units, strict=True) if u == 2},
                      key=lambda m: -bin(m).count("1"))
        maximal: list[int] = []
        for mask in full:
            if not any(mask & other == mask for other in maximal):
                maximal.append(mask)
        half = [m for m, u in zip(self.masks, self.units, strict=True) if u == 1]
        target = (1 << self.n) - 1
        reached = {0: {0}}  # units -> the sets of tasks first covered at that cost
        seen = {0}
        units = 0
        while target not in seen:  # Ends: every task is in some candidate (checked above).
            units += 1
            found = {m | h for m in reached.get(units - 1, ()) for h in half}
            found.update(m | f for m in reached.get(units - 2, ()) for f in maximal)
            reached[units] = found - seen
            seen |= found
        return units
