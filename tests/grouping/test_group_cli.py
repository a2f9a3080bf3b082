"""tfmtl-group end to end: bad requests, a search through the binary, resumed after a
kill, a failed network, and the Ray executor against the local pool.

Every search here groups tasks of tests/tiny_config.py trained for 4 steps, so each
network is one short tfmtl-train (most of it TensorFlow's start-up).
"""

import json
import os
import signal
import subprocess
import time

import pytest

from tests.cli_helpers import binary_command, processes_using
from tests.conftest import REPO_ROOT
from tests.runs.conftest import sweep_env, trainings
from tfmtl.grouping import BudgetError, GroupingError
from tfmtl.grouping.search_run import GroupingRequest, run_grouping
from tfmtl.runs import RunStore

# Short trainings: every network of every search takes these.
SHORT = ("--config.training.steps=4", "--config.training.eval_every=2",
         "--config.training.checkpoint_every=2", "--config.training.log_every=2")
SHORT_OVERRIDES = tuple(arg.removeprefix("--config.") for arg in SHORT)
OUTPUTS = ("groups.json", "report.md", "networks.json", "pairs.png", "budget.png")


def write_config(folder, tasks=("chunk", "label"), extra="") -> str:
    """A config file in `folder`: tests/tiny_config.py with only `tasks`, plus the lines
    `extra` (indented in get_config, before its return)."""
    path = os.path.join(str(folder), "config_" + "_".join(tasks) + ".py")
    with open(path, "w", encoding="utf-8") as f:
        f.write("import sys\n\n"
                f"sys.path.insert(0, {str(REPO_ROOT)!r})  # Any process: tests.\n\n"
                "from tests.tiny_config import get_config as tiny  # noqa: E402\n"
                "from tfmtl.experiment import task_config  # noqa: E402, F401\n\n\n"
                "def get_config():\n"
                f"    config = tiny({tuple(t for t in tasks if t != 'bad')!r})\n"
                f"{extra}"
                "    return config\n")
    return path


def group_command(config: str, root, *args: str) -> list[str]:
    """``tfmtl-group`` on `config` with its workdir and store under `root`."""
    return binary_command("group", f"--config={config}", f"--workdir={root}/out",
                          f"--runs_dir={root}/store", "--noprogress", *SHORT, *args)


def run_group(config: str, root, *args: str, timeout: int = 900) -> subprocess.CompletedProcess:
    return subprocess.run(group_command(config, root, *args), capture_output=True, text=True,
                          env=sweep_env(), cwd=REPO_ROOT, timeout=timeout)


