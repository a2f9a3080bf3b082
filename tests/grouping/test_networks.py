"""Networks, costs and budgets."""

import pytest

from tfmtl.grouping import (
    FULL,
    HALF,
    GroupingError,
    Network,
    budget_units,
    format_budget,
    groups,
    parse_budget,
    validate_tasks,
)


def test_network_costs_and_labels():
    pair = Network({"pos", "chunk"})
    half = Network({"ner"}, HALF)
    assert pair.tasks == frozenset({"chunk", "pos"}) and pair.size == FULL
    assert (pair.cost, pair.units, half.cost, half.units) == (1.0, 2, 0.5, 1)
    assert pair.label(["pos", "chunk"]) == "pos+chunk"
    assert half.label() == "ner (half)"
    assert Network(frozenset({"a"})) == Network(("a",))


@pytest.mark.parametrize("tasks, size", [(set(), FULL), ({"a", "b"}, HALF), ({"a"}, "tiny"),
                                         ("ab", FULL), ({""}, FULL)])
def test_bad_networks(tasks, size):
    with pytest.raises(GroupingError):
        Network(tasks, size)


def test_tasks_and_groups():
    assert validate_tasks(["a", "b"]) == ("a", "b")
    with pytest.raises(GroupingError, match="repeat"):
        validate_tasks(["a", "a"])
    with pytest.raises(GroupingError, match="at least 2"):
        validate_tasks(["a"], minimum=2)
    assert [sorted(g) for g in groups(["a", "b", "c"])] == [
        ["a"], ["b"], ["c"], ["a", "b"], ["a", "c"], ["b", "c"], ["a", "b", "c"]]
    assert len(list(groups(["a", "b", "c", "d"], sizes=[2]))) == 6


def test_budgets():
    assert [budget_units(b) for b in (0, 0.5, 1, 2.5, 2.7, 3)] == [0, 1, 2, 5, 5, 6]
    assert [format_budget(b) for b in (2, 2.0, 2.5)] == ["2", "2", "2.5"]
    assert parse_budget("2.5") == 2.5
    for bad in (-1, float("nan"), float("inf"), "2", True, None):
        with pytest.raises(GroupingError):
            budget_units(bad)
