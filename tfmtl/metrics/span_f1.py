"""Chunk (span) precision, recall and F1 exactly as the CoNLL-2000 ``conlleval`` script scores them.

conlleval (Tjong Kim Sang, version 2004-01-26, default settings) reads one
token per line with the gold and predicted tags in the last two columns and
a blank line (or a line whose first column is ``-X-``) between sentences. It
splits every tag at its first hyphen into a *kind* and a *type*
(``B-ORG`` -> ``B``, ``ORG``; ``O`` -> ``O``, ``""``) and walks the tokens
once, deciding between each pair of neighbours whether a chunk ended and
whether one started. Those two decisions look only at the two kinds and the
two types, so every tag sequence has a score, however malformed:

* a chunk **ends** between kinds ``B|B``, ``B|O``, ``I|B``, ``I|O``,
  ``E|E``, ``E|I``, ``E|O``; after ``[`` or ``]``; and whenever the type
  changes after a kind other than ``O`` and ``.``;
* a chunk **starts** between kinds ``B|B``, ``I|B``, ``O|B``, ``O|I``,
  ``E|E``, ``E|I``, ``O|E``; at ``[`` or ``]``; and whenever the type
  changes onto a kind other than ``O`` and ``.``.

So IOB1 (``I-`` opening a chunk after ``O``) and IOB2 both work, ``I-X``
after ``I-Y`` opens a new chunk, and ``E-`` follows the IOE schemes. ``S-``
is *not* a kind conlleval knows: ``S-PER S-PER`` is one chunk to it. Convert
IOBES output with :func:`iobes_to_bio` before scoring it.

A predicted chunk is correct when it starts and ends on the same tokens as a
gold chunk, with the same type at its start and at its end. Sentence
boundaries are out-of-chunk tokens that are not counted. conlleval reads the
type as Perl does, so a type ``"0"`` (false in Perl) is read as no type.

:func:`span_f1` scores sentences as conlleval scores a file holding each
sentence followed by one blank line (as CoNLL files are written).
:func:`evaluate_conll_file` scores a conlleval input file line by line, and
``python -m tfmtl.metrics.span_f1 FILE`` prints the same report as
``conlleval < FILE``.

Reference:
    Tjong Kim Sang and Buchholz, "Introduction to the CoNLL-2000 Shared Task:
    Chunking", CoNLL 2000; Tjong Kim Sang and Veenstra, "Representing Text
    Chunks", EACL 1999 (arXiv cs/9907006).
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import os
import re
import sys
import types
from collections.abc import Iterable, Mapping, Sequence

from tfmtl.metrics._validation import as_label, check_parallel

BOUNDARY = "-X-"
"""A line whose first column is this is a sentence boundary for conlleval."""

DOCSTART = "-DOCSTART-"
"""CoNLL-2003 document separator; a token for conlleval unless asked otherwise."""

# Kind and type of a tag: everything before the first hyphen, and everything after it.
_TAG = re.compile(r"([^-]*)-(.*)$")
_END_PAIRS = frozenset({("B", "B"), ("B", "O"), ("I", "B"), ("I", "O"),
                        ("E", "E"), ("E", "I"), ("E", "O")})
_START_PAIRS = frozenset({("B", "B"), ("I", "B"), ("O", "B"), ("O", "I"),
                          ("E", "E"), ("E", "I"), ("O", "E")})
# Kinds that never take part in a chunk change caused by a type change.
_UNTYPED_KINDS = frozenset({"O", "."})
# Kinds that make one-token chunks.
_BRACKETS = frozenset({"[", "]"})
_OUTSIDE = ("O", "")


@dataclasses.dataclass(frozen=True)
class TypeScores:
    """Scores of one chunk type, in percent, as conlleval's per-type lines.

    Attributes:
        precision: ``100 * correct / pred``, 0 when nothing of the type was predicted.
        recall: ``100 * correct / gold``, 0 when the type has no gold chunk.
        f1: harmonic mean of precision and recall, 0 when both are 0.
        gold: gold chunks of the type.
        pred: predicted chunks of the type.
        correct: correctly predicted chunks of the type.
    """

    precision: float
    recall: float
    f1: float
    gold: int
    pred: int
    correct: int


@dataclasses.dataclass(frozen=True)
class SpanScores:
    """Chunk scores of a corpus, in percent, as conlleval reports them.

    Attributes:
        precision: ``100 * correct_spans / pred_spans`` (0 when nothing was predicted).
        recall: ``100 * correct_spans / gold_spans`` (0 when there is no gold chunk).
        f1: harmonic mean of precision and recall (0 when both are 0).
        accuracy: percentage of tokens whose gold and predicted tags agree in kind and
            type (0 when there are no tokens; conlleval then prints no accuracy).
        gold_spans: chunks in the gold tags.
        pred_spans: chunks in the predicted tags.
        correct_spans: predicted chunks that match a gold chunk.
        tokens: tokens scored (sentence boundaries are not tokens).
        per_type: scores per chunk type, ordered by type name as conlleval sorts them
            (bytewise); untyped chunks (``B``, ``[``) have the type ``""``.
    """

    precision: float
    recall: float
    f1: float
    accuracy: float
    gold_spans: int
    pred_spans: int
    correct_spans: int
    tokens: int
    per_type: Mapping[str, TypeScores]


def _split_tag(tag: str) -> tuple[str, str]:
    match = _TAG.match(tag)
    if match is None:
        return tag, ""
    kind, chunk_type = match.groups()
    # conlleval keeps the type only when it is true in Perl: "" and "0" are not.
    return kind, "" if chunk_type == "0" else chunk_type


def _chunk_ends(prev: tuple[str, str], cur: tuple[str, str]) -> bool:
    return (
        (prev[0], cur[0]) in _END_PAIRS
        or prev[0] in _BRACKETS
        or (prev[0] not in _UNTYPED_KINDS and prev[1] != cur[1])
    )


def _chunk_starts(prev: tuple[str, str], cur: tuple[str, str]) -> bool:
    return (
        (prev[0], cur[0]) in _START_PAIRS
        or cur[0] in _BRACKETS
        or (cur[0] not in _UNTYPED_KINDS and prev[1] != cur[1])
    )


def _ratio(numerator: int, denominator: int) -> float:
    return 100 * numerator / denominator if denominator > 0 else 0.0


def _harmonic(precision: float, recall: float) -> float:
    return 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0


def _type_order(chunk_type: str) -> bytes:
    # Perl sorts the bytes it read; surrogateescape maps undecodable input back to them.
    return chunk_type.encode("utf-8", "surrogateescape")


class _ConllevalCounter:
    """conlleval's single pass over tokens and boundaries, one call per input line."""

    def __init__(self):
        self._tags: dict[str, tuple[str, str]] = {}
        self._last_gold = _OUTSIDE
        self._last_pred = _OUTSIDE
        self._in_correct = False
        self._tokens = 0
        self._correct_tags = 0
        self._gold = collections.Counter()
        self._pred = collections.Counter()
        self._correct = collections.Counter()

    def _parse(self, tag: str) -> tuple[str, str]:
        parsed = self._tags.get(tag)
        if parsed is None:
            parsed = self._tags[tag] = _split_tag(tag)
        return parsed

    def token(self, gold_tag: str, pred_tag: str) -> None:
        """Scores one token line."""
        gold, pred = self._parse(gold_tag), self._parse(pred_tag)
        self._step(gold, pred)
        self._tokens += 1
        self._correct_tags += gold == pred

    def boundary(self) -> None:
        """Scores a sentence boundary: an out-of-chunk token that is not counted."""
        self._step(_OUTSIDE, _OUTSIDE)

    def _step(self, gold: tuple[str, str], pred: tuple[str, str]) -> None:
        last_gold, last_pred = self._last_gold, self._last_pred
        if self._in_correct:
            gold_ends = _chunk_ends(last_gold, gold)
            pred_ends = _chunk_ends(last_pred, pred)
            if gold_ends and pred_ends and last_pred[1] == last_gold[1]:
                self._in_correct = False
                self._correct[last_gold[1]] += 1
            elif gold_ends != pred_ends or pred[1] != gold[1]:
                self._in_correct = False
        gold_starts = _chunk_starts(last_gold, gold)
        pred_starts = _chunk_starts(last_pred, pred)
        if gold_starts and pred_starts and pred[1] == gold[1]:
            self._in_correct = True
        if gold_starts:
            self._gold[gold[1]] += 1
        if pred_starts:
            self._pred[pred[1]] += 1
        self._last_gold, self._last_pred = gold, pred

    def scores(self) -> SpanScores:
        """Returns the scores of everything seen, as at the end of conlleval's input."""
        correct = collections.Counter(self._correct)
        if self._in_correct:
            correct[self._last_gold[1]] += 1
        per_type = {}
        for chunk_type in sorted(set(self._gold) | set(self._pred) | set(correct),
                                 key=_type_order):
            gold, pred, hits = self._gold[chunk_type], self._pred[chunk_type], correct[chunk_type]
            precision, recall = _ratio(hits, pred), _ratio(hits, gold)
            per_type[chunk_type] = TypeScores(
                precision=precision,
                recall=recall,
                f1=_harmonic(precision, recall),
                gold=gold,
                pred=pred,
                correct=hits,
            )
        gold_spans, pred_spans = self._gold.total(), self._pred.total()
        correct_spans = correct.total()
        precision, recall = _ratio(correct_spans, pred_spans), _ratio(correct_spans, gold_spans)
        return SpanScores(
            precision=precision,
            recall=recall,
            f1=_harmonic(precision, recall),
            accuracy=_ratio(self._correct_tags, self._tokens),
            gold_spans=gold_spans,
            pred_spans=pred_spans,
            correct_spans=correct_spans,
            tokens=self._tokens,
            per_type=types.MappingProxyType(per_type),
        )


def span_f1(gold: Sequence[Sequence[str]], pred: Sequence[Sequence[str]]) -> SpanScores:
    """Scores predicted chunk tags against gold ones exactly as conlleval does.

    The result is what conlleval reports for a file holding, for every sentence,
    one line per token (any token, then the gold tag, then the predicted tag)
    followed by a blank line. Tags of any scheme are accepted and read by
    conlleval's rules (see the module docstring): IOB1, IOB2, IOE, brackets and
    malformed sequences score as conlleval scores them. conlleval does not know
    the ``S-`` of IOBES; convert IOBES tags with :func:`iobes_to_bio` first.

    Args:
        gold: one sequence of gold tags per sentence (``str``, or UTF-8 ``bytes``).
        pred: one sequence of predicted tags per sentence, parallel to ``gold``.

    Returns:
        The overall and per-type scores, in percent.

    Raises:
        ValueError: when the sentence counts differ or a sentence's token counts
            differ; the message names the sentence index.
        TypeError: when a tag is neither ``str`` nor ``bytes``.

    Example:
        >>> scores = span_f1([["B-PER", "I-PER", "O"]], [["B-PER", "I-PER", "B-LOC"]])
        >>> scores.precision, scores.recall, scores.correct_spans
        (50.0, 100.0, 1)
    """
    check_parallel(gold, pred)
    counter = _ConllevalCounter()
    for index, (gold_tags, pred_tags) in enumerate(zip(gold, pred, strict=True)):
        for position, (gold_tag, pred_tag) in enumerate(zip(gold_tags, pred_tags, strict=True)):
            if not (isinstance(gold_tag, str) and isinstance(pred_tag, str)):
                where = f"sentence {index}, token {position}"
                gold_tag, pred_tag = as_label(gold_tag, where), as_label(pred_tag, where)
            counter.token(gold_tag, pred_tag)
        counter.boundary()
    return counter.scores()


def _printed_types(scores: SpanScores) -> list[str]:
    """The per-type rows conlleval prints, in its order.

    conlleval prints the sorted union of the types seen in gold and predicted
    chunks. Its de-duplication skips a type only when it equals the previous
    one *and* that one is true in Perl, so the empty type, present in both,
    is printed twice.
    """
    rows = []
    for chunk_type, counts in scores.per_type.items():
        copies = (counts.gold > 0) + (counts.pred > 0)
        rows.extend([chunk_type] * (copies if chunk_type == "" else min(copies, 1)))
    return rows


def conlleval_report(scores: SpanScores) -> str:
    """Formats scores as conlleval prints them (its default, non-LaTeX output).

    Args:
        scores: the result of :func:`span_f1` or :func:`evaluate_conll_file`.

    Returns:
        The report text, one ``\\n``-terminated line for the totals, one for the
        overall scores (left out when there are no tokens, as conlleval does) and
        one per chunk type.

    Example:
        processed 7 tokens with 4 phrases; found: 3 phrases; correct: 2.
        accuracy:  71.43%; precision:  66.67%; recall:  50.00%; FB1:  57.14
                      LOC: precision:   0.00%; recall:   0.00%; FB1:   0.00  0
    """
    lines = [
        f"processed {scores.tokens} tokens with {scores.gold_spans} phrases; "
        f"found: {scores.pred_spans} phrases; correct: {scores.correct_spans}.\n"
    ]
    if scores.tokens > 0:
        lines.append(
            f"accuracy: {scores.accuracy:6.2f}%; precision: {scores.precision:6.2f}%; "
            f"recall: {scores.recall:6.2f}%; FB1: {scores.f1:6.2f}\n"
        )
    for chunk_type in _printed_types(scores):
        counts = scores.per_type[chunk_type]
        # Perl pads to 17 bytes, not characters.
        padding = " " * max(0, 17 - len(_type_order(chunk_type)))
        lines.append(
            f"{padding}{chunk_type}: precision: {counts.precision:6.2f}%; "
            f"recall: {counts.recall:6.2f}%; FB1: {counts.f1:6.2f}  {counts.pred:d}\n"
        )
    return "".join(lines)


def iobes_to_bio(tags: Iterable[str]) -> list[str]:
    """Converts IOBES (BIOES) tags to IOB2 (BIO): ``S-`` becomes ``B-``, ``E-`` becomes ``I-``.

    Other tags are kept as they are, so malformed IOBES output still converts
    tag by tag (``E-PER`` after ``O`` becomes ``I-PER``, which conlleval reads
    as the start of a chunk).

    Args:
        tags: the tags of one sentence.

    Returns:
        The BIO tags.
    """
    converted = []
    for tag in tags:
        if tag.startswith("S-"):
            tag = "B-" + tag[2:]
        elif tag.startswith("E-"):
            tag = "I-" + tag[2:]
        converted.append(tag)
    return converted


def bio_to_iobes(tags: Iterable[str]) -> list[str]:
    """Converts BIO tags (IOB2, or IOB1) to IOBES (BIOES).

    A chunk starts at ``B-X``, or at ``I-X`` that does not continue a chunk of
    type ``X`` (the IOB1 reading, which is also conlleval's), and runs over the
    ``I-X`` tags that follow. One-token chunks become ``S-X``; longer ones
    ``B-X I-X ... E-X``. On valid IOB2, :func:`iobes_to_bio` inverts it.

    Args:
        tags: the tags of one sentence: ``O``, ``B-type`` or ``I-type``.

    Returns:
        The IOBES tags.

    Raises:
        ValueError: naming the position of a tag that is not ``O``, ``B-`` or ``I-``.
    """
    parsed = []
    for position, tag in enumerate(tags):
        kind, hyphen, chunk_type = tag.partition("-")
        if tag != "O" and (kind not in ("B", "I") or not hyphen):
            raise ValueError(
                f"tag {tag!r} at position {position} is not a BIO tag (O, B-type or I-type)"
            )
        parsed.append((kind, chunk_type))
    converted = []
    for position, (kind, chunk_type) in enumerate(parsed):
        if kind == "O":
            converted.append("O")
            continue
        previous = parsed[position - 1] if position > 0 else _OUTSIDE
        following = parsed[position + 1] if position + 1 < len(parsed) else _OUTSIDE
        begins = kind == "B" or previous[0] == "O" or previous[1] != chunk_type
        continues = following == ("I", chunk_type)
        if begins:
            converted.append(("B-" if continues else "S-") + chunk_type)
        else:
            converted.append(("I-" if continues else "E-") + chunk_type)
    return converted


def is_span_tagset(tags: Iterable[str]) -> bool:
    """Tells whether a label set looks like chunk tags (BIO, IOB1, IOBES).

    Args:
        tags: the labels of a tagging task (reserved vocabulary entries such as
            padding or unknown labels left out).

    Returns:
        True when every label is ``O`` or a ``B-``, ``I-``, ``E-`` or ``S-``
        prefix followed by a type, and at least one label is not ``O``.
    """
    chunk_tags = 0
    for tag in tags:
        if tag == "O":
            continue
        if len(tag) < 3 or tag[0] not in "BIES" or tag[1] != "-":
            return False
        chunk_tags += 1
    return chunk_tags > 0


def _score_lines(lines: Iterable[bytes], source: str, docstart_boundary: bool) -> SpanScores:
    counter = _ConllevalCounter()
    columns = None
    for number, line in enumerate(lines, start=1):
        fields = [f.decode("utf-8", "surrogateescape") for f in line.split()]
        if not fields:
            counter.boundary()
            continue
        if columns is None:
            columns = len(fields)
        elif len(fields) != columns:
            raise ValueError(
                f"{source}:{number}: {len(fields)} columns where the first line has {columns}"
            )
        if fields[0] == BOUNDARY or (docstart_boundary and fields[0] == DOCSTART):
            counter.boundary()
        elif len(fields) < 2:
            raise ValueError(
                f"{source}:{number}: need the gold and the predicted tag as the last two columns"
            )
        else:
            counter.token(fields[-2], fields[-1])
    return counter.scores()


def evaluate_conll_file(
    path: str | os.PathLike, *, docstart_boundary: bool = False
) -> SpanScores:
    """Scores a file in conlleval's input format, line by line as conlleval does.

    Columns are separated by ASCII whitespace; the last two are the gold and the
    predicted tag. Blank lines and lines whose first column is ``-X-`` are
    sentence boundaries. Every non-blank line must have as many columns as the
    first one. Like conlleval, a ``-DOCSTART-`` line is an ordinary token (with
    its tags, usually ``O O``) unless ``docstart_boundary`` is set.

    Args:
        path: the file to score.
        docstart_boundary: read lines starting with ``-DOCSTART-`` as sentence
            boundaries instead of tokens (conlleval would count them as tokens).

    Returns:
        The scores conlleval reports for the file.

    Raises:
        OSError: when the file cannot be read.
        ValueError: naming the file and line of a line with a wrong column count.
    """
    with open(path, "rb") as lines:
        return _score_lines(lines, os.fspath(path), docstart_boundary)


def main(argv: Sequence[str] | None = None) -> int:
    """Prints conlleval's report for a file: ``python -m tfmtl.metrics.span_f1 FILE``."""
    parser = argparse.ArgumentParser(
        prog="python -m tfmtl.metrics.span_f1",
        description="Score chunk tags as the CoNLL-2000 conlleval script does and print its "
        "report. Input: one token per line, gold and predicted tag in the last two "
        "columns, a blank line between sentences.",
    )
    parser.add_argument("file", nargs="?", default="-", help="input file ('-': standard input)")
    parser.add_argument(
        "--docstart-boundary",
        action="store_true",
        help="treat -DOCSTART- lines as sentence boundaries (conlleval counts them as tokens)",
    )
    args = parser.parse_args(argv)
    try:
        if args.file == "-":
            scores = _score_lines(sys.stdin.buffer, "<stdin>", args.docstart_boundary)
        else:
            scores = evaluate_conll_file(args.file, docstart_boundary=args.docstart_boundary)
    except (OSError, ValueError) as error:
        print(f"span_f1: {error}", file=sys.stderr)
        return 1
    report = conlleval_report(scores)
    stdout = getattr(sys.stdout, "buffer", None)
    if stdout is None:
        sys.stdout.write(report)
    else:
        sys.stdout.flush()
        stdout.write(report.encode("utf-8", "surrogateescape"))
        stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
