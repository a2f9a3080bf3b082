"""The sweep report on a store filled with known results (nothing trains)."""

import statistics

import pytest

from tests.runs.conftest import MINI_CONFIG
from tfmtl.runs import RunStore, Sweep, Variant, report_markdown, sweep_report
from tfmtl.runs.run_store import write_json_atomic

GOLD = ["pos", "neg"] * 10


def fill(store, run, accuracy_right, f1):
    """A finished run whose label task gets the first `accuracy_right` examples right."""
    pred = [g if i < accuracy_right else ("neg" if g == "pos" else "pos")
            for i, g in enumerate(GOLD)]
    store.prepare(run.id, run.identity.payload)
    store.write_record(run.id, {"id": run.id, "status": "finished", "steps": 12,
                                "wall_s": 2.5, "attempts": []})
    metrics = {"test": {"label": {"accuracy": 100 * accuracy_right / 20, "examples": 20},
                           "chunk": {"f1": f1}},
                  "dev": {"label": {"accuracy": 50.0}}, "steps": 12}
    write_json_atomic(store.path(run.id, "metrics.json"), metrics)
    write_json_atomic(store.path(run.id, "predictions_test.json"), {"label": {
        "type": "classification",
        "examples": [{"gold": g, "pred": p} for g, p in zip(GOLD, pred, strict=True)]}})


def test_mean_sd_per_seed_and_difference(tmp_path):
    sweep = Sweep(MINI_CONFIG, [Variant("base"), Variant("ratio", ("tasks.label.mixing_ratio=2",))],
                  seeds=[0, 1])
    store = RunStore(str(tmp_path))
    right = {("base", 0): 10, ("base", 1): 12, ("ratio", 0): 14, ("ratio", 1): 18}
    for cell in sweep.runs:
        fill(store, cell.run, right[cell.variant, cell.seed], f1=float(cell.seed))
    result = sweep.execute(store, progress=False)
    assert result.trained == 0 and result.cached == 4
    report = sweep_report(result, resamples=500)
    accuracy = report["metrics"]["test/label/accuracy"]
    base, ratio = accuracy["variants"]["base"], accuracy["variants"]["ratio"]
    assert base["per_seed"] == {"0": 50.0, "1": 60.0} and ratio["per_seed"] == {"0": 70.0,
                                                                              "1": 90.0}
    assert base["mean"] == 55.0 and base["sd"] == pytest.approx(statistics.stdev([50, 60]))
    comparison = accuracy["vs_baseline"]["ratio"]
    assert comparison["difference"] == pytest.approx(25.0)
    assert comparison["bootstrap"]["difference"] == pytest.approx(25.0)
    assert comparison["bootstrap"]["low"] > 0
    # chunk f1 has no stored predictions here: a difference, no interval.
    assert "bootstrap" not in report["metrics"]["test/chunk/f1"]["vs_baseline"]["ratio"]
    assert report["compute"]["steps"] == 48 and report["compute"]["run_wall_s"] == 10.0
    markdown = report_markdown(report, metrics=["test/label/accuracy"])
    assert "| base | 55.00 ± 7.07 | 50.00, 60.00 |  |  |" in markdown
    row = next(line for line in markdown.splitlines() if line.startswith("| ratio |"))
    assert row.startswith("| ratio | 80.00 ± 14.14 | 70.00, 90.00 | +25.00 [+")
    assert "Δ vs base [95% CI]" in markdown


def test_a_metric_no_run_finished_with_is_said_not_raised(tmp_path):
    sweep = Sweep(MINI_CONFIG, [Variant("base")], seeds=[0])
    store = RunStore(str(tmp_path))
    run = sweep.runs[0].run
    store.prepare(run.id, run.identity.payload)
    store.write_record(run.id, {"id": run.id, "status": "failed", "error": "boom",
                                "attempts": []})
    result = sweep.execute(store, progress=False, executor=_NoExecutor())
    markdown = report_markdown(sweep_report(result, resamples=10),
                               metrics=["test/label/accuracy"])
    assert "| base | 0 | `" in markdown and "boom" in markdown
    assert "### test/label/accuracy\n\nNo finished run reports it." in markdown


class _NoExecutor:
    """Runs nothing: every run it is given stays as the store has it."""

    name = "none"

    def execute(self, store, runs, event):
        return {}


def test_a_metric_one_variant_lacks_is_not_called_failed(tmp_path):
    # An auxiliary task's metric exists only in the variant that trains it: the baseline's
    # finished runs show "–" for it, not "failed", and the comparison says why it is empty.
    sweep = Sweep(MINI_CONFIG, [Variant("base"), Variant("aux", ("tasks.label.mixing_ratio=2",))],
                  seeds=[0])
    store = RunStore(str(tmp_path))
    for cell in sweep.runs:
        fill(store, cell.run, 10, f1=1.0)
    aux = next(c.run for c in sweep.runs if c.variant == "aux")
    metrics = store.metrics(aux.id)
    metrics["test"]["lexicon"] = {"accuracy": 93.0}
    write_json_atomic(store.path(aux.id, "metrics.json"), metrics)
    report = sweep_report(sweep.execute(store, progress=False), resamples=10)
    entry = report["metrics"]["test/lexicon/accuracy"]
    assert entry["vs_baseline"]["aux"]["note"] == "not a metric of one side"
    markdown = report_markdown(report, metrics=["test/lexicon/accuracy"])
    assert "| base | – | – |" in markdown
    assert "failed" not in markdown.split("### test lexicon accuracy")[1]
