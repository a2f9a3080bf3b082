import pytest

from tfmtl.data import Sentence, ambiguity_rate, corpus_statistics, oov_rate


def test_counts_columns_labels_and_targets():
    sentences = [
        Sentence(tokens=("a", "b"), fields={"1": ("X", "Y")}, label="pos", target=("c",)),
        Sentence(tokens=("a",), fields={"1": ("X",)}, label="neg", target=("c", "d")),
    ]
    statistics = corpus_statistics(iter(sentences))
    assert (statistics.sentences, statistics.tokens) == (2, 3)
    assert statistics.words == {"a": 2, "b": 1}
    assert statistics.columns == {"1": {"X": 2, "Y": 1}}
    assert statistics.labels == {"pos": 1, "neg": 1}
    assert statistics.target_tokens == {"c": 2, "d": 1}


def test_oov_rate():
    assert oov_rate(["a", "b"], ["a", "c", "c", "b"]) == pytest.approx(0.5)
    assert oov_rate(["a"], []) == 0.0


def test_ambiguity_rate_counts_running_homographs():
    sentences = [
        Sentence(tokens=("walks", "fast"), fields={"pos": ("NNS", "RB")}),
        Sentence(tokens=("walks", "fast", "x"), fields={"pos": ("VBZ", "RB", "NN")}),
    ]
    assert ambiguity_rate(sentences, "pos") == pytest.approx(2 / 5)
