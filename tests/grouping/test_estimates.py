"""Measured, HOA and TAG estimates."""

import itertools

import numpy as np
import pytest

from tfmtl.grouping import HALF, GroupingError, Network, hoa, measured, search, tag

PAIRS = {
    frozenset("ab"): {"a": 0.1, "b": 0.2},
    frozenset("bc"): {"b": 0.3, "c": 0.4},
    frozenset("ac"): {"a": 0.5, "c": 0.6},
}


def test_hoa_worked_example():
    estimate = hoa(PAIRS, ["a", "b", "c"])
    assert estimate.scores[Network(frozenset("abc"))] == {"a": 0.3, "b": 0.25, "c": 0.5}
    assert estimate.scores[Network(frozenset("ab"))] == {"a": 0.1, "b": 0.2}
    # No single-task runs were given: HOA lists them as missing, the groups still stand.
    assert set(estimate.missing) == {frozenset("a"), frozenset("b"), frozenset("c")}
    assert not estimate.complete


def test_hoa_keeps_singles_pairs_and_halves_and_ignores_larger_measurements():
    scores = dict(PAIRS)
    scores.update({frozenset(t): {t: 1.0} for t in "abc"})
    scores[frozenset("abc")] = {"a": 9.0, "b": 9.0, "c": 9.0}
    estimate = hoa(scores, ["a", "b", "c"], half={"a": 1.5})
    assert estimate.complete
    assert estimate.scores[Network(frozenset("abc"))]["a"] == 0.3
    assert estimate.scores[Network({"a"}, HALF)] == {"a": 1.5}
    assert len(estimate.scores) == 3 + 3 + 1 + 1


def test_hoa_without_a_pair_drops_the_groups_that_need_it():
    scores = {k: v for k, v in PAIRS.items() if k != frozenset("bc")}
    scores.update({frozenset(t): {t: 1.0} for t in "abcd"})
    scores[frozenset("ad")] = {"a": 0.2, "d": 0.3}
    estimate = hoa(scores, ["a", "b", "c", "d"])
    assert estimate.missing == (frozenset("bc"), frozenset("bd"), frozenset("cd"))
    assert {frozenset(n.tasks) for n in estimate.scores if len(n.tasks) > 2} == set()
    scores.update({frozenset("bd"): {"b": 1, "d": 1}, frozenset("cd"): {"c": 1, "d": 1}})
    assert Network(frozenset("abd")) in hoa(scores, ["a", "b", "c", "d"]).scores


@pytest.mark.parametrize("scores, message", [
    ({frozenset("ab"): {"a": 0.1}}, "no score for: b"),
    ({frozenset("ab"): {"a": 0.1, "b": 0.2, "c": 0.3}}, "not members: c"),
    ({frozenset("a"): {"a": float("nan")}}, "finite"),
    ({frozenset("a"): {"a": "low"}}, "number"),
    ({"ab": {"a": 1, "b": 1}}, "string"),
    ({frozenset("az"): {"a": 1, "z": 1}}, "outside the task set"),
])
def test_malformed_scores(scores, message):
    with pytest.raises(GroupingError, match=message):
        measured(scores, ["a", "b"])


def test_measured_is_as_given():
    scores = {frozenset("ab"): {"a": 0.1, "b": 0.2}, frozenset("a"): {"a": 0.3}}
    estimate = measured(scores, ["a", "b"], method="esa")
    assert estimate.method == "esa"
    assert estimate.scores == {Network({"a"}): {"a": 0.3}, Network({"a", "b"}): scores[
        frozenset("ab")]}


def test_tag_scores_are_negated_mean_affinity_onto_each_task():
    z = {"a": {"b": 0.1, "c": 0.4}, "b": {"a": 0.2, "c": -0.3}, "c": {"a": 0.6, "b": 0.5}}
    estimate = tag(z)
    assert estimate.unit == "negated affinity"
    assert estimate.scores[Network(frozenset("ab"))] == {"a": -0.2, "b": -0.1}
    abc = estimate.scores[Network(frozenset("abc"))]
    assert abc == pytest.approx({"a": -(0.2 + 0.6) / 2, "b": -(0.1 + 0.5) / 2,
                                 "c": -(0.4 - 0.3) / 2})
    assert Network({"a"}) not in estimate.scores
    total = tag(z, reduction="sum").scores[Network(frozenset("abc"))]
    assert total == pytest.approx({"a": -0.8, "b": -0.6, "c": -0.1})
    assert tag(z, singleton_score=0.0).scores[Network({"a"})] == {"a": 0.0}
    array = np.array([[9.0, 0.1, 0.4], [0.2, 9.0, -0.3], [0.6, 0.5, 9.0]])
    assert tag(array, ["a", "b", "c"]).scores == estimate.scores
    with pytest.raises(GroupingError, match="no affinity of 'a' onto 'c'"):
        tag({"a": {"b": 0.1}, "b": {"a": 0.2, "c": 0.1}, "c": {"a": 0.1, "b": 0.1}})


def _tag_selection(z, tasks, splits):
    """TAG's network selection, restated: among at most `splits` groups covering every task,
    maximise the mean over tasks of each task's best group score, a group's score for task j
    being the mean affinity onto j from its other members and -1e6 for a single task."""
    n = len(tasks)
    groups = [g for k in range(1, n + 1) for g in itertools.combinations(range(n), k)]

    def score(group, j):
        if len(group) == 1:
            return -1e6
        return sum(z[i][j] for i in group if i != j) / (len(group) - 1)

    best = -np.inf
    for count in range(1, splits + 1):
        for chosen in itertools.combinations(groups, count):
            per_task = [max((score(g, j) for g in chosen if j in g), default=None)
                        for j in range(n)]
            if None not in per_task:
                best = max(best, float(np.mean(per_task)))
    return best


@pytest.mark.parametrize("seed", range(4))
def test_tag_search_matches_tags_selection(seed):
    rng = np.random.default_rng(seed)
    n = 4 + seed % 2
    tasks = [f"t{i}" for i in range(n)]
    z = rng.normal(size=(n, n))
    estimate = tag(z, tasks)
    for splits in (1, 2, 3):
        expected = _tag_selection(z, tasks, splits)
        assert -search(estimate, splits).total / n == pytest.approx(expected, abs=1e-12)
