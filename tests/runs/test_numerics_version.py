"""NUMERICS_VERSION is bumped when results change: the mini config's results, recorded.

The run store reuses a finished run as long as its identity (config, data, the
numerics version, TensorFlow's version) is unchanged, so a change to tfmtl
that changes what a config trains or scores must bump
``tfmtl.runs.run_identity.NUMERICS_VERSION``. This test holds that change to
it: ``numerics_fingerprint.json`` records, for the current version, the
per-step training losses and the dev and test metrics of the mini config
(seed 0, one core, one TensorFlow thread, on the CPU; the local sweep of
``conftest.py`` trains it). A change that moves them fails here until the
version is bumped and the fingerprint recorded again (the failure prints the
new one); a bump without a new fingerprint fails too.

Losses compare within a relative 1e-4 (the kernels' float rounding differs a
little between CPUs: AVX2, AVX-512), metrics within 1e-6.
"""

import glob
import json
import os

import pytest

from tests.conftest import REPO_ROOT
from tests.runs.conftest import read_report
from tfmtl.runs import NUMERICS_VERSION

FINGERPRINT = REPO_ROOT / "tests" / "runs" / "numerics_fingerprint.json"
LOSS_RTOL = 1e-4
METRIC_ATOL = 1e-6


def tensorboard_losses(workdir: str) -> dict[str, dict[str, float]]:
    """``{task: {step: loss}}`` from the ``<task>/loss`` scalars of a workdir."""
    import tensorflow as tf
    from tensorflow.core.util import event_pb2

    losses: dict[str, dict[str, float]] = {}
    for path in sorted(glob.glob(os.path.join(workdir, "tensorboard", "**",
                                              "events.out.tfevents.*"), recursive=True)):
        for data in tf.data.TFRecordDataset(path):
            event = event_pb2.Event.FromString(data.numpy())
            for value in event.summary.value:
                if value.tag.endswith("/loss"):
                    loss = (float(tf.make_ndarray(value.tensor)) if value.HasField("tensor")
                            else float(value.simple_value))
                    losses.setdefault(value.tag[:-len("/loss")], {})[str(event.step)] = loss
    return {task: dict(sorted(steps.items(), key=lambda kv: int(kv[0])))
            for task, steps in sorted(losses.items())}


def fingerprint(store: str, run_id: str) -> dict:
    with open(os.path.join(store, run_id, "metrics.json"), encoding="utf-8") as f:
        metrics = json.load(f)
    return {
        "numerics_version": NUMERICS_VERSION,
        "losses": tensorboard_losses(os.path.join(store, run_id, "workdir")),
        "metrics": {split: metrics[split] for split in ("dev", "test")},
        "best_step": metrics["best_step"],
    }


def differences(expected: dict, actual: dict) -> list[str]:
    found = []
    if expected["best_step"] != actual["best_step"]:
        found.append(f"best_step: {expected['best_step']} -> {actual['best_step']}")
    if ({t: list(s) for t, s in expected["losses"].items()}
            != {t: list(s) for t, s in actual["losses"].items()}):
        found.append("the logged (task, step) losses differ")
    else:
        for task, steps in expected["losses"].items():
            for step, loss in steps.items():
                if actual["losses"][task][step] != pytest.approx(loss, rel=LOSS_RTOL):
                    found.append(f"{task} loss at step {step}: {loss!r} -> "
                                 f"{actual['losses'][task][step]!r}")
    for split, tasks in expected["metrics"].items():
        for task, scores in tasks.items():
            for name, value in scores.items():
                new = actual["metrics"].get(split, {}).get(task, {}).get(name)
                if new is None or abs(new - value) > METRIC_ATOL:
                    found.append(f"{split} {task} {name}: {value!r} -> {new!r}")
    return found


def test_the_recorded_fingerprint_is_of_this_numerics_version():
    with open(FINGERPRINT, encoding="utf-8") as f:
        recorded = json.load(f)
    assert recorded["numerics_version"] == NUMERICS_VERSION, (
        f"NUMERICS_VERSION is {NUMERICS_VERSION} but {FINGERPRINT.name} was recorded under "
        f"{recorded['numerics_version']}: record it again (run tests/runs/"
        "test_numerics_version.py; its failure prints the fingerprint)")


def test_the_mini_configs_results_are_those_of_this_numerics_version(local_sweep):
    store, report_dir, _ = local_sweep
    base = next(r for r in read_report(report_dir)["runs"] if r["variant"] == "base")
    assert base["status"] == "finished"
    actual = fingerprint(store, base["id"])
    with open(FINGERPRINT, encoding="utf-8") as f:
        recorded = json.load(f)
    found = differences(recorded, actual) if recorded["numerics_version"] == \
        NUMERICS_VERSION else ["recorded under another numerics version"]
    assert not found, (
        "The mini config's results changed:\n  " + "\n  ".join(found[:20]) + "\nIf the "
        "change is meant to change results, bump NUMERICS_VERSION in tfmtl/runs/"
        "run_identity.py (so the run store trains such runs again instead of reusing "
        "them) and write this to tests/runs/numerics_fingerprint.json (with the new "
        "version):\n" + json.dumps({**actual, "numerics_version": NUMERICS_VERSION},
                                   indent=1))


def test_differences_beyond_rounding_are_found():
    recorded = {"best_step": 12, "losses": {"chunk": {"4": 2.0, "8": 1.5}},
                "metrics": {"test": {"chunk": {"f1": 50.0}}}}
    rounding = {"best_step": 12, "losses": {"chunk": {"4": 2.0 * (1 + 1e-6), "8": 1.5}},
                "metrics": {"test": {"chunk": {"f1": 50.0 + 1e-9}}}}
    assert differences(recorded, rounding) == []
    moved = {"best_step": 8, "losses": {"chunk": {"4": 2.001, "8": 1.5}},
             "metrics": {"test": {"chunk": {"f1": 50.5}}}}
    assert differences(recorded, moved) == [
        "best_step: 12 -> 8", "chunk loss at step 4: 2.0 -> 2.001",
        "test chunk f1: 50.0 -> 50.5"]
    fewer = {**recorded, "losses": {"chunk": {"4": 2.0}}}
    assert differences(recorded, fewer) == ["the logged (task, step) losses differ"]
