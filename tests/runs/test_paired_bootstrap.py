"""The paired bootstrap and the per-example statistics it resamples."""

import random

import numpy as np
import pytest

from tfmtl.metrics import classification_scores, span_f1, token_accuracy
from tfmtl.runs.paired_bootstrap import (
    example_statistics,
    metric_from_sums,
    paired_bootstrap,
    paired_bootstrap_mean,
    score,
)


def tagging(gold, pred, oov=None):
    oov = oov or [[False] * len(g) for g in gold]
    return {"type": "tagging", "spans": True, "iobes": False,
            "examples": [{"gold": g, "pred": p, "oov": o}
                         for g, p, o in zip(gold, pred, oov, strict=True)]}


def classification(gold, pred):
    return {"type": "classification",
            "examples": [{"gold": g, "pred": p} for g, p in zip(gold, pred, strict=True)]}


def random_tags(rng, n):
    # Malformed sequences too (I- after O, type changes), as conlleval must score them.
    return [rng.choice(["O", "B-NP", "I-NP", "B-VP", "I-VP", "I-PP"]) for _ in range(n)]


@pytest.fixture
def corpus():
    rng = random.Random(7)
    gold, pred, oov = [], [], []
    for _ in range(60):
        n = rng.randint(1, 9)
        gold.append(random_tags(rng, n))
        noise = random_tags(rng, n)
        pred.append([g if rng.random() < 0.6 else t for g, t in zip(gold[-1], noise,
                                                                   strict=True)])
        oov.append([rng.random() < 0.3 for _ in range(n)])
    return gold, pred, oov


def test_scores_equal_the_metrics_modules(corpus):
    gold, pred, oov = corpus
    task = tagging(gold, pred, oov)
    spans = span_f1(gold, pred)
    tokens = token_accuracy(gold, pred, oov)
    assert score(task, "f1") == pytest.approx(spans.f1, abs=1e-12)
    assert score(task, "precision") == pytest.approx(spans.precision, abs=1e-12)
    assert score(task, "recall") == pytest.approx(spans.recall, abs=1e-12)
    assert score(task, "accuracy") == pytest.approx(tokens["accuracy"], abs=1e-12)
    assert score(task, "oov_accuracy") == pytest.approx(tokens["oov_accuracy"], abs=1e-12)
    labels = [g[0][-2:] for g in gold]
    guesses = [p[0][-2:] for p in pred]
    scores = classification_scores(labels, guesses)
    task = classification(labels, guesses)
    assert score(task, "accuracy") == pytest.approx(scores["accuracy"], abs=1e-12)
    assert score(task, "macro_f1") == pytest.approx(scores["macro_f1"], abs=1e-12)


@pytest.mark.parametrize("metric", ["f1", "precision", "recall", "accuracy", "oov_accuracy"])
def test_a_weighted_sum_scores_the_resampled_corpus(corpus, metric):
    """Resampling by example weights gives what scoring the resampled corpus gives."""
    gold, pred, oov = corpus
    task = tagging(gold, pred, oov)
    stats = example_statistics(task, metric)
    rng = np.random.default_rng(3)
    for _ in range(5):
        draw = rng.integers(0, len(gold), len(gold))
        weights = np.bincount(draw, minlength=len(gold)).astype(float)
        resampled = tagging([gold[i] for i in draw], [pred[i] for i in draw],
                            [oov[i] for i in draw])
        assert metric_from_sums("tagging", metric, weights @ stats) == pytest.approx(
            score(resampled, metric), abs=1e-9)


def test_macro_f1_of_a_resample_averages_only_the_classes_it_has():
    gold = ["a", "a", "b", "c", "c", "a"]
    pred = ["a", "b", "b", "c", "a", "a"]
    task = classification(gold, pred)
    stats = example_statistics(task, "macro_f1")
    for draw in ([0, 0, 5], [3, 4, 4], [1, 2, 3, 3, 0]):
        weights = np.bincount(draw, minlength=len(gold)).astype(float)
        expected = classification_scores([gold[i] for i in draw], [pred[i] for i in draw])
        assert metric_from_sums("classification", "macro_f1", weights @ stats) == \
            pytest.approx(expected["macro_f1"], abs=1e-9)


