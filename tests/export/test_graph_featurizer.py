"""The in-graph featurizer encodes exactly as the Python featurizer that training used."""

import numpy as np
import pytest

from tfmtl.data import Vocabulary, build_char_vocabulary
from tfmtl.data.featurizer import Featurizer
from tfmtl.data.sentence import Sentence
from tfmtl.export.graph_featurizer import GraphFeaturizer

TRAIN = [["The", "Straße", "naïve", "Zürich", "ΟΔΟΣ", "東京", "a", "dog", "İstanbul"]]
TRICKY = [
    ["The", "THE", "straße", "STRASSE", "Naïve", "ZÜRICH", "οδος", "ΟΔΟΣ", "東京都", "İstanbul"],
    ["unseen", "x" * 40, "ab\U0001f44d\U0001f3fdcd", "e\u0301", "\ufffd", "<unk>", "dog"],
    ["Supercalifragilistic", "aé" * 7],
]


def _featurizers(tmp_path, lowercase, chars, max_chars):
    sentences = [Sentence(tokens=tuple(tokens)) for tokens in TRAIN]
    words = Vocabulary.build(t.lower() if lowercase else t for s in TRAIN for t in s)
    char_vocab = build_char_vocabulary(sentences) if chars else None
    python = Featurizer(words, char_vocab, lowercase=lowercase, max_chars=max_chars)
    python.save(str(tmp_path))
    graph = GraphFeaturizer(str(tmp_path / "words.txt"),
                            str(tmp_path / "chars.txt") if chars else None,
                            lowercase=lowercase, max_chars=max_chars)
    return python, graph


@pytest.mark.parametrize("lowercase, chars, max_chars", [
    (False, True, 6), (True, True, 7), (True, False, 20), (False, True, 1)])
def test_graph_featurizer_equals_python_featurizer(tmp_path, lowercase, chars, max_chars):
    import tensorflow as tf

    python, graph = _featurizers(tmp_path, lowercase, chars, max_chars)
    features = graph(tf.ragged.constant(TRICKY))
    assert set(features) == set(python.input_names())
    for row, tokens in enumerate(TRICKY):
        want = python.encode(tokens)
        words = features["words"].numpy()[row]
        np.testing.assert_array_equal(words[: len(tokens)], want["words"])
        assert not words[len(tokens):].any()
        if chars:
            got = features["chars"].numpy()[row]
            width = want["chars"].shape[1]
            np.testing.assert_array_equal(got[: len(tokens), :width], want["chars"])
            assert not got[: len(tokens), width:].any() and not got[len(tokens):].any()
    # Lowercasing follows str.lower (final sigma, dotted capital I) and unknown words get <unk>.
    if lowercase:
        assert python.encode(["ΟΔΟΣ"])["words"][0] > 1


def test_empty_batches_and_sentences_get_one_padding_position(tmp_path):
    import tensorflow as tf

    _, graph = _featurizers(tmp_path, False, True, 6)
    empty = tf.ragged.constant([[], []], dtype=tf.string)
    features = graph(empty)
    assert features["words"].shape == (2, 1) and features["chars"].shape == (2, 1, 1)
    assert not features["words"].numpy().any()
    none = graph(tf.ragged.constant([], dtype=tf.string, ragged_rank=1))
    assert none["words"].shape == (0, 1) and none["chars"].shape == (0, 1, 1)
