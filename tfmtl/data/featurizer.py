"""Turning tokens into the model's inputs."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence

import numpy as np

from tfmtl.data import Sentence, Vocabulary, build_char_vocabulary

WORDS_FILE = "words.txt"
CHARS_FILE = "chars.txt"


class Featurizer:
    """Encodes tokens as the model's named inputs, ``words`` and ``chars``.

    Words are looked up (after optional lowercasing) in the word vocabulary;
    characters keep their case. The exported model repeats exactly these
    steps in its graph, from the same vocabulary files.

    Args:
        words: word vocabulary (with padding id 0 and an OOV id).
        chars: character vocabulary, or None when the model uses no
            character features.
        lowercase: lowercase words before lookup.
        max_chars: characters kept per word (first and last halves).
    """

    def __init__(self, words: Vocabulary, chars: Vocabulary | None, *, lowercase: bool,
                 max_chars: int):
        if words.pad_id != 0 or words.oov_id is None:
            raise ValueError("the word vocabulary needs padding id 0 and an OOV entry")
        self.words = words
        self.chars = chars
        self.lowercase = lowercase
        self.max_chars = max_chars

    @classmethod
    def build(cls, train: Iterable[Sentence], *, lowercase: bool, min_count: int, max_vocab: int,
              max_chars: int, use_chars: bool) -> Featurizer:
        """Builds the vocabularies from training sentences."""
        train = list(train)
        words = Vocabulary.build(
            (cls._normalize(t, lowercase) for s in train for t in s.tokens),
            min_count=min_count, max_size=max_vocab or None,
        )
        chars = build_char_vocabulary(train) if use_chars else None
        return cls(words, chars, lowercase=lowercase, max_chars=max_chars)

    @staticmethod
    def _normalize(token: str, lowercase: bool) -> str:
        return token.lower() if lowercase else token

    def input_names(self) -> tuple[str, ...]:
        return ("words", "chars") if self.chars is not None else ("words",)

    def encode(self, tokens: Sequence[str]) -> dict[str, np.ndarray]:
        """Returns {'words': int32 [T]} and, with characters, {'chars': int32 [T, W]}."""
        from tfmtl.data.pipeline import encode_chars

        words = [self._normalize(t, self.lowercase) for t in tokens]
        features = {"words": self.words.encode(words)}
        if self.chars is not None:
            features["chars"] = encode_chars(tokens, self.chars, self.max_chars)
        return features

    def oov(self, word_ids: np.ndarray) -> np.ndarray:
        """True where a word id is the OOV id."""
        return np.asarray(word_ids) == self.words.oov_id

    def save(self, directory: str) -> None:
        os.makedirs(directory, exist_ok=True)
        self.words.save(os.path.join(directory, WORDS_FILE))
        if self.chars is not None:
            self.chars.save(os.path.join(directory, CHARS_FILE))

    @classmethod
    def load(cls, directory: str, *, lowercase: bool, max_chars: int,
             use_chars: bool) -> Featurizer:
        words = Vocabulary.load(os.path.join(directory, WORDS_FILE))
        chars = Vocabulary.load(os.path.join(directory, CHARS_FILE)) if use_chars else None
        return cls(words, chars, lowercase=lowercase, max_chars=max_chars)
