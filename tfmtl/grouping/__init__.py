"""Which tasks to train together: plans, estimates, the budgeted search, reports.

The library core of ``tfmtl-group`` (Standley et al. 2019; Fifty et al. 2021),
pure Python, NumPy and SciPy (matplotlib, imported when a plot is drawn), and its engine:

* :mod:`~tfmtl.grouping.networks`: a :class:`Network` is a group of tasks at a
  size (full, cost 1; half, cost 0.5, single tasks only).
* :mod:`~tfmtl.grouping.plan`: :func:`plan_runs`, the trainings each method
  needs (HOA: singles and pairs; exhaustive: every group; ESA: the same at a
  fraction of the steps; TAG: one all-task run with affinities).
* :mod:`~tfmtl.grouping.estimates`: each candidate network's per-task scores,
  :func:`measured`, :func:`hoa` or :func:`tag` (lower is better).
* :mod:`~tfmtl.grouping.search`: :func:`search`, the exact best set of networks
  under a budget (branch and bound, or SciPy's ``milp``).
* :mod:`~tfmtl.grouping.report`: the per-budget Markdown table and
  ``groups.json``; :mod:`~tfmtl.grouping.plots`: the pairwise heatmap and the
  budget curve.

* :mod:`~tfmtl.grouping.network_config`, :mod:`~tfmtl.grouping.trainings` and
  :mod:`~tfmtl.grouping.search_run`: the ``tfmtl-group`` engine, which trains the
  planned networks through the run store (:mod:`tfmtl.runs`; these import
  TensorFlow when they train) and writes the report.
"""

from tfmtl.grouping.estimates import Estimate, affinity_matrix, hoa, measured, tag
from tfmtl.grouping.networks import (
    FULL,
    HALF,
    BudgetError,
    GroupingError,
    Network,
    as_network,
    budget_units,
    format_budget,
    groups,
    parse_budget,
    validate_tasks,
)
from tfmtl.grouping.plan import METHODS, GroupingPlan, PlannedRun, plan_runs
from tfmtl.grouping.plots import pair_changes, plot_budget_curve, plot_pairs
from tfmtl.grouping.report import (
    ALL_IN_ONE,
    ALL_SEPARATE,
    GroupingReport,
    baseline_scores,
    budget_tables,
    groups_json,
    read_groups_json,
    report_from_json,
    write_budget_tables,
    write_groups_json,
)
from tfmtl.grouping.search import (
    SOLVERS,
    Selection,
    TaskScore,
    cheapest_cover,
    evaluate,
    search,
    search_budgets,
)

__all__ = [
    "ALL_IN_ONE",
    "ALL_SEPARATE",
    "FULL",
    "HALF",
    "METHODS",
    "SOLVERS",
    "BudgetError",
    "Estimate",
    "GroupingError",
    "GroupingPlan",
    "GroupingReport",
    "Network",
    "PlannedRun",
    "Selection",
    "TaskScore",
    "affinity_matrix",
    "as_network",
    "baseline_scores",
    "budget_tables",
    "budget_units",
    "cheapest_cover",
    "evaluate",
    "format_budget",
    "groups",
    "groups_json",
    "hoa",
    "measured",
    "pair_changes",
    "parse_budget",
    "plan_runs",
    "plot_budget_curve",
    "plot_pairs",
    "read_groups_json",
    "report_from_json",
    "search",
    "search_budgets",
    "tag",
    "validate_tasks",
    "write_budget_tables",
    "write_groups_json",
]
