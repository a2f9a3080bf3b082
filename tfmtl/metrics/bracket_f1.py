"""Labeled bracket precision, recall and F1 of constituency trees, as EVALB scores them.

EVALB with its standard ``COLLINS.prm``: part-of-speech tags are not
brackets; words tagged as punctuation (``,`` ``:`` ``` `` ``` ``''`` ``.``) are
deleted before spans are counted (a bracket over nothing else disappears);
``ADVP`` and ``PRT`` are one label; brackets are matched as a multiset of
(label, first word, last word). A predicted tree's part-of-speech tags may be
placeholders (``XX`` of a linearized parse), so which words are punctuation is
read from the gold tree, for both. A sentence's counts (matched, gold,
predicted) add up over a corpus, so the paired bootstrap resamples them.

Trees are any objects with ``label`` and ``children`` (a preterminal's only
child is its word, a string), such as ``tfmtl.data.Tree``.

Reference:
    Sekine and Collins, EVALB (1997), https://nlp.cs.nyu.edu/evalb/.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Sequence

PUNCTUATION = frozenset({",", ":", "``", "''", "."})
EQUIVALENT = {"PRT": "ADVP"}


def _is_preterminal(node) -> bool:
    return len(node.children) == 1 and isinstance(node.children[0], str)


def tags(tree) -> list[str]:
    """The part-of-speech tags of a tree's words, left to right."""
    out: list[str] = []
    stack = [tree]
    while stack:
        node = stack.pop()
        if _is_preterminal(node):
            out.append(node.label)
        else:
            stack.extend(reversed(node.children))
    return out


def brackets(tree, counted: Sequence[bool]) -> Counter:
    """The tree's brackets, (label, first, last) over the counted words only."""
    found: Counter = Counter()
    # The index among counted words of each word position, and how many precede it.
    before = [0]
    for keep in counted:
        before.append(before[-1] + int(keep))

    def walk(node, start: int) -> int:
        if _is_preterminal(node):
            return start + 1
        end = start
        for child in node.children:
            end = walk(child, end)
        first, last = before[start], before[end]
        if last > first:
            found[(EQUIVALENT.get(node.label, node.label), first, last)] += 1
        return end

    words = walk(tree, 0)
    if words != len(counted):
        raise ValueError(f"the tree has {words} words, expected {len(counted)}")
    return found


def bracket_counts(gold, predicted) -> tuple[int, int, int]:
    """(matched, gold, predicted) brackets of one sentence's predicted tree."""
    counted = [tag not in PUNCTUATION for tag in tags(gold)]
    g, p = brackets(gold, counted), brackets(predicted, counted)
    return sum((g & p).values()), sum(g.values()), sum(p.values())


@dataclasses.dataclass(frozen=True)
class BracketScores:
    """Labeled bracket scores in percent, and the counts they come from."""

    precision: float
    recall: float
    f1: float
    matched: int
    gold: int
    predicted: int
    exact: int  # Sentences whose brackets all match.
    sentences: int


def bracket_scores(gold: Sequence, predicted: Sequence) -> BracketScores:
    """Corpus scores of predicted trees against gold trees, sentence by sentence."""
    if len(gold) != len(predicted):
        raise ValueError(f"{len(predicted)} predicted trees for {len(gold)} gold trees")
    matched = total_gold = total_predicted = exact = 0
    for g, p in zip(gold, predicted, strict=True):
        m, ng, npred = bracket_counts(g, p)
        matched, total_gold, total_predicted = matched + m, total_gold + ng, total_predicted + npred
        exact += m == ng == npred
    precision = 100.0 * matched / total_predicted if total_predicted else 0.0
    recall = 100.0 * matched / total_gold if total_gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return BracketScores(precision, recall, f1, matched, total_gold, total_predicted, exact,
                         len(gold))
