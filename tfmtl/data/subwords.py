"""An open vocabulary per language: a SentencePiece model, trained on the training text
at data-preparation time, applied in TensorFlow ops (tensorflow-text) for training and
serving alike.

The model is trained with the ``sentencepiece`` package on raw (detokenized)
sentences, with every character of the training text covered and byte
fallback for any other, so no training word and no unseen character becomes
``<unk>``, and decoding gives detokenized text back. Its ids keep tfmtl's
conventions: padding 0, unknown 1 (the OOV id of every tfmtl vocabulary), then
the start and end of a sentence. The serialized model is a few hundred
kilobytes: a workdir keeps it, and an export carries it as an asset.

Reference:
    Kudo and Richardson, "SentencePiece: A simple and language independent subword
    tokenizer and detokenizer for Neural Text Processing", EMNLP 2018.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterable, Sequence

import numpy as np
import tensorflow as tf

from tfmtl.files import atomic_write_bytes

PAD_ID, UNK_ID, BOS_ID, EOS_ID = 0, 1, 2, 3
MODEL_TYPES = ("unigram", "bpe")


def train_sentencepiece(sentences: Iterable[str], *, vocab_size: int,
                        model_type: str = "unigram") -> bytes:
    """A serialized SentencePiece model of at most ``vocab_size`` pieces (fewer if the
    text has fewer; at least its distinct characters plus the 256 byte pieces), trained on
    ``sentences`` as given (identity normalization, spaces kept as they are, the input
    order, one thread: the same text gives the same model, and decoding gives the text
    back exactly)."""
    import sentencepiece as spm

    if model_type not in MODEL_TYPES:
        raise ValueError(f"model_type must be one of {MODEL_TYPES}, got {model_type!r}")
    lines = [s for s in sentences if s.strip()]
    if not lines:
        raise ValueError("no text to train a subword model on")
    model = io.BytesIO()
    try:
        spm.SentencePieceTrainer.train(
            sentence_iterator=iter(lines), model_writer=model, vocab_size=vocab_size,
            model_type=model_type, pad_id=PAD_ID, unk_id=UNK_ID, bos_id=BOS_ID,
            eos_id=EOS_ID, character_coverage=1.0, byte_fallback=True,
            normalization_rule_name="identity", remove_extra_whitespaces=False,
            hard_vocab_limit=False, num_threads=1, shuffle_input_sentence=False,
            input_sentence_size=0, minloglevel=2)
    except RuntimeError as error:  # E.g. a vocabulary smaller than the characters + bytes.
        raise ValueError(f"cannot train a subword model of {vocab_size} pieces: "
                         f"{str(error).split('] ')[-1]}") from None
    return model.getvalue()


class Subwords(tf.Module):
    """A language's SentencePiece model as TensorFlow ops.

    Args:
        model: the serialized model (:func:`train_sentencepiece`).
    """

    def __init__(self, model: bytes, name: str = "subwords"):
        super().__init__(name=name)
        import tensorflow_text as tft

        self.model = model
        self.tokenizer = tft.SentencepieceTokenizer(model=model)

    @property
    def vocab_size(self) -> int:
        return int(self.tokenizer.vocab_size())

    def encode(self, sentences) -> tf.RaggedTensor:
        """int32 piece ids [batch, (pieces)] of detokenized sentences (strings)."""
        return tf.cast(self.tokenizer.tokenize(sentences), tf.int32)

    def decode(self, ids) -> tf.Tensor:
        """Detokenized strings of piece ids ([batch, (pieces)], ragged or padded with
        ``PAD_ID``); the start, end and padding ids are dropped."""
        if not isinstance(ids, tf.RaggedTensor):
            ids = tf.RaggedTensor.from_tensor(ids, padding=PAD_ID)
        keep = tf.ragged.map_flat_values(
            lambda flat: (flat != PAD_ID) & (flat != BOS_ID) & (flat != EOS_ID), ids)
        return self.tokenizer.detokenize(tf.ragged.boolean_mask(ids, keep))

    def encode_batch(self, sentences: Sequence[str]) -> list[np.ndarray]:
        """Host-side: each sentence's ids, through the same ops."""
        if not sentences:
            return []
        ragged = self.encode(tf.constant(list(sentences), tf.string))
        return [np.asarray(row, np.int32) for row in ragged.numpy()]

    def decode_batch(self, ids: Sequence[Sequence[int]]) -> list[str]:
        if not ids:
            return []
        ragged = tf.ragged.constant([list(map(int, row)) for row in ids], dtype=tf.int32)
        return [s.decode("utf-8") for s in self.decode(ragged).numpy()]

    def save(self, path: str | os.PathLike) -> None:
        atomic_write_bytes(path, self.model)

    @classmethod
    def load(cls, path: str | os.PathLike) -> Subwords:
        with open(path, "rb") as handle:
            return cls(handle.read())
