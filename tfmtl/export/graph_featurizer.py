"""The featurizer of tfmtl.models in TensorFlow ops, with vocabularies as SavedModel assets."""

from __future__ import annotations

import tensorflow as tf

# Ids every word and character vocabulary of tfmtl has (Vocabulary with pad and OOV entries).
PAD_ID = 0
OOV_ID = 1


def _text_file_table(path: str, default: int) -> tf.lookup.StaticHashTable:
    """A token -> line number table read from a one-token-per-line vocabulary file."""
    initializer = tf.lookup.TextFileInitializer(
        path, tf.string, tf.lookup.TextFileIndex.WHOLE_LINE,
        tf.int64, tf.lookup.TextFileIndex.LINE_NUMBER,
    )
    return tf.lookup.StaticHashTable(initializer, default_value=default)


def label_table(path: str) -> tf.lookup.StaticHashTable:
    """A line number -> label table read from a label vocabulary file ("" for unknown ids)."""
    initializer = tf.lookup.TextFileInitializer(
        path, tf.int64, tf.lookup.TextFileIndex.LINE_NUMBER,
        tf.string, tf.lookup.TextFileIndex.WHOLE_LINE,
    )
    return tf.lookup.StaticHashTable(initializer, default_value="")


class GraphFeaturizer(tf.Module):
    """Encodes ragged string tokens as the model's ``words`` and ``chars`` inputs, in the graph.

    It repeats :meth:`tfmtl.data.featurizer.Featurizer.encode` exactly, from
    the same vocabulary files (which a SavedModel carries as assets): words are
    looked up after optional lowercasing (``tf.strings.lower`` with UTF-8, the
    Unicode full case mapping that ``str.lower`` uses), unknown words get the
    OOV id 1; characters are Unicode code points, a token longer than
    ``max_chars`` keeps its first ``max_chars // 2`` and its last
    ``max_chars - max_chars // 2``, unknown characters get id 1.

    Args:
        words_file: the word vocabulary file (``<pad>`` on line 0, ``<unk>`` on line 1).
        chars_file: the character vocabulary file, or None for a model without characters.
        lowercase: lowercase words before lookup.
        max_chars: characters kept per token.
    """

    def __init__(self, words_file: str, chars_file: str | None, *, lowercase: bool,
                 max_chars: int, name: str = "featurizer"):
        super().__init__(name=name)
        if max_chars < 1:
            raise ValueError(f"max_chars must be at least 1, got {max_chars}")
        self.lowercase = lowercase
        self.max_chars = max_chars
        self.words = _text_file_table(words_file, OOV_ID)
        self.chars = _text_file_table(chars_file, OOV_ID) if chars_file else None

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
        words = self.words.lookup(tf.strings.lower(flat, encoding="utf-8") if self.lowercase
                                  else flat)
        features = {
            "words": tokens.with_flat_values(tf.cast(words, tf.int32)).to_tensor(
                PAD_ID, shape=tf.stack([batch, time])
            )
        }
        if self.chars is not None:
            char_ids = self._chars(flat)
            width = tf.shape(char_ids, out_type=tf.int64)[1]
            features["chars"] = tf.RaggedTensor.from_row_splits(
                char_ids, tokens.row_splits, validate=False
            ).to_tensor(PAD_ID, shape=tf.stack([batch, time, width]))
        return features

    def _chars(self, flat: tf.Tensor) -> tf.Tensor:
        """The clipped character ids of N tokens: int32 [N, W], zero-padded."""
        chars = tf.strings.unicode_split(flat, "UTF-8")
        lengths = chars.row_lengths()[:, None]
        head = self.max_chars // 2
        width = tf.maximum(tf.minimum(tf.reduce_max(lengths), self.max_chars), 1)
        position = tf.range(width, dtype=tf.int64)[None, :]
        # Kept characters: all of a short token; the first `head` and the last
        # `max_chars - head` of a long one (its position j >= head maps to j + n - max_chars).
        source = tf.where((position < head) | (lengths <= self.max_chars), position,
                          position + lengths - self.max_chars)
        valid = position < tf.minimum(lengths, self.max_chars)
        index = tf.where(valid, chars.row_starts()[:, None] + source, 0)
        ids = tf.gather(self.chars.lookup(chars.flat_values), index)
        return tf.where(valid, tf.cast(ids, tf.int32), PAD_ID)
