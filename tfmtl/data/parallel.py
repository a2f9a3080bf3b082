"""Reader for line-aligned parallel text (one sentence per line in each of two files)."""

from __future__ import annotations

import os
from collections.abc import Iterator

from tfmtl.data._io import iter_lines
from tfmtl.data.errors import DataError
from tfmtl.data.sentence import Sentence

_END = (0, None)


def read_parallel(
    source_path: str | os.PathLike, target_path: str | os.PathLike
) -> Iterator[Sentence]:
    """Streams sentence pairs from two line-aligned files.

    Line ``i`` of the source file translates to line ``i`` of the target file. Tokens are the
    source line split on whitespace, ``target`` the target line split on whitespace.

    Args:
        source_path: the source-language file.
        target_path: the target-language file.

    Yields:
        One :class:`Sentence` per line pair, with ``path`` the source file and ``line`` the line.

    Raises:
        DataError: an empty line on either side (naming that file and line); one file ending
            before the other (naming the longer file, the first unmatched line and both files);
            undecodable bytes; a missing file; or no lines at all.
    """
    source_path = os.fspath(source_path)
    target_path = os.fspath(target_path)
    sources = iter_lines(source_path)
    targets = iter_lines(target_path)
    count = 0
    while True:
        number, source = next(sources, _END)
        target_number, target = next(targets, _END)
        if source is None and target is None:
            break
        if source is None or target is None:
            longer, shorter = (
                (target_path, source_path) if source is None else (source_path, target_path)
            )
            line = max(number, target_number)
            raise DataError(
                longer,
                line,
                f"line {line} has no counterpart: {shorter} ends after {line - 1} lines "
                f"(parallel files {source_path} and {target_path} must have the same length)",
            )
        source_tokens = tuple(source.split())
        target_tokens = tuple(target.split())
        if not source_tokens:
            raise DataError(source_path, number, "empty line in the source file")
        if not target_tokens:
            raise DataError(target_path, number, "empty line in the target file")
        yield Sentence(tokens=source_tokens, target=target_tokens, path=source_path, line=number)
        count += 1
    if not count:
        raise DataError(source_path, None, f"empty: no sentences (target file {target_path})")
