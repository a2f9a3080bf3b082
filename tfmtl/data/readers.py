"""The readers of the data layer by format name."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from tfmtl.data.conll import read_conll
from tfmtl.data.conllu import read_conllu
from tfmtl.data.parallel import read_parallel
from tfmtl.data.sentence import Sentence
from tfmtl.data.text import read_text
from tfmtl.data.tsv import read_tsv

#: Single-file readers by the format name used in configs and by ``tfmtl-data check``.
#: Parallel text takes two files and is read with :func:`read_parallel`.
READERS: dict[str, Callable[..., Iterator[Sentence]]] = {
    "conllu": read_conllu,
    "conll": read_conll,
    "tsv": read_tsv,
    "text": read_text,
}

__all__ = ["READERS", "read_conll", "read_conllu", "read_parallel", "read_text", "read_tsv"]
