"""A sweep killed with SIGKILL and started again reruns nothing that finished."""

import json
import os
import re
import signal
import subprocess
import time

import pytest

from tests.cli_helpers import processes_using
from tests.conftest import REPO_ROOT
from tests.runs.conftest import read_report, run_sweep, sweep_command, sweep_env, trainings
from tfmtl.runs import RunStore


@pytest.mark.slow  # a sweep killed and rerun: about a minute.
def test_a_killed_sweep_resumes_and_reruns_nothing_finished(tmp_path):
    store_dir = str(tmp_path / "store")
    variants = tmp_path / "variants.json"
    variants.write_text(json.dumps({"variants": {
        "short": {},
        "long": {"overrides": {"training.steps": 300, "training.eval_every": 100}},
    }}))
    args = [f"--variants={variants}", "--seeds=0", f"--runs_dir={store_dir}", "--workers=1",
            f"--report={tmp_path / 'report'}"]
    sweep = subprocess.Popen(sweep_command(*args), stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, env=sweep_env(), cwd=REPO_ROOT)
    store = RunStore(store_dir)
    deadline = time.monotonic() + 300
    short = long = None
    try:
        # With one worker the runs go in order: kill while the second one is training.
        while time.monotonic() < deadline and sweep.poll() is None:
            ids = store.runs() if os.path.isdir(store_dir) else []
            finished = [i for i in ids if store.is_finished(i)]
            started = [i for i in ids if i not in finished and os.path.exists(
                os.path.join(store.workdir(i), "checkpoints", "checkpoint"))]
            if finished and started:
                short, long = finished[0], started[0]
                break
            time.sleep(0.1)
        assert short and long, "the sweep ended before it could be killed mid-way"
        sweep.send_signal(signal.SIGKILL)
        sweep.wait()
    finally:
        if sweep.poll() is None:
            sweep.kill()
    # Its worker and that worker's tfmtl-train die with it.
    deadline = time.monotonic() + 20
    while processes_using(store_dir) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not processes_using(store_dir)
    assert store.record(long)["status"] == "running" and store.status(long) == "stopped"
    assert trainings(store_dir) == {short: 1, long: 1}
    with open(os.path.join(store.workdir(long), "checkpoints", "checkpoint"),
              encoding="utf-8") as f:
        saved = int(re.search(r'model_checkpoint_path: "ckpt-(\d+)"', f.read()).group(1))
    assert 0 < saved < 300

    result = run_sweep(*args)
    assert result.returncode == 0, result.stderr
    assert trainings(store_dir) == {short: 1, long: 2}  # Only the killed run trained again...
    attempts = store.record(long)["attempts"]
    # ...from the checkpoint the killed attempt saved last, as tfmtl-train itself logged it.
    assert len(attempts) == 2 and attempts[1]["resumed_from_step"] == saved
    assert store.record(short)["attempts"][0]["resumed_from_step"] is None
    with open(store.path(long, "metrics.json"), encoding="utf-8") as f:
        assert json.load(f)["steps"] == 300
    report = read_report(str(tmp_path / "report"))
    assert report["compute"]["trained"] == 1 and report["compute"]["cached"] == 1
    assert all(r["status"] == "finished" for r in report["runs"])
