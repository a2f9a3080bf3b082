"""tfmtl-evaluate --baselines: Δm over single-task baselines on the session's tiny workdir."""

import json
import os
import shutil

import pytest

from tests.cli_helpers import TINY_CONFIG, run_binary
from tests.export import helpers
from tfmtl.training.evaluation import evaluation_report, read_baselines


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    return helpers.session_root(tmp_path_factory)


@pytest.fixture
def workdir(root, tmp_path):
    """A copy of the session's trained three-task workdir (chunk, pos, label)."""
    copy = tmp_path / "run"
    shutil.copytree(helpers.trained(root).workdir, copy)
    return copy


def _baseline_workdir(path, name, split, task, scores):
    """A single-task run's workdir as far as --baselines reads it: its metrics.json (what
    tfmtl-train writes) or eval_<split>.json (what tfmtl-evaluate writes)."""
    path.mkdir()
    report = ({split: {task: scores}} if name == "metrics.json"
              else {"checkpoint": "best", "split": split, "metrics": {task: scores}})
    (path / name).write_text(json.dumps(report))
    return path


def _expected(metrics, baselines, main):
    per_task = {task: 100 * (metrics[task][main[task]] - value) / value
                for task, value in baselines.items()}
    return per_task, sum(per_task.values()) / len(per_task)


def test_evaluate_prints_and_writes_delta_m(workdir, tmp_path):
    chunk = _baseline_workdir(tmp_path / "chunk_alone", "metrics.json", "test", "chunk",
                              {"accuracy": 90.0, "f1": 40.0})
    pos = _baseline_workdir(tmp_path / "pos_alone", "eval_test.json", "test", "pos",
                            {"accuracy": 30.0})
    result = run_binary("evaluate", f"--workdir={workdir}",
                        f"--baselines=chunk={chunk},pos={pos},label=50")
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads((workdir / "eval_test.json").read_text())
    delta = report["delta_m"]
    main = {"chunk": "f1", "pos": "accuracy", "label": "accuracy"}
    baselines = {"chunk": 40.0, "pos": 30.0, "label": 50.0}
    assert delta["metrics"] == main and delta["baselines"] == baselines
    per_task, value = _expected(report["metrics"], baselines, main)
    assert delta["per_task"] == pytest.approx(per_task)
    assert delta["value"] == pytest.approx(value)
    lines = result.stdout.splitlines()
    assert sorted(line.split(":")[0] for line in lines[:-1]) == [
        "test chunk", "test label", "test pos"]
    assert lines[-1] == (f"test Δm: {value:+.2f}% (" + ", ".join(
        f"{task} {main[task]} {per_task[task]:+.2f}%" for task in ("chunk", "pos", "label"))
        + ")")


def test_a_json_file_of_baselines_and_the_tasks_scored(workdir, tmp_path):
    path = tmp_path / "baselines.json"
    path.write_text(json.dumps({"chunk": 20, "pos": 20.0, "label": 40.0}))
    report = evaluation_report(str(workdir), "dev", baselines=read_baselines(str(path)))
    main = {"chunk": "f1", "pos": "accuracy", "label": "accuracy"}
    per_task, value = _expected(report["metrics"], {"chunk": 20, "pos": 20, "label": 40}, main)
    assert report["delta_m"]["value"] == pytest.approx(value)
    assert json.loads((workdir / "eval_dev.json").read_text()) == json.loads(json.dumps(report))
    # With --tasks, only the tasks scored need (and may have) a baseline.
    report = evaluation_report(str(workdir), "dev", tasks=["pos"],
                               baselines=read_baselines("pos=20"))
    assert list(report["delta_m"]["per_task"]) == ["pos"]


@pytest.mark.parametrize(("spec", "message"), [
    ("chunk=1,pos=1,nope=1", r"--baselines: unknown task\(s\) nope; known: chunk, label, pos"),
    ("chunk=1,pos=1", r"--baselines: no baseline for task\(s\) label; every scored task"),
    ("chunk=0,pos=1,label=1", r"--baselines: task 'chunk': the baseline f1 must be a number "
                              r"> 0 \(Δm divides by it\), got 0\.0"),
    ("chunk={missing},pos=1,label=1", r"--baselines: chunk=.*missing: neither a number nor "
                                      r"a workdir"),
    ("chunk={empty},pos=1,label=1", r"--baselines: chunk=.*empty: no test f1 of task 'chunk' "
                                    r"in the workdir \(looked for metrics.json and "
                                    r"eval_test.json\)"),
])
def test_bad_baselines_name_the_flag_and_the_task(workdir, tmp_path, spec, message):
    (tmp_path / "empty").mkdir()
    spec = spec.format(missing=tmp_path / "missing", empty=tmp_path / "empty")
    with pytest.raises(ValueError, match=message):
        evaluation_report(str(workdir), "test", baselines=read_baselines(spec))
    assert not (workdir / "eval_test.json").exists()


@pytest.mark.parametrize(("spec", "message"), [
    ("pos", r"--baselines: 'pos' is neither task=VALUE,... nor a JSON file"),
    ("pos=1,chunk", r"--baselines: 'chunk' is not task=VALUE"),
    ("pos=1,pos=2", r"--baselines: task 'pos' given twice"),
])
def test_a_malformed_spec_is_named(spec, message):
    with pytest.raises(ValueError, match=message):
        read_baselines(spec)


def test_bad_json_baselines_are_named(tmp_path):
    path = tmp_path / "b.json"
    for text, message in (("[1]", "expected a JSON object"), ("{", "not a JSON file"),
                          ('{"pos": true}', "pos: True is neither a number nor a workdir"),
                          ("{}", "no task")):
        path.write_text(text)
        with pytest.raises(ValueError, match=rf"--baselines: .*{message}"):
            read_baselines(str(path))


def test_a_bad_baseline_is_one_line_and_exit_2(workdir):
    result = run_binary("evaluate", f"--workdir={workdir}", "--baselines=chunk=1,pos=1")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == (
        "tfmtl-evaluate: error: --baselines: no baseline for task(s) label; every scored task "
        "that an export serves needs one")


def test_train_names_a_baseline_of_an_unknown_task(tmp_path):
    result = run_binary("train", f"--config={TINY_CONFIG}", f"--workdir={tmp_path / 'run'}",
                        "--config.training.select=delta_m",
                        "--config.training.baselines.chunk=80",
                        "--config.training.baselines.nope=1")
    assert result.returncode == 2, result.stderr[-3000:]
    assert result.stderr.strip().splitlines()[-1].startswith(
        "tfmtl-train: error: config.training.baselines.nope: unknown task 'nope'")
    assert not os.path.exists(tmp_path / "run")
