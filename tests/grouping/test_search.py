"""The budgeted search: exact against brute force, fast at 12 tasks, clear when unaffordable."""

import itertools
import math
import time

import numpy as np
import pytest

from tests.grouping.brute_force import brute_force_total
from tfmtl.grouping import (
    HALF,
    BudgetError,
    GroupingError,
    Network,
    cheapest_cover,
    evaluate,
    hoa,
    measured,
    search,
    search_budgets,
)

# HiGHS stops within an absolute gap of 1e-6 of the optimum (SciPy does not expose it).
MILP_TOLERANCE = 1e-6


def _random_instance(rng, n, half_size):
    """Random scores for a random set of candidate groups that covers every task."""
    tasks = [f"t{i}" for i in range(n)]
    every = [frozenset(c) for k in range(1, n + 1) for c in itertools.combinations(tasks, k)]
    count = min(len(every), int(rng.integers(n, 2 * n + 6)))
    chosen = [every[i] for i in sorted(rng.choice(len(every), count, replace=False))]
    for task in tasks:  # Every task in at least one candidate.
        if not any(task in group for group in chosen):
            chosen.append(every[int(rng.choice([i for i, g in enumerate(every) if task in g]))])
    scores = {g: {t: float(rng.uniform(0.1, 2.0)) for t in tasks if t in g} for g in chosen}
    half = {t: float(rng.uniform(0.1, 2.5)) for t in tasks if rng.random() < 0.7} \
        if half_size else None
    return measured(scores, tasks, half=half)


def _check(selection, estimate, budget):
    assert selection.cost <= budget + 1e-12
    assert set(selection.per_task) == set(estimate.tasks)
    again = evaluate(selection.networks, estimate)
    assert again.total == pytest.approx(selection.total, abs=1e-12)
    for task, entry in selection.per_task.items():
        assert task in selection.networks[entry.network].tasks
        assert entry.score == estimate.scores[selection.networks[entry.network]][task]


def test_search_equals_brute_force_on_random_instances():
    rng = np.random.default_rng(2024)
    checked = {"half": 0, "fractional": 0, "unaffordable": 0}
    for trial in range(50):
        n = 2 + trial % 7  # 2 to 8 tasks
        half_size = trial % 2 == 1
        estimate = _random_instance(rng, n, half_size)
        budget = float(rng.choice([0.5, 1, 1.5, 2, 2.5, 3, 3.5]))
        expected = brute_force_total(estimate, budget)
        checked["half"] += any(net.size == HALF for net in estimate.scores)
        checked["fractional"] += budget != int(budget)
        if math.isinf(expected):
            checked["unaffordable"] += 1
            for solver in ("branch_and_bound", "milp"):
                with pytest.raises(BudgetError):
                    search(estimate, budget, solver=solver)
            continue
        exact = search(estimate, budget)
        _check(exact, estimate, budget)
        assert exact.total == pytest.approx(expected, abs=1e-9), (trial, n, budget)
        program = search(estimate, budget, solver="milp")
        _check(program, estimate, budget)
        assert program.total == pytest.approx(expected, abs=MILP_TOLERANCE), (trial, n, budget)
    assert min(checked.values()) >= 5, checked  # Each case is exercised.


def test_overlapping_networks_score_each_task_by_its_best():
    scores = {frozenset("ab"): {"a": 1.0, "b": 5.0}, frozenset("bc"): {"b": 1.0, "c": 1.0},
              frozenset("abc"): {"a": 3.0, "b": 3.0, "c": 3.0}}
    estimate = measured(scores, ["a", "b", "c"])
    selection = search(estimate, 2)
    assert set(selection.networks) == {Network(frozenset("ab")), Network(frozenset("bc"))}
    assert selection.total == 3.0
    assert selection.per_task["b"].score == 1.0
    assert selection.networks[selection.per_task["b"].network] == Network(frozenset("bc"))
    assert search(estimate, 1).networks == (Network(frozenset("abc")),)


def _twelve_tasks(seed):
    rng = np.random.default_rng(seed)
    tasks = [f"task{i:02d}" for i in range(12)]
    scores = {frozenset({t}): {t: float(rng.uniform(0.5, 1.5))} for t in tasks}
    for a, b in itertools.combinations(tasks, 2):
        scores[frozenset({a, b})] = {t: scores[frozenset({t})][t] * float(rng.uniform(0.7, 1.3))
                                     for t in (a, b)}
    return scores, tasks


