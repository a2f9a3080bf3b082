"""The report of a sweep, per metric: mean ± sd over seeds, the values per seed, and the
difference of each variant to the baseline with a paired bootstrap interval."""

from __future__ import annotations

import os
import statistics
from collections.abc import Sequence
from typing import Any

from tfmtl.files import atomic_write_text
from tfmtl.runs import paired_bootstrap
from tfmtl.runs.run_store import FINISHED, write_json_atomic
from tfmtl.runs.sweep import SweepResult

# Sizes, not scores: left out of the report.
_COUNTS = ("tokens", "oov_tokens", "examples")
REPORT_JSON = "report.json"
REPORT_MARKDOWN = "report.md"


def _metric_keys(metrics: dict[str, Any]) -> list[tuple[str, str, str]]:
    keys = []
    for split in ("test", "dev"):
        for task, scores in (metrics.get(split) or {}).items():
            for name, value in scores.items():
                if name not in _COUNTS and isinstance(value, int | float):
                    keys.append((split, task, name))
    return keys


def sweep_report(result: SweepResult, *, resamples: int = 1000, confidence: float = 0.95,
                 seed: int = 0) -> dict[str, Any]:
    """Builds the report of a sweep (a JSON-able dict; :func:`report_markdown` renders it).

    Every test and dev metric of ``metrics.json`` gets mean ± sd and the values
    per seed; test metrics the stored predictions can recompute (span F1,
    precision and recall, token and OOV accuracy, classification accuracy and
    macro F1) also get, for every variant but the baseline, a paired bootstrap
    interval of the difference over test examples.

    Args:
        result: what :meth:`Sweep.execute` returned.
        resamples: bootstrap resamples.
        confidence: the intervals' level.
        seed: seeds the bootstrap draws.
    """
    sweep, store = result.sweep, result.store
    variants = [v.name for v in sweep.variants]
    finished = [e for e in result.entries if e.status == FINISHED]
    metrics_of = {e.run_id: store.metrics(e.run_id) for e in finished}
    keys: list[tuple[str, str, str]] = []
    for entry in finished:
        for key in _metric_keys(metrics_of[entry.run_id]):
            if key not in keys:
                keys.append(key)
    predictions_cache: dict[str, dict] = {}

    def predictions(run_id: str) -> dict:
        if run_id not in predictions_cache:
            predictions_cache[run_id] = store.predictions(run_id)
        return predictions_cache[run_id]

    report_metrics = {}
    for split, task, name in keys:
        per_variant = {}
        for variant in variants:
            cells = [e for e in result.entries if e.variant == variant]
            values = {}
            for e in cells:
                if e.status == FINISHED:
                    value = metrics_of[e.run_id].get(split, {}).get(task, {}).get(name)
                    if value is not None:
                        values[str(e.seed)] = value
            numbers = list(values.values())
            per_variant[variant] = {
                "n": len(numbers),
                "mean": statistics.mean(numbers) if numbers else None,
                "sd": statistics.stdev(numbers) if len(numbers) > 1 else None,
                "per_seed": values,
                "failed_seeds": [e.seed for e in cells if e.status != FINISHED],
            }
        comparisons = {}
        base = per_variant[sweep.baseline]
        for variant in variants:
            if variant == sweep.baseline:
                continue
            mine = per_variant[variant]
            if mine["mean"] is None or base["mean"] is None:
                side_failed = any(len(per_variant[v]["failed_seeds"]) == sum(
                    e.variant == v for e in result.entries) for v in (variant, sweep.baseline))
                comparisons[variant] = {"difference": None, "note": (
                    "no finished run on one side" if side_failed
                    else "not a metric of one side")}
                continue
            comparison: dict[str, Any] = {"difference": mine["mean"] - base["mean"]}
            if split == "test":
                sides = []
                for v in (variant, sweep.baseline):
                    sides.append([predictions(e.run_id).get(task) for e in finished
                                  if e.variant == v])
                if all(side and all(p is not None and name in
                                    paired_bootstrap.supported_metrics(p) for p in side)
                       for side in sides):
                    try:
                        interval = paired_bootstrap.paired_bootstrap(
                            sides[0], sides[1], name, resamples=resamples,
                            confidence=confidence, seed=seed)
                        comparison["bootstrap"] = interval.to_json()
                    except ValueError as e:
                        comparison["note"] = f"no bootstrap: {e}"
            comparisons[variant] = comparison
        report_metrics[f"{split}/{task}/{name}"] = {
            "split": split, "task": task, "metric": name, "variants": per_variant,
            "vs_baseline": comparisons,
        }

    unique = {e.run_id: e for e in result.entries}
    steps = sum(int(e.record.get("steps") or 0) for e in unique.values() if e.status == FINISHED)
    run_wall = sum(float(e.record.get("wall_s") or 0.0) for e in unique.values()
                   if e.status == FINISHED)
    return {
        "sweep": {**sweep.describe(), "runs_dir": store.root},
        "baseline": sweep.baseline,
        "compute": {
            "cells": len(result.entries), "runs": len(unique), "trained": result.trained,
            "cached": result.cached, "failed": result.failed, "steps": steps,
            "run_wall_s": round(run_wall, 3), "sweep_wall_s": round(result.wall_s, 3),
            "executor": result.executor,
        },
        "runs": [{
            "variant": e.variant, "seed": e.seed, "id": e.run_id, "status": e.status,
            "cached": e.cached, "error": e.error, "steps": e.record.get("steps"),
            "wall_s": e.record.get("wall_s"),
            "placement": (e.record.get("attempts") or [{}])[-1].get("placement"),
        } for e in result.entries],
        "metrics": report_metrics,
        "main_metrics": main_metrics(report_metrics),
    }


