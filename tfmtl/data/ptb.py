"""Penn Treebank files, and trees as token sequences for sequence-to-sequence parsing.

``read_ptb`` streams the trees of a ``.mrg`` file (several trees, each over
several lines, inside an unlabeled outer bracket); ``clean_tree`` strips
empty elements (``-NONE-``), the constituents left empty by them, and function
tags and indices (``NP-SBJ-1`` -> ``NP``); ``linearize`` writes a tree as
Vinyals et al. (2015) do, every part-of-speech tag and word as ``XX`` and
closing brackets unlabeled: ``(S (NP XX XX ) (VP XX ) XX )``; and
``delinearize`` puts a predicted sequence and the sentence's words back
together into a tree, saying whether it had to repair it.

Reference:
    Vinyals, Kaiser, Koo, Petrov, Sutskever and Hinton, "Grammar as a Foreign
    Language", NIPS 2015.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Iterator, Sequence

from tfmtl.data._io import iter_lines
from tfmtl.data.errors import DataError
from tfmtl.data.trees import Tree, parse_tree

WORD = "XX"  # Every part-of-speech tag and its word, in a linearized tree.
CLOSE = ")"
EMPTY = "-NONE-"
# Labels that are brackets themselves rather than a label with a function tag.
_KEEP = {"-LRB-", "-RRB-", "-LCB-", "-RCB-", EMPTY}
_FUNCTION = re.compile(r"^([^-=]+)[-=].*$")


def read_ptb(path: str | os.PathLike) -> Iterator[tuple[Tree, int]]:
    """The trees of a Penn Treebank ``.mrg`` file, each with the line it starts on.

    A tree ends where its brackets balance; the unlabeled outer bracket of
    ``( (S ...) )`` is removed (a tree with one labeled child under it).

    Raises:
        DataError: naming the file and the line of a tree that does not parse.
    """
    depth, start, parts = 0, 0, []
    number = 0
    for number, line in iter_lines(path):
        text = line.strip()
        if not text and depth == 0:
            continue
        if depth == 0:
            start = number
        parts.append(text)
        for char in text:
            if char == "(":
                depth += 1
            elif char == ")":
                depth -= 1
                if depth < 0:
                    raise DataError(path, number, "unbalanced ')'")
        if depth == 0 and parts:
            tree = parse_tree(" ".join(parts), path, start)
            if tree.label == "" and len(tree.children) == 1 and isinstance(tree.children[0],
                                                                           Tree):
                tree = tree.children[0]
            yield tree, start
            parts = []
    if depth:
        raise DataError(path, start, "unbalanced '(': the tree is not closed at the end "
                        f"of the file (line {number})")


def strip_label(label: str) -> str:
    """``NP-SBJ-1`` -> ``NP``, ``NP=2`` -> ``NP``; ``-NONE-``, ``-LRB-`` and the like kept."""
    if label in _KEEP:
        return label
    match = _FUNCTION.match(label)
    return match.group(1) if match else label


def clean_tree(tree: Tree) -> Tree | None:
    """The tree without empty elements, the constituents they leave empty, and function
    tags (None if nothing is left)."""
    if tree.is_preterminal:
        return None if tree.label == EMPTY else Tree(tree.label, list(tree.children))
    children = [c for c in (clean_tree(child) for child in tree.children) if c is not None]
    return Tree(strip_label(tree.label), children) if children else None


def linearize(tree: Tree) -> list[str]:
    """``(S (NP XX XX ) (VP XX ) XX )`` as tokens: ``(LABEL`` opens a constituent,
    ``)`` closes it, ``XX`` is a part-of-speech tag with its word."""
    if tree.is_preterminal:
        return [WORD]
    tokens = [f"({tree.label}"]
    for child in tree.children:
        tokens.extend(linearize(child))
    tokens.append(CLOSE)
    return tokens


@dataclasses.dataclass(frozen=True)
class Delinearized:
    """A predicted linearized tree read back.

    Attributes:
        tree: the tree over the sentence's words (preterminals tagged ``XX``).
        malformed: the prediction was not a well-formed tree over as many ``XX`` as
            the sentence has words, and ``tree`` is its repair.
    """

    tree: Tree
    malformed: bool


def delinearize(tokens: Sequence[str], words: Sequence[str]) -> Delinearized:
    """The tree a linearized prediction describes, with ``words`` in its ``XX`` slots.

    A malformed prediction is repaired, not dropped, so it is still scored: a
    ``)`` with nothing open is skipped, unclosed constituents are closed at the end,
    ``XX`` beyond the sentence's words are dropped and missing ones attached to the
    root, tokens that are none of the three are skipped, and several top-level
    constituents (or none) get a common root labeled ``S``.
    """
    malformed = False
    stack: list[Tree] = [Tree("", [])]  # A virtual root holds the top-level nodes.
    used = 0
    for token in tokens:
        if token == WORD:
            if used < len(words):
                stack[-1].children.append(Tree(WORD, [words[used]]))
                used += 1
            else:
                malformed = True
        elif token == CLOSE:
            if len(stack) > 1:
                if not stack.pop().children:  # "(NP )": nothing inside.
                    stack[-1].children.pop()
                    malformed = True
            else:
                malformed = True
        elif token.startswith("(") and len(token) > 1:
            node = Tree(token[1:], [])
            stack[-1].children.append(node)
            stack.append(node)
        else:
            malformed = True
    while len(stack) > 1:  # Constituents left open.
        malformed = True
        if not stack.pop().children:
            stack[-1].children.pop()
    root = stack[0]
    single = len(root.children) == 1 and not root.children[0].is_preterminal
    if used < len(words):
        malformed = True
        (root.children[0] if single else root).children.extend(
            Tree(WORD, [word]) for word in words[used:])
    if single:
        return Delinearized(root.children[0], malformed)
    return Delinearized(Tree("S", root.children), True)
