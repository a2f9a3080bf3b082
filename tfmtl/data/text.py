"""Reader for plain text: one sentence per line, tokens separated by whitespace."""

from __future__ import annotations

import os
from collections.abc import Iterator

from tfmtl.data._io import iter_lines
from tfmtl.data.errors import DataError
from tfmtl.data.sentence import Sentence


def read_text(path: str | os.PathLike, *, encoding: str = "utf-8") -> Iterator[Sentence]:
    """Streams unlabelled sentences from a text file, one per line (blank lines skipped).

    Raises:
        DataError: naming the file and line of bytes that are not UTF-8, or the file alone
            when it is missing or holds no sentence.
    """
    path = os.fspath(path)
    count = 0
    for number, text in iter_lines(path, strip="\r\n", encoding=encoding):
        tokens = tuple(text.split())
        if tokens:
            yield Sentence(tokens=tokens, path=path, line=number)
            count += 1
    if not count:
        raise DataError(path, None, "empty: no sentences")
