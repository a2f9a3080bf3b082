"""The ``tf.data`` input pipeline of one task from encoded examples.

TensorFlow is imported by :func:`make_dataset` only, so reading files and building vocabularies
never load it (encoding strings is :mod:`tfmtl.data.featurizer`'s, in TensorFlow ops).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import tensorflow as tf

#: The key every example must have: the word ids, whose length is the example's length.
WORDS = "words"
#: The key :func:`make_dataset` adds: the number of words of each example in the batch.
LENGTHS = "lengths"


def default_bucket_boundaries(lengths: Sequence[int], num_buckets: int = 8) -> list[int]:
    """Returns bucket boundaries that split ``lengths`` into about equally full buckets.

    A boundary ``b`` sends lengths below ``b`` to one bucket and the others to the next, as in
    :func:`make_dataset`. Boundaries are the length quantiles ``i / num_buckets`` plus one,
    deduplicated, so fewer than ``num_buckets - 1`` come back when lengths repeat a lot.
    """
    if num_buckets < 1:
        raise ValueError(f"num_buckets must be at least 1, got {num_buckets}")
    values = np.asarray(lengths, dtype=np.int64)
    if values.size == 0 or num_buckets == 1:
        return []
    quantiles = np.quantile(values, np.arange(1, num_buckets) / num_buckets, method="lower")
    maximum = int(values.max())
    return sorted({int(q) + 1 for q in quantiles if int(q) < maximum})


def _check_examples(examples: Sequence[Mapping[str, np.ndarray]]) -> dict[str, int]:
    if not examples:
        raise ValueError("make_dataset needs at least one example")
    first = examples[0]
    if WORDS not in first:
        raise ValueError(f"example 0 has no {WORDS!r} key (keys: {sorted(first)})")
    if LENGTHS in first:
        raise ValueError(f"example key {LENGTHS!r} is reserved for the pipeline's output")
    ranks = {key: np.ndim(value) for key, value in first.items()}
    for index, example in enumerate(examples):
        if example.keys() != first.keys():
            raise ValueError(
                f"example {index} has keys {sorted(example)}, example 0 has {sorted(first)}"
            )
        for key, value in example.items():
            array = np.asarray(value)
            if array.ndim != ranks[key]:
                raise ValueError(
                    f"example {index} key {key!r} has rank {array.ndim}, example 0 has {ranks[key]}"
                )
            if array.dtype.kind not in "iub":
                raise ValueError(f"example {index} key {key!r} is {array.dtype}, not integer")
        words = np.asarray(example[WORDS])
        if words.ndim != 1 or words.size == 0:
            raise ValueError(
                f"example {index}: {WORDS!r} must be a non-empty vector, got shape {words.shape}"
            )
    for key, rank in ranks.items():
        if rank > 2:
            raise ValueError(f"key {key!r} has rank {rank}; supported ranks are 0, 1 and 2")
    return ranks


def _pack(key: str, rank: int, examples: Sequence[Mapping[str, np.ndarray]]):
    """Packs one key of every example into a (ragged) tensor with the examples as rows."""
    import tensorflow as tf

    arrays = [np.asarray(example[key], dtype=np.int32) for example in examples]
    if rank == 0:
        return tf.constant(np.stack(arrays))
    outer = np.array([array.shape[0] for array in arrays], dtype=np.int64)
    flat = np.concatenate([array.reshape(-1) for array in arrays]).astype(np.int32)
    if rank == 1:
        return tf.RaggedTensor.from_row_lengths(flat, outer, validate=False)
    inner = np.concatenate(
        [np.full(array.shape[0], array.shape[1], dtype=np.int64) for array in arrays]
    )
    return tf.RaggedTensor.from_nested_row_lengths(flat, [outer, inner], validate=False)


def make_dataset(
    examples: Sequence[Mapping[str, np.ndarray]],
    *,
    batch_size: int,
    shuffle: bool = False,
    seed: int = 0,
    repeat: bool = False,
    bucket_boundaries: Sequence[int] | None = None,
) -> tf.data.Dataset:
    """Builds the batched ``tf.data`` pipeline of one task from encoded examples.

    The examples are packed into (ragged) tensors once; the dataset then streams example
    indices (shuffled with a stateless, seeded permutation per epoch), groups them into batches
    (by length bucket when ``bucket_boundaries`` is given) and gathers and pads each batch in one
    graph op, so no Python runs per element.

    Args:
        examples: one dict of integer NumPy arrays per example. Every example has ``"words"``
            (shape ``[T]``, ``T >= 1``); other keys hold arrays of shape ``[T]``, ``[T, W]``
            (``W`` may vary per example), ``[]`` or ``[L]`` (a sequence of its own length). All
            examples have the same keys with the same ranks.
        batch_size: examples per batch; the last batch of an epoch (or of a bucket) may be
            smaller.
        shuffle: reshuffle all examples every epoch. The permutation of epoch ``e`` depends only
            on ``(seed, e)``, never on global TensorFlow seeds, so rebuilding the dataset with
            the same arguments reproduces it (``.skip(n)`` resumes a run exactly).
        seed: the shuffling seed.
        repeat: cycle through the examples forever (epoch after epoch).
        bucket_boundaries: increasing lengths ``b_0 < b_1 < ...``; examples with
            ``len(words) < b_0`` form the first bucket, ``b_0 <= len < b_1`` the next, and so on,
            and each batch comes from one bucket. None batches consecutive examples, which keeps
            the examples' order when ``shuffle`` is off (for evaluation).

    Returns:
        A dataset of dicts with the examples' keys, each an int32 tensor padded with 0 to the
        batch's largest sizes (``[B, T]``, ``[B, T, W]``, ``[B]``, ``[B, L]``), plus
        ``"lengths"``: int32 ``[B]``, the number of words of each example.
    """
    import tensorflow as tf

    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    ranks = _check_examples(examples)
    count = len(examples)
    lengths = np.array([len(example[WORDS]) for example in examples], dtype=np.int32)
    packed = {key: _pack(key, rank, examples) for key, rank in ranks.items()}
    packed[LENGTHS] = tf.constant(lengths)

    if shuffle:
        seed_value = tf.constant(seed, tf.int64)

        def permutation(epoch):
            order = tf.random.experimental.stateless_shuffle(
                tf.range(count, dtype=tf.int64), seed=tf.stack([seed_value, epoch])
            )
            return tf.data.Dataset.from_tensor_slices(order)

        epochs = tf.data.Dataset.counter() if repeat else tf.data.Dataset.range(1)
        indices = epochs.flat_map(permutation)
    else:
        indices = tf.data.Dataset.range(count)
        if repeat:
            indices = indices.repeat()

    if bucket_boundaries is None:
        batches = indices.batch(batch_size)
    else:
        boundaries = [int(boundary) for boundary in bucket_boundaries]
        if any(low >= high for low, high in zip(boundaries, boundaries[1:], strict=False)):
            raise ValueError(f"bucket_boundaries must increase strictly, got {boundaries}")
        boundary_tensor = tf.constant(boundaries, tf.int32)
        length_tensor = packed[LENGTHS]

        def bucket(index):
            length = tf.gather(length_tensor, index)
            return tf.reduce_sum(tf.cast(boundary_tensor <= length, tf.int64))

        batches = indices.group_by_window(
            key_func=bucket,
            reduce_func=lambda _, window: window.batch(batch_size),
            window_size=batch_size,
        )

    def gather(batch_indices):
        batch = {}
        for key, value in packed.items():
            rows = tf.gather(value, batch_indices)
            batch[key] = rows.to_tensor() if isinstance(rows, tf.RaggedTensor) else rows
        return batch

    return batches.map(gather, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True).prefetch(
        tf.data.AUTOTUNE
    )
