"""Turning tokens into the model's inputs: one implementation, in TensorFlow ops.

Strings become ids only in :class:`TokenEncoder`. Training encodes its corpora
through it (:meth:`Featurizer.encode_batch`), vocabularies are built from words
it normalised, and the SavedModel calls the same module in its serving graph
with the vocabulary files as assets, so training and serving cannot drift apart.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterable, Sequence

import numpy as np
import tensorflow as tf

from tfmtl.data import Sentence, Vocabulary, build_char_vocabulary

# The example fields the featurizer encodes, the ones a task may declare it reads
# (Task.input_fields): ``words``, a sentence's tokens, as word ids and, with character
# features, characters. The sequence-to-sequence fields come with their task types.
FIELDS = ("words",)
WORDS_FILE = "words.txt"
CHARS_FILE = "chars.txt"
# Ids every word and character vocabulary of tfmtl has (Vocabulary with pad and OOV entries).
PAD_ID = 0
OOV_ID = 1
# Sentences encoded per TensorFlow call when a corpus is featurized (bounds the memory of the
# character matrix, which is as wide as the corpus' longest clipped token).
_CHUNK = 4096


def _file_table(path: str) -> tf.lookup.StaticHashTable:
    """A token -> line number table read from a one-token-per-line vocabulary file."""
    initializer = tf.lookup.TextFileInitializer(
        path, tf.string, tf.lookup.TextFileIndex.WHOLE_LINE,
        tf.int64, tf.lookup.TextFileIndex.LINE_NUMBER,
    )
    return tf.lookup.StaticHashTable(initializer, default_value=OOV_ID)


def _memory_table(vocabulary: Vocabulary) -> tf.lookup.StaticHashTable:
    """The same table as :func:`_file_table` of ``vocabulary``'s saved file, built in memory."""
    tokens = vocabulary.tokens  # Line i of the saved file, specials included.
    initializer = tf.lookup.KeyValueTensorInitializer(
        tf.constant(tokens, tf.string), tf.range(len(tokens), dtype=tf.int64))
    return tf.lookup.StaticHashTable(initializer, default_value=OOV_ID)


def _check_vocabulary(vocabulary: Vocabulary, what: str) -> None:
    if vocabulary.pad_id != PAD_ID or vocabulary.oov_id != OOV_ID:
        raise ValueError(f"the {what} vocabulary needs padding id {PAD_ID} and OOV id {OOV_ID}")


def normalize_words(flat: tf.Tensor, *, lowercase: bool) -> tf.Tensor:
    """Tokens as the word vocabulary holds them: lowercased (UTF-8, the full case mapping
    ``str.lower`` uses) when asked, else as they are."""
    return tf.strings.lower(flat, encoding="utf-8") if lowercase else flat


