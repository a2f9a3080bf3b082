"""Reader for CoNLL-U files (Universal Dependencies)."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator

from tfmtl.data._io import iter_lines
from tfmtl.data.errors import DataError
from tfmtl.data.sentence import Sentence

#: Names of the token-aligned fields, in column order after ID and FORM.
CONLLU_FIELDS = ("lemma", "upos", "xpos", "feats", "head", "deprel", "deps", "misc")

_WORD_ID = re.compile(r"[1-9][0-9]*")
_RANGE_ID = re.compile(r"([1-9][0-9]*)-([1-9][0-9]*)")
_EMPTY_ID = re.compile(r"(0|[1-9][0-9]*)\.([1-9][0-9]*)")
_COMMENT = re.compile(r"#\s*([^=]*?)\s*=\s?(.*)")


class _SentenceBuilder:
    """Accumulates the lines of one CoNLL-U sentence and validates them."""

    def __init__(self, path: str):
        self.path = path
        self.start = 0
        self.meta: dict[str, str] = {}
        self.tokens: list[str] = []
        self.columns: list[list[str]] = [[] for _ in CONLLU_FIELDS]
        self.head_lines: list[int] = []
        self.open_range: tuple[int, int, int] | None = None

    def comment(self, number: int, text: str) -> None:
        if self.tokens or self.open_range:
            raise DataError(self.path, number, "comment line inside a sentence")
        if not self.start:
            self.start = number
        match = _COMMENT.fullmatch(text)
        if match and match.group(1):
            self.meta[match.group(1)] = match.group(2)

    def word_line(self, number: int, text: str) -> None:
        if not self.start:
            self.start = number
        columns = text.split("\t")
        if len(columns) != 10:
            raise DataError(
                self.path, number, f"expected 10 tab-separated columns, found {len(columns)}"
            )
        for index, value in enumerate(columns):
            if not value:
                raise DataError(self.path, number, f"column {index + 1} is empty")
        ident = columns[0]
        expected = len(self.tokens) + 1
        if _WORD_ID.fullmatch(ident):
            if int(ident) != expected:
                raise DataError(
                    self.path, number, f"word ID {ident} out of sequence, expected {expected}"
                )
            self.tokens.append(columns[1])
            for column, value in zip(self.columns, columns[2:], strict=True):
                column.append(value)
            self.head_lines.append(number)
            if self.open_range and int(ident) == self.open_range[1]:
                self.open_range = None
            return
        match = _RANGE_ID.fullmatch(ident)
        if match:
            first, last = int(match.group(1)), int(match.group(2))
            if self.open_range:
                raise DataError(
                    self.path,
                    number,
                    f"multiword token {ident} starts inside the range on line {self.open_range[2]}",
                )
            if first >= last:
                raise DataError(self.path, number, f"bad multiword token range {ident}")
            if first != expected:
                raise DataError(
                    self.path,
                    number,
                    f"multiword token {ident} must start at the next word ID {expected}",
                )
            self.open_range = (first, last, number)
            return
        match = _EMPTY_ID.fullmatch(ident)
        if match:
            if int(match.group(1)) != expected - 1:
                raise DataError(
                    self.path,
                    number,
                    f"empty node {ident} out of sequence after word {expected - 1}",
                )
            return
        raise DataError(self.path, number, f"bad ID {ident!r}")

    def finish(self, end_line: int) -> Sentence:
        if self.open_range:
            first, last, number = self.open_range
            raise DataError(
                self.path,
                number,
                f"multiword token {first}-{last} is not covered by the words that follow "
                f"(the sentence ends after word {len(self.tokens)})",
            )
        if not self.tokens:
            raise DataError(self.path, self.start or end_line, "sentence has no words")
        size = len(self.tokens)
        heads = self.columns[CONLLU_FIELDS.index("head")]
        for head, number in zip(heads, self.head_lines, strict=True):
            if head == "_":
                continue
            if not head.isdigit() or int(head) > size:
                raise DataError(
                    self.path,
                    number,
                    f"HEAD {head!r} is not an integer in 0..{size} (the sentence has {size} words)",
                )
        return Sentence(
            tokens=tuple(self.tokens),
            fields=dict(zip(CONLLU_FIELDS, map(tuple, self.columns), strict=True)),
            meta=self.meta,
            path=self.path,
            line=self.start,
        )


def read_conllu(path: str | os.PathLike, *, encoding: str = "utf-8") -> Iterator[Sentence]:
    """Streams the sentences of a CoNLL-U file.

    Each sentence has the forms as ``tokens`` and the other columns as ``fields`` (``"lemma"``,
    ``"upos"``, ``"xpos"``, ``"feats"``, ``"head"``, ``"deprel"``, ``"deps"``, ``"misc"``).
    ``# key = value`` comments before a sentence go to ``meta``; other comments are ignored.
    Multiword-token ranges (``3-4``) are validated but are not tokens; empty nodes (``5.1``) are
    skipped.

    Args:
        path: the CoNLL-U file.

    Yields:
        One :class:`Sentence` per sentence, with ``line`` at its first (comment or word) line.

    Raises:
        DataError: naming the file and line of the first malformed line (wrong column count,
            bad or out-of-sequence ID, uncovered range, HEAD outside the sentence, undecodable
            bytes), or the file alone when it is missing or holds no sentence.
    """
    path = os.fspath(path)
    builder = _SentenceBuilder(path)
    count = 0
    last = 0
    for number, text in iter_lines(path, encoding=encoding):
        last = number
        if not text:
            if builder.start:
                yield builder.finish(number)
                count += 1
                builder = _SentenceBuilder(path)
        elif text.startswith("#"):
            builder.comment(number, text)
        else:
            builder.word_line(number, text)
    if builder.start:
        if not builder.tokens and not builder.open_range:
            raise DataError(path, builder.start, "comment lines at the end of the file, no words")
        yield builder.finish(last)
        count += 1
    if not count:
        raise DataError(path, None, "empty: no sentences")
