"""Word vectors from text files initialise the word embedding, frozen or fine-tuned."""

import numpy as np
import pytest

from tfmtl.data import DataError, Vocabulary
from tfmtl.data.word_vectors import embedding_matrix, read_word_vectors


def _write(path, rows, header=True):
    lines = [f"{len(rows)} {len(rows[0][1])}"] if header else []
    lines += [" ".join([word, *(f"{v:.6f}" for v in values)]) for word, values in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("header", [True, False])  # word2vec/fastText .vec, GloVe
def test_reads_both_layouts(tmp_path, header):
    rng = np.random.default_rng(0)
    rows = [(w, rng.normal(size=3)) for w in ("the", "dog", "barks")]
    vectors, dim = read_word_vectors(_write(tmp_path / "v.txt", rows, header))
    assert dim == 3 and set(vectors) == {"the", "dog", "barks"}
    np.testing.assert_allclose(vectors["dog"], rows[1][1], atol=1e-6)


def test_matrix_rows_padding_and_missing_words(tmp_path):
    rng = np.random.default_rng(1)
    rows = [(w, rng.normal(size=4)) for w in ("the", "dog", "cat", "unused")]
    path = _write(tmp_path / "v.txt", rows)
    words = Vocabulary.build(["the", "dog", "bird", "the"])
    matrix, found = embedding_matrix(path, words, 4, missing="zeros")
    assert found == 2 and matrix.shape == (len(words), 4)
    np.testing.assert_array_equal(matrix[words.pad_id], 0.0)
    np.testing.assert_allclose(matrix[words.lookup("dog")], rows[1][1], atol=1e-6)
    np.testing.assert_array_equal(matrix[words.lookup("bird")], 0.0)
    normal, _ = embedding_matrix(path, words, 4, missing="normal", seed=3)
    again, _ = embedding_matrix(path, words, 4, missing="normal", seed=3)
    np.testing.assert_array_equal(normal, again)  # Seeded.
    assert np.abs(normal[words.lookup("bird")]).sum() > 0
    np.testing.assert_array_equal(normal[words.pad_id], 0.0)


def test_bad_files_name_the_line(tmp_path):
    path = tmp_path / "v.txt"
    path.write_text("the 0.1 0.2\ndog 0.3\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"v\.txt:2: 1 values, expected 2"):
        read_word_vectors(path)
    path.write_text("the 0.1 x\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"v\.txt:1: a value is not a number"):
        read_word_vectors(path)
    _write(path, [("the", [0.1, 0.2])])
    with pytest.raises(DataError, match="set word_dim to 2"):
        embedding_matrix(path, Vocabulary.build(["the"]), 5)
