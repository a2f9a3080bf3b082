import numpy as np
import pytest

from tfmtl.data import default_bucket_boundaries, make_dataset

tf = pytest.importorskip("tensorflow")


def example(index: int, length: int) -> dict:
    """Words 1..length, chars [length, 1 + index % 3], a label, and a target of its own length."""
    return {
        "words": np.arange(1, length + 1, dtype=np.int32),
        "tags": np.full(length, 7, dtype=np.int32),
        "chars": np.full((length, 1 + index % 3), 5, dtype=np.int32),
        "label": np.int32(index),
        "target": np.arange(1, 2 + (index * 7) % 5, dtype=np.int64),
    }


LENGTHS = [3, 1, 7, 4, 4, 9, 2, 6, 5, 8, 3, 1, 10]
EXAMPLES = [example(index, length) for index, length in enumerate(LENGTHS)]


def batches(dataset, count=None):
    dataset = dataset if count is None else dataset.take(count)
    return [{key: value.numpy() for key, value in batch.items()} for batch in dataset]


def flat(values):
    return [int(value) for batch in values for value in batch]


def test_default_bucket_boundaries():
    lengths = list(range(1, 101))
    boundaries = default_bucket_boundaries(lengths, num_buckets=4)
    assert boundaries == [26, 51, 76]
    assert default_bucket_boundaries([5] * 10) == []
    assert default_bucket_boundaries([], 8) == [] and default_bucket_boundaries([1, 9], 1) == []
    many = default_bucket_boundaries([1, 1, 2, 3, 5, 8, 13, 21, 34], 8)
    assert many == sorted(set(many)) and all(1 < b <= 34 for b in many)


def test_batches_are_padded_in_order_with_lengths():
    result = batches(make_dataset(EXAMPLES, batch_size=4))
    assert [len(batch["lengths"]) for batch in result] == [4, 4, 4, 1]
    assert flat(batch["label"] for batch in result) == list(range(len(EXAMPLES)))
    first = result[0]
    assert set(first) == {"words", "tags", "chars", "label", "target", "lengths"}
    assert all(value.dtype == np.int32 for value in first.values())
    assert first["lengths"].tolist() == [3, 1, 7, 4]
    assert first["words"].shape == (4, 7) and first["tags"].shape == (4, 7)
    assert first["chars"].shape == (4, 7, 3) and first["target"].shape == (4, 5)
    assert first["words"][1].tolist() == [1, 0, 0, 0, 0, 0, 0]
    assert first["chars"][1].tolist() == [[5, 5, 0]] + [[0, 0, 0]] * 6
    assert first["target"][0].tolist() == [1, 0, 0, 0, 0]
    for batch in result:
        mask = tf.sequence_mask(batch["lengths"], batch["words"].shape[1]).numpy()
        assert (mask == (batch["words"] != 0)).all()
        assert (mask == (batch["tags"] != 0)).all()


def test_buckets_group_similar_lengths_and_keep_partial_batches():
    boundaries = [3, 6]
    result = batches(make_dataset(EXAMPLES, batch_size=2, bucket_boundaries=boundaries))
    assert sorted(flat(batch["label"] for batch in result)) == list(range(len(EXAMPLES)))
    for batch in result:
        buckets = {
            int(np.searchsorted(boundaries, length, side="right")) for length in batch["lengths"]
        }
        assert len(buckets) == 1
        assert batch["words"].shape[1] == max(batch["lengths"])
    assert any(len(batch["lengths"]) == 1 for batch in result)


def test_shuffle_reshuffles_every_epoch():
    dataset = make_dataset(EXAMPLES, batch_size=13, shuffle=True, seed=5, repeat=True)
    first, second = (list(batch["label"]) for batch in batches(dataset, 2))
    assert sorted(first) == sorted(second) == list(range(13))
    assert first != second and first != list(range(13))
    other_seed = batches(make_dataset(EXAMPLES, batch_size=13, shuffle=True, seed=6), 1)
    assert list(other_seed[0]["label"]) != first


@pytest.mark.parametrize("boundaries", [None, [3, 6]])
def test_rebuilt_datasets_are_identical_and_skip_resumes(boundaries):
    def build():
        return make_dataset(
            EXAMPLES, batch_size=3, shuffle=True, seed=11, repeat=True, bucket_boundaries=boundaries
        )

    reference = batches(build(), 12)
    again = batches(build(), 12)
    resumed = batches(build().skip(7), 5)
    for expected, actual in zip(reference, again, strict=True):
        assert all((expected[key] == actual[key]).all() for key in expected)
    for expected, actual in zip(reference[7:], resumed, strict=True):
        assert all(
            expected[key].shape == actual[key].shape and (expected[key] == actual[key]).all()
            for key in expected
        )


def test_one_key_examples_and_single_batch():
    result = batches(make_dataset([{"words": np.array([4, 2])}], batch_size=8))
    assert len(result) == 1 and result[0]["words"].tolist() == [[4, 2]]
    assert result[0]["lengths"].tolist() == [2]


@pytest.mark.parametrize(
    "examples, match",
    [
        ([], "at least one example"),
        ([{"tags": np.array([1])}], "no 'words'"),
        ([{"words": np.array([], dtype=np.int32)}], "non-empty vector"),
        ([{"words": np.array([1])}, {"words": np.array([1]), "x": np.int32(1)}], "has keys"),
        (
            [
                {"words": np.array([1]), "x": np.int32(1)},
                {"words": np.array([1]), "x": np.array([1])},
            ],
            "rank",
        ),
        ([{"words": np.array([1.5])}], "not integer"),
        ([{"words": np.array([1]), "x": np.zeros((1, 1, 1), np.int32)}], "rank 3"),
        ([{"words": np.array([1]), "lengths": np.int32(1)}], "reserved"),
    ],
)
def test_invalid_examples(examples, match):
    with pytest.raises(ValueError, match=match):
        make_dataset(examples, batch_size=2)


def test_invalid_arguments():
    with pytest.raises(ValueError, match="batch_size"):
        make_dataset(EXAMPLES, batch_size=0)
    with pytest.raises(ValueError, match="increase"):
        make_dataset(EXAMPLES, batch_size=2, bucket_boundaries=[5, 5])
