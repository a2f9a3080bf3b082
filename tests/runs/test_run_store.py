"""The run store's records and locks, and the local pool's core slots."""

import os
import subprocess
import sys
import time

from tfmtl.runs import RunStore
from tfmtl.runs.local_executor import core_slots
from tfmtl.runs.run_store import write_json_atomic


def test_records_are_replaced_whole(tmp_path):
    path = tmp_path / "a" / "run.json"
    write_json_atomic(str(path), {"status": "running"})
    write_json_atomic(str(path), {"status": "finished"})
    assert path.read_text() == '{\n "status": "finished"\n}\n'
    assert sorted(os.listdir(path.parent)) == ["run.json"]  # No temporary file left.


def test_status_tells_a_live_run_from_a_killed_one(tmp_path):
    store = RunStore(str(tmp_path))
    store.prepare("r1", {"config": {}})
    assert store.status("r1") is None and store.runs() == ["r1"]
    store.write_record("r1", {"id": "r1", "status": "running"})
    assert store.status("r1") == "stopped"  # Nobody holds the lock: killed, to run again.
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time\nfrom tfmtl.runs import RunStore\n"
         f"with RunStore({str(tmp_path)!r}).lock('r1'):\n"
         "    print('held', flush=True)\n    time.sleep(60)\n"],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == "held\n"
        assert store.status("r1") == "running" and store.is_locked("r1")
        with store.lock("r1", blocking=False) as acquired:
            assert not acquired
    finally:
        holder.kill()
        holder.wait()
    deadline = time.monotonic() + 10
    while store.is_locked("r1") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert store.status("r1") == "stopped"  # The kernel dropped the dead holder's lock.
    store.write_record("r1", {"id": "r1", "status": "finished"})
    assert store.status("r1") == "stopped" and not store.is_finished("r1")  # Files missing.
    write_json_atomic(store.path("r1", "metrics.json"), {})
    write_json_atomic(store.path("r1", "predictions_test.json"), {})
    assert store.is_finished("r1") and store.status("r1") == "finished"


def test_core_slots_share_the_cores():
    assert core_slots(2, cores=[0, 1, 2, 3]) == [[0, 1], [2, 3]]
    assert core_slots(1, cores=[4, 5]) == [[4, 5]]
    assert core_slots(3, cores=[0, 1]) == [[0], [1], [0]]
    assert core_slots(2, cpus_per_run=1, cores=[0, 1, 2, 3]) == [[0], [1]]
