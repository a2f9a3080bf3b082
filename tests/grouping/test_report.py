"""groups.json, the per-budget tables and the figures."""

import json

import numpy as np
import pytest

from tfmtl.grouping import (
    ALL_IN_ONE,
    ALL_SEPARATE,
    GroupingError,
    GroupingReport,
    baseline_scores,
    budget_tables,
    groups_json,
    hoa,
    measured,
    pair_changes,
    plot_budget_curve,
    plot_pairs,
    read_groups_json,
    report_from_json,
    search_budgets,
    tag,
    write_budget_tables,
    write_groups_json,
)

TASKS = ("chunk", "pos", "ner")


def _scores():
    rng = np.random.default_rng(7)
    everything = [frozenset(g) for g in (["chunk"], ["pos"], ["ner"], ["chunk", "pos"],
                                         ["chunk", "ner"], ["pos", "ner"], TASKS)]
    return {g: {t: round(float(rng.uniform(0.2, 1.5)), 3) for t in TASKS if t in g}
            for g in everything}


def _report(with_measured=True):
    scores = _scores()
    half = {"ner": 0.9}
    estimates = {"exhaustive": measured(scores, TASKS, half=half),
                 "hoa": hoa(scores, TASKS, half=half)}
    methods = {name: search_budgets(estimate, [1, 1.5, 2])
               for name, estimate in estimates.items()}
    measured_scores = {"hoa": {2.0: {"chunk": 0.5, "pos": 0.25, "ner": 0.75}}} \
        if with_measured else {}
    return GroupingReport(TASKS, "loss", methods, measured_scores), scores


def test_groups_json_has_the_issue_shape_and_round_trips(tmp_path):
    report, _ = _report()
    path = write_groups_json(tmp_path / "run" / "groups.json", report)
    data = json.loads(path.read_text())
    assert list(data) == ["tasks", "score", "methods"]
    assert data["tasks"] == list(TASKS) and data["score"] == "loss"
    assert list(data["methods"]) == ["exhaustive", "hoa"]
    assert list(data["methods"]["hoa"]) == ["1", "1.5", "2"]
    entry = data["methods"]["hoa"]["2"]
    assert set(entry) == {"networks", "total", "per_task", "measured"}
    assert "measured" not in data["methods"]["hoa"]["1"]
    assert entry["measured"] == {"per_task": {"chunk": 0.5, "pos": 0.25, "ner": 0.75},
                                 "total": 1.5}
    for network in entry["networks"]:
        assert set(network) == {"tasks", "size"} and network["size"] in ("full", "half")
        assert network["tasks"] == [t for t in TASKS if t in network["tasks"]]
    for task, item in entry["per_task"].items():
        assert set(item) == {"score", "network"}
        assert task in entry["networks"][item["network"]]["tasks"]
    assert entry["total"] == pytest.approx(sum(i["score"] for i in entry["per_task"].values()))
    again = read_groups_json(path)
    assert again == report
    assert groups_json(again) == data
    assert not list(tmp_path.glob("run/.*tmp"))  # The atomic writer left no temporary file.


def test_groups_json_marks_missing_runs_and_rejects_bad_files():
    report, _ = _report(with_measured=False)
    incomplete = GroupingReport(report.tasks, "loss", report.methods,
                                missing={"hoa": (frozenset({"ner", "pos"}),)})
    data = groups_json(incomplete)
    assert data["missing"] == {"hoa": [["pos", "ner"]]}
    assert report_from_json(data) == incomplete
    broken = json.loads(json.dumps(data))
    broken["methods"]["hoa"]["2"]["per_task"]["ner"]["network"] = 7
    with pytest.raises(GroupingError, match="per_task.ner.network"):
        report_from_json(broken)
    with pytest.raises(GroupingError, match="keys"):
        report_from_json({"tasks": list(TASKS), "methods": {}})
    with pytest.raises(GroupingError, match="lack"):
        GroupingReport(TASKS, "loss", report.methods, {"hoa": {2.0: {"chunk": 1.0}}})


def test_budget_tables(tmp_path):
    report, scores = _report()
    found = baseline_scores(scores, TASKS)
    assert set(found) == {ALL_IN_ONE, ALL_SEPARATE}
    assert found[ALL_SEPARATE]["pos"] == scores[frozenset({"pos"})]["pos"]
    text = budget_tables(report, found)
    assert "### Budget 1.5" in text and "### Budget 2" in text
    header = "| task | exhaustive | hoa | hoa measured | all-in-one | all-separate |"
    assert header in text
    budget_two = text.split("### Budget 2")[1]
    selection = report.methods["hoa"][2.0]
    chunk = selection.per_task["chunk"]
    label = selection.networks[chunk.network].label(TASKS)
    assert f"{chunk.score:.4g} ({label})" in budget_two
    assert f"**{selection.total:.4g}**" in budget_two
    assert "| cost |" in budget_two
    path = write_budget_tables(tmp_path / "groups.md", report, found)
    assert path.read_text() == text
    assert baseline_scores({frozenset({"pos"}): {"pos": 1.0}}, TASKS) == {}


def test_pair_changes():
    scores = {frozenset({"a"}): {"a": 2.0}, frozenset({"b"}): {"b": 1.0},
              frozenset({"a", "b"}): {"a": 1.0, "b": 1.5}}
    change = pair_changes(scores, ["a", "b", "c"])
    assert change[0, 1] == -0.5 and change[1, 0] == 0.5
    assert np.isnan(change[0, 0]) and np.isnan(change[0, 2]) and np.isnan(change[2, 0])


def test_plots_are_written(tmp_path):
    report, scores = _report()
    rng = np.random.default_rng(0)
    affinity = {i: {j: float(rng.normal()) for j in TASKS if j != i} for i in TASKS}
    heatmap = plot_pairs(tmp_path / "pairs.png", scores, TASKS, affinity=affinity,
                         title="pairs")
    plain = plot_pairs(tmp_path / "pairs_only.png", scores, TASKS)
    methods = dict(report.methods)
    methods["tag"] = search_budgets(tag(affinity, TASKS), [1, 2])
    with_tag = GroupingReport(TASKS, "loss", methods, report.measured)
    curve = plot_budget_curve(tmp_path / "budget.png", with_tag,
                              baselines=baseline_scores(scores, TASKS))
    scored = plot_budget_curve(tmp_path / "budget_reference.png", with_tag,
                               reference=measured(scores, TASKS, half={"ner": 0.9}))
    for path in (heatmap, plain, curve, scored):
        assert path.stat().st_size > 1000
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
