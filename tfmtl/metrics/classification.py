"""Accuracy and macro-averaged F1 of a sentence classifier."""

from __future__ import annotations

import collections
from collections.abc import Sequence

from tfmtl.metrics._validation import as_label, check_same_length


def classification_scores(gold: Sequence[str], pred: Sequence[str]) -> dict[str, float]:
    """Accuracy and macro F1 of predicted labels, in percent.

    The macro F1 is the unweighted mean of the per-class F1 over every class
    that occurs in ``gold`` or in ``pred``; a class occurring in neither has no
    F1 and is not averaged. A class's F1 is ``2 tp / (2 tp + fp + fn)``, which is
    the harmonic mean of its precision and recall, and 0 when it has no true
    positive. Empty input scores 0 rather than NaN.

    Args:
        gold: the gold label of every example (``str``, or UTF-8 ``bytes``).
        pred: the predicted label of every example, parallel to ``gold``.

    Returns:
        ``{"accuracy": percent, "macro_f1": percent, "examples": n}``.

    Raises:
        ValueError: when ``gold`` and ``pred`` differ in length (the message names the
            first example without a counterpart).

    Example:
        >>> classification_scores(["pos", "neg", "neg"], ["pos", "pos", "neg"])
        {'accuracy': 66.66666666666667, 'macro_f1': 66.66666666666667, 'examples': 3}
    """
    check_same_length(gold, pred, "examples")
    true_pos = collections.Counter()
    false_pos = collections.Counter()
    false_neg = collections.Counter()
    for index, (gold_label, pred_label) in enumerate(zip(gold, pred, strict=True)):
        gold_label = as_label(gold_label, f"example {index}")
        pred_label = as_label(pred_label, f"example {index}")
        if gold_label == pred_label:
            true_pos[gold_label] += 1
        else:
            false_neg[gold_label] += 1
            false_pos[pred_label] += 1
    classes = set(true_pos) | set(false_pos) | set(false_neg)
    f1 = [
        200 * true_pos[c] / (2 * true_pos[c] + false_pos[c] + false_neg[c]) for c in classes
    ]
    examples = len(gold)
    return {
        "accuracy": 100 * true_pos.total() / examples if examples else 0.0,
        "macro_f1": sum(f1) / len(f1) if f1 else 0.0,
        "examples": examples,
    }
