"""The Ray executor against a local Ray instance that the test starts and stops."""

import os

import pytest

from tests.runs.conftest import MINI_CONFIG, read_report, trainings
from tfmtl.runs import RayExecutor, RunStore, Sweep, read_variants_file, sweep_report

ray = pytest.importorskip(
    "ray", reason="Ray is not installed (pip install 'tfmtl[ray]'; the test extra has it)")


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
             object_store_memory=80 * 1024 * 1024)
    try:
        yield ray
    finally:
        ray.shutdown()


# With pytest-xdist, on the worker of the grouping CLI's Ray test: one local Ray at a time.
@pytest.mark.xdist_group("group_cli_ray")
@pytest.mark.slow  # starts a Ray instance and a sweep in it: about a minute.
def test_ray_and_the_local_pool_give_the_same_report(local_sweep, variants_file, local_ray,
                                                     tmp_path):
    _, local_report_dir, _ = local_sweep
    variants, baseline = read_variants_file(variants_file)
    sweep = Sweep(MINI_CONFIG, [v for v in variants if v.name != "broken"], seeds=[0],
                  baseline=baseline)
    store = RunStore(str(tmp_path / "store"))
    result = sweep.execute(store, RayExecutor(cpus_per_run=1), progress=False)
    assert result.trained == 2 and result.failed == 0
    assert sorted(trainings(store.root).values()) == [1, 1]
    report = sweep_report(result)
    local = read_report(local_report_dir)

    local_ids = {r["variant"]: r["id"] for r in local["runs"]}
    assert {r["variant"]: r["id"] for r in report["runs"]} == {
        v: local_ids[v] for v in ("base", "wide")}
    for key, entry in report["metrics"].items():
        theirs = local["metrics"][key]
        for variant in ("base", "wide"):
            assert entry["variants"][variant]["per_seed"] == \
                theirs["variants"][variant]["per_seed"], key
        assert entry["vs_baseline"]["wide"] == theirs["vs_baseline"]["wide"], key

    # The runs executed in Ray workers, not in this process.
    nodes = {node["NodeID"] for node in local_ray.nodes()}
    driver = local_ray.get_runtime_context().get_worker_id()
    for run in report["runs"]:
        placement = run["placement"]
        assert placement["executor"] == "ray"
        assert placement["node_id"] in nodes
        assert placement["worker_id"] and placement["worker_id"] != driver
        assert placement["ray_worker_pid"] != os.getpid()
        record = store.record(run["id"])
        assert record["attempts"][-1]["threads"] == 1