def read_json(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def error_lines(stderr: str) -> list[str]:
    """tfmtl-group's own lines on stderr (TensorFlow's start-up lines are not its)."""
    return [line for line in stderr.splitlines() if line.startswith("tfmtl-group:")]


def wait_until_gone(path: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while processes_using(path) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not processes_using(path), f"processes still use {path}"


# --- Bad requests: nothing trains. -----------------------------------------------------


def _request(tmp_path, config, **kwargs) -> GroupingRequest:
    defaults = dict(config=config, workdir=str(tmp_path / "out"), budgets=["1"],
                    overrides=SHORT_OVERRIDES, runs_dir=str(tmp_path / "store"),
                    progress=False)
    return GroupingRequest(**{**defaults, **kwargs})


def _nothing_ran(tmp_path) -> None:
    store = tmp_path / "store"
    assert not store.exists() or RunStore(str(store)).runs() == []
    assert not (tmp_path / "out").exists()


def test_a_one_task_config_is_refused_naming_the_config(tmp_path):
    config = write_config(tmp_path, ("chunk",))
    with pytest.raises(GroupingError, match=r"one task \(chunk\).*at least two") as e:
        run_grouping(_request(tmp_path, config))
    assert config in str(e.value)
    _nothing_ran(tmp_path)


def test_a_budget_below_one_network_is_a_budget_error(tmp_path):
    config = write_config(tmp_path)
    with pytest.raises(BudgetError, match="budget 0.5 is below the cheapest cover") as e:
        run_grouping(_request(tmp_path, config, budgets=["2", "0.5"]))
    assert e.value.budget == 0.5 and e.value.cheapest == 1.0
    _nothing_ran(tmp_path)


@pytest.mark.parametrize("kwargs, message", [
    (dict(methods="hoa,stanley"), r"unknown grouping method\(s\) 'stanley'"),
    (dict(methods="esa", fraction=1.5), r"fraction must be a number in \(0, 1\), got 1.5"),
    (dict(budgets=["two"]), r"not a budget: 'two'"),
    (dict(budgets=[]), r"--budget: give at least one budget"),
])
def test_a_bad_method_fraction_or_budget_is_refused(tmp_path, kwargs, message):
    config = write_config(tmp_path)
    with pytest.raises(GroupingError, match=message):
        run_grouping(_request(tmp_path, config, **kwargs))
    _nothing_ran(tmp_path)


def test_the_binary_exits_2_with_one_line_naming_the_problem(tmp_path):
    config = write_config(tmp_path, ("chunk",))
    result = run_group(config, tmp_path, "--budget=1,2", timeout=300)
    assert result.returncode == 2, result.stderr
    assert error_lines(result.stderr) == [
        f"tfmtl-group: error: {config}: one task (chunk): grouping needs at least two"]
    assert "Traceback" not in result.stderr
    _nothing_ran(tmp_path)


# --- Searches that train. --------------------------------------------------------------


@pytest.fixture(scope="module")
def hoa_search(tmp_path_factory):
    """HOA with --retrain over chunk and label through the binary, local pool, run once:
    ``(root, config, completed process)``; the workdir is root/out, the store root/store."""
    root = tmp_path_factory.mktemp("hoa")
    config = write_config(root)
    result = run_group(config, root, "--budget=1,2", "--method=hoa", "--retrain")
    return root, config, result


def _assert_complete_hoa(out, *, retrained: bool) -> dict:
    """The two-task HOA search's groups.json, checked for its shape."""
    groups = read_json(out / "groups.json")
    assert groups["tasks"] == ["chunk", "label"] and groups["score"] == "loss"
    assert list(groups["methods"]) == ["hoa"] and "missing" not in groups
    assert list(groups["methods"]["hoa"]) == ["1", "2"]
    for budget, entry in groups["methods"]["hoa"].items():
        assert entry["networks"] and entry["total"] > 0
        assert sum(1.0 if n["size"] == "full" else 0.5 for n in entry["networks"]) \
            <= float(budget)
        assert set(entry["per_task"]) == {"chunk", "label"}
        for task, item in entry["per_task"].items():
            assert item["score"] > 0
            assert task in entry["networks"][item["network"]]["tasks"]
        assert entry["total"] == pytest.approx(
            sum(item["score"] for item in entry["per_task"].values()))
        assert ("measured" in entry) == retrained
        if retrained:
            assert set(entry["measured"]["per_task"]) == {"chunk", "label"}
    # Budget 1 can only pay for the pair.
    assert groups["methods"]["hoa"]["1"]["networks"] == [
        {"tasks": ["chunk", "label"], "size": "full"}]
    return groups


@pytest.mark.xdist_group("group_cli_ray")  # The hoa_search fixture; one Ray at a time.
@pytest.mark.slow  # three tiny trainings (the fixture), the command again: about 70 s.
def test_hoa_with_retrain_writes_the_report_and_a_rerun_trains_nothing(hoa_search):
    root, config, result = hoa_search
    assert result.returncode == 0, result.stderr[-3000:]
    out = root / "out"
    for name in OUTPUTS:
        assert (out / name).is_file(), name
    groups = _assert_complete_hoa(out, retrained=True)

    networks = read_json(out / "networks.json")
    assert [n["tasks"] for n in networks] == [["chunk"], ["label"], ["chunk", "label"]]
    store = RunStore(str(root / "store"))
    for network in networks:
        assert network["status"] == "finished" and network["error"] is None
        assert network["size"] == "full" and network["fraction"] == 1.0
        assert not network["affinity"]
        assert store.is_finished(network["run_id"])
        assert set(network["dev"]) == set(network["tasks"]) == set(network["test"])
        assert network["parameters"] > 0
    assert sorted(store.runs()) == sorted(n["run_id"] for n in networks)
    # --retrain reuses the full-length runs the search read: all-in-one is the pair and
    # all-separate the singles, so nothing more trained.
    assert trainings(str(root / "store")) == {n["run_id"]: 1 for n in networks}
    by_tasks = {tuple(n["tasks"]): n for n in networks}
    for entry in groups["methods"]["hoa"].values():
        for task, item in entry["per_task"].items():
            chosen = tuple(entry["networks"][item["network"]]["tasks"])
            assert item["score"] == pytest.approx(by_tasks[chosen]["dev"][task])
            assert entry["measured"]["per_task"][task] == pytest.approx(
                by_tasks[chosen]["test"][task])

    report = (out / "report.md").read_text(encoding="utf-8")
    assert "### Budget 1\n" in report and "### Budget 2\n" in report
    assert "| hoa | hoa measured | all-in-one | all-separate |" in report
    assert "## Retrained baselines (test)" in report
    tail = report.split("## Retrained baselines (test)", 1)[1]
    assert "| all-in-one |" in tail and "| all-separate |" in tail and "–" not in tail

    before = trainings(str(root / "store"))
    text = (out / "groups.json").read_text(encoding="utf-8")
    again = run_group(config, root, "--budget=1,2", "--method=hoa", "--retrain")
    assert again.returncode == 0, again.stderr[-3000:]
    assert trainings(str(root / "store")) == before
    assert (out / "groups.json").read_text(encoding="utf-8") == text


@pytest.mark.xdist_group("group_cli_ray")  # The hoa_search fixture; one Ray at a time.
@pytest.mark.slow  # three tiny trainings, killed after one and resumed: 75 s (+ the fixture).
def test_a_killed_search_resumes_and_trains_nothing_finished_again(hoa_search, tmp_path):
    root = tmp_path
    config = write_config(root)
    args = ("--budget=1,2", "--method=hoa", "--retrain", "--workers=1")
    store_dir = str(root / "store")
    store = RunStore(store_dir)
    search = subprocess.Popen(group_command(config, root, *args), stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, env=sweep_env(), cwd=REPO_ROOT,
                              start_new_session=True)
    first = second = None
    try:
        # One worker: the networks train one after the other. Kill once the first finished
        # and the worker has started the second (recorded running, before its tfmtl-train
        # has even imported TensorFlow).
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline and search.poll() is None:
            ids = store.runs() if os.path.isdir(store_dir) else []
            finished = [i for i in ids if store.is_finished(i)]
            running = [i for i in ids if i not in finished
                       and (store.record(i) or {}).get("status") == "running"]
            if finished and running:
                first, second = finished[0], running[0]
                break
            time.sleep(0.05)
        assert first and second, "the search ended (or timed out) before it could be killed"
        os.killpg(search.pid, signal.SIGKILL)
        search.wait(timeout=60)
    finally:
        if search.poll() is None:
            os.killpg(search.pid, signal.SIGKILL)
            search.wait(timeout=60)
    wait_until_gone(store_dir)
    assert not (root / "out").exists()  # Killed before it wrote anything.
    assert trainings(store_dir)[first] == 1
    assert store.status(second) == "stopped"

    result = run_group(config, root, *args)
    assert result.returncode == 0, result.stderr[-3000:]
    counts = trainings(store_dir)
    assert counts[first] == 1  # Finished before the kill: not trained again.
    assert len(counts) == 3 and set(counts.values()) <= {1, 2}
    assert len(store.record(second)["attempts"]) == 2  # Killed: trained again.
    assert len(store.record(first)["attempts"]) == 1
    networks = read_json(root / "out" / "networks.json")
    assert all(n["status"] == "finished" for n in networks)
    _assert_complete_hoa(root / "out", retrained=True)

    # The same runs (ids) and the same groups.json as the search run through.
    reference, _, straight = hoa_search
    assert straight.returncode == 0, straight.stderr[-3000:]
    assert [n["run_id"] for n in networks] == [
        n["run_id"] for n in read_json(reference / "out" / "networks.json")]
    assert read_json(root / "out" / "groups.json") == read_json(
        reference / "out" / "groups.json")


@pytest.mark.slow  # six tiny trainings, three of which fail on their data: 85-100 s.
def test_a_failed_network_is_reported_and_the_search_exits_1(tmp_path):
    # A classification task whose training file exists (the config validates: files are
    # checked for existence only) but whose third line has no tab: tfmtl-train fails
    # reading it (tfmtl.data.read_tsv's DataError, file:line), so every network holding
    # the task fails when it trains and the others finish.
    data = tmp_path / "bad"
    data.mkdir()
    good = "".join(f"{'pos' if i % 2 else 'neg'}\tword{i} and more\n" for i in range(20))
    (data / "train.tsv").write_text("pos\tone two\nneg\tthree four\nno tab here\n" + good)
    (data / "dev.tsv").write_text(good)
    (data / "test.tsv").write_text(good)
    config = write_config(tmp_path, ("chunk", "label", "bad"), extra=(
        "    config.tasks.bad = task_config('classification', data=dict(\n"
        f"        format='tsv', train={str(data / 'train.tsv')!r},\n"
        f"        dev={str(data / 'dev.tsv')!r}, test={str(data / 'test.tsv')!r}))\n"))
    result = run_group(config, tmp_path, "--budget=1,2,3", "--method=hoa")
    assert result.returncode == 1, result.stderr[-3000:]

    out = tmp_path / "out"
    networks = {tuple(n["tasks"]): n for n in read_json(out / "networks.json")}
    # The tasks in the config's order, which a ConfigDict keeps alphabetical.
    assert sorted(networks) == sorted([("bad",), ("chunk",), ("label",), ("bad", "chunk"),
                                       ("bad", "label"), ("chunk", "label")])
    for tasks, network in networks.items():
        if "bad" in tasks:
            assert network["status"] == "failed", tasks
            assert f"{data / 'train.tsv'}:3: expected 'label<TAB>text', found no tab" \
                in network["error"], network["error"]
            assert network["dev"] == {} and network["run_id"] and not network["parameters"]
        else:
            assert network["status"] == "finished" and network["error"] is None, tasks
    # The search goes on: HOA answers for the tasks it still covers (chunk and label) and
    # is reported missing the failed runs.
    groups = read_json(out / "groups.json")
    assert groups["tasks"] == ["bad", "chunk", "label"]
    assert groups["missing"] == {"hoa": [["bad"], ["bad", "chunk"], ["bad", "label"]]}
    for budget in ("1", "2", "3"):
        selection = groups["methods"]["hoa"][budget]
        assert sorted(selection["per_task"]) == ["chunk", "label"], budget
        assert all("bad" not in n["tasks"] for n in selection["networks"])
    assert groups["methods"]["hoa"]["1"]["networks"] == [
        {"tasks": ["chunk", "label"], "size": "full"}]
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "*hoa is incomplete: no run of bad, bad+chunk, bad+label.*" in report
    assert any(line.startswith("tfmtl-group: hoa: no network of bad finished: its "
                               "selections cover chunk, label only")
               for line in error_lines(result.stderr)), result.stderr[-3000:]
    assert (out / "pairs.png").is_file()  # chunk+label is a measured pair.
    assert (out / "budget.png").is_file()


@pytest.mark.xdist_group("group_cli_ray")  # The hoa_search fixture; one Ray at a time.
@pytest.mark.slow  # a local Ray and three tiny trainings in it: 75 s (+ the fixture).
def test_ray_and_the_local_pool_write_the_same_groups_json(hoa_search, tmp_path):
    ray = pytest.importorskip(
        "ray", reason="Ray is not installed (pip install 'tfmtl[ray]'; the test extra has it)")
    reference, _, straight = hoa_search
    assert straight.returncode == 0, straight.stderr[-3000:]
    config = write_config(tmp_path)
    # A local Ray instance of this test's own, which the search joins by its address (so
    # its three sweeps share it) and which is shut down here whatever happens.
    context = ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
                       object_store_memory=80 * 1024 * 1024)
    try:
        result = run_group(config, tmp_path, "--budget=1,2", "--method=hoa", "--retrain",
                           "--executor=ray", f"--ray_address={context.address_info['address']}")
        nodes = {node["NodeID"] for node in ray.nodes()}
    finally:
        ray.shutdown()
    assert result.returncode == 0, result.stderr[-3000:]
    store = RunStore(str(tmp_path / "store"))
    assert sorted(trainings(store.root).values()) == [1, 1, 1]
    for run_id in store.runs():  # Trained in Ray's workers, on this instance.
        placement = store.record(run_id)["attempts"][-1]["placement"]
        assert placement["executor"] == "ray" and placement["node_id"] in nodes
    # Identical files: the same runs (ids), the same losses, the same float formatting.
    assert (tmp_path / "out" / "groups.json").read_text(encoding="utf-8") == \
        (reference / "out" / "groups.json").read_text(encoding="utf-8")
    ray_networks = read_json(tmp_path / "out" / "networks.json")
    local_networks = read_json(reference / "out" / "networks.json")
    assert [(n["run_id"], n["dev"], n["test"]) for n in ray_networks] == [
        (n["run_id"], n["dev"], n["test"]) for n in local_networks]


@pytest.mark.slow  # four tiny trainings (TAG's, and three at 2 steps): about 110 s.
def test_tag_draws_the_affinities_and_esa_trains_a_fraction_of_the_steps(tmp_path):
    config = write_config(tmp_path)
    result = run_group(config, tmp_path, "--budget=1,2", "--method=tag,esa",
                       "--fraction=0.5", "--affinity_every=1")
    assert result.returncode == 0, result.stderr[-3000:]
    out = tmp_path / "out"
    groups = read_json(out / "groups.json")
    assert list(groups["methods"]) == ["esa", "tag"]
    # TAG never picks a single task: its only candidate is the pair.
    for entry in groups["methods"]["tag"].values():
        assert entry["networks"] == [{"tasks": ["chunk", "label"], "size": "full"}]
    networks = read_json(out / "networks.json")
    affinity = [n for n in networks if n["affinity"]]
    assert len(affinity) == 1 and affinity[0]["tasks"] == ["chunk", "label"]
    assert affinity[0]["fraction"] == 1.0
    esa = [n for n in networks if not n["affinity"]]
    assert sorted(n["tasks"] for n in esa) == [["chunk"], ["chunk", "label"], ["label"]]
    store = RunStore(str(tmp_path / "store"))
    for network in esa:
        assert network["fraction"] == 0.5 and network["status"] == "finished"
        assert store.metrics(network["run_id"])["steps"] == 2  # Half of the config's 4.
    assert store.metrics(affinity[0]["run_id"])["steps"] == 4
    assert (out / "pairs.png").is_file() and (out / "budget.png").is_file()
    assert "tag (negated affinity)" in (out / "report.md").read_text(encoding="utf-8")
