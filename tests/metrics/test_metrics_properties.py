"""Randomised properties of the span metrics and tag conversions (fixed seeds)."""

import random
import re

import pytest

from tfmtl.metrics import bio_to_iobes, iobes_to_bio, is_span_tagset, span_f1

TYPES = ("PER", "LOC", "ORG")


def _random_tags(rng, kinds, length):
    return [t if t == "O" else f"{t}-{rng.choice(TYPES)}"
            for t in rng.choices(("O",) + kinds, k=length)]


def _random_valid_bio(rng, length):
    tags = []
    for _ in range(length):
        if tags and tags[-1] != "O" and rng.random() < 0.5:
            tags.append("I-" + tags[-1][2:])
        elif rng.random() < 0.4:
            tags.append("O")
        else:
            tags.append("B-" + rng.choice(TYPES))
    return tags


def _random_corpus(rng, make):
    return [make(rng.randint(0, 8)) for _ in range(rng.randint(1, 6))]


def _spans(sentences):
    """Chunks of B/I/O tags read the IOB1 way, as (sentence, start, type, end)."""
    spans = set()
    for index, tags in enumerate(sentences):
        open_chunk = None  # (start, type) of the chunk being read
        for position, tag in enumerate(tags + ["O"]):
            kind, _, chunk_type = tag.partition("-")
            if open_chunk is not None and (kind != "I" or chunk_type != open_chunk[1]):
                spans.add((index, *open_chunk, position))
                open_chunk = None
            if kind in ("B", "I") and open_chunk is None:
                open_chunk = (position, chunk_type)
    return spans


@pytest.mark.parametrize("kinds", [("B", "I"), ("B", "I", "E", "S"), ("I", "E")])
def test_identical_tags_score_100(kinds):
    # Holds for malformed sequences too, as long as every tag is O or kind-type.
    rng = random.Random(1)
    for _ in range(300):
        tags = _random_corpus(rng, lambda n: _random_tags(rng, kinds, n))
        scores = span_f1(tags, tags)
        assert scores.accuracy == (100 if scores.tokens else 0)
        if scores.gold_spans:
            assert (scores.precision, scores.recall, scores.f1) == (100, 100, 100)
            assert all(s.f1 == 100 for s in scores.per_type.values())


def test_bio_scores_equal_exact_span_matching():
    # On the B/I/O alphabet (valid or not), conlleval's counts are those of exact
    # (start, end, type) matching of IOB1-read chunks.
    rng = random.Random(2)
    for _ in range(500):
        gold = _random_corpus(rng, lambda n: _random_tags(rng, ("B", "I"), n))
        pred = [_random_tags(rng, ("B", "I"), len(g)) for g in gold]
        scores = span_f1(gold, pred)
        gold_spans, pred_spans = _spans(gold), _spans(pred)
        assert (scores.gold_spans, scores.pred_spans, scores.correct_spans) == (
            len(gold_spans), len(pred_spans), len(gold_spans & pred_spans))
        for chunk_type, counts in scores.per_type.items():
            assert counts.correct == sum(s[2] == chunk_type for s in gold_spans & pred_spans)


def test_iobes_round_trip_on_valid_bio():
    rng = random.Random(3)
    for _ in range(500):
        bio = _random_valid_bio(rng, rng.randint(0, 12))
        iobes = bio_to_iobes(bio)
        assert iobes_to_bio(iobes) == bio
        assert _spans([iobes_to_bio(iobes)]) == _spans([bio])


def test_bio_to_iobes_output_is_well_formed():
    # Every chunk is S-X, or B-X I-X* E-X; IOB1 input is accepted.
    rng = random.Random(4)
    for _ in range(500):
        iobes = bio_to_iobes(_random_tags(rng, ("B", "I"), rng.randint(0, 12)))
        inside = None
        for tag in iobes + ["O"]:
            kind, _, chunk_type = tag.partition("-")
            if inside is not None:
                assert kind in ("I", "E") and chunk_type == inside
                inside = None if kind == "E" else inside
            else:
                assert kind in ("O", "B", "S")
                inside = chunk_type if kind == "B" else None


def test_conversions_by_hand():
    assert bio_to_iobes(["B-PER", "I-PER", "O", "B-LOC", "I-PER", "I-PER", "B-LOC", "B-LOC"]) == [
        "B-PER", "E-PER", "O", "S-LOC", "B-PER", "E-PER", "S-LOC", "S-LOC"]
    assert bio_to_iobes(["O", "I-X", "I-X", "I-X"]) == ["O", "B-X", "I-X", "E-X"]
    assert iobes_to_bio(["S-X", "B-Y", "I-Y", "E-Y", "O", "E-X"]) == [
        "B-X", "B-Y", "I-Y", "I-Y", "O", "I-X"]
    assert bio_to_iobes([]) == iobes_to_bio([]) == []


@pytest.mark.parametrize("tag", ["S-X", "E-X", "X", "B", "[", "o"])
def test_bio_to_iobes_rejects_non_bio(tag):
    with pytest.raises(ValueError, match=re.escape(f"tag '{tag}' at position 1")):
        bio_to_iobes(["O", tag])


@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        (["O", "B-PER", "I-PER"], True),
        (["O", "S-LOC", "E-LOC", "B-LOC", "I-LOC"], True),
        (["I-NP", "O"], True),
        (iter(["B-A-B"]), True),
        (["NN", "VB"], False),
        (["O", "B-PER", "NN"], False),
        (["O"], False),
        ([], False),
        (["B-", "O"], False),
        (["X-PER"], False),
    ],
)
def test_is_span_tagset(tags, expected):
    assert is_span_tagset(tags) is expected
