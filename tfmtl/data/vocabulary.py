"""Token, label and character vocabularies, saved as one-token-per-line text files."""

from __future__ import annotations

import collections
import os
from collections.abc import Iterable, Sequence

import numpy as np

from tfmtl.data._io import iter_lines
from tfmtl.data.errors import DataError
from tfmtl.data.sentence import Sentence
from tfmtl.files import atomic_write_text


class Vocabulary:
    """A bijection between strings and integer ids, with optional padding and OOV entries.

    Ids are assigned in order: the padding token ``"<pad>"`` gets 0 when ``pad`` is set, the
    out-of-vocabulary token ``"<unk>"`` the next id when ``oov`` is set, then the items in the
    given order. Saved files hold one token per line with line ``i`` (0-based) holding id ``i``,
    so a saved vocabulary can serve directly as a ``tf.lookup`` text-file table or a SavedModel
    asset.

    Args:
        items: the non-special entries, in id order.
        pad: whether id 0 is the padding token.
        oov: whether unknown tokens map to an ``"<unk>"`` entry (otherwise :meth:`lookup` raises).

    Raises:
        ValueError: an item is repeated, equals a special token, is empty, or holds a line
            break (``"\\n"`` or ``"\\r"``), which the saved file could not represent.

    Example:
        vocab = Vocabulary.build(["a", "b", "a"])   # ["<pad>", "<unk>", "a", "b"]
        vocab.encode(["a", "z"])                    # array([2, 1], dtype=int32)
    """

    PAD = "<pad>"
    OOV = "<unk>"

    def __init__(self, items: Sequence[str], *, pad: bool = True, oov: bool = True):
        specials = [self.PAD] * pad + [self.OOV] * oov
        self.tokens: list[str] = [*specials, *items]
        self.pad_id: int | None = 0 if pad else None
        self.oov_id: int | None = (1 if pad else 0) if oov else None
        self._ids: dict[str, int] = {}
        for index, token in enumerate(self.tokens):
            if index >= len(specials):
                _check_item(token)
            if token in self._ids:
                raise ValueError(
                    f"duplicate vocabulary item {token!r} (ids {self._ids[token]} and {index})"
                )
            self._ids[token] = index

    @classmethod
    def build(
        cls,
        tokens: Iterable[str],
        *,
        min_count: int = 1,
        max_size: int | None = None,
        pad: bool = True,
        oov: bool = True,
    ) -> Vocabulary:
        """Builds a vocabulary from a stream of tokens, most frequent first.

        Items are ordered by decreasing count, ties broken by the token itself, so the same
        data always gives the same ids.

        Args:
            tokens: the tokens to count (for example every word of the training set).
            min_count: items seen fewer times are left out (they map to the OOV id).
            max_size: the most entries in all, specials included (the embedding table's size);
                None for no limit.
            pad: whether id 0 is the padding token.
            oov: whether to add the out-of-vocabulary token.
        """
        if min_count < 1:
            raise ValueError(f"min_count must be at least 1, got {min_count}")
        counts = collections.Counter(tokens)
        for special in (cls.PAD, cls.OOV):
            counts.pop(special, None)
        items = sorted(
            (token for token, count in counts.items() if count >= min_count),
            key=lambda token: (-counts[token], token),
        )
        if max_size is not None:
            room = max_size - pad - oov
            if room < 0:
                raise ValueError(f"max_size {max_size} leaves no room for the special tokens")
            items = items[:room]
        return cls(items, pad=pad, oov=oov)

    def __len__(self) -> int:
        return len(self.tokens)

    def __contains__(self, token: object) -> bool:
        return token in self._ids

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Vocabulary):
            return NotImplemented
        return (self.tokens, self.pad_id, self.oov_id) == (other.tokens, other.pad_id, other.oov_id)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        preview = ", ".join(repr(token) for token in self.tokens[:5])
        more = ", ..." if len(self.tokens) > 5 else ""
        return f"Vocabulary(size={len(self)}, tokens=[{preview}{more}])"

    @property
    def items(self) -> list[str]:
        """The non-special entries, in id order."""
        return self.tokens[(self.pad_id is not None) + (self.oov_id is not None) :]

    def lookup(self, token: str) -> int:
        """Returns the id of ``token``, the OOV id when unknown.

        Raises:
            KeyError: the token is unknown and the vocabulary has no OOV entry.
        """
        index = self._ids.get(token)
        if index is not None:
            return index
        if self.oov_id is None:
            raise KeyError(f"{token!r} is not in the vocabulary, which has no OOV entry")
        return self.oov_id

    def encode(self, tokens: Sequence[str]) -> np.ndarray:
        """Returns the ids of ``tokens`` as an int32 array of the same length."""
        return np.fromiter((self.lookup(token) for token in tokens), np.int32, len(tokens))

    def decode(self, ids: Iterable[int]) -> list[str]:
        """Returns the tokens of ``ids`` (any iterable of integers, a NumPy array included).

        Raises:
            IndexError: an id is negative or not below ``len(self)``.
        """
        tokens = []
        for index in np.asarray(ids, dtype=np.int64).reshape(-1).tolist():
            if not 0 <= index < len(self.tokens):
                raise IndexError(f"id {index} is outside the vocabulary (size {len(self.tokens)})")
            tokens.append(self.tokens[index])
        return tokens

    def save(self, path: str | os.PathLike) -> None:
        """Writes the vocabulary atomically: UTF-8, one token per line, line number == id."""
        atomic_write_text(path, "".join(f"{token}\n" for token in self.tokens))

    @classmethod
    def load(cls, path: str | os.PathLike) -> Vocabulary:
        """Reads a file written by :meth:`save`.

        ``"<pad>"`` on the first line marks a padding entry; ``"<unk>"`` right after it (or on
        the first line when there is no padding entry) marks an OOV entry.

        Raises:
            DataError: naming the file and line of an empty line, a repeated token, a special
                token out of place, or undecodable bytes; or the file when missing or empty.
        """
        tokens: list[str] = []
        seen: dict[str, int] = {}
        for number, token in iter_lines(path, strip="\r\n"):
            if not token:
                raise DataError(path, number, "empty vocabulary line")
            if token in seen:
                raise DataError(
                    path, number, f"duplicate token {token!r} (first on line {seen[token]})"
                )
            seen[token] = number
            tokens.append(token)
        if not tokens:
            raise DataError(path, None, "empty vocabulary file")
        pad = tokens[0] == cls.PAD
        oov = len(tokens) > pad and tokens[int(pad)] == cls.OOV
        specials = int(pad) + int(oov)
        for index, token in enumerate(tokens[specials:], start=specials):
            if token in (cls.PAD, cls.OOV):
                raise DataError(
                    path,
                    index + 1,
                    f"special token {token!r} must come first ({cls.PAD!r} on line 1, "
                    f"then {cls.OOV!r})",
                )
        return cls(tokens[specials:], pad=pad, oov=oov)


def _check_item(token: str) -> None:
    if not isinstance(token, str):
        raise ValueError(f"vocabulary items must be strings, got {token!r}")
    if not token:
        raise ValueError("vocabulary items must not be empty strings")
    if "\n" in token or "\r" in token:
        raise ValueError(f"vocabulary item {token!r} holds a line break")
    if token in (Vocabulary.PAD, Vocabulary.OOV):
        raise ValueError(f"vocabulary item {token!r} is a special token")


def build_char_vocabulary(sentences: Iterable[Sentence], *, min_count: int = 1) -> Vocabulary:
    """Builds the character vocabulary of the sentences' tokens (with padding and OOV entries)."""
    return Vocabulary.build(
        (char for sentence in sentences for token in sentence.tokens for char in token),
        min_count=min_count,
    )
