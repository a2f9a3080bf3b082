"""Input checks shared by the metrics: parallel gold/pred shapes and label strings."""

from __future__ import annotations

from collections.abc import Sequence


def as_label(label: object, where: str) -> str:
    """Returns ``label`` as ``str``, decoding UTF-8 ``bytes`` (labels decoded from tensors).

    Args:
        label: a label string, or its UTF-8 bytes.
        where: where the label sits, for the error message ("sentence 3, token 5").

    Raises:
        TypeError: when ``label`` is neither ``str`` nor ``bytes``.
    """
    if isinstance(label, str):
        return label
    if isinstance(label, bytes):
        return label.decode("utf-8")
    raise TypeError(f"{where}: expected a label string, got {type(label).__name__} {label!r}")


def check_same_length(gold: Sequence, pred: Sequence, what: str, name: str = "pred") -> None:
    """Raises ValueError naming the first unmatched item when gold and pred differ in length.

    Args:
        gold: the gold items.
        pred: the items parallel to ``gold``.
        what: the plural name of the items ("sentences", "examples").
        name: what ``pred`` is called in the message ("pred", "oov").
    """
    if len(gold) != len(pred):
        missing = name if len(pred) < len(gold) else "gold"
        raise ValueError(
            f"gold has {len(gold)} {what} but {name} has {len(pred)} "
            f"({what[:-1]} {min(len(gold), len(pred))} is missing from {missing})"
        )


def check_parallel(gold: Sequence[Sequence], pred: Sequence[Sequence], name: str = "pred") -> None:
    """Checks that two lists of sentences have the same sentence count and sentence lengths.

    Args:
        gold: one sequence per sentence.
        pred: one sequence per sentence, parallel to ``gold``.
        name: what ``pred`` is called in the messages ("pred", "oov").

    Raises:
        ValueError: naming the index of the first sentence that has no counterpart or whose
            token count differs.
    """
    check_same_length(gold, pred, "sentences", name)
    for index, (g, p) in enumerate(zip(gold, pred, strict=True)):
        if len(g) != len(p):
            raise ValueError(f"sentence {index}: gold has {len(g)} tokens but {name} has {len(p)}")
