"""Token accuracy of a tagger, overall and on out-of-vocabulary tokens."""

from __future__ import annotations

from collections.abc import Sequence

from tfmtl.metrics._validation import as_label, check_parallel


def token_accuracy(
    gold: Sequence[Sequence[str]],
    pred: Sequence[Sequence[str]],
    oov: Sequence[Sequence[bool]] | None = None,
) -> dict[str, float]:
    """Percentage of tokens whose predicted tag equals the gold tag.

    Tags are compared as whole strings. Empty input scores 0 rather than NaN,
    so the result can always be logged and compared.

    Args:
        gold: one sequence of gold tags per sentence (``str``, or UTF-8 ``bytes``).
        pred: one sequence of predicted tags per sentence, parallel to ``gold``.
        oov: optionally, one boolean mask per sentence, parallel to ``gold``, true
            where the token is out of the vocabulary (words unseen in training).

    Returns:
        ``{"accuracy": percent, "tokens": n}``; with ``oov`` also
        ``"oov_accuracy"`` (percent of the OOV tokens tagged right, 0.0 when there
        are none) and ``"oov_tokens"`` (how many there are).

    Raises:
        ValueError: when the sentence counts or a sentence's lengths differ; the
            message names the sentence index.

    Example:
        >>> token_accuracy([["DT", "NN"]], [["DT", "VB"]], oov=[[False, True]])
        {'accuracy': 50.0, 'tokens': 2, 'oov_accuracy': 0.0, 'oov_tokens': 1}
    """
    check_parallel(gold, pred)
    if oov is not None:
        check_parallel(gold, oov, name="oov")
    tokens = correct = oov_tokens = oov_correct = 0
    for index, (gold_tags, pred_tags) in enumerate(zip(gold, pred, strict=True)):
        masks = oov[index] if oov is not None else (False,) * len(gold_tags)
        for position, (gold_tag, pred_tag, unknown) in enumerate(
            zip(gold_tags, pred_tags, masks, strict=True)
        ):
            if not (isinstance(gold_tag, str) and isinstance(pred_tag, str)):
                where = f"sentence {index}, token {position}"
                gold_tag, pred_tag = as_label(gold_tag, where), as_label(pred_tag, where)
            hit = gold_tag == pred_tag
            tokens += 1
            correct += hit
            if unknown:
                oov_tokens += 1
                oov_correct += hit
    scores = {"accuracy": _percent(correct, tokens), "tokens": tokens}
    if oov is not None:
        scores.update(oov_accuracy=_percent(oov_correct, oov_tokens), oov_tokens=oov_tokens)
    return scores


def _percent(part: int, whole: int) -> float:
    return 100 * part / whole if whole else 0.0
