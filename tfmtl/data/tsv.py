"""Reader for sentence classification files: one ``label<TAB>text`` per line."""

from __future__ import annotations

import os
from collections.abc import Iterator

from tfmtl.data._io import iter_lines
from tfmtl.data.errors import DataError
from tfmtl.data.sentence import Sentence


def read_tsv(path: str | os.PathLike, *, encoding: str = "utf-8") -> Iterator[Sentence]:
    """Streams labelled sentences from a ``label<TAB>text`` file.

    The label is the text before the first tab; the tokens are the rest split on whitespace.
    Blank lines are skipped.

    Args:
        path: the classification file.

    Yields:
        One :class:`Sentence` per non-blank line, with ``label`` set and ``line`` at that line.

    Raises:
        DataError: naming the file and line of a line without a tab, with an empty label or
            with no text, or with bytes that are not UTF-8; naming the file alone when it is
            missing or holds no sentence.
    """
    path = os.fspath(path)
    count = 0
    for number, text in iter_lines(path, strip="\r\n", encoding=encoding):
        if not text.strip():
            continue
        label, tab, rest = text.partition("\t")
        if not tab:
            raise DataError(path, number, "expected 'label<TAB>text', found no tab")
        label = label.strip()
        if not label:
            raise DataError(path, number, "empty label before the tab")
        tokens = tuple(rest.split())
        if not tokens:
            raise DataError(path, number, f"label {label!r} has no text after the tab")
        yield Sentence(tokens=tokens, label=label, path=path, line=number)
        count += 1
    if not count:
        raise DataError(path, None, "empty: no sentences")