def test_twelve_tasks_budget_four_is_exact_and_fast():
    scores, tasks = _twelve_tasks(0)
    start = time.perf_counter()
    estimate = hoa(scores, tasks)
    selection = search(estimate, 4)
    elapsed = time.perf_counter() - start
    assert len(estimate.scores) == 2 ** 12 - 1
    assert elapsed < 10.0, f"12-task search took {elapsed:.1f} s"
    _check(selection, estimate, 4)
    # Cross-checked against the integer program on the same tasks with groups of up to four
    # (the full 4095-group program takes HiGHS several seconds: see the slow test).
    small = hoa(scores, tasks, max_size=4)
    assert search(small, 4).total == pytest.approx(search(small, 4, solver="milp").total,
                                                   abs=MILP_TOLERANCE)


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1])
def test_twelve_tasks_branch_and_bound_equals_milp(seed):
    scores, tasks = _twelve_tasks(seed)
    half = {t: scores[frozenset({t})][t] * 1.1 for t in tasks} if seed else None
    estimate = hoa(scores, tasks, half=half)
    for budget, selection in search_budgets(estimate, [2, 3.5, 4]).items():
        program = search(estimate, budget, solver="milp")
        assert selection.total == pytest.approx(program.total, abs=MILP_TOLERANCE)


def test_budget_below_the_cheapest_cover():
    scores = {frozenset("ab"): {"a": 1.0, "b": 1.0}, frozenset("c"): {"c": 1.0},
              frozenset("bc"): {"b": 1.0, "c": 1.0}}
    estimate = measured(scores, ["a", "b", "c"])
    assert cheapest_cover(estimate) == 2.0
    with pytest.raises(BudgetError, match=r"budget 1\.5 is below .* costs 2") as caught:
        search(estimate, 1.5)
    assert isinstance(caught.value, ValueError)
    assert (caught.value.budget, caught.value.cheapest) == (1.5, 2.0)
    with_half = measured(scores, ["a", "b", "c"], half={"c": 2.0})
    assert cheapest_cover(with_half) == 1.5
    assert search(with_half, 1.5).networks == (Network(frozenset("ab")), Network({"c"}, HALF))
    with pytest.raises(BudgetError):
        search(with_half, 1, solver="milp")


def test_bad_requests():
    estimate = measured({frozenset("ab"): {"a": 1.0, "b": 1.0}}, ["a", "b", "c"])
    with pytest.raises(GroupingError, match="holds task"):
        search(estimate, 3)
    estimate = measured({frozenset("ab"): {"a": 1.0, "b": 1.0}}, ["a", "b"])
    with pytest.raises(GroupingError, match="solver"):
        search(estimate, 1, solver="greedy")
    with pytest.raises(GroupingError, match="budget"):
        search(estimate, -1)
    with pytest.raises(GroupingError, match="no .* scores"):
        evaluate([Network({"a"})], estimate)


@pytest.mark.parametrize("n, half_size, budgets", [(4, True, [0.5, 1.5, 2, 2.5, 3.5]),
                                                    (5, False, [1, 2, 3])])
def test_search_equals_brute_force_with_every_group_a_candidate(n, half_size, budgets):
    rng = np.random.default_rng(n)
    tasks = [f"t{i}" for i in range(n)]
    pairs = {frozenset(c): {t: float(rng.uniform(0.1, 2.0)) for t in c}  # c: a tuple
             for k in (1, 2) for c in itertools.combinations(tasks, k)}
    half = {t: float(rng.uniform(0.5, 2.5)) for t in tasks} if half_size else None
    estimate = hoa(pairs, tasks, half=half)
    for budget, selection in search_budgets(estimate, [b for b in budgets if b >= 1]).items():
        assert selection.total == pytest.approx(brute_force_total(estimate, budget), abs=1e-9)
    if half_size:
        assert search(estimate, 0.5 * n).total == pytest.approx(
            brute_force_total(estimate, 0.5 * n), abs=1e-9)
