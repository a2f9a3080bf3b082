"""The results of a grouping search: ``groups.json`` and the per-budget tables.

``groups.json`` (written atomically)::

    {"tasks": ["chunk", "ner", "pos"],
     "score": "loss",
     "methods": {
       "hoa": {
         "2": {"networks": [{"tasks": ["chunk", "pos"], "size": "full"},
                            {"tasks": ["ner"], "size": "half"}],
               "total": 1.23,
               "per_task": {"chunk": {"score": 0.4, "network": 0}, ...},
               "measured": {"per_task": {"chunk": 0.41, ...}, "total": 1.25}}}},
     "missing": {"hoa": [["chunk", "ner"]]}}

``methods`` maps each method to its budgets (as strings: ``"2"``, ``"2.5"``),
each to the chosen networks (tasks in the task set's order), the estimated
total, and each task's estimated score with the index of the network it comes
from. Scores are lower-is-better (``score``: ``"loss"``, or ``"metric"`` for a
metric the caller negated); TAG's are negated affinities. ``measured`` (the
retrained networks' scores) and ``missing`` (the runs a method lacked, so its
result is incomplete) appear only when given.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from tfmtl.files import atomic_write_text
from tfmtl.grouping.estimates import GroupScores
from tfmtl.grouping.networks import (
    SIZES,
    GroupingError,
    Network,
    as_network,
    format_budget,
    parse_budget,
    validate_tasks,
)
from tfmtl.grouping.search import Selection, TaskScore

SCORES = ("loss", "metric")
ALL_IN_ONE = "all-in-one"
ALL_SEPARATE = "all-separate"


@dataclasses.dataclass(frozen=True)
class GroupingReport:
    """What a grouping search found, per method and budget.

    Attributes:
        tasks: the task names, in order.
        score: what the scores are: ``"loss"`` or ``"metric"`` (lower is better).
        methods: ``{method: {budget: Selection}}``.
        measured: ``{method: {budget: {task: score}}}``, the chosen networks
            retrained and measured (optional).
        missing: ``{method: (group, ...)}``, the runs a method lacked (optional).
    """

    tasks: tuple[str, ...]
    score: str
    methods: Mapping[str, Mapping[float, Selection]]
    measured: Mapping[str, Mapping[float, Mapping[str, float]]] = dataclasses.field(
        default_factory=dict)
    missing: Mapping[str, tuple[frozenset[str], ...]] = dataclasses.field(default_factory=dict)

    def __post_init__(self):
        object.__setattr__(self, "tasks", validate_tasks(self.tasks))
        if self.score not in SCORES:
            raise GroupingError(f"score must be one of {SCORES}, got {self.score!r}")
        for method, budgets in self.measured.items():
            for budget, per_task in budgets.items():
                if method not in self.methods or budget not in self.methods[method]:
                    raise GroupingError(f"measured scores for {method} at budget "
                                        f"{format_budget(budget)}, which has no selection")
                lacking = sorted(set(self.tasks) - set(per_task))
                if lacking:
                    raise GroupingError(f"measured scores for {method} at budget "
                                        f"{format_budget(budget)} lack {', '.join(lacking)}")


def _network_json(network: Network, tasks: Sequence[str]) -> dict[str, Any]:
    return {"tasks": network.sorted_tasks(tasks), "size": network.size}


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise GroupingError(f"groups.json: {where} must be a number, got {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise GroupingError(f"groups.json: {where} must be finite, got {value!r}")
    return value


def groups_json(report: GroupingReport) -> dict[str, Any]:
    """The ``groups.json`` object of `report`."""
    methods: dict[str, dict[str, Any]] = {}
    for method, budgets in report.methods.items():
        methods[method] = {}
        for budget, selection in budgets.items():
            entry: dict[str, Any] = {
                "networks": [_network_json(n, report.tasks) for n in selection.networks],
                "total": selection.total,
                # Every task; a method missing runs may cover fewer (a partial answer).
                "per_task": {task: {"score": selection.per_task[task].score,
                                    "network": selection.per_task[task].network}
                             for task in report.tasks if task in selection.per_task},
            }
            measured = report.measured.get(method, {}).get(budget)
            if measured is not None:
                per_task = {task: float(measured[task]) for task in report.tasks}
                entry["measured"] = {"per_task": per_task,
                                     "total": math.fsum(per_task.values())}
            methods[method][format_budget(budget)] = entry
    data: dict[str, Any] = {"tasks": list(report.tasks), "score": report.score,
                            "methods": methods}
    missing = {method: [sorted(group, key=report.tasks.index) for group in groups]
               for method, groups in report.missing.items() if groups}
    if missing:
        data["missing"] = missing
    return data


def report_from_json(data: Mapping[str, Any]) -> GroupingReport:
    """The :class:`GroupingReport` of a ``groups.json`` object (checked)."""
    if not isinstance(data, Mapping):
        raise GroupingError("groups.json: expected an object")
    unknown = sorted(set(data) - {"tasks", "score", "methods", "missing"})
    if unknown or not {"tasks", "score", "methods"} <= set(data):
        raise GroupingError("groups.json: expected the keys tasks, score, methods (and "
                            f"optionally missing), got {sorted(data)}")
    tasks = validate_tasks(data["tasks"])
    methods: dict[str, dict[float, Selection]] = {}
    measured: dict[str, dict[float, dict[str, float]]] = {}
    if not isinstance(data["methods"], Mapping):
        raise GroupingError("groups.json: methods must be an object")
    for method, budgets in data["methods"].items():
        methods[method] = {}
        if not isinstance(budgets, Mapping):
            raise GroupingError(f"groups.json: methods.{method} must map budgets to results")
        for key, entry in budgets.items():
            where = f"methods.{method}.{key}"
            budget = parse_budget(key)
            if not isinstance(entry, Mapping) or not {"networks", "total", "per_task"} <= set(
                    entry) or set(entry) - {"networks", "total", "per_task", "measured"}:
                raise GroupingError(f"groups.json: {where} must hold networks, total, per_task "
                                    "(and optionally measured)")
            networks = []
            for network in entry["networks"]:
                if not isinstance(network, Mapping) or set(network) != {"tasks", "size"} \
                        or network["size"] not in SIZES:
                    raise GroupingError(f"groups.json: {where}: each network is "
                                        f'{{"tasks": [...], "size": "full"|"half"}}')
                networks.append(Network(frozenset(network["tasks"]), network["size"]))
            per_task = {}
            partial = method in data.get("missing", {})
            if (set(entry["per_task"]) != set(tasks) and not partial) or not entry["per_task"] \
                    or set(entry["per_task"]) - set(tasks):
                raise GroupingError(f"groups.json: {where}.per_task must name every task (a "
                                    "method with missing runs: the tasks it covers)")
            for task in (t for t in tasks if t in entry["per_task"]):
                item = entry["per_task"][task]
                if not isinstance(item, Mapping) or set(item) != {"score", "network"}:
                    raise GroupingError(f"groups.json: {where}.per_task.{task} must hold "
                                        "score and network")
                index = item["network"]
                if isinstance(index, bool) or not isinstance(index, int) \
                        or not 0 <= index < len(networks) \
                        or task not in networks[index].tasks:
                    raise GroupingError(f"groups.json: {where}.per_task.{task}.network must be "
                                        "the index of a chosen network that holds the task")
                per_task[task] = TaskScore(_number(item["score"], f"{where}.per_task.{task}"),
                                           index)
            methods[method][budget] = Selection(
                budget, tuple(networks), per_task, _number(entry["total"], f"{where}.total"))
            if "measured" in entry:
                scores = entry["measured"].get("per_task") \
                    if isinstance(entry["measured"], Mapping) else None
                if not isinstance(scores, Mapping):
                    raise GroupingError(f"groups.json: {where}.measured.per_task must be an "
                                        "object")
                measured.setdefault(method, {})[budget] = {
                    task: _number(value, f"{where}.measured.{task}")
                    for task, value in scores.items()}
    missing = {method: tuple(frozenset(group) for group in groups)
               for method, groups in data.get("missing", {}).items()}
    return GroupingReport(tasks, data["score"], methods, measured, missing)


def write_groups_json(path: str | os.PathLike, report: GroupingReport) -> Path:
    """Writes ``groups.json`` atomically (a reader never sees half of it)."""
    text = json.dumps(groups_json(report), indent=2, allow_nan=False) + "\n"
    return atomic_write_text(path, text)


def read_groups_json(path: str | os.PathLike) -> GroupingReport:
    """Reads and checks a ``groups.json``."""
    with open(path, encoding="utf-8") as stream:
        return report_from_json(json.load(stream))


def baseline_scores(scores: GroupScores, tasks: Sequence[str]) -> dict[str, dict[str, float]]:
    """The all-in-one and all-separate per-task scores, where `scores` has them.

    Args:
        scores: measured ``{frozenset(group): {task: score}}`` (full-length runs).
        tasks: the task names.

    Returns:
        ``{"all-in-one": {task: score}, "all-separate": {task: score}}``, each
        only when every run it needs is in `scores`.
    """
    tasks = validate_tasks(tasks)
    by_group = {as_network(key).tasks: values for key, values in scores.items()}
    found = {}
    everything = by_group.get(frozenset(tasks))
    if everything is not None:
        found[ALL_IN_ONE] = {task: float(everything[task]) for task in tasks}
    if all(frozenset({task}) in by_group for task in tasks):
        found[ALL_SEPARATE] = {task: float(by_group[frozenset({task})][task]) for task in tasks}
    return found


def _value(number: float) -> str:
    return f"{number:.4g}"


def budget_tables(report: GroupingReport,
                  baselines: Mapping[str, Mapping[str, float]] | None = None) -> str:
    """A Markdown table per budget: each method's networks, each task's score and the network
    it comes from, the total and the cost, beside the baselines (:func:`baseline_scores`)."""
    baselines = dict(baselines or {})
    budgets = sorted({budget for selections in report.methods.values() for budget in selections})
    lines = [f"## Task groupings (score: {report.score}, lower is better)", ""]
    for method, groups in report.missing.items():
        if groups:
            lines.append(f"*{method} is incomplete: no run of "
                         + ", ".join("+".join(sorted(g, key=report.tasks.index)) for g in groups)
                         + ".*")
    if report.missing:
        lines.append("")
    for budget in budgets:
        columns: list[tuple[str, dict[str, str], str, str, str]] = []
        for method, selections in report.methods.items():
            selection = selections.get(budget)
            if selection is None:
                continue
            labels = [n.label(report.tasks) for n in selection.networks]
            cells = {task: f"{_value(entry.score)} ({labels[entry.network]})"
                     for task, entry in selection.per_task.items()}
            header = method + (" (negated affinity)" if method == "tag" else "")
            columns.append((header, cells, _value(selection.total),
                            "; ".join(labels), format_budget(selection.cost)))
            measured = report.measured.get(method, {}).get(budget)
            if measured is not None:
                columns.append((f"{method} measured",
                                {task: _value(measured[task]) for task in report.tasks},
                                _value(math.fsum(measured[t] for t in report.tasks)), "", ""))
        for name, scores in baselines.items():
            cost = 1 if name == ALL_IN_ONE else len(report.tasks) if name == ALL_SEPARATE else ""
            columns.append((name, {task: _value(scores[task]) for task in report.tasks},
                            _value(math.fsum(scores[t] for t in report.tasks)), "",
                            str(cost)))
        lines += [f"### Budget {format_budget(budget)}", "",
                  "| task | " + " | ".join(c[0] for c in columns) + " |",
                  "|---|" + "---|" * len(columns)]
        for task in report.tasks:
            lines.append(f"| {task} | " + " | ".join(c[1].get(task, "") for c in columns) + " |")
        lines.append("| **total** | " + " | ".join(f"**{c[2]}**" for c in columns) + " |")
        lines.append("| networks | " + " | ".join(c[3] for c in columns) + " |")
        lines.append("| cost | " + " | ".join(c[4] for c in columns) + " |")
        lines.append("")
    return "\n".join(lines)


def write_budget_tables(path: str | os.PathLike, report: GroupingReport,
                        baselines: Mapping[str, Mapping[str, float]] | None = None) -> Path:
    """Writes :func:`budget_tables` atomically."""
    return atomic_write_text(path, budget_tables(report, baselines))
