"""The grouping search's figures: the pairwise heatmap and the budget curve (matplotlib).

matplotlib (the ``bench`` extra) is imported when a figure is drawn. Figures are
drawn on a :class:`matplotlib.figure.Figure` (no pyplot, no global state) and
written atomically as PNG.
"""

from __future__ import annotations

import io
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from tfmtl.files import atomic_write_bytes
from tfmtl.grouping.estimates import Estimate, GroupScores, affinity_matrix
from tfmtl.grouping.networks import GroupingError, as_network, validate_tasks
from tfmtl.grouping.report import ALL_IN_ONE, ALL_SEPARATE, GroupingReport
from tfmtl.grouping.search import evaluate


def _figure(width: float, height: float):
    try:
        from matplotlib.figure import Figure
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ImportError("the grouping plots need matplotlib: pip install 'tfmtl[bench]'") \
            from error
    return Figure(figsize=(width, height), layout="constrained")


def _save(figure, path: str | os.PathLike) -> Path:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=120)
    return atomic_write_bytes(path, buffer.getvalue())


def pair_changes(scores: GroupScores, tasks: Sequence[str]) -> np.ndarray:
    """``M[i, j]``: the relative change of task i's score when trained with task j.

    ``(score of i in the pair ij - score of i alone) / |score of i alone|``:
    negative is better (a lower loss). NaN where a run is absent (and on the
    diagonal).
    """
    tasks = validate_tasks(tasks)
    by_group = {as_network(key): values for key, values in scores.items()}
    change = np.full((len(tasks), len(tasks)), np.nan)
    for i, task in enumerate(tasks):
        alone = by_group.get(as_network({task}))
        if alone is None or alone[task] == 0:
            continue
        for j, other in enumerate(tasks):
            pair = by_group.get(as_network({task, other})) if i != j else None
            if pair is not None:
                change[i, j] = (pair[task] - alone[task]) / abs(alone[task])
    return change


def _heatmap(axes, matrix: np.ndarray, tasks: Sequence[str], title: str, colormap: str,
             label: str, percent: bool):
    finite = matrix[np.isfinite(matrix)]
    limit = float(np.abs(finite).max()) if finite.size else 1.0
    limit = limit or 1.0
    image = axes.imshow(np.ma.masked_invalid(matrix), cmap=colormap, vmin=-limit, vmax=limit)
    axes.set_xticks(range(len(tasks)), labels=list(tasks), rotation=45, ha="right")
    axes.set_yticks(range(len(tasks)), labels=list(tasks))
    axes.set_xlabel("trained with (column)")
    axes.set_ylabel("task scored (row)")
    axes.set_title(title)
    if len(tasks) <= 12:
        for (i, j), value in np.ndenumerate(matrix):
            if np.isfinite(value):
                text = f"{100 * value:+.1f}%" if percent else f"{value:.3g}"
                axes.text(j, i, text, ha="center", va="center", fontsize=8)
    axes.figure.colorbar(image, ax=axes, label=label, shrink=0.8)


def plot_pairs(path: str | os.PathLike, scores: GroupScores, tasks: Sequence[str], *,
               affinity: Mapping[str, Mapping[str, float]] | np.ndarray | None = None,
               title: str | None = None) -> Path:
    """Draws the pairwise heatmap: each task's score change in each pair (and TAG's affinities).

    Args:
        path: the PNG to write (atomically).
        scores: measured ``{frozenset(group): {task: score}}`` with the single
            tasks and the pairs (lower is better).
        tasks: the task names, in the order of the rows and columns.
        affinity: TAG's ``{i: {j: Z(i->j)}}`` (or an array in `tasks` order); a
            second panel shows, at row j and column i, the affinity of i onto j.
        title: the figure's title.

    Returns:
        The path written.
    """
    tasks = validate_tasks(tasks, minimum=2)
    change = pair_changes(scores, tasks)
    panels = 1 if affinity is None else 2
    side = 1.6 + 0.55 * len(tasks)
    figure = _figure(side * panels + 1.2 * panels, side + 0.8)
    axes = figure.subplots(1, panels, squeeze=False)[0]
    _heatmap(axes[0], change, tasks, "score change in the pair vs alone", "RdYlGn_r",
             "relative change (negative: better)", percent=True)
    if affinity is not None:
        _, z = affinity_matrix(affinity, tasks)
        onto = z.T.copy()  # Row j, column i: the affinity of i onto j.
        np.fill_diagonal(onto, np.nan)
        _heatmap(axes[1], onto, tasks, "TAG affinity of column onto row", "RdYlGn",
                 "affinity (positive: helps)", percent=False)
    if title:
        figure.suptitle(title)
    return _save(figure, path)


def plot_budget_curve(path: str | os.PathLike, report: GroupingReport, *,
                      reference: Estimate | None = None,
                      baselines: Mapping[str, Mapping[str, float]] | None = None,
                      title: str | None = None) -> Path:
    """Draws the budget curve: the total score of each method's pick against the budget.

    Each method is one line. Without `reference`, a method's line is its own
    estimated totals (TAG's, in negated affinity, on a second axis); with it
    (for example the exhaustive measurements), every pick is scored by the
    reference (:func:`~tfmtl.grouping.search.evaluate`), as in Standley et
    al.'s figure, and picks it cannot score are left out. Measured totals of
    retrained picks are dashed; the baselines are points at their cost (1 for
    all-in-one, the number of tasks for all-separate).

    Returns:
        The path written.
    """
    if not report.methods:
        raise GroupingError("the report has no method to draw")
    figure = _figure(6.4, 4.2)
    axes = figure.subplots()
    second = None
    markers = "osD^v<>ph*"
    for k, (method, selections) in enumerate(report.methods.items()):
        budgets = sorted(selections)
        totals = []
        for budget in budgets:
            selection = selections[budget]
            if reference is not None:
                try:
                    selection = evaluate(selection.networks, reference)
                except GroupingError:
                    totals.append(math.nan)
                    continue
            totals.append(selection.total)
        target = axes
        label = method
        if method == "tag" and reference is None:
            second = second or axes.twinx()
            second.set_ylabel("TAG total (negated affinity)")
            target, label = second, "tag (negated affinity, right axis)"
        target.plot(budgets, totals, marker=markers[k % len(markers)], color=f"C{k}",
                    label=label)
        measured = report.measured.get(method, {})
        if measured:
            points = sorted(measured)
            axes.plot(points, [math.fsum(measured[b][t] for t in report.tasks) for b in points],
                      linestyle="--", marker=markers[k % len(markers)], color=f"C{k}",
                      label=f"{method} measured")
    for name, scores in (baselines or {}).items():
        cost, marker = {ALL_IN_ONE: (1, "x"), ALL_SEPARATE: (len(report.tasks), "+")}.get(
            name, (None, None))
        if cost is not None:
            axes.scatter([cost], [math.fsum(scores[t] for t in report.tasks)], marker=marker,
                         s=80, color="black", zorder=3, label=name)
    axes.set_xlabel("budget (full-size networks)")
    axes.set_ylabel(f"total {report.score}" + (f" ({reference.method})" if reference else "")
                    + " (lower is better)")
    handles, labels = axes.get_legend_handles_labels()
    if second is not None:
        more = second.get_legend_handles_labels()
        handles, labels = handles + more[0], labels + more[1]
    axes.legend(handles, labels, fontsize=8)
    axes.grid(alpha=0.3)
    if title:
        axes.set_title(title)
    return _save(figure, path)
