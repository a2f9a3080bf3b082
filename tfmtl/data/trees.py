"""Bracketed (Penn Treebank style) constituency trees."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator

from tfmtl.data.errors import DataError

# Brackets and words; words are separated by ASCII whitespace only (SST has a no-break space
# inside a token: "8\u00a01\\/2").
_TOKEN = re.compile(r"\(|\)|[^ \t\r\n\f\v()]+")


class Tree:
    """A constituency tree node: a label and children that are trees or words.

    A preterminal is a node whose only child is a word: ``Tree("NN", ["dog"])``. ``str(tree)``
    gives the one-line bracketed form, ``(S (NP (DT the) (NN dog)) (VP (VBD ran)) (. .))``, which
    :func:`parse_tree` reads back.

    Args:
        label: the node label (a phrase label such as ``"NP"``, or a part-of-speech tag).
        children: the child trees, or the single word of a preterminal.
    """

    __slots__ = ("label", "children")

    def __init__(self, label: str, children: list[Tree | str]):
        self.label = label
        self.children = children

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Tree):
            return NotImplemented
        return self.label == other.label and self.children == other.children

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Tree({self.label!r}, {self.children!r})"

    def __str__(self) -> str:
        parts: list[str] = []
        self._render(parts)
        return "".join(parts)

    def _render(self, parts: list[str]) -> None:
        parts.append("(")
        parts.append(self.label)
        for child in self.children:
            parts.append(" ")
            if isinstance(child, Tree):
                child._render(parts)  # noqa: SLF001 (a Tree renders its subtrees)
            else:
                parts.append(child)
        parts.append(")")

    @property
    def is_preterminal(self) -> bool:
        """Whether the node is a part-of-speech tag over one word."""
        return len(self.children) == 1 and isinstance(self.children[0], str)

    def leaves(self) -> list[str]:
        """The words under the node, left to right."""
        return [word for _, word in self.tagged_words()]

    def tagged_words(self) -> list[tuple[str, str]]:
        """``(tag, word)`` pairs of the preterminals under the node, left to right."""
        pairs: list[tuple[str, str]] = []
        stack: list[Tree] = [self]
        while stack:
            node = stack.pop()
            if node.is_preterminal:
                pairs.append((node.label, node.children[0]))  # type: ignore[arg-type]
            else:
                stack.extend(
                    reversed([child for child in node.children if isinstance(child, Tree)])
                )
        return pairs

    def subtrees(self) -> Iterator[tuple[Tree, int]]:
        """Yields every node with the index of its first word, parents before children."""
        stack: list[tuple[Tree, int]] = [(self, 0)]
        while stack:
            node, start = stack.pop()
            yield node, start
            if node.is_preterminal:
                continue
            offsets = []
            position = start
            for child in node.children:
                if isinstance(child, Tree):
                    offsets.append((child, position))
                    position += len(child.leaves())
            stack.extend(reversed(offsets))


def parse_tree(text: str, path: str | os.PathLike = "<string>", line: int | None = None) -> Tree:
    """Parses one bracketed tree such as ``(S (NP (DT the) (NN dog)) (VP (VBD ran)))``.

    Args:
        text: the tree on one line.
        path: the file the tree comes from, for error messages.
        line: the line the tree is on, for error messages.

    Raises:
        DataError: the brackets do not form exactly one well-formed tree.
    """
    tokens = _TOKEN.findall(text)
    if not tokens:
        raise DataError(path, line, "empty tree")
    stack: list[Tree] = []
    root: Tree | None = None
    index = 0
    while index < len(tokens):
        token = tokens[index]
        if token == "(":
            if root is not None:
                raise DataError(path, line, "text after the end of the tree")
            label = ""
            if index + 1 < len(tokens) and tokens[index + 1] not in "()":
                label = tokens[index + 1]
                index += 1
            node = Tree(label, [])
            if stack:
                parent = stack[-1]
                if parent.children and isinstance(parent.children[0], str):
                    raise DataError(path, line, f"tag {parent.label!r} has a word and a subtree")
                parent.children.append(node)
            stack.append(node)
        elif token == ")":
            if not stack:
                raise DataError(path, line, "unbalanced ')'")
            node = stack.pop()
            if not node.children:
                raise DataError(path, line, f"node {node.label!r} has no children")
            if not stack:
                root = node
        else:
            if not stack:
                raise DataError(path, line, f"word {token!r} outside any bracket")
            parent = stack[-1]
            if parent.children:
                raise DataError(path, line, f"word {token!r} must be the only child of its tag")
            parent.children.append(token)
        index += 1
    if stack or root is None:
        raise DataError(path, line, "unbalanced '(': the tree is not closed")
    return root
