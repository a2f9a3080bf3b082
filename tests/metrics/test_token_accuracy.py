"""token_accuracy on small hand cases."""

import numpy as np
import pytest

from tfmtl.metrics import token_accuracy

GOLD = [["DT", "NN", "VB"], ["NN"]]
PRED = [["DT", "NN", "NN"], ["VB"]]


def test_accuracy_without_masks():
    # 2 of 4 tokens right (DT, NN in sentence 0).
    assert token_accuracy(GOLD, PRED) == {"accuracy": 50.0, "tokens": 4}


def test_oov_accuracy():
    # OOV tokens: s0 t1 (NN right), s0 t2 (VB/NN wrong) -> 1 of 2.
    scores = token_accuracy(GOLD, PRED, [[False, True, True], [False]])
    assert scores == {"accuracy": 50.0, "tokens": 4, "oov_accuracy": 50.0, "oov_tokens": 2}


def test_numpy_masks_and_one_oov_token():
    # Only s1 t0 is OOV and it is wrong -> 0 of 1.
    masks = [np.array([0, 0, 0], bool), np.array([1], bool)]
    scores = token_accuracy(GOLD, PRED, masks)
    assert (scores["oov_accuracy"], scores["oov_tokens"]) == (0.0, 1)


def test_no_oov_tokens_is_zero_not_nan():
    scores = token_accuracy(GOLD, PRED, [[False] * 3, [False]])
    assert (scores["oov_accuracy"], scores["oov_tokens"]) == (0.0, 0)


def test_empty_input():
    assert token_accuracy([], [], []) == {
        "accuracy": 0.0, "tokens": 0, "oov_accuracy": 0.0, "oov_tokens": 0}
    assert token_accuracy([[]], [[]]) == {"accuracy": 0.0, "tokens": 0}


def test_bytes_tags_are_decoded():
    assert token_accuracy([[b"NN", "DT"]], [["NN", b"DT"]])["accuracy"] == 100.0


def test_whole_tags_are_compared():
    # Unlike conlleval's accuracy, "B-0" and "B" are different tags here.
    assert token_accuracy([["B-0"]], [["B"]])["accuracy"] == 0.0


@pytest.mark.parametrize(
    ("pred", "oov", "message"),
    [
        ([["DT", "NN", "NN"]], None, "sentence 1 is missing from pred"),
        ([["DT", "NN"], ["VB"]], None, "sentence 0: gold has 3 tokens but pred has 2"),
        (PRED, [[False] * 3, [False, True]], "sentence 1: gold has 1 tokens but oov has 2"),
        (PRED, [[False] * 3], "sentence 1 is missing from oov"),
    ],
)
def test_mismatches_name_the_sentence(pred, oov, message):
    with pytest.raises(ValueError, match=message):
        token_accuracy(GOLD, pred, oov)