def main_metrics(report_metrics: dict[str, Any]) -> list[str]:
    """Per task, its test span F1 when it has one, else its test accuracy."""
    keys = []
    tasks = []
    for entry in report_metrics.values():
        if entry["split"] == "test" and entry["task"] not in tasks:
            tasks.append(entry["task"])
    for task in tasks:
        for name in ("f1", "accuracy"):
            if f"test/{task}/{name}" in report_metrics:
                keys.append(f"test/{task}/{name}")
                break
    return keys


def _number(value: float | None, sign: bool = False) -> str:
    if value is None:
        return "–"
    return f"{value:+.2f}" if sign else f"{value:.2f}"


def metric_table(report: dict[str, Any], key: str) -> str:
    """One metric's Markdown table."""
    entry = report["metrics"][key]
    level = None
    for comparison in entry["vs_baseline"].values():
        if "bootstrap" in comparison:
            level = comparison["bootstrap"]["confidence"]
    ci = f" [{level:.0%} CI]" if level else ""
    lines = [f"### {entry['split']} {entry['task']} {entry['metric']}", "",
             f"| variant | mean ± sd | per seed | Δ vs {report['baseline']}{ci} | p |",
             "|---|---|---|---|---|"]
    for variant, stats in entry["variants"].items():
        mean = _number(stats["mean"])
        if stats["sd"] is not None:
            mean += f" ± {stats['sd']:.2f}"
        # A seed whose run finished without this metric (an auxiliary task another
        # variant lacks) is "–", not "failed".
        seeds = [f"{stats['per_seed'][str(s)]:.2f}" if str(s) in stats["per_seed"]
                 else "failed" if s in stats["failed_seeds"] else "–"
                 for s in report["sweep"]["seeds"]]
        delta, p = "", ""
        comparison = entry["vs_baseline"].get(variant)
        if comparison is not None:
            delta = _number(comparison["difference"], sign=True)
            if "bootstrap" in comparison:
                b = comparison["bootstrap"]
                delta += f" [{b['low']:+.2f}, {b['high']:+.2f}]"
                p = f"{b['p_value']:.3f}"
            elif comparison.get("note"):
                delta += f" ({comparison['note']})"
        lines.append(f"| {variant} | {mean} | {', '.join(seeds)} | {delta} | {p} |")
    return "\n".join(lines)


def report_markdown(report: dict[str, Any], metrics: Sequence[str] | None = None) -> str:
    """The report as Markdown: compute spent, failed runs, then a table per metric.

    Args:
        report: from :func:`sweep_report`.
        metrics: the metric keys (``test/chunk/f1``) to show (default: all).
    """
    sweep, compute = report["sweep"], report["compute"]
    lines = [
        "# Sweep report", "",
        f"Config `{sweep['config']}`, seeds {', '.join(str(s) for s in sweep['seeds'])}, "
        f"{len(sweep['variants'])} variants, baseline `{report['baseline']}`; "
        f"run store `{sweep['runs_dir']}`.", "",
        f"Compute: {compute['runs']} run{'' if compute['runs'] == 1 else 's'} "
        f"({compute['trained']} trained now, "
        f"{compute['cached']} cached, {compute['failed']} failed), {compute['steps']} "
        f"training steps, {compute['run_wall_s']:.0f} s of run wall time; this sweep took "
        f"{compute['sweep_wall_s']:.0f} s ({compute['executor']} executor).", "",
    ]
    failed = [r for r in report["runs"] if r["status"] != FINISHED]
    if failed:
        lines += ["## Failed runs", "", "| variant | seed | run | error |", "|---|---|---|---|"]
        lines += [f"| {r['variant']} | {r['seed']} | `{r['id']}` | "
                  f"{(r['error'] or '').replace('|', '/')} |" for r in failed]
        lines.append("")
    bootstrap = next((c["bootstrap"] for m in report["metrics"].values()
                      for c in m["vs_baseline"].values() if "bootstrap" in c), None)
    if bootstrap:
        lines += [f"Δ: the variant's mean minus the baseline's; in brackets the paired "
                  f"bootstrap interval over the {bootstrap['examples']} test examples "
                  f"({bootstrap['resamples']} resamples, each side's mean over its seeds); "
                  "p: two-sided bootstrap p-value.", ""]
    lines += ["## Metrics", ""]
    for key in metrics if metrics is not None else list(report["metrics"]):
        if key in report["metrics"]:
            lines += [metric_table(report, key), ""]
        else:  # Asked for, but no run finished with it (every run failed, say).
            lines += [f"### {key}", "", "No finished run reports it.", ""]
    return "\n".join(lines)


def write_report(report: dict[str, Any], directory: str) -> tuple[str, str]:
    """Writes ``report.md`` and ``report.json`` into `directory`; returns their paths."""
    os.makedirs(directory, exist_ok=True)
    json_path = os.path.join(directory, REPORT_JSON)
    md_path = os.path.join(directory, REPORT_MARKDOWN)
    write_json_atomic(json_path, report)
    atomic_write_text(md_path, report_markdown(report))
    return md_path, json_path
