"""bench/grouping.py: its tables on hand-worked summaries, and the synthetic knob
benchmark end to end on tiny networks."""

import json
import subprocess
import sys

import pytest

from tests.conftest import REPO_ROOT
from tests.runs.conftest import load_bench, sweep_env, trainings

SCRIPT = REPO_ROOT / "bench" / "grouping.py"

# Three tasks a, b, c: each group's dev loss of each member (test = dev + 0.1).
DEV = {"a": {"a": 1.0}, "b": {"b": 1.0}, "c": {"c": 1.0},
       "ab": {"a": 0.8, "b": 0.9}, "ac": {"a": 1.1, "c": 1.2}, "bc": {"b": 0.95, "c": 0.7},
       "abc": {"a": 0.9, "b": 1.0, "c": 0.9}}


def _entry(tasks, dev, fraction=1.0, affinity=False, wall=None):
    return {"tasks": sorted(tasks), "size": "full", "fraction": fraction,
            "affinity": affinity, "status": "finished", "run_id": "r" + "".join(tasks),
            "dev": dev, "test": {t: v + 0.1 for t, v in dev.items()},
            "wall_s": 10.0 * len(tasks) if wall is None else wall}


def _pick(groups, per_task, total):
    return {"networks": [{"tasks": list(g), "size": "full"} for g in groups],
            "per_task": {t: {"score": 0.0, "network": n} for t, n in per_task.items()},
            "total": total}


def test_the_method_table_scores_picks_with_the_exhaustive_runs():
    module = load_bench(SCRIPT, "grouping")
    summary = {"networks": [_entry(g, dev) for g, dev in DEV.items()], "affinity": None,
               "groups": {"tasks": ["a", "b", "c"], "score": "loss", "methods": {
                   # The optimum at budget 2 is {a,b} + {b,c}: a 0.8, b 0.9, c 0.7.
                   "exhaustive": {"2": _pick(["ab", "bc"], {"a": 0, "b": 0, "c": 1}, 2.4)},
                   "hoa": {"2": _pick(["a", "bc"], {"a": 0, "b": 1, "c": 1}, 2.6)}}}}
    table, data = module.method_table(summary)
    budget = data["budgets"]["2"]
    assert budget["optimum"] == 2.4
    # 13 covers by at most two groups; their totals (worked by hand) average 35.85 / 13.
    assert budget["random_regret"] == pytest.approx(35.85 / 13 - 2.4)
    hoa = budget["methods"]["hoa"]
    assert hoa["networks"] == [["a"], ["b", "c"]]
    assert hoa["dev_total"] == pytest.approx(2.65)  # b 0.95, c 0.7 under the true runs.
    assert hoa["test_total"] == pytest.approx(2.95)
    assert hoa["gap_pct"] == pytest.approx(100 * 0.25 / 2.4)
    assert hoa["normalised_regret"] == pytest.approx(0.25 / (35.85 / 13 - 2.4))
    assert budget["methods"]["exhaustive"]["gap_pct"] == 0.0
    # Compute: exhaustive trains 12 task-trainings (120 s here), HOA singles and pairs 9.
    assert data["compute"]["exhaustive"] == {"task_trainings": 12.0, "wall_s": 120.0}
    assert data["compute"]["hoa"] == {"task_trainings": 9.0, "wall_s": 90.0}
    assert "| 2 | hoa | {a} + {b,c} | 2.6500 | 2.9500 | +10.42% | 0.70 |" in table
    assert len(list(module.feasible_covers("abc", [frozenset(g) for g in DEV], 2))) == 13


