"""A whole grouping search: plan, train, estimate, search each budget, report, retrain.

What ``tfmtl-group`` runs (:func:`run_grouping`); every training goes through the run
store (:mod:`tfmtl.grouping.trainings`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import sys
from collections.abc import Sequence

from tfmtl.files import atomic_write_text
from tfmtl.grouping.networks import (
    HALF,
    BudgetError,
    GroupingError,
    Network,
    format_budget,
    parse_budget,
)
from tfmtl.grouping.plan import PlannedRun, plan_runs
from tfmtl.grouping.report import (
    ALL_IN_ONE,
    ALL_SEPARATE,
    GroupingReport,
    baseline_scores,
    budget_tables,
    write_groups_json,
)
from tfmtl.grouping.search import cheapest_cover, search_budgets
from tfmtl.grouping.trainings import GroupTrainer, estimates, group_scores, variant_name

GROUPS_FILE = "groups.json"
TABLES_FILE = "report.md"
NETWORKS_FILE = "networks.json"
PAIRS_PLOT = "pairs.png"
BUDGET_PLOT = "budget.png"


@dataclasses.dataclass(frozen=True)
class GroupingRequest:
    """What ``tfmtl-group`` was asked (its flags)."""

    config: str
    workdir: str
    budgets: Sequence[str]
    overrides: Sequence[str] = ()
    methods: str = "hoa"
    fraction: float = 0.2
    score: str = "loss"
    half_size: bool = False
    retrain: bool = False
    affinity_every: int = 10
    solver: str = "branch_and_bound"
    runs_dir: str = os.path.join("runs", "store")
    executor: str = "local"
    workers: int = 1
    ray_address: str = ""
    progress: bool = True
    seed: int = 0


@dataclasses.dataclass(frozen=True)
class GroupingOutcome:
    """What a search wrote and found."""

    report: GroupingReport
    tables: str
    paths: dict
    incomplete: bool


def _tasks(request: GroupingRequest) -> tuple[str, ...]:
    """The config's task names (resolved with its overrides), in the config's order (a
    ConfigDict's: sorted by name)."""
    from tfmtl.runs import _core

    loaded = _core.load_config(request.config, request.overrides, where="--config")
    return tuple(loaded.tasks.keys())


def _executor(request: GroupingRequest):
    from tfmtl.runs import LocalExecutor, RayExecutor

    if request.executor == "ray":
        return RayExecutor(request.ray_address, cpus_per_run=1)
    return LocalExecutor(request.workers)


@contextlib.contextmanager
def _ray_session(request: GroupingRequest):
    """With ``--executor=ray``, one Ray connection for the whole search (its stages are
    sweeps of their own, each of which would otherwise connect, or start a local Ray, and
    stop it again)."""
    if request.executor != "ray":
        yield
        return
    from tfmtl.runs.ray_executor import _import_ray

    ray = _import_ray()
    if ray.is_initialized():
        yield
        return
    ray.init(address=request.ray_address or None, include_dashboard=False,
             log_to_driver=False)
    try:
        yield
    finally:
        ray.shutdown()


def run_grouping(request: GroupingRequest) -> GroupingOutcome:
    """Runs the search `request` describes and writes its report into its workdir.

    Raises:
        GroupingError: a config with fewer than two tasks, a bad method, fraction or
            budget, or a budget below the cheapest cover of the tasks.
        RunsError: a config or override that does not load or validate.
    """
    with _ray_session(request):
        return _run_grouping(request)


def _run_grouping(request: GroupingRequest) -> GroupingOutcome:
    from tfmtl.runs import RunStore

    budgets = [parse_budget(b) for b in request.budgets]
    if not budgets:
        raise GroupingError("--budget: give at least one budget")
    tasks = _tasks(request)
    if len(tasks) < 2:
        raise GroupingError(f"{request.config}: one task ({', '.join(tasks)}): grouping "
                            "needs at least two")
    plan = plan_runs(tasks, request.methods, half_size=request.half_size,
                     fraction=request.fraction)
    # Every method's candidates hold the all-task network (cost 1), and half-size single
    # networks cost 0.5 each, so no cover of two or more tasks costs less than 1: a lower
    # budget fails here, before anything trains.
    low = [b for b in budgets if b < 1.0]
    if low:
        raise BudgetError(low[0], 1.0)
    trainer = GroupTrainer(request.config, request.overrides, RunStore(request.runs_dir),
                           _executor(request), score=request.score, seed=request.seed,
                           affinity_every=request.affinity_every, progress=request.progress)
    runs = trainer.train(plan.runs, tasks)
    found, missing = estimates(plan, runs)
    methods = {}
    for method, estimate in found.items():
        covered = tuple(t for t in estimate.tasks
                        if any(t in network.tasks for network in estimate.scores))
        if len(covered) < len(estimate.tasks):
            # A task whose every network failed: the answer for the others, marked partial.
            lost = [t for t in estimate.tasks if t not in covered]
            print(f"tfmtl-group: {method}: no network of {', '.join(lost)} finished: "
                  f"its selections cover {', '.join(covered) or 'no task'} only",
                  file=sys.stderr)
            if not covered:
                continue
            estimate = dataclasses.replace(estimate, tasks=covered, scores={
                n: v for n, v in estimate.scores.items() if n.tasks <= set(covered)})
        # The all-task network failed, say: the networks that finished may not cover the
        # tasks within a budget the plan could; those budgets get no answer (and the
        # failed run already marks the search incomplete).
        cheapest = cheapest_cover(estimate)
        affordable = [b for b in budgets if b >= cheapest]
        if len(affordable) < len(budgets):
            print(f"tfmtl-group: {method}: the networks that finished cover the tasks at a "
                  f"cost of {format_budget(cheapest)} at least: no answer at budget "
                  + ", ".join(format_budget(b) for b in budgets if b < cheapest),
                  file=sys.stderr)
        if affordable:
            methods[method] = search_budgets(estimate, affordable, solver=request.solver)
    measured = {}
    retrained = {}
    if request.retrain:
        measured, retrained = _retrain(trainer, methods, tasks, runs)
    incomplete = any(not run.finished for run in [*runs.values(), *retrained.values()])
    report = GroupingReport(tasks, request.score, methods, measured,
                            {m: g for m, g in missing.items() if g})
    full, _ = group_scores(runs)
    baselines = baseline_scores(full, tasks)
    tables = budget_tables(report, baselines)
    if retrained:
        tables += "\n" + _retrained_table(retrained, tasks)
    if request.half_size:
        tables += "\n" + _half_size_table(runs, tasks)
    os.makedirs(request.workdir, exist_ok=True)
    paths = {"groups": str(write_groups_json(os.path.join(request.workdir, GROUPS_FILE),
                                             report)),
             "tables": str(atomic_write_text(os.path.join(request.workdir, TABLES_FILE),
                                             tables + "\n"))}
    paths["networks"] = str(atomic_write_text(
        os.path.join(request.workdir, NETWORKS_FILE),
        json.dumps(_networks_json(runs, retrained, tasks), indent=1) + "\n"))
    paths.update(_plots(request.workdir, report, runs, found, baselines, tasks))
    return GroupingOutcome(report, tables, paths, incomplete)


def _retrain(trainer, methods, tasks, runs):
    """Each chosen set of networks at full length (the runs the search read are reused
    when they were full length), all-in-one and all-separate: each task's test score in
    the network the selection scores it by."""
    wanted: dict[tuple, PlannedRun] = {}
    for selections in methods.values():
        for selection in selections.values():
            for network in selection.networks:
                p = PlannedRun(network)
                wanted.setdefault(p.key, p)
    for network in [Network(frozenset(tasks)), *(Network(frozenset({t})) for t in tasks)]:
        p = PlannedRun(network)
        wanted.setdefault(p.key, p)
    done = {k: r for k, r in runs.items() if k in wanted and r.finished}
    done.update(trainer.train([p for k, p in wanted.items() if k not in done], tasks))
    measured = {}
    for method, selections in methods.items():
        measured[method] = {}
        for budget, selection in selections.items():
            scores = {}
            for task, chosen in selection.per_task.items():
                run = done[PlannedRun(selection.networks[chosen.network]).key]
                if run.finished and task in run.test:
                    scores[task] = run.test[task]
            if len(scores) == len(tasks):
                measured[method][budget] = scores
    return measured, done


def _retrained_table(retrained, tasks) -> str:
    """Test scores of all-in-one and all-separate, retrained."""
    everything = retrained.get(PlannedRun(Network(frozenset(tasks))).key)
    lines = ["## Retrained baselines (test)", "", "| | " + " | ".join(tasks) + " | total |",
             "|---|" + "---|" * (len(tasks) + 1)]
    rows = {ALL_IN_ONE: everything.test if everything and everything.finished else {}}
    separate = {}
    for task in tasks:
        run = retrained.get(PlannedRun(Network(frozenset({task}))).key)
        if run and run.finished:
            separate[task] = run.test.get(task)
    rows[ALL_SEPARATE] = separate
    for name, scores in rows.items():
        cells = [f"{scores[t]:.4g}" if scores.get(t) is not None else "–" for t in tasks]
        total = (f"{sum(scores[t] for t in tasks):.4g}"
                 if all(scores.get(t) is not None for t in tasks) else "–")
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {total} |")
    return "\n".join(lines) + "\n"


def _half_size_table(runs, tasks) -> str:
    """Each task's half-size network against its full-size one: the cost the search
    charges (0.5) beside the real ratio of trainable parameters."""
    lines = ["## Half-size networks: cost 0.5 in the search; their parameters", "",
             "| task | full | half | half / full |", "|---|---|---|---|"]
    for task in tasks:
        full = runs.get((Network(frozenset({task})), 1.0, False))
        half = runs.get((Network(frozenset({task}), HALF), 1.0, False))
        if full and half and full.parameters and half.parameters:
            lines.append(f"| {task} | {full.parameters:,} | {half.parameters:,} | "
                         f"{half.parameters / full.parameters:.2f} |")
    return "\n".join(lines) + "\n"


def _networks_json(runs, retrained, tasks) -> list:
    out = []
    for key, run in sorted({**runs, **retrained}.items(),
                           key=lambda kv: (kv[0][1], len(kv[0][0].tasks),
                                           sorted(kv[0][0].tasks), kv[0][0].size)):
        network, fraction, affinity = key
        out.append({"name": variant_name(run.planned, tasks),
                    "tasks": network.sorted_tasks(tasks), "size": network.size,
                    "fraction": fraction, "affinity": affinity, "run_id": run.run_id,
                    "status": "finished" if run.finished else "failed",
                    "error": run.error, "dev": dict(run.dev), "test": dict(run.test),
                    "parameters": run.parameters, "workdir": run.workdir})
    return out


def _plots(workdir, report, runs, found, baselines, tasks) -> dict:
    """The pair heatmap (with TAG's affinities when measured) and the budget curve; a
    plot that cannot be drawn (no pair measured; matplotlib missing) is skipped with a
    line on stderr."""
    from tfmtl.grouping.plots import plot_budget_curve, plot_pairs
    from tfmtl.grouping.trainings import read_affinity

    paths = {}
    full, _ = group_scores(runs)
    pairs = {g: v for g, v in full.items() if len(g) <= 2}
    affinity = None
    for (_, _, is_affinity), run in runs.items():
        if is_affinity and run.finished:
            affinity = read_affinity(run.workdir)
    try:
        if any(len(g) == 2 for g in pairs) or affinity is not None:
            paths["pairs"] = str(plot_pairs(os.path.join(workdir, PAIRS_PLOT), pairs, tasks,
                                            affinity=affinity))
        if report.methods:
            paths["budget"] = str(plot_budget_curve(
                os.path.join(workdir, BUDGET_PLOT), report,
                reference=found.get("exhaustive"), baselines=baselines))
    except (ImportError, GroupingError) as e:
        print(f"tfmtl-group: plots skipped: {e}", file=sys.stderr)
    return paths


__all__ = ["GroupingOutcome", "GroupingRequest", "run_grouping"]
