"""The sentence record every reader and the synthetic generator produce."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from tfmtl.data.errors import DataError


@dataclasses.dataclass(frozen=True)
class Sentence:
    """One sentence with its token-aligned annotations and sentence-level data.

    Args:
        tokens: the words of the sentence.
        fields: token-aligned columns by name (each as long as ``tokens``): CoNLL-U names
            (``"upos"``, ``"head"``, ...), column indices as strings for CoNLL column files
            (``"1"``, ``"2"``, ...), or ``"pos"``/``"chunk"``/``"ner"`` for synthetic data.
        label: a sentence-level label (classification files, synthetic polarity).
        target: target-side tokens (parallel text, synthetic translation).
        meta: sentence-level strings: CoNLL-U comments (``"sent_id"``, ``"text"``, ...), or
            ``"tree"`` (a bracketed constituency tree) for synthetic data.
        path: the source file, ``"<synthetic>"`` for generated data.
        line: the 1-based line where the sentence starts (the sentence index for generated data).

    Example:
        sentence = Sentence(tokens=("the", "dog"), fields={"pos": ("DT", "NN")})
        sentence.column("pos")  # -> ("DT", "NN")
    """

    tokens: tuple[str, ...]
    fields: Mapping[str, tuple[str, ...]] = dataclasses.field(default_factory=dict)
    label: str | None = None
    target: tuple[str, ...] | None = None
    meta: Mapping[str, str] = dataclasses.field(default_factory=dict)
    path: str = ""
    line: int = 0

    def __len__(self) -> int:
        return len(self.tokens)

    def column(self, name: str) -> tuple[str, ...]:
        """Returns a token-aligned column by name.

        ``"tokens"`` and ``"0"`` name the tokens; any ``fields`` key names that field; for CoNLL
        column files (fields keyed ``"1"``, ``"2"``, ...) a negative index such as ``"-1"`` counts
        from the last column.

        Raises:
            DataError: naming the sentence's file, line and the available columns.
        """
        if name in ("tokens", "0"):
            return self.tokens
        if name in self.fields:
            return self.fields[name]
        numbered = sorted(int(key) for key in self.fields if key.isdigit())
        if numbered and name.startswith("-") and name[1:].isdigit():
            columns = [0, *numbered]
            index = int(name)
            if -len(columns) <= index < 0:
                resolved = columns[index]
                return self.tokens if resolved == 0 else self.fields[str(resolved)]
        available = ", ".join(["tokens", "0", *self.fields])
        raise DataError(
            self.path or "<sentence>",
            self.line or None,
            f"no column {name!r}; available columns: {available}",
        )
