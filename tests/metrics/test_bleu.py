"""BLEU: sacrebleu's corpus score, and the same from summed sentence statistics."""

import numpy as np
import pytest

from tfmtl.metrics.bleu import bleu_from_sums, bleu_statistics, corpus_bleu

WORDS = "a man in a blue shirt is riding the red bike down the street . Two dogs".split()


def _corpus(rng, n, noise):
    references, hypotheses = [], []
    for _ in range(n):
        reference = list(rng.choice(WORDS, size=rng.integers(1, 12)))
        hypothesis = [w if rng.random() > noise else str(rng.choice(WORDS)) for w in reference]
        if rng.random() < 0.3:
            hypothesis = hypothesis[: rng.integers(0, len(hypothesis) + 1)]
        references.append(" ".join(reference))
        hypotheses.append(" ".join(hypothesis))
    return hypotheses, references


@pytest.mark.parametrize("seed,noise,lowercase", [(0, 0.2, False), (1, 0.6, True),
                                                  (2, 0.95, False)])
def test_summed_statistics_give_sacrebleus_corpus_score(seed, noise, lowercase):
    rng = np.random.default_rng(seed)
    hypotheses, references = _corpus(rng, 40, noise)
    stats = bleu_statistics(hypotheses, references, lowercase=lowercase)
    want = corpus_bleu(hypotheses, references, lowercase=lowercase)
    assert float(bleu_from_sums(stats.sum(0))) == pytest.approx(want.score, abs=1e-9)
    # And on subsets, including ones with orders that never match (smoothing) or
    # hypotheses too short to have 4-grams.
    for _ in range(20):
        rows = rng.choice(len(hypotheses), size=rng.integers(1, 6))
        got = float(bleu_from_sums(stats[rows].sum(0)))
        want = corpus_bleu([hypotheses[i] for i in rows], [references[i] for i in rows],
                           lowercase=lowercase).score
        assert got == pytest.approx(want, abs=1e-9)
    # Vectorized over resamples.
    weights = rng.integers(0, 3, size=(5, len(hypotheses)))
    batch = bleu_from_sums(weights @ stats)
    assert batch.shape == (5,)
    assert float(batch[0]) == pytest.approx(float(bleu_from_sums(weights[0] @ stats)))


def test_corpus_bleu_and_its_signature():
    perfect = corpus_bleu(["The cat sat on the mat ."], ["The cat sat on the mat ."])
    assert perfect.score == pytest.approx(100.0)
    assert "tok:13a" in perfect.signature and "case:mixed" in perfect.signature
    lower = corpus_bleu(["the cat sat on the mat ."], ["The cat sat on the mat ."],
                        lowercase=True)
    assert lower.score == pytest.approx(100.0) and "case:lc" in lower.signature
    cased = corpus_bleu(["the cat sat on the mat ."], ["The cat sat on the mat ."])
    assert cased.score < 100.0
    assert corpus_bleu([""], ["a b c"]).score == 0.0
    with pytest.raises(ValueError, match="2 hypotheses for 1 references"):
        corpus_bleu(["a", "b"], ["a"])
