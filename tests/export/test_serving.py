"""The exported signatures: training's predictions, shapes, defined answers to bad input."""

import numpy as np
import pytest

from tests.export.helpers import assert_matches_expected


def _run(loaded, signature, values):
    import tensorflow as tf

    function = loaded.signatures[signature]
    (name,) = function.structured_input_signature[1]
    outputs = function(**{name: tf.constant(values, tf.string)})
    return {key: value.numpy() for key, value in outputs.items()}


def test_signatures_are_named_after_tasks(loaded, exported):
    assert set(loaded.signatures) == {"serving_default", "tokens", "chunk", "chunk_tokens",
                                      "label", "label_tokens", "pos", "pos_tokens"}
    assert set(exported.signatures) == set(loaded.signatures)


def test_raw_text_gives_the_trained_models_predictions(loaded, trained):
    outputs = _run(loaded, "serving_default", trained.texts)
    tokens = [[t.decode() for t in row[:n]] for row, n in zip(outputs["tokens"],
                                                              outputs["lengths"], strict=True)]
    assert tokens == trained.sentences
    assert_matches_expected(outputs, trained.expected)


def test_task_signatures_and_tokens_variants_agree_with_serving_default(loaded, trained):
    texts = trained.texts[:5]
    everything = _run(loaded, "serving_default", texts)
    width = max(len(s) for s in trained.sentences[:5]) + 2  # Extra "" padding is ignored.
    tokens = np.full((5, width), b"", dtype=object)
    for row, sentence in enumerate(trained.sentences[:5]):
        tokens[row, : len(sentence)] = [t.encode() for t in sentence]
    from_tokens = _run(loaded, "tokens", tokens)
    for key, value in everything.items():
        np.testing.assert_array_equal(from_tokens[key], value, err_msg=key)
    for task in ("chunk", "pos", "label"):
        for signature, values in ((task, texts), (f"{task}_tokens", tokens)):
            alone = _run(loaded, signature, values)
            assert {k for k in alone if k.endswith("_labels")} == {f"{task}_labels"}
            np.testing.assert_array_equal(alone[f"{task}_labels"], everything[f"{task}_labels"])
            np.testing.assert_allclose(alone[f"{task}_probabilities"],
                                       everything[f"{task}_probabilities"], atol=1e-6)


def test_output_shapes_and_dtypes_match_the_documentation(loaded, exported, trained):
    outputs = _run(loaded, "serving_default", trained.texts[:3])
    batch, time = 3, int(outputs["lengths"].max())
    sizes = {"chunk": None, "pos": None, "label": None}
    for task in sizes:
        sizes[task] = outputs[f"{task}_classes"].shape[1]
    documented = exported.signatures["serving_default"]["outputs"]
    assert set(documented) == set(outputs)
    for key, value in outputs.items():
        doc = documented[key]
        dims = doc["shape"].strip("[]").split(", ")
        expected = []
        for dim in dims:
            if dim == "batch":
                expected.append(batch)
            elif dim == "T":
                expected.append(time)
            else:
                expected.append(sizes[key.rpartition("_")[0]])
        assert value.shape == tuple(expected), key
        kind = {"string": "O", "int32": "i", "float32": "f", "bool": "b"}[doc["dtype"]]
        assert value.dtype.kind == kind, key
    classes = [c.decode() for c in outputs["pos_classes"][0]]
    assert classes[0] == "<unk>" and len(set(classes)) == len(classes)
    np.testing.assert_allclose(outputs["label_probabilities"].sum(axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(outputs["label_scores"], outputs["label_probabilities"].max(1))


def test_bad_input_gets_defined_answers(loaded, exported):
    long_sentence = " ".join(["the"] * (exported.max_length + 88))
    texts = [b"", b"  \t \xc2\xa0 ", long_sentence.encode(), b"the \xff\xfedog walks", b"a b"]
    outputs = _run(loaded, "serving_default", texts)
    assert outputs["lengths"].tolist() == [0, 0, exported.max_length, 3, 2]
    assert outputs["num_tokens"].tolist() == [0, 0, exported.max_length + 88, 3, 2]
    assert outputs["truncated"].tolist() == [False, False, True, False, False]
    assert outputs["tokens"][3, :3].tolist() == [b"the", "\ufffd\ufffddog".encode(), b"walks"]
    for row in (0, 1):  # No tokens: no labels, zero probabilities.
        assert set(outputs["pos_labels"][row].tolist()) == {b""}
        assert outputs["label_labels"][row] == b"" and outputs["label_scores"][row] == 0
        assert not outputs["label_probabilities"][row].any()
    assert b"" not in outputs["pos_labels"][2].tolist()
    assert outputs["label_labels"][2] != b""


@pytest.mark.parametrize("signature", ["serving_default", "tokens", "pos", "label_tokens"])
def test_empty_batches_and_empty_sentences(loaded, signature):
    shape = (0,) if "tokens" not in signature else (0, 0)
    outputs = _run(loaded, signature, np.zeros(shape, dtype=object))
    assert all(value.shape[0] == 0 for value in outputs.values())
    empty = np.array([b""] * 2 if "tokens" not in signature else [[b"", b""]] * 2, dtype=object)
    outputs = _run(loaded, signature, empty)
    assert outputs["lengths"].tolist() == [0, 0] and outputs["tokens"].shape == (2, 0)
    for key, value in outputs.items():
        if key.endswith("_labels") and value.ndim == 2:
            assert value.shape == (2, 0)


def test_signatures_reject_the_wrong_input_rank(loaded):
    import tensorflow as tf

    with pytest.raises(tf.errors.InvalidArgumentError, match="check_text_is_a_vector"):
        loaded.signatures["serving_default"](text=tf.constant([["a"]]))
    with pytest.raises(tf.errors.InvalidArgumentError, match="check_tokens_is_a_matrix"):
        loaded.signatures["tokens"](tokens=tf.constant(["a"]))
