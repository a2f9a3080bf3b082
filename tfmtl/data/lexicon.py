"""Reader for word lexicons: one ``word<TAB>class`` per line (a word may have several classes)."""

from __future__ import annotations

import os

from tfmtl.data._io import iter_lines
from tfmtl.data.errors import DataError


def read_lexicon(path: str | os.PathLike, *, lowercase: bool = False) -> dict[str, set[str]]:
    """Reads a lexicon into ``{word: {class, ...}}`` (words lowercased when asked).

    Blank lines and lines starting with ``#`` are skipped.

    Raises:
        DataError: naming the file and line of a line without a tab, with an empty word or
            class, or with more than two fields; the file alone when it is missing or empty.
    """
    path = os.fspath(path)
    lexicon: dict[str, set[str]] = {}
    for number, text in iter_lines(path):
        if not text.strip() or text.startswith("#"):
            continue
        fields = text.split("\t")
        if len(fields) != 2:
            raise DataError(path, number, f"expected 'word<TAB>class', found {len(fields)} "
                            f"tab-separated field{'s' if len(fields) != 1 else ''}")
        word, label = fields[0].strip(), fields[1].strip()
        if not word or not label:
            raise DataError(path, number, "empty word" if not word else "empty class")
        lexicon.setdefault(word.lower() if lowercase else word, set()).add(label)
    if not lexicon:
        raise DataError(path, None, "empty: no entries")
    return lexicon
