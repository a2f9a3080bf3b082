"""Paired bootstrap confidence intervals over test examples.

Every metric here is a function of counts summed over examples (sentences):
span F1 of the chunks each sentence has, predicts and gets right (conlleval
closes every chunk at a sentence boundary, so its counts add up over
sentences), token accuracy of the tokens each sentence has and gets right,
classification accuracy and macro F1 of per-class true/false positives and
false negatives. A resample of the test set is a vector of example weights
(how often each example was drawn), and its score is the metric of the
weighted sums: exact, and fast enough for thousands of resamples of a
CoNLL test set.

The paired bootstrap (Koehn 2004; Berg-Kirkpatrick et al. 2012) draws the
same examples for a variant and its baseline, so the interval of their
difference reflects how much it depends on which test sentences were drawn.
With several seeds, each side's score of a resample is the mean over its
seeds, as the reported means are.

Reference:
    Koehn, "Statistical Significance Tests for Machine Translation
    Evaluation", EMNLP 2004; Berg-Kirkpatrick, Burkett and Klein, "An
    Empirical Investigation of Statistical Significance in NLP", EMNLP 2012.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from tfmtl.metrics import iobes_to_bio, span_f1

TAGGING_METRICS = ("accuracy", "oov_accuracy", "precision", "recall", "f1")
CLASSIFICATION_METRICS = ("accuracy", "macro_f1")


def supported_metrics(task: Mapping[str, Any]) -> tuple[str, ...]:
    """The metrics of a task's predictions (as :func:`tfmtl.runs._core.predict_split`
    writes them) that the bootstrap can recompute."""
    if task["type"] == "tagging":
        return TAGGING_METRICS if task.get("spans") else TAGGING_METRICS[:2]
    if task["type"] == "classification":
        return CLASSIFICATION_METRICS
    return ()


def _span_counts(task: Mapping[str, Any]) -> np.ndarray:
    rows = []
    for example in task["examples"]:
        gold, pred = example["gold"], example["pred"]
        if task.get("iobes"):  # conlleval has no S- chunks: scored as the BIO they encode.
            gold, pred = iobes_to_bio(gold), iobes_to_bio(pred)
        scores = span_f1([gold], [pred])
        rows.append((scores.correct_spans, scores.pred_spans, scores.gold_spans))
    return np.asarray(rows, dtype=np.float64).reshape(-1, 3)


def example_statistics(task: Mapping[str, Any], metric: str) -> np.ndarray:
    """Per-example counts, ``[examples, k]``, whose column sums determine `metric`."""
    if metric not in supported_metrics(task):
        raise ValueError(f"metric {metric!r} is not recomputable for a {task['type']} task "
                         f"(supported: {', '.join(supported_metrics(task)) or 'none'})")
    examples = task["examples"]
    if task["type"] == "tagging":
        if metric == "accuracy":
            return np.asarray([(sum(g == p for g, p in zip(e["gold"], e["pred"], strict=True)),
                                len(e["gold"])) for e in examples], np.float64).reshape(-1, 2)
        if metric == "oov_accuracy":
            return np.asarray([(sum(g == p and o for g, p, o in zip(e["gold"], e["pred"], e["oov"],
                                                                     strict=True)),
                                sum(e["oov"])) for e in examples], np.float64).reshape(-1, 2)
        return _span_counts(task)
    gold = [e["gold"] for e in examples]
    pred = [e["pred"] for e in examples]
    if metric == "accuracy":
        return np.asarray([(g == p, 1) for g, p in zip(gold, pred, strict=True)],
                          np.float64).reshape(-1, 2)
    classes = sorted(set(gold) | set(pred))
    index = {c: i for i, c in enumerate(classes)}
    stats = np.zeros((len(examples), 3 * len(classes)))
    for row, (g, p) in enumerate(zip(gold, pred, strict=True)):
        if g == p:
            stats[row, index[g]] += 1  # true positive of g
        else:
            stats[row, len(classes) + index[p]] += 1  # false positive of p
            stats[row, 2 * len(classes) + index[g]] += 1  # false negative of g
    return stats


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    out = np.zeros(np.broadcast(numerator, denominator).shape)
    np.divide(100 * numerator, denominator, out=out, where=denominator > 0)
    return out


def metric_from_sums(task_type: str, metric: str, sums: np.ndarray) -> np.ndarray:
    """The metric of summed :func:`example_statistics` (``[..., k]`` -> ``[...]``), in
    percent, computed as :mod:`tfmtl.metrics` computes it."""
    sums = np.asarray(sums, dtype=np.float64)
    if metric in ("precision", "recall", "f1"):
        correct, pred, gold = sums[..., 0], sums[..., 1], sums[..., 2]
        precision, recall = _ratio(correct, pred), _ratio(correct, gold)
        if metric == "precision":
            return precision
        if metric == "recall":
            return recall
        total = precision + recall
        f1 = np.zeros(total.shape)
        np.divide(2 * precision * recall, total, out=f1, where=total > 0)
        return f1
    if metric in ("accuracy", "oov_accuracy"):
        return _ratio(sums[..., 0], sums[..., 1])
    if task_type == "classification" and metric == "macro_f1":
        classes = sums.shape[-1] // 3
        tp, fp, fn = (sums[..., i * classes:(i + 1) * classes] for i in range(3))
        present = (tp + fp + fn) > 0
        f1 = np.zeros(tp.shape)
        np.divide(200 * tp, 2 * tp + fp + fn, out=f1, where=present)
        count = present.sum(axis=-1)
        out = np.zeros(count.shape)
        np.divide(f1.sum(axis=-1), count, out=out, where=count > 0)
        return out
    raise ValueError(f"unknown metric {metric!r} for a {task_type} task")


def score(task: Mapping[str, Any], metric: str) -> float:
    """The metric of a task's predictions on the whole test set."""
    stats = example_statistics(task, metric)
    return float(metric_from_sums(task["type"], metric, stats.sum(axis=0)))


