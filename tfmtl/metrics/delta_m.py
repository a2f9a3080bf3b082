"""Δm: the mean relative change of a multi-task model over single-task baselines."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Collection, Mapping


@dataclasses.dataclass(frozen=True)
class DeltaM:
    """A Δm and its terms.

    Attributes:
        value: Δm in percent (positive: better than the baselines on average).
        per_task: each task's relative change in percent, signed so that positive is
            better, in the order of the baselines.
    """

    value: float
    per_task: dict[str, float]


def delta_m(scores: Mapping[str, float], baselines: Mapping[str, float],
            lower_is_better: Collection[str] = ()) -> DeltaM:
    """The average relative improvement of `scores` over `baselines`, each task in its
    metric's direction: ``Δm = 100/K Σ_k (-1)^l_k (M_k - B_k) / B_k``, with ``l_k = 1``
    when lower is better for task k's metric (perplexity) and 0 when higher is
    (accuracy, F1).

    Args:
        scores: ``M_k``, the multi-task model's value of each task's metric (tasks without
            a baseline are left out).
        baselines: ``B_k``, the single-task baseline's value of the same metric; Δm
            averages over these tasks.
        lower_is_better: the tasks whose metric is better lower.

    Returns:
        The :class:`DeltaM`.

    Raises:
        ValueError: no baseline, a task of `baselines` without a score, or a baseline of 0
            or a value that is not finite (the message names the task).

    Reference:
        Maninis, Radosavovic and Kokkinos, "Attentive single-tasking of multiple tasks",
        CVPR 2019.

    Example:
        >>> delta_m({"pos": 99.0, "lm": 110.0}, {"pos": 88.0, "lm": 100.0}, {"lm"})
        DeltaM(value=1.25, per_task={'pos': 12.5, 'lm': -10.0})
    """
    if not baselines:
        raise ValueError("no baselines: Δm averages over the tasks with one")
    per_task = {}
    for task, baseline in baselines.items():
        if task not in scores:
            raise ValueError(f"task {task!r} has a baseline but no score")
        score = scores[task]
        if not math.isfinite(baseline) or baseline == 0:
            raise ValueError(f"task {task!r}: the baseline {baseline!r} has no relative "
                             "change; it must be finite and not 0")
        if not math.isfinite(score):
            raise ValueError(f"task {task!r}: the score {score!r} is not finite")
        sign = -1.0 if task in lower_is_better else 1.0
        per_task[task] = 100.0 * sign * (score - baseline) / baseline
    return DeltaM(sum(per_task.values()) / len(per_task), per_task)
