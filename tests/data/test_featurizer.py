"""The featurizer, TensorFlow's one string-to-id path, against a plain-Python reference.

Training encodes through :meth:`Featurizer.encode_batch` (in-memory tables) and the
SavedModel through :meth:`TokenEncoder.from_files` (the vocabulary files as assets): both
must equal what the reference below computes from the documented rules.
"""

import numpy as np
import pytest

from tfmtl.data import Vocabulary, build_char_vocabulary
from tfmtl.data.featurizer import Featurizer, TokenEncoder
from tfmtl.data.sentence import Sentence

tf = pytest.importorskip("tensorflow")

TRAIN = [["The", "Straße", "naïve", "Zürich", "ΟΔΟΣ", "東京", "a", "dog", "İstanbul"]]
TRICKY = [
    ["The", "THE", "straße", "STRASSE", "Naïve", "ZÜRICH", "οδος", "ΟΔΟΣ", "東京都", "İstanbul"],
    ["unseen", "x" * 40, "ab\U0001f44d\U0001f3fdcd", "e\u0301", "\ufffd", "<unk>", "dog"],
    [],
    ["Supercalifragilistic", "aé" * 7],
]


def reference(tokens, words, chars, lowercase, max_chars):
    """The documented encoding, in plain Python: str.lower, code points, first/last halves."""
    ids = {"words": np.array([words.lookup(t.lower() if lowercase else t) for t in tokens],
                             dtype=np.int32)}
    if chars is not None:
        head, tail = max_chars // 2, max_chars - max_chars // 2
        clipped = [t if len(t) <= max_chars else t[:head] + t[len(t) - tail:] for t in tokens]
        matrix = np.zeros((len(tokens), max((len(t) for t in clipped), default=0)), np.int32)
        for row, token in enumerate(clipped):
            matrix[row, :len(token)] = [chars.lookup(c) for c in token]
        ids["chars"] = matrix
    return ids


def _featurizer(tmp_path, lowercase, chars, max_chars):
    featurizer = Featurizer.build([Sentence(tokens=tuple(t)) for t in TRAIN], lowercase=lowercase,
                                  min_count=1, max_vocab=0, max_chars=max_chars, use_chars=chars)
    featurizer.save(str(tmp_path))
    graph = TokenEncoder.from_files(str(tmp_path / "words.txt"),
                                    str(tmp_path / "chars.txt") if chars else None,
                                    lowercase=lowercase, max_chars=max_chars)
    return featurizer, graph


@pytest.mark.parametrize("lowercase, chars, max_chars", [
    (False, True, 6), (True, True, 7), (True, False, 20), (False, True, 1)])
def test_training_and_serving_encode_as_the_reference(tmp_path, lowercase, chars, max_chars):
    featurizer, graph = _featurizer(tmp_path, lowercase, chars, max_chars)
    # The vocabulary holds the words as str.lower normalises them.
    want_words = Vocabulary.build(t.lower() if lowercase else t for s in TRAIN for t in s)
    assert featurizer.words == want_words
    assert featurizer.chars == (build_char_vocabulary(
        [Sentence(tokens=tuple(t)) for t in TRAIN]) if chars else None)

    encoded = featurizer.encode_batch(TRICKY)
    served = graph(tf.ragged.constant(TRICKY, dtype=tf.string))
    assert set(served) == set(featurizer.input_names())
    for row, tokens in enumerate(TRICKY):
        want = reference(tokens, featurizer.words, featurizer.chars, lowercase, max_chars)
        assert set(encoded[row]) == set(want)
        for key in want:
            assert encoded[row][key].dtype == np.int32
            np.testing.assert_array_equal(encoded[row][key], want[key], err_msg=key)
        words = served["words"].numpy()[row]
        np.testing.assert_array_equal(words[: len(tokens)], want["words"])
        assert not words[len(tokens):].any()
        if chars:
            got = served["chars"].numpy()[row]
            width = want["chars"].shape[1]
            np.testing.assert_array_equal(got[: len(tokens), :width], want["chars"])
            assert not got[: len(tokens), width:].any() and not got[len(tokens):].any()
        np.testing.assert_array_equal(featurizer.encode(tokens)["words"], want["words"])
    if lowercase:  # Final sigma and the dotted capital I lowercase as str.lower does.
        assert featurizer.encode(["ΟΔΟΣ"])["words"][0] > 1
        assert featurizer.encode(["İSTANBUL"])["words"][0] > 1


def test_characters_are_clipped_to_first_and_last_halves():
    chars = Vocabulary(list("abcdefgh"))
    featurizer = Featurizer(Vocabulary(["ab"]), chars, lowercase=False, max_chars=5)
    ids = featurizer.encode(["ab", "abcdefgh", "z"])["chars"]
    assert ids.dtype == np.int32 and ids.shape == (3, 5)
    assert chars.decode(ids[0]) == ["a", "b", "<pad>", "<pad>", "<pad>"]
    assert chars.decode(ids[1]) == ["a", "b", "f", "g", "h"]
    assert ids[2].tolist() == [chars.oov_id, 0, 0, 0, 0]
    assert featurizer.encode([])["chars"].shape == (0, 0)
    with pytest.raises(ValueError, match="max_chars"):
        Featurizer(Vocabulary(["ab"]), chars, lowercase=False, max_chars=0)
    with pytest.raises(ValueError, match="OOV id"):
        Featurizer(Vocabulary(["ab"], oov=False), chars, lowercase=False, max_chars=5)


def test_a_corpus_is_encoded_in_chunks_like_one_sentence_at_a_time(monkeypatch):
    import tfmtl.data.featurizer as module

    sentences = [[f"w{i % 7}", "x" * (i % 5 + 1)] * (i % 3) for i in range(23)]
    featurizer = Featurizer.build([Sentence(tokens=tuple(s)) for s in sentences if s],
                                  lowercase=False, min_count=1, max_vocab=0, max_chars=4,
                                  use_chars=True)
    whole = featurizer.encode_batch(sentences)
    monkeypatch.setattr(module, "_CHUNK", 5)
    chunked = featurizer.encode_batch(sentences)
    for tokens, a, b in zip(sentences, whole, chunked, strict=True):
        want = reference(tokens, featurizer.words, featurizer.chars, False, 4)
        for key in want:
            np.testing.assert_array_equal(a[key], want[key])
            np.testing.assert_array_equal(b[key], want[key])


def test_empty_batches_and_sentences_get_one_padding_position(tmp_path):
    _, graph = _featurizer(tmp_path, False, True, 6)
    empty = tf.ragged.constant([[], []], dtype=tf.string)
    features = graph(empty)
    assert features["words"].shape == (2, 1) and features["chars"].shape == (2, 1, 1)
    assert not features["words"].numpy().any()
    none = graph(tf.ragged.constant([], dtype=tf.string, ragged_rank=1))
    assert none["words"].shape == (0, 1) and none["chars"].shape == (0, 1, 1)
