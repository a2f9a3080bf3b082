"""Reader for CoNLL column files (CoNLL-2000 chunking, CoNLL-2003 and WNUT-17 NER)."""

from __future__ import annotations

import os
from collections.abc import Iterator

from tfmtl.data._io import iter_lines
from tfmtl.data.errors import DataError
from tfmtl.data.sentence import Sentence

_DOCSTART = "-DOCSTART-"


def _split_columns(text: str) -> list[str]:
    if "\t" in text:
        return text.split("\t")
    return text.split()


def read_conll(path: str | os.PathLike, *, encoding: str = "utf-8") -> Iterator[Sentence]:
    """Streams the sentences of a one-token-per-line column file.

    Columns are separated by tabs when a line has a tab (so tokens may hold spaces), otherwise by
    runs of whitespace. A blank line ends a sentence; ``-DOCSTART-`` lines are skipped. Column 0
    is the token; the others become ``fields`` keyed by their index as a string (``"1"``,
    ``"2"``, ...), so ``sentence.column("-1")`` is the last column whatever the file's width.

    Args:
        path: the column file.

    Yields:
        One :class:`Sentence` per sentence, with ``line`` at its first token line.

    Raises:
        DataError: naming the file and line when a line's column count differs from the file's
            first token line, a line has fewer than 2 columns or an empty column, or bytes are
            not UTF-8; naming the file alone when it is missing or holds no sentence.
    """
    path = os.fspath(path)
    width = 0
    width_line = 0
    rows: list[list[str]] = []
    start = 0
    count = 0
    for number, text in iter_lines(path, encoding=encoding):
        if not text.strip():
            if rows:
                yield _sentence(path, start, rows)
                count += 1
                rows = []
            continue
        columns = _split_columns(text)
        if columns[0] == _DOCSTART:
            continue
        if not width:
            if len(columns) < 2:
                raise DataError(
                    path,
                    number,
                    f"expected at least 2 columns (token and tag), found {len(columns)}",
                )
            width, width_line = len(columns), number
        elif len(columns) != width:
            raise DataError(
                path,
                number,
                f"expected {width} columns (as on line {width_line}), found {len(columns)}",
            )
        if not all(columns):
            raise DataError(path, number, f"empty column {columns.index('') + 1}")
        if not rows:
            start = number
        rows.append(columns)
    if rows:
        yield _sentence(path, start, rows)
        count += 1
    if not count:
        raise DataError(path, None, "empty: no sentences")


def _sentence(path: str, start: int, rows: list[list[str]]) -> Sentence:
    columns = list(zip(*rows, strict=True))
    return Sentence(
        tokens=columns[0],
        fields={str(index): column for index, column in enumerate(columns[1:], start=1)},
        path=path,
        line=start,
    )
