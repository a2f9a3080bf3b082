"""Reading pretrained word vectors (word2vec, GloVe and fastText text formats).

All three are one word per line followed by its values, separated by spaces;
word2vec and fastText ``.vec`` files start with a ``<count> <dim>`` header
line, GloVe files do not. Only the vectors of a vocabulary's words are kept,
so a large file costs one pass and little memory.
"""

from __future__ import annotations

import os

import numpy as np

from tfmtl.data._io import iter_lines
from tfmtl.data.errors import DataError
from tfmtl.data.vocabulary import Vocabulary


def read_word_vectors(path: str | os.PathLike, wanted: set[str] | None = None,
                      ) -> tuple[dict[str, np.ndarray], int]:
    """Reads a text-format vector file.

    Args:
        path: the file.
        wanted: keep only these words (None: all).

    Returns:
        (word -> float32 vector, dimension). The first occurrence of a word wins.

    Raises:
        DataError: naming the file and line of a malformed line or a wrong dimension.
    """
    vectors: dict[str, np.ndarray] = {}
    dim = None
    header_dim = None
    for number, line in iter_lines(path):
        if not line.strip():
            continue
        parts = line.rstrip().split(" ")
        if number == 1 and len(parts) == 2 and all(p.isdigit() for p in parts):
            header_dim = int(parts[1])
            continue
        word, values = parts[0], parts[1:]
        if dim is None:
            dim = header_dim or len(values)
            if dim == 0:
                raise DataError(path, number, "a word without values")
        if len(values) != dim:
            raise DataError(path, number, f"{len(values)} values, expected {dim} (as on the "
                            "first vector line or in the header)")
        if word in vectors or (wanted is not None and word not in wanted):
            continue
        try:
            vectors[word] = np.asarray(values, dtype=np.float32)
        except ValueError:
            raise DataError(path, number, "a value is not a number") from None
    if dim is None:
        raise DataError(path, None, "no vectors in the file")
    return vectors, dim


def embedding_matrix(path: str | os.PathLike, words: Vocabulary, dim: int, *,
                     missing: str = "normal", seed: int = 0) -> tuple[np.ndarray, int]:
    """The initial word embedding of a vocabulary from a vector file.

    Row i is the vector of word i when the file has it; padding (id 0) is
    zeros; other words (the OOV entry included) are ``missing``: "zeros", or
    "normal": drawn from a normal with the mean and standard deviation of the
    file's kept vectors (per dimension), from a generator seeded with `seed`.

    Args:
        path: the vector file.
        words: the word vocabulary (normalised as the file's words should match).
        dim: the model's word embedding size; must equal the file's.
        missing: "normal" or "zeros".
        seed: seed of the "normal" draws.

    Returns:
        (float32 [len(words), dim], number of words found in the file).

    Raises:
        DataError: the file is malformed or its dimension is not `dim`.
    """
    if missing not in ("normal", "zeros"):
        raise ValueError(f"missing must be 'normal' or 'zeros', got {missing!r}")
    vectors, file_dim = read_word_vectors(path, set(words.tokens))
    if file_dim != dim:
        raise DataError(path, None, f"vectors have {file_dim} dimensions, the model's word "
                        f"embedding {dim}; set word_dim to {file_dim}")
    matrix = np.zeros((len(words), dim), dtype=np.float32)
    found = np.zeros(len(words), dtype=bool)
    for index, token in enumerate(words.tokens):
        if index != words.pad_id and token in vectors:
            matrix[index] = vectors[token]
            found[index] = True
    if missing == "normal":
        rest = ~found
        rest[words.pad_id] = False
        kept = matrix[found]
        mean = kept.mean(axis=0) if len(kept) else np.zeros(dim, np.float32)
        std = kept.std(axis=0) if len(kept) > 1 else np.full(dim, 0.1, np.float32)
        rng = np.random.default_rng(seed)
        matrix[rest] = rng.normal(mean, std, size=(int(rest.sum()), dim)).astype(np.float32)
    return matrix, int(found.sum())
