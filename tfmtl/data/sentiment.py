"""Readers for the sentence classification corpora as they are distributed.

* One file per class, one sentence per line (sentence polarity: ``rt-polarity.pos`` and
  ``rt-polarity.neg``; subjectivity: ``quote.tok.gt9.5000`` and ``plot.tok.gt9.5000``), the
  class of each file named by the config.
* The Stanford Sentiment Treebank's bracketed trees, a sentiment label 0-4 on every node:
  the sentence's label is the root's; its labelled phrases may be extra examples.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence

from tfmtl.data._io import iter_lines
from tfmtl.data.errors import DataError
from tfmtl.data.sentence import Sentence
from tfmtl.data.trees import parse_tree

#: SST's five classes, and the binary task's mapping of them (neutral dropped).
SST_FINE = ("0", "1", "2", "3", "4")
SST_BINARY = {"0": "negative", "1": "negative", "3": "positive", "4": "positive"}
SST_LABELS = ("fine", "binary")
# The PTB escapes of SST's leaves, undone so that tokens read as raw text does.
_UNESCAPE = {"-LRB-": "(", "-RRB-": ")", "-LSB-": "[", "-RSB-": "]", "-LCB-": "{",
             "-RCB-": "}"}


def _unescape(token: str) -> str:
    return _UNESCAPE.get(token, token.replace("\\/", "/").replace("\\*", "*"))


def parse_class_files(spec: str) -> list[tuple[str, str]]:
    """Parses ``"positive=rt-polarity.pos,negative=rt-polarity.neg"`` into (class, file) pairs.

    Raises:
        ValueError: an entry is not ``class=file``, or a class or a file repeats.
    """
    pairs = []
    for entry in (part.strip() for part in spec.split(",")):
        label, equals, path = (piece.strip() for piece in entry.partition("="))
        if not equals or not label or not path:
            raise ValueError(f"{entry!r} is not class=file")
        pairs.append((label, path))
    for index, what in ((0, "class"), (1, "file")):
        values = [pair[index] for pair in pairs]
        repeated = sorted({v for v in values if values.count(v) > 1})
        if repeated:
            raise ValueError(f"{what} {repeated[0]!r} given twice")
    if len(pairs) < 2:
        raise ValueError("give at least two class=file entries")
    return pairs


def read_class_files(files: Sequence[tuple[str, str | os.PathLike]], *,
                     encoding: str = "utf-8") -> list[Sentence]:
    """Reads one file per class (a sentence per line, blank lines skipped), interleaved.

    Sentences come in turn from each file (the first of every class, then the second, ...;
    a longer file's rest at the end), so any tail of the list, a held-out dev set
    included, mixes the classes as the files do.

    Raises:
        DataError: naming the file and line of bytes invalid in ``encoding``, or a file that
            is missing or holds no sentence.
    """
    per_class = []
    for label, path in files:
        path = os.fspath(path)
        sentences = [Sentence(tokens=tuple(text.split()), label=label, path=path, line=number)
                     for number, text in iter_lines(path, strip="\r\n", encoding=encoding)
                     if text.split()]
        if not sentences:
            raise DataError(path, None, "empty: no sentences")
        per_class.append(sentences)
    interleaved = []
    for index in range(max(len(s) for s in per_class)):
        interleaved.extend(s[index] for s in per_class if index < len(s))
    return interleaved


def read_sst(path: str | os.PathLike, *, labels: str = "fine", phrases: bool = False,
             encoding: str = "utf-8") -> Iterator[Sentence]:
    """Streams SST sentences from one tree per line, labelled by the root.

    Leaves are unescaped as raw text reads (``-LRB-`` is ``(``, ``\\/`` is ``/``).

    Args:
        path: a file of SST trees (``(3 (2 The) (2 Rock) ...)``).
        labels: ``"fine"``, the root's label "0".."4"; or ``"binary"``: neutral (2)
            sentences dropped, 0-1 "negative", 3-4 "positive".
        phrases: also yield every labelled phrase below the root (each node spanning
            more than one word, in tree order, right after its sentence), as the SST
            papers train on them; duplicates of a phrase are kept.
        encoding: the file's encoding.

    Raises:
        DataError: naming the file and line of a malformed tree or a label not in 0-4.
    """
    if labels not in SST_LABELS:
        raise ValueError(f"labels must be one of {', '.join(SST_LABELS)}, got {labels!r}")
    path = os.fspath(path)
    count = 0
    for number, text in iter_lines(path, encoding=encoding):
        if not text.strip():
            continue
        tree = parse_tree(text, path, number)
        for node, _ in tree.subtrees():
            if node.label not in SST_FINE:
                raise DataError(path, number, f"sentiment label {node.label!r} is not 0-4")
            if node is not tree and (not phrases or node.is_preterminal
                                     or len(node.leaves()) < 2):
                continue
            label = node.label if labels == "fine" else SST_BINARY.get(node.label)
            if label is None:
                continue
            tokens = tuple(_unescape(token) for token in node.leaves())
            yield Sentence(tokens=tokens, label=label, path=path, line=number)
            count += 1
    if not count:
        raise DataError(path, None, "empty: no sentences")


def sst_lexicon(path: str | os.PathLike, *, encoding: str = "utf-8") -> dict[str, set[str]]:
    """A sentiment lexicon from SST trees: every single-word phrase with a strong label
    (0: "negative", 4: "positive"), lowercased; a word seen with both keeps both.

    Build it from the training trees only, never from dev or test.
    """
    lexicon: dict[str, set[str]] = {}
    path = os.fspath(path)
    for number, text in iter_lines(path, encoding=encoding):
        if not text.strip():
            continue
        for node, _ in parse_tree(text, path, number).subtrees():
            if node.is_preterminal and node.label in ("0", "4"):
                word = _unescape(node.children[0]).lower()
                lexicon.setdefault(word, set()).add(
                    "negative" if node.label == "0" else "positive")
    return lexicon