def test_the_knob_table_checks_both_directions_at_the_largest_budget():
    module = load_bench(SCRIPT, "grouping")

    def summary(ner_with_chunk, picks):
        dev = {"pos": {"pos": 1.0}, "chunk": {"chunk": 1.0}, "ner": {"ner": 1.0},
               "chunk_ner": {"chunk": 0.9, "ner": ner_with_chunk},
               "ner_pos": {"ner": 1.1, "pos": 1.0}}
        networks = [_entry(g.split("_"), d) for g, d in dev.items()]
        found = {}
        for budget, pick in picks.items():
            per_task = {t: i for i, g in enumerate(pick) for t in g}
            found[budget] = _pick(pick, per_task, 0.0)
        return {"networks": networks, "groups": {"methods": {"exhaustive": found}}}

    related = summary(0.8, {"2": [["chunk", "pos"], ["ner"]],
                            "3": [["chunk", "ner"], ["pos"], ["chunk"]]})
    unrelated = summary(1.2, {"2": [["chunk", "ner"], ["pos"]],
                              "3": [["chunk"], ["ner"], ["pos"]]})
    table, checks = module.knob_table({"chunks": related, "lexical": unrelated})
    # Budget 2 is shown, not checked: a shortage of networks may force a pairing.
    assert checks == {"chunks@3": True, "lexical@3": True}
    assert "| chunks | 0.800 | 1.100 | 3 | {chunk,ner} + {pos} + {chunk} | yes | yes |" in table
    assert "| lexical | 1.200 | 1.100 | 2 | {chunk,ner} + {pos} | yes | (not checked) |" in table
    _, checks = module.knob_table({"chunks": unrelated, "lexical": related})
    assert checks == {"chunks@3": False, "lexical@3": False}


def test_a_killed_attempt_counts_until_the_next_started():
    module = load_bench(SCRIPT, "grouping")
    attempts = [{"started": "2026-12-08T00:23:36+0000", "wall_s": None},
                {"started": "2026-12-08T00:26:40+0000", "wall_s": 37.25}]
    assert module.attempts_seconds(attempts) == 184 + 37.25
    assert module.attempts_seconds(attempts[:1]) == 0.0


@pytest.mark.slow  # Fourteen tiny trainings of the synthetic corpus, then the command again.
def test_synthetic_from_the_store(tmp_path):
    tiny = ["training.steps=12", "training.eval_every=6", "training.checkpoint_every=6",
            "model.encoders.shared.units=8", "tasks.pos.data.sentences=200",
            "tasks.chunk.data.sentences=200", "tasks.ner.data.sentences=200"]
    summary = tmp_path / "summary.json"
    args = [str(SCRIPT), "--bench=synthetic", f"--runs_dir={tmp_path / 'store'}",
            f"--out={tmp_path / 'out'}", f"--summary={summary}",
            *[f"--override={o}" for o in tiny]]
    first = subprocess.run([sys.executable, *args], capture_output=True, text=True,
                           env=sweep_env(), cwd=REPO_ROOT, timeout=1200)
    # Exit 1 when a direction fails: tiny networks decide nothing; the table is what counts.
    assert first.returncode in (0, 1), first.stderr[-3000:]
    rows = [line for line in first.stdout.splitlines() if line.startswith(("| chunks",
                                                                             "| lexical"))]
    assert len(rows) == 4 and "knob check: chunks@3" in first.stdout
    data = json.loads(summary.read_text())
    assert set(data) == {"chunks", "lexical"}
    assert len({n["run_id"] for s in data.values() for n in s["networks"]}) == 14
    before = trainings(str(tmp_path / "store"))
    assert len(before) == 14
    second = subprocess.run([sys.executable, *args], capture_output=True, text=True,
                            env=sweep_env(), cwd=REPO_ROOT, timeout=1200)
    assert second.returncode == first.returncode
    assert trainings(str(tmp_path / "store")) == before
    replay = subprocess.run([sys.executable, str(SCRIPT), "--bench=synthetic",
                             "--from_summary", f"--summary={summary}"], capture_output=True,
                            text=True, env=sweep_env(), cwd=REPO_ROOT, timeout=300)
    assert replay.returncode == first.returncode
    table = [line for line in replay.stdout.splitlines() if line.startswith("|")]
    assert len(table) == 6  # The knob table, printed last by the first run too.
    assert [line for line in first.stdout.splitlines() if line.startswith("|")][-6:] == table
