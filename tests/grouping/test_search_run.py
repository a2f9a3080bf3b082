"""run_grouping when the networks that finished cannot cover the tasks within a budget
(the all-task network failed): the other budgets are answered and the report written."""

import json

from tests.conftest import REPO_ROOT
from tfmtl.grouping import search_run
from tfmtl.grouping.trainings import NetworkRun

# Dev losses of the quickstart's three tasks in each group (test: the same).
LOSSES = {("chunk",): {"chunk": 1.0}, ("label",): {"label": 1.0}, ("pos",): {"pos": 1.0},
          ("chunk", "label"): {"chunk": 0.9, "label": 1.1},
          ("chunk", "pos"): {"chunk": 0.8, "pos": 0.9},
          ("label", "pos"): {"label": 1.2, "pos": 1.0}}


class _Trainer:
    """Stands in for GroupTrainer: every network finishes but the all-task one."""

    def __init__(self, *args, **kwargs):
        pass

    def train(self, planned, order):
        out = {}
        for p in planned:
            tasks = tuple(sorted(p.network.tasks))
            if tasks in LOSSES:
                out[p.key] = NetworkRun(p, "id" + "".join(tasks), dev=LOSSES[tasks],
                                        test=LOSSES[tasks])
            else:
                out[p.key] = NetworkRun(p, "id-all", error="killed by the OOM killer")
        return out


def test_a_failed_all_task_network_leaves_budget_one_unanswered(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(search_run, "GroupTrainer", _Trainer)
    outcome = search_run.run_grouping(search_run.GroupingRequest(
        config=str(REPO_ROOT / "configs" / "quickstart.py"), workdir=str(tmp_path / "w"),
        budgets=["1", "2"], methods="exhaustive", runs_dir=str(tmp_path / "store"),
        progress=False))
    assert outcome.incomplete
    assert "no answer at budget 1" in capsys.readouterr().err
    groups = json.loads((tmp_path / "w" / "groups.json").read_text())
    assert list(groups["methods"]["exhaustive"]) == ["2"]
    # Budget 2: {chunk, pos} + {label}, 0.8 + 0.9 + 1.0.
    assert groups["methods"]["exhaustive"]["2"]["total"] == 2.7
    assert groups["missing"] == {"exhaustive": [["chunk", "label", "pos"]]}
    networks = json.loads((tmp_path / "w" / "networks.json").read_text())
    assert [n["status"] for n in networks].count("failed") == 1
