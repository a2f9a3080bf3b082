"""tfmtl-sweep end to end through the local pool: the cache, a failing variant, the report."""

import json
import os

from tests.runs.conftest import MINI_CONFIG, read_report, run_sweep, trainings
from tfmtl.runs import RunStore, Sweep, Variant


def test_a_failing_variant_is_reported_and_the_others_finish(local_sweep):
    store, report_dir, result = local_sweep
    assert result.returncode == 1, result.stderr  # 1: a run failed, the report says which.
    report = read_report(report_dir)
    runs = {r["variant"]: r for r in report["runs"]}
    assert runs["base"]["status"] == runs["wide"]["status"] == "finished"
    assert runs["broken"]["status"] == "failed"
    assert "config.tasks.chunk.data.train" in runs["broken"]["error"]
    assert "/nonexistent/train.txt" in runs["broken"]["error"]
    record = RunStore(store).record(runs["broken"]["id"])
    assert record["status"] == "failed" and record["error"] == runs["broken"]["error"]
    with open(os.path.join(report_dir, "report.md"), encoding="utf-8") as f:
        markdown = f.read()
    assert "## Failed runs" in markdown and "| broken | 0 |" in markdown
    assert report["compute"] == {**report["compute"], "runs": 3, "trained": 2, "cached": 0,
                                 "failed": 1, "steps": 24, "executor": "local"}


def test_the_report_compares_to_the_baseline_with_a_bootstrap_interval(local_sweep):
    store, report_dir, result = local_sweep
    report = read_report(report_dir)
    assert report["main_metrics"] == ["test/chunk/f1", "test/label/accuracy"]
    for key in ("test/chunk/f1", "test/chunk/accuracy", "test/label/accuracy",
                "test/label/macro_f1"):
        entry = report["metrics"][key]
        base, wide = entry["variants"]["base"], entry["variants"]["wide"]
        comparison = entry["vs_baseline"]["wide"]
        assert comparison["difference"] == wide["mean"] - base["mean"]
        interval = comparison["bootstrap"]
        assert interval["difference"] == comparison["difference"]
        assert interval["low"] <= interval["difference"] <= interval["high"]
        assert interval["examples"] == 20 and interval["resamples"] == 1000
        assert entry["vs_baseline"]["broken"]["difference"] is None
    # Dev metrics are reported too, without a bootstrap (predictions are of the test split).
    assert "bootstrap" not in report["metrics"]["dev/chunk/f1"]["vs_baseline"]["wide"]
    # The printed tables are the main metrics'.
    assert "### test chunk f1" in result.stdout and "### test label accuracy" in result.stdout
    assert "### test chunk precision" not in result.stdout
    f1 = report["metrics"]["test/chunk/f1"]
    run_id = next(r["id"] for r in report["runs"] if r["variant"] == "base")
    with open(os.path.join(store, run_id, "metrics.json"), encoding="utf-8") as f:
        assert f1["variants"]["base"]["per_seed"]["0"] == json.load(f)["test"]["chunk"]["f1"]


def test_asking_again_trains_nothing(local_sweep, variants_file, tmp_path):
    store, _, _ = local_sweep
    before = trainings(store)
    assert sorted(before.values()) == [1, 1]  # base and wide; broken never started training.
    # A changed logging key is the same run: nothing to train.
    result = run_sweep(f"--variants={variants_file}", "--seeds=0", f"--runs_dir={store}",
                       "--config.training.log_every=3", f"--report={tmp_path}")
    assert result.returncode == 1, result.stderr  # broken is tried again, and fails again.
    assert trainings(store) == before
    report = read_report(str(tmp_path))
    assert report["compute"]["trained"] == 0 and report["compute"]["cached"] == 2
    assert all(r["cached"] for r in report["runs"] if r["variant"] != "broken")


def test_a_changed_model_key_is_a_new_run(local_sweep):
    store, report_dir, _ = local_sweep
    ids = {r["variant"]: r["id"] for r in read_report(report_dir)["runs"]}
    sweep = Sweep(MINI_CONFIG, [Variant("base"), Variant("log", ("training.log_every=2",)),
                                Variant("wider", ("model.encoders.shared.units=16",))], seeds=[0])
    cached, to_run = sweep.plan(RunStore(store))
    assert [run.id for run in cached] == [ids["base"]]  # base and log are one run.
    assert len(to_run) == 1 and to_run[0].id not in ids.values()


def test_each_local_run_is_pinned_to_its_share_of_the_cores(local_sweep):
    """--workers=2 --cpus_per_run=1: each worker (and the tfmtl-train it starts, which
    inherits its affinity) runs on its slot's one core with one TensorFlow thread."""
    store, report_dir, _ = local_sweep
    for run in read_report(report_dir)["runs"]:
        if run["status"] != "finished":
            continue
        attempt = RunStore(store).record(run["id"])["attempts"][-1]
        assert attempt["placement"]["executor"] == "local"
        assert len(attempt["cores"]) == 1 and attempt["cores"] == attempt["placement"]["cores"]
        assert attempt["threads"] == 1
        # Provenance: what it ran on and with.
        assert attempt["cpu"] and attempt["tensorflow"].startswith("2.")
        assert attempt["keras"].startswith("3.")
        assert attempt["tfmtl_commit"] is None or len(attempt["tfmtl_commit"]) >= 40
