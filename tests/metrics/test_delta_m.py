"""Tests for Δm, the mean relative change over single-task baselines."""

import math

import pytest

from tfmtl.metrics import DeltaM, delta_m


def test_each_task_counts_in_its_metrics_direction():
    # pos: accuracy 99 against 88, 12.5% better. lm: perplexity 110 against 100, 10% worse
    # (lower is better). cls: accuracy 45 against 50, 10% worse.
    result = delta_m({"pos": 99.0, "lm": 110.0, "cls": 45.0},
                     {"pos": 88.0, "lm": 100.0, "cls": 50.0}, lower_is_better={"lm"})
    assert result.per_task == {"pos": 12.5, "lm": -10.0, "cls": -10.0}
    assert result.value == pytest.approx((12.5 - 10.0 - 10.0) / 3)
    # A lower perplexity is a gain.
    assert delta_m({"lm": 80.0}, {"lm": 100.0}, {"lm"}) == DeltaM(20.0, {"lm": 20.0})
    # The formula as Maninis et al. write it: 100/K sum (-1)^l_k (M_k - B_k) / B_k.
    scores, baselines, lower = {"a": 71.3, "b": 35.2}, {"a": 70.0, "b": 40.1}, {"b"}
    expected = 100 / 2 * sum((-1) ** (k in lower) * (scores[k] - baselines[k]) / baselines[k]
                             for k in baselines)
    assert delta_m(scores, baselines, lower).value == pytest.approx(expected)


def test_the_baselines_choose_the_tasks():
    result = delta_m({"pos": 99.0, "aux": 3.0}, {"pos": 90.0})
    assert list(result.per_task) == ["pos"] and result.value == pytest.approx(10.0)


@pytest.mark.parametrize(("scores", "baselines", "message"), [
    ({"pos": 1.0}, {}, "no baselines"),
    ({"pos": 1.0}, {"pos": 1.0, "chunk": 2.0}, "task 'chunk' has a baseline but no score"),
    ({"pos": 1.0}, {"pos": 0.0}, "task 'pos': the baseline 0.0 has no relative change"),
    ({"pos": 1.0}, {"pos": math.nan}, "task 'pos': the baseline nan"),
    ({"pos": math.inf}, {"pos": 1.0}, "task 'pos': the score inf is not finite"),
])
def test_bad_input_names_the_task(scores, baselines, message):
    with pytest.raises(ValueError, match=message):
        delta_m(scores, baselines)
