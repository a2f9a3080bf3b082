"""BLEU with sacrebleu, and from summed per-sentence statistics (for the bootstrap).

The reported score is sacrebleu's own (``corpus_bleu``: cased, detokenized
text, its default ``13a`` tokenizer, with its signature). For the literature's
lowercased tokenized BLEU, pass ``lowercase=True``. A corpus BLEU is a function
of sentence statistics summed over the corpus (lengths, matched and total
n-grams per order), so :func:`bleu_statistics` and :func:`bleu_from_sums` let
the paired bootstrap rescore thousands of resamples without re-tokenizing;
``bleu_from_sums`` is sacrebleu's formula vectorized (its default ``exp``
smoothing), tested equal to ``corpus_bleu``.

Reference:
    Papineni et al., "BLEU: a Method for Automatic Evaluation of Machine
    Translation", ACL 2002; Post, "A Call for Clarity in Reporting BLEU
    Scores", WMT 2018 (sacrebleu).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np

ORDER = 4
# Columns of a sentence's statistics: hypothesis length, reference length, then the matched
# n-grams of each order, then the hypothesis' n-grams of each order.
STATISTICS = 2 + 2 * ORDER


@dataclasses.dataclass(frozen=True)
class BLEU:
    """A corpus BLEU: the score (0-100) and sacrebleu's signature of how it was computed."""

    score: float
    signature: str
    brevity_penalty: float
    precisions: tuple[float, ...]
    hypothesis_length: int
    reference_length: int


def _metric(lowercase: bool, tokenize: str | None, effective_order: bool = False):
    from sacrebleu.metrics import BLEU as SacreBLEU

    return SacreBLEU(lowercase=lowercase, tokenize=tokenize, effective_order=effective_order)


def _check(hypotheses: Sequence[str], references: Sequence[str]) -> None:
    if len(hypotheses) != len(references):
        raise ValueError(f"{len(hypotheses)} hypotheses for {len(references)} references")


def corpus_bleu(hypotheses: Sequence[str], references: Sequence[str], *,
                lowercase: bool = False, tokenize: str | None = None) -> BLEU:
    """sacrebleu's corpus BLEU of detokenized hypotheses against one reference each.

    Args:
        hypotheses, references: one detokenized sentence per example.
        lowercase: lowercase both first (the literature's "lowercased BLEU").
        tokenize: sacrebleu's tokenizer (None: its default, ``13a``).
    """
    _check(hypotheses, references)
    metric = _metric(lowercase, tokenize)
    result = metric.corpus_score(list(hypotheses), [list(references)])
    return BLEU(float(result.score), str(metric.get_signature()), float(result.bp),
                tuple(float(p) for p in result.precisions), int(result.sys_len),
                int(result.ref_len))


def bleu_statistics(hypotheses: Sequence[str], references: Sequence[str], *,
                    lowercase: bool = False, tokenize: str | None = None) -> np.ndarray:
    """Each sentence's BLEU statistics, float64 [N, STATISTICS] (see ``STATISTICS``)."""
    _check(hypotheses, references)
    # effective_order only changes a sentence's score, not its counts; it silences
    # sacrebleu's advice to use it for sentence scores.
    metric = _metric(lowercase, tokenize, effective_order=True)
    rows = np.zeros((len(hypotheses), STATISTICS))
    for i, (hypothesis, reference) in enumerate(zip(hypotheses, references, strict=True)):
        s = metric.sentence_score(hypothesis, [reference])
        rows[i] = [s.sys_len, s.ref_len, *s.counts, *s.totals]
    return rows


def bleu_from_sums(sums: np.ndarray) -> np.ndarray:
    """Corpus BLEU (0-100) of statistics summed over sentences, [..., STATISTICS] ->
    [...]: sacrebleu's ``compute_bleu`` with its ``exp`` smoothing (an order with no match
    counts 1 / (2^k total), k the number of such orders so far), vectorized."""
    sums = np.asarray(sums, np.float64)
    sys_len, ref_len = sums[..., 0], sums[..., 1]
    correct, total = sums[..., 2:2 + ORDER], sums[..., 2 + ORDER:]
    with np.errstate(divide="ignore", invalid="ignore"):
        bp = np.where(sys_len < ref_len,
                      np.where(sys_len > 0, np.exp(1.0 - ref_len / np.maximum(sys_len, 1e-300)),
                               0.0), 1.0)
        smooth = np.cumprod(np.where(correct == 0, 2.0, 1.0), axis=-1)
        precision = np.where(correct > 0, 100.0 * correct / total, 100.0 / (smooth * total))
        # An order with no n-gram at all ends the sum (sacrebleu's `break`): its precision
        # and every higher one count as 0 (log -9999999999, as sacrebleu's my_log).
        present = np.cumprod(total > 0, axis=-1).astype(bool)
        log_precision = np.where(present & (precision > 0), np.log(np.where(
            present & (precision > 0), precision, 1.0)), -9999999999.0)
        score = bp * np.exp(log_precision.sum(-1) / ORDER)
    return np.where(correct.sum(-1) > 0, score, 0.0)
