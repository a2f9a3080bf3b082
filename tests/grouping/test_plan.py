"""Which runs each estimation method plans."""

import math

import pytest

from tfmtl.grouping import FULL, HALF, GroupingError, Network, plan_runs

TASKS = ("chunk", "pos", "ner", "polarity")


def _networks(runs):
    return {run.network for run in runs}


def test_hoa_plans_singles_and_pairs():
    plan = plan_runs(TASKS, "hoa")
    assert plan.methods == ("hoa",)
    assert {len(run.network.tasks) for run in plan.runs} == {1, 2}
    assert len(plan.runs) == 4 + 6
    assert all(run.fraction == 1.0 and not run.affinity for run in plan.runs)
    assert [sorted(r.network.tasks) for r in plan.runs[:4]] == [[t] for t in TASKS]
    assert plan.network_trainings == 10


def test_exhaustive_plans_every_group():
    plan = plan_runs(TASKS, "exhaustive")
    assert len(plan.runs) == 2 ** len(TASKS) - 1
    assert Network(frozenset(TASKS)) in _networks(plan.runs)


def test_esa_is_its_method_at_a_fraction():
    plan = plan_runs(TASKS, ["hoa", "esa"], fraction=0.25)
    assert plan.esa_of == "hoa"
    esa = plan.runs_for("esa")
    assert _networks(esa) == _networks(plan.runs_for("hoa"))
    assert {run.fraction for run in esa} == {0.25}
    assert {run.fraction for run in plan.runs_for("hoa")} == {1.0}
    assert math.isclose(plan.network_trainings, 10 * 1.25)
    alone = plan_runs(TASKS, "esa")
    assert alone.esa_of == "exhaustive" and len(alone.runs) == 15
    assert {run.fraction for run in alone.runs} == {0.2}


def test_all_methods_share_runs_and_half_size():
    plan = plan_runs(TASKS, "all", half_size=True)
    assert plan.methods == ("exhaustive", "hoa", "esa", "tag")
    keys = [run.key for run in plan.runs]
    assert len(keys) == len(set(keys))
    pair = next(run for run in plan.runs if run.network == Network({"chunk", "pos"})
                and run.fraction == 1.0)
    assert pair.methods == ("exhaustive", "hoa")
    halves = [run for run in plan.runs_for("hoa") if run.network.size == HALF]
    assert {next(iter(run.network.tasks)) for run in halves} == set(TASKS)
    (affinity,) = [run for run in plan.runs if run.affinity]
    assert affinity.network == Network(frozenset(TASKS), FULL) and affinity.methods == ("tag",)
    assert plan.runs[-1] is affinity


@pytest.mark.parametrize("kwargs, message", [
    (dict(tasks=["chunk"]), "at least 2"),
    (dict(tasks=TASKS, methods="oracle"), "unknown grouping method"),
    (dict(tasks=TASKS, methods="esa", fraction=1.5), "fraction"),
])
def test_bad_plans(kwargs, message):
    with pytest.raises(GroupingError, match=message):
        plan_runs(**kwargs)
