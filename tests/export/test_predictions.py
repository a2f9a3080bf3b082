"""Signature outputs to records, JSON lines and columns (no model needed)."""

import json

import numpy as np
import pytest

from tfmtl.export.client import ClientError, Predictor
from tfmtl.export.predictions import (
    format_columns,
    format_json,
    predict_records,
    records,
    signature_for,
    split_outputs,
    task_output_keys,
)
from tfmtl.tasks import TASKS, Classification, Tagging


@TASKS.register("span_counting_predictions_test")
class _SpanCounting(Tagging):
    """A task type that serves one more output than a tagger."""

    serving_schema = {**Tagging.serving_schema,
                      "span_count": ("int32", "[batch]", "spans per sentence")}


def _outputs():
    s = lambda *values: np.array(values, dtype=object)  # noqa: E731
    return {
        "tokens": s([b"the", b"dog"], [b"", b""], [b"x\xef\xbf\xbd", b"y"]),
        "lengths": np.array([2, 0, 2], np.int32),
        "num_tokens": np.array([2, 0, 9], np.int32),
        "truncated": np.array([False, False, True]),
        "pos_labels": s([b"DT", b"NN"], [b"", b""], [b"NN", b"VBZ"]),
        "pos_scores": np.array([[0.9, 0.8], [0, 0], [0.5, 0.25]], np.float32),
        "pos_probabilities": np.array([[[0.1, 0.9], [0.2, 0.8]], [[0, 0]] * 2,
                                       [[0.5, 0.5], [0.75, 0.25]]], np.float32),
        "pos_classes": s([b"NN", b"DT"], [b"NN", b"DT"], [b"NN", b"DT"]),
        "label_labels": s(b"pos", b"", b"neg"),
        "label_scores": np.array([0.75, 0.0, 0.5], np.float32),
        "label_probabilities": np.array([[0.25, 0.75], [0, 0], [0.5, 0.5]], np.float32),
        "label_classes": s([b"neg", b"pos"], [b"neg", b"pos"], [b"neg", b"pos"]),
    }


def test_records_hold_tokens_labels_and_flags():
    got = records([b"the dog", b"", b"x\xff y"], _outputs(), probabilities=True)
    assert got[0]["tokens"] == ["the", "dog"] and got[0]["truncated"] is False
    assert got[0]["tasks"]["pos"]["labels"] == ["DT", "NN"]
    assert got[0]["tasks"]["pos"]["probabilities"][0] == {"NN": pytest.approx(0.1),
                                                          "DT": pytest.approx(0.9)}
    assert got[0]["tasks"]["label"]["label"] == "pos"
    assert got[1]["tokens"] == [] and got[1]["tasks"]["label"]["label"] is None
    assert got[1]["tasks"]["pos"]["labels"] == []
    assert got[2]["text"] == "x\ufffd y" and got[2]["truncated"] and got[2]["num_tokens"] == 9
    assert json.loads(format_json(got[2]))["tokens"] == ["x\ufffd", "y"]
    only = records([b"a", b"", b"b"], _outputs(), tasks=["label"])
    assert set(only[0]["tasks"]) == {"label"} and "probabilities" not in only[0]["tasks"]["label"]
    with pytest.raises(ClientError, match="--tasks: the model has no task chunk; it has label"):
        records([b"a", b"", b"b"], _outputs(), tasks=["chunk"])


def test_columns_align_tokens_with_each_tasks_labels():
    first, empty, long = records([b"the dog", b"", b"x y"], _outputs())
    assert format_columns(first) == (
        "# text: the dog\n# label: pos\n#  token  pos\n1  the    DT\n2  dog    NN\n")
    assert "1  the    DT 0.900" in format_columns(first, scores=True)
    assert format_columns(empty) == "# text: \n# label: -\n# (no tokens)\n"
    assert "# truncated: 9 tokens, labels for the first 2\n" in format_columns(long)


class _Recorder(Predictor):
    def __init__(self):
        self.calls = []

    def predict(self, signature, input_name, values):
        self.calls.append((signature, input_name, values.shape))
        outputs = _outputs()
        return {k: v[: len(values)] for k, v in outputs.items()}


def test_sentences_go_in_batches_and_come_back_in_order():
    recorder = _Recorder()
    got = list(predict_records(recorder, [b"a", b"b", b"c"], batch_size=2))
    assert [r["text"] for r in got] == ["a", "b", "c"]
    assert recorder.calls == [("serving_default", "text", (2,)),
                              ("serving_default", "text", (1,))]
    assert list(predict_records(recorder, [], batch_size=2)) == []
    assert len(recorder.calls) == 2  # An empty input sends no request.
    got = list(predict_records(recorder, [[b"a", b"b"], []], pretokenized=True, tasks=["pos"]))
    assert recorder.calls[-1] == ("pos_tokens", "tokens", (2, 2))
    assert got[0]["text"] == "a b"
    with pytest.raises(ClientError, match="--batch_size: must be >= 1"):
        list(predict_records(recorder, [b"a"], batch_size=0))


def test_signature_names():
    assert signature_for(None, False) == ("serving_default", "text")
    assert signature_for(["a", "b"], True) == ("tokens", "tokens")
    assert signature_for(["a"], False) == ("a", "text")
    assert signature_for(["a"], True) == ("a_tokens", "tokens")


def test_the_output_keys_are_the_task_types_serving_schemas():
    keys = task_output_keys()
    assert set(Tagging.serving_schema) | set(Classification.serving_schema) | {"span_count"} \
        <= set(keys)
    assert set(keys) == {key for name in TASKS.names()
                         for key in TASKS.get(name).serving_schema}


def test_a_task_types_own_output_is_grouped_with_its_task():
    outputs = {**_outputs(), "ner_span_count": np.array([1, 0, 2], np.int32),
               "ner_labels": _outputs()["pos_labels"], "an_unknown_output": np.zeros(3)}
    by_task = split_outputs(outputs)
    assert set(by_task) == {"pos", "label", "ner"}
    assert set(by_task["ner"]) == {"span_count", "labels"}
    assert by_task["ner"]["span_count"].tolist() == [1, 0, 2]
    assert set(by_task["pos"]) == set(Tagging.serving_schema)
