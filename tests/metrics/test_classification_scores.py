"""classification_scores on small hand cases."""

import pytest

from tfmtl.metrics import classification_scores


def test_accuracy_and_macro_f1():
    # gold a a b c / pred a b b d: tp a=1, b=1; fn a=1, c=1; fp b=1, d=1.
    # F1 = 2tp/(2tp+fp+fn): a 2/3, b 2/3, c 0, d 0 (d only predicted, still counted).
    # macro = (2/3 + 2/3 + 0 + 0) / 4 = 33.33%; accuracy 2/4.
    scores = classification_scores(["a", "a", "b", "c"], ["a", "b", "b", "d"])
    assert scores["accuracy"] == 50.0
    assert scores["macro_f1"] == pytest.approx(100 / 3)
    assert scores["examples"] == 4


def test_perfect_and_all_wrong():
    assert classification_scores(["x", "y"], ["x", "y"]) == {
        "accuracy": 100.0, "macro_f1": 100.0, "examples": 2}
    assert classification_scores(["x", "x"], ["y", "y"]) == {
        "accuracy": 0.0, "macro_f1": 0.0, "examples": 2}


def test_absent_classes_are_not_averaged():
    # Only "pos" occurs: one class with F1 100, whatever else the label set holds.
    assert classification_scores(["pos"], ["pos"])["macro_f1"] == 100.0


def test_empty_input_is_zero_not_nan():
    assert classification_scores([], []) == {"accuracy": 0.0, "macro_f1": 0.0, "examples": 0}


def test_bytes_labels_are_decoded():
    assert classification_scores([b"pos", "neg"], ["pos", b"neg"])["accuracy"] == 100.0


def test_length_mismatch_names_the_example():
    with pytest.raises(ValueError, match="example 2 is missing from pred"):
        classification_scores(["a", "b", "c"], ["a", "b"])
