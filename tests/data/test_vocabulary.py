import re

import numpy as np
import pytest

from tfmtl.data import DataError, Sentence, Vocabulary, build_char_vocabulary


def test_build_orders_by_count_then_token():
    vocab = Vocabulary.build(["b", "a", "c", "a", "b", "d", "a"])
    assert vocab.tokens == ["<pad>", "<unk>", "a", "b", "c", "d"]
    assert (vocab.pad_id, vocab.oov_id, len(vocab)) == (0, 1, 6)
    assert vocab.items == ["a", "b", "c", "d"]


def test_cutoffs():
    tokens = ["a"] * 3 + ["b"] * 2 + ["c"] * 2 + ["d"]
    assert Vocabulary.build(tokens, min_count=2).items == ["a", "b", "c"]
    assert Vocabulary.build(tokens, max_size=4).tokens == ["<pad>", "<unk>", "a", "b"]
    assert Vocabulary.build(tokens, max_size=2, pad=False, oov=False).tokens == ["a", "b"]
    with pytest.raises(ValueError, match="no room"):
        Vocabulary.build(tokens, max_size=1)
    with pytest.raises(ValueError, match="min_count"):
        Vocabulary.build(tokens, min_count=0)


def test_specials_are_optional():
    assert Vocabulary(["x"], pad=False).tokens == ["<unk>", "x"]
    labels = Vocabulary(["B-NP", "O"], oov=False)
    assert (labels.pad_id, labels.oov_id, labels.tokens) == (0, None, ["<pad>", "B-NP", "O"])
    bare = Vocabulary(["x"], pad=False, oov=False)
    assert (bare.pad_id, bare.oov_id, bare.lookup("x")) == (None, None, 0)


def test_specials_in_data_are_not_counted_twice():
    assert Vocabulary.build(["<unk>", "<pad>", "a"]).tokens == ["<pad>", "<unk>", "a"]


def test_lookup_encode_decode():
    vocab = Vocabulary(["the", "dog"])
    assert vocab.lookup("dog") == 3 and vocab.lookup("cat") == vocab.oov_id == 1
    ids = vocab.encode(["the", "cat", "dog"])
    assert ids.dtype == np.int32 and ids.tolist() == [2, 1, 3]
    assert vocab.encode([]).shape == (0,)
    assert vocab.decode(ids) == ["the", "<unk>", "dog"]
    assert vocab.decode(np.array([[0, 2]])) == ["<pad>", "the"]
    with pytest.raises(IndexError, match="id 4"):
        vocab.decode([4])
    assert "dog" in vocab and "cat" not in vocab


def test_unknown_token_without_oov_entry_is_a_key_error():
    vocab = Vocabulary(["O", "B-PER"], oov=False)
    with pytest.raises(KeyError, match="I-XYZ"):
        vocab.encode(["O", "I-XYZ"])


@pytest.mark.parametrize(
    "items, match",
    [
        (["a", "a"], "duplicate"),
        (["<unk>"], "special"),
        (["<pad>"], "special"),
        (["a\nb"], "line break"),
        (["a\r"], "line break"),
        ([""], "empty"),
    ],
)
def test_invalid_items(items, match):
    with pytest.raises(ValueError, match=match):
        Vocabulary(items)


def test_equality():
    assert Vocabulary(["a"]) == Vocabulary(["a"])
    assert Vocabulary(["a"]) != Vocabulary(["a"], pad=False)
    assert Vocabulary(["a", "b"]) != Vocabulary(["b", "a"])


@pytest.mark.parametrize("pad, oov", [(True, True), (True, False), (False, True), (False, False)])
def test_save_load_round_trip(tmp_path, pad, oov):
    vocab = Vocabulary(["the", "New York", " ", "tab\there", "é"], pad=pad, oov=oov)
    path = tmp_path / "vocab.txt"
    vocab.save(path)
    lines = path.read_text(encoding="utf-8").split("\n")
    assert lines[:-1] == vocab.tokens and lines[-1] == ""
    assert Vocabulary.load(path) == vocab
    assert [p.name for p in tmp_path.iterdir()] == ["vocab.txt"]


def test_save_replaces_an_existing_file(tmp_path):
    path = tmp_path / "v.txt"
    Vocabulary(["a", "b", "c"]).save(path)
    Vocabulary(["z"]).save(path)
    assert Vocabulary.load(path).items == ["z"]


@pytest.mark.parametrize(
    "content, line, match",
    [
        ("<pad>\n<unk>\na\na\n", 4, "duplicate token 'a' (first on line 3)"),
        ("<pad>\na\n\nb\n", 3, "empty vocabulary line"),
        ("a\n<pad>\n", 2, "special token '<pad>' must come first"),
        ("<unk>\n<pad>\n", 2, "special token '<pad>'"),
        ("", None, "empty vocabulary file"),
    ],
)
def test_load_rejects_bad_files(make_file, content, line, match):
    path = make_file("bad_vocab.txt", content)
    with pytest.raises(DataError, match=re.escape(match)) as info:
        Vocabulary.load(path)
    assert (info.value.path, info.value.line) == (str(path), line)


def test_load_tolerates_crlf(make_file):
    assert Vocabulary.load(make_file("v.txt", "<pad>\r\n<unk>\r\nx\r\n")) == Vocabulary(["x"])


def test_saved_file_is_a_tf_lookup_table(tmp_path):
    tf = pytest.importorskip("tensorflow")
    vocab = Vocabulary(["the", "New York", "é"])
    path = str(tmp_path / "vocab.txt")
    vocab.save(path)
    table = tf.lookup.StaticHashTable(
        tf.lookup.TextFileInitializer(
            path,
            tf.string,
            tf.lookup.TextFileIndex.WHOLE_LINE,
            tf.int64,
            tf.lookup.TextFileIndex.LINE_NUMBER,
        ),
        default_value=vocab.oov_id,
    )
    ids = table.lookup(tf.constant(["New York", "é", "the", "zzz", "<pad>"])).numpy()
    assert ids.tolist() == [3, 4, 2, 1, 0]


def test_char_vocabulary():
    sentences = [Sentence(tokens=("abba", "cab")), Sentence(tokens=("é",))]
    vocab = build_char_vocabulary(sentences)
    assert vocab.tokens == ["<pad>", "<unk>", "a", "b", "c", "é"]
    assert build_char_vocabulary(sentences, min_count=2).items == ["a", "b"]