class TokenEncoder(tf.Module):
    """Encodes string tokens as word and character ids, in TensorFlow ops.

    Words are looked up after optional lowercasing (``tf.strings.lower`` with
    UTF-8, the Unicode full case mapping that ``str.lower`` uses too); unknown
    words get the OOV id 1. Characters are Unicode code points and keep their
    case; a token longer than ``max_chars`` keeps its first ``max_chars // 2``
    and its last ``max_chars - max_chars // 2`` (where prefixes and suffixes,
    the morphology, are); unknown characters get id 1; padding is 0.

    Args:
        words: the word table (token -> id).
        chars: the character table, or None for a model without characters.
        lowercase: lowercase words before lookup.
        max_chars: characters kept per token.
    """

    def __init__(self, words: tf.lookup.StaticHashTable, chars: tf.lookup.StaticHashTable | None,
                 *, lowercase: bool, max_chars: int, name: str = "featurizer"):
        super().__init__(name=name)
        if max_chars < 1:
            raise ValueError(f"max_chars must be at least 1, got {max_chars}")
        self.lowercase = lowercase
        self.max_chars = max_chars
        self.words = words
        self.chars = chars

    @classmethod
    def from_files(cls, words_file: str, chars_file: str | None, *, lowercase: bool,
                   max_chars: int) -> TokenEncoder:
        """An encoder reading the vocabulary files (a SavedModel carries them as assets)."""
        return cls(_file_table(words_file), _file_table(chars_file) if chars_file else None,
                   lowercase=lowercase, max_chars=max_chars)

    def normalize(self, flat: tf.Tensor) -> tf.Tensor:
        """The words the vocabulary holds for string tokens ``flat`` (any shape)."""
        return normalize_words(flat, lowercase=self.lowercase)

    def word_ids(self, flat: tf.Tensor) -> tf.Tensor:
        """The word ids of N tokens: int32 [N]."""
        return tf.cast(self.words.lookup(self.normalize(flat)), tf.int32)

    def char_ids(self, flat: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        """The clipped character ids of N tokens, int32 [N, W] zero-padded with
        ``W = max(1, min(longest token, max_chars))``, and each token's kept length, int64 [N]."""
        chars = tf.strings.unicode_split(flat, "UTF-8")
        lengths = chars.row_lengths()[:, None]
        head = self.max_chars // 2
        width = tf.maximum(tf.minimum(tf.reduce_max(lengths), self.max_chars), 1)
        position = tf.range(width, dtype=tf.int64)[None, :]
        # Kept characters: all of a short token; the first `head` and the last
        # `max_chars - head` of a long one (its position j >= head maps to j + n - max_chars).
        source = tf.where((position < head) | (lengths <= self.max_chars), position,
                          position + lengths - self.max_chars)
        kept = tf.minimum(lengths, self.max_chars)
        valid = position < kept
        index = tf.where(valid, chars.row_starts()[:, None] + source, 0)
        ids = tf.gather(self.chars.lookup(chars.flat_values), index)
        return tf.where(valid, tf.cast(ids, tf.int32), PAD_ID), kept[:, 0]

    def __call__(self, tokens: tf.RaggedTensor) -> dict[str, tf.Tensor]:
        """Encodes ``tokens``, a ragged string tensor ``[batch, (time)]`` of valid UTF-8.

        Returns:
            ``{"words": int32 [batch, T]}`` and, with characters, ``{"chars": int32
            [batch, T, W]}``, zero-padded, where ``T = max(1, longest sentence)`` and
            ``W = max(1, min(longest token, max_chars))``: at least one (padding)
            position, so that an empty batch or sentence still runs through the model.
        """
        batch = tokens.nrows(out_type=tf.int64)
        time = tf.maximum(tf.reduce_max(tokens.row_lengths()), 1)
        flat = tokens.flat_values
        features = {
            "words": tokens.with_flat_values(self.word_ids(flat)).to_tensor(
                PAD_ID, shape=tf.stack([batch, time]))
        }
        if self.chars is not None:
            char_ids, _ = self.char_ids(flat)
            width = tf.shape(char_ids, out_type=tf.int64)[1]
            features["chars"] = tf.RaggedTensor.from_row_splits(
                char_ids, tokens.row_splits, validate=False
            ).to_tensor(PAD_ID, shape=tf.stack([batch, time, width]))
        return features


class Featurizer:
    """The vocabularies of the model's named inputs, ``words`` and ``chars``, and their encoding.

    Encoding runs :class:`TokenEncoder` (the exported model runs it too, from
    the saved vocabulary files).

    Args:
        words: word vocabulary (with padding id 0 and OOV id 1).
        chars: character vocabulary, or None when the model uses no
            character features.
        lowercase: lowercase words before lookup.
        max_chars: characters kept per word (first and last halves).
    """

    def __init__(self, words: Vocabulary, chars: Vocabulary | None, *, lowercase: bool,
                 max_chars: int):
        _check_vocabulary(words, "word")
        if chars is not None:
            _check_vocabulary(chars, "character")
        if max_chars < 1:
            raise ValueError(f"max_chars must be at least 1, got {max_chars}")
        self.words = words
        self.chars = chars
        self.lowercase = lowercase
        self.max_chars = max_chars

    @classmethod
    def build(cls, train: Iterable[Sentence], *, lowercase: bool, min_count: int, max_vocab: int,
              max_chars: int, use_chars: bool) -> Featurizer:
        """Builds the vocabularies from training sentences, normalising words as encoding does."""
        train = list(train)
        tokens = [token for sentence in train for token in sentence.tokens]
        words = Vocabulary.build(
            _strings(normalize_words(_string_tensor(tokens), lowercase=lowercase)),
            min_count=min_count, max_size=max_vocab or None,
        )
        chars = build_char_vocabulary(train) if use_chars else None
        return cls(words, chars, lowercase=lowercase, max_chars=max_chars)

    @functools.cached_property
    def encoder(self) -> TokenEncoder:
        """The encoder over in-memory copies of the vocabularies."""
        return TokenEncoder(_memory_table(self.words),
                            _memory_table(self.chars) if self.chars is not None else None,
                            lowercase=self.lowercase, max_chars=self.max_chars)

    def input_names(self) -> tuple[str, ...]:
        return ("words", "chars") if self.chars is not None else ("words",)

    def encode(self, tokens: Sequence[str]) -> dict[str, np.ndarray]:
        """Returns {'words': int32 [T]} and, with characters, {'chars': int32 [T, W]}."""
        return self.encode_batch([tokens])[0]

    def encode_batch(self, sentences: Sequence[Sequence[str]]) -> list[dict[str, np.ndarray]]:
        """Encodes many sentences' tokens (a corpus) in few TensorFlow calls.

        Returns one dict per sentence: ``words`` int32 ``[T]`` and, with characters,
        ``chars`` int32 ``[T, W]`` with ``W`` the sentence's longest kept token (0 when empty).
        """
        encoded = []
        for start in range(0, len(sentences), _CHUNK):
            encoded.extend(self._encode_chunk(sentences[start:start + _CHUNK]))
        return encoded

    def _encode_chunk(self, sentences: Sequence[Sequence[str]]) -> list[dict[str, np.ndarray]]:
        flat = _string_tensor([token for tokens in sentences for token in tokens])
        words = self.encoder.word_ids(flat).numpy()
        if self.chars is not None:
            char_ids, kept = (value.numpy() for value in self.encoder.char_ids(flat))
        examples, start = [], 0
        for tokens in sentences:
            end = start + len(tokens)
            example = {"words": words[start:end]}
            if self.chars is not None:
                width = int(kept[start:end].max(initial=0))
                example["chars"] = char_ids[start:end, :width]
            examples.append(example)
            start = end
        return examples

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


def _string_tensor(tokens: Sequence[str]) -> tf.Tensor:
    return tf.constant(list(tokens), dtype=tf.string, shape=[len(tokens)])


def _strings(tensor: tf.Tensor) -> list[str]:
    return [value.decode("utf-8") for value in tensor.numpy().tolist()]