@dataclasses.dataclass(frozen=True)
class BootstrapInterval:
    """A paired bootstrap estimate of ``variant - baseline``.

    Attributes:
        difference: the difference of the seed-mean scores on the whole test set.
        low, high: the percentile interval of the resampled differences.
        confidence: its level (0.95).
        resamples: how many test sets were drawn.
        p_value: two-sided: twice the smaller share of resampled differences on either
            side of 0 (at most 1).
        examples: test examples per run.
    """

    difference: float
    low: float
    high: float
    confidence: float
    resamples: int
    p_value: float
    examples: int

    def contains(self, value: float) -> bool:
        return self.low <= value <= self.high

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _check_same_gold(runs: Sequence[Mapping[str, Any]]) -> None:
    first = [e["gold"] for e in runs[0]["examples"]]
    for i, run in enumerate(runs[1:], 1):
        gold = [e["gold"] for e in run["examples"]]
        if gold != first:
            raise ValueError(f"run {i} was tested on other examples than run 0 "
                             f"({len(gold)} against {len(first)} examples, or other gold "
                             "labels): a paired bootstrap needs the same test set")


def paired_bootstrap(variant: Sequence[Mapping[str, Any]], baseline: Sequence[Mapping[str, Any]],
                     metric: str, *, resamples: int = 1000, confidence: float = 0.95,
                     seed: int = 0, block: int = 250) -> BootstrapInterval:
    """The confidence interval of a variant's score minus its baseline's, over test examples.

    Args:
        variant: one task's predictions per seed of the variant (see
            :func:`tfmtl.runs._core.predict_split`).
        baseline: the same task's predictions per seed of the baseline.
        metric: one of :func:`supported_metrics`.
        resamples: test sets drawn (with replacement, as large as the test set).
        confidence: the interval's level.
        seed: seeds the draws.
        block: resamples drawn at once (bounds memory: ``block * examples`` counts).

    Raises:
        ValueError: a side has no run, the runs were tested on different examples, or
            the metric is not recomputable.
    """
    if not variant or not baseline:
        raise ValueError("a paired bootstrap needs at least one run on each side")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    if resamples < 1:
        raise ValueError(f"resamples must be >= 1, got {resamples}")
    difference, d, n = _resampled_differences(variant, baseline, metric, resamples, seed, block)
    return _interval(difference, d, confidence, resamples, n)


def paired_bootstrap_mean(sides: Sequence[tuple[Sequence[Mapping[str, Any]],
                                                Sequence[Mapping[str, Any]]]],
                          metric: str, *, resamples: int = 1000, confidence: float = 0.95,
                          seed: int = 0, block: int = 250) -> BootstrapInterval:
    """The interval of the difference of a metric's mean over several tasks (each task's
    score the mean over its seeds, as :func:`paired_bootstrap` scores one), drawing each
    task's test set on its own: a resample's difference is the mean of the tasks' resampled
    differences. ``sides`` holds, per task, ``(variant runs, baseline runs)`` as
    :func:`paired_bootstrap` takes them; ``examples`` of the result is their total."""
    if not sides:
        raise ValueError("no task to average over")
    differences, draws, total = [], [], 0
    for i, (variant, baseline) in enumerate(sides):
        difference, d, n = _resampled_differences(variant, baseline, metric, resamples,
                                                  seed + 7919 * i, block)
        differences.append(difference)
        draws.append(d)
        total += n
    return _interval(float(np.mean(differences)), np.mean(draws, axis=0), confidence,
                     resamples, total)


def _resampled_differences(variant, baseline, metric, resamples, seed, block):
    """``(difference on the whole test set, resampled differences, examples)``."""
    if not variant or not baseline:
        raise ValueError("a paired bootstrap needs at least one run on each side")
    if resamples < 1:
        raise ValueError(f"resamples must be >= 1, got {resamples}")
    runs = [*variant, *baseline]
    _check_same_gold(runs)
    task_type = runs[0]["type"]
    stats = [example_statistics(run, metric) for run in runs]
    n = stats[0].shape[0]
    if n == 0:
        raise ValueError("no test examples")

    def side_means(weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        scores = [metric_from_sums(task_type, metric, weights @ s) for s in stats]
        return (np.mean(scores[:len(variant)], axis=0), np.mean(scores[len(variant):], axis=0))

    full_v, full_b = side_means(np.ones((1, n)))
    difference = float(full_v[0] - full_b[0])
    rng = np.random.default_rng(seed)
    differences = []
    for start in range(0, resamples, block):
        size = min(block, resamples - start)
        draws = rng.integers(0, n, size=(size, n))
        flat = (np.arange(size)[:, None] * n + draws).ravel()
        weights = np.bincount(flat, minlength=size * n).reshape(size, n).astype(np.float64)
        v, b = side_means(weights)
        differences.append(v - b)
    return difference, np.concatenate(differences), n


def _interval(difference: float, d: np.ndarray, confidence: float, resamples: int,
              n: int) -> BootstrapInterval:
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    alpha = (1 - confidence) / 2
    low, high = np.quantile(d, [alpha, 1 - alpha])
    p_value = min(1.0, 2 * min(float(np.mean(d <= 0)), float(np.mean(d >= 0))))
    return BootstrapInterval(difference=difference, low=float(low), high=float(high),
                             confidence=confidence, resamples=resamples, p_value=p_value,
                             examples=n)