def test_identical_predictions_differ_by_zero(corpus):
    gold, pred, oov = corpus
    run = tagging(gold, pred, oov)
    interval = paired_bootstrap([run], [run], "f1", resamples=500)
    assert interval.difference == 0.0
    assert interval.low == interval.high == 0.0
    assert interval.contains(0.0)
    assert interval.p_value == 1.0


def test_fixing_ten_of_a_hundred_errors_gains_ten_points():
    """100 examples; the baseline gets 80 right, the variant the same 80 and 10 more. The
    difference is 10 points; resampled, it is 100/n times a Binomial(100, 0.1) count, of
    sd 3 points, so the 95% interval is about 10 ± 5.9 and excludes 0."""
    gold = ["pos", "neg"] * 50
    baseline = [g if i < 80 else ("neg" if g == "pos" else "pos") for i, g in enumerate(gold)]
    variant = [g if i < 90 else b for i, (g, b) in enumerate(zip(gold, baseline, strict=True))]
    interval = paired_bootstrap([classification(gold, variant)],
                                [classification(gold, baseline)], "accuracy",
                                resamples=4000, seed=1)
    assert interval.difference == pytest.approx(10.0)
    assert 3.0 < interval.low < 5.5 and 14.5 < interval.high < 17.0
    assert not interval.contains(0.0)
    assert interval.p_value < 0.01


def test_a_variant_finding_ten_more_chunks():
    """50 sentences with one chunk each; the baseline misses it in 10 of them (P 100, R 80,
    F1 88.89), the variant finds them all (F1 100)."""
    gold = [["B-NP", "I-NP", "O"]] * 50
    baseline = [["O", "O", "O"] if i < 10 else g for i, g in enumerate(gold)]
    interval = paired_bootstrap([tagging(gold, gold)], [tagging(gold, baseline)], "f1",
                                resamples=2000)
    assert interval.difference == pytest.approx(100 - 2 * 100 * 80 / 180)
    assert interval.low > 0 and interval.contains(interval.difference)
    recall = paired_bootstrap([tagging(gold, gold)], [tagging(gold, baseline)], "recall",
                              resamples=200)
    assert recall.difference == pytest.approx(20.0)


def test_seeds_are_averaged_on_each_side():
    gold = ["x", "y"] * 10
    right = classification(gold, gold)
    half = classification(gold, ["x"] * 20)
    interval = paired_bootstrap([right, half], [half], "accuracy", resamples=100)
    assert interval.difference == pytest.approx((100 + 50) / 2 - 50)


def test_runs_on_other_test_sets_are_refused():
    with pytest.raises(ValueError, match="same test set"):
        paired_bootstrap([classification(["a", "b"], ["a", "b"])],
                         [classification(["a", "a"], ["a", "b"])], "accuracy")
    with pytest.raises(ValueError, match="not recomputable"):
        paired_bootstrap([classification(["a"], ["a"])], [classification(["a"], ["a"])], "f1")


def test_the_mean_over_tasks_draws_each_tasks_test_set_on_its_own():
    """Task a: the variant fixes 10 of 100 (+10 points); task b: it changes nothing. The mean
    differs by 5 points; each resample's is half of a's (b's is 0), so its interval is
    half of a's alone, about 5 ± 3."""
    gold = ["pos", "neg"] * 50
    base = [g if i < 80 else ("neg" if g == "pos" else "pos") for i, g in enumerate(gold)]
    better = [g if i < 90 else b for i, (g, b) in enumerate(zip(gold, base, strict=True))]
    a = ([classification(gold, better)], [classification(gold, base)])
    b = ([classification(gold, base)], [classification(gold, base)])
    alone = paired_bootstrap(*a, "accuracy", resamples=4000, seed=1)
    same = paired_bootstrap_mean([a], "accuracy", resamples=4000, seed=1)
    assert (same.difference, same.low, same.high) == (alone.difference, alone.low, alone.high)
    mean = paired_bootstrap_mean([a, b], "accuracy", resamples=4000, seed=1)
    assert mean.difference == pytest.approx(5.0)
    assert mean.low == pytest.approx(alone.low / 2) and mean.high == pytest.approx(alone.high / 2)
    assert mean.examples == 200 and not mean.contains(0.0)
    with pytest.raises(ValueError, match="no task"):
        paired_bootstrap_mean([], "accuracy")
