"""The TF Serving client over gRPC and REST against servers that serve the export."""

import numpy as np
import pytest

from tests.export.helpers import MODEL_NAME, assert_matches_expected
from tests.export.servers import grpc_server, rest_server
from tfmtl.export.client import (
    ClientError,
    GrpcPredictor,
    RestPredictor,
    SavedModelPredictor,
    make_predictor,
)
from tfmtl.export.predictions import predict_records

ODD = [b"", b"   ", b"the \xff\xfe dog", "caf\u00e9 na\u00efve".encode()]


@pytest.fixture(scope="module")
def servers(runner):
    models = {MODEL_NAME: runner}
    with grpc_server(models) as grpc_address, rest_server(models) as rest_address:
        yield {"grpc": grpc_address, "rest": rest_address}


@pytest.fixture(scope="module")
def local(exported):
    with SavedModelPredictor(exported.path) as predictor:
        yield predictor


@pytest.mark.parametrize("protocol", ["grpc", "rest"])
def test_served_predictions_match_training_and_the_local_model(servers, protocol, trained,
                                                               local):
    with make_predictor(server=servers[protocol], model=MODEL_NAME, protocol=protocol) as remote:
        texts = np.array([t.encode() for t in trained.texts], dtype=object)
        outputs = remote.predict("serving_default", "text", texts)
        assert_matches_expected(outputs, trained.expected)
        odd = remote.predict("serving_default", "text", np.array(ODD, dtype=object))
        want = local.predict("serving_default", "text", np.array(ODD, dtype=object))
        assert set(odd) == set(want)
        for key, value in want.items():
            if value.dtype.kind == "f":
                np.testing.assert_allclose(odd[key], value, atol=1e-6, err_msg=key)
            else:
                np.testing.assert_array_equal(odd[key], value, err_msg=key)
        tokens = np.array([[b"the", b"dog", b""], [b"", b"", b""]], dtype=object)
        got = remote.predict("pos_tokens", "tokens", tokens)
        assert got["lengths"].tolist() == [2, 0]
        records = list(predict_records(remote, [b"a b", b""], tasks=["label"]))
        assert [r["tokens"] for r in records] == [["a", "b"], []]


def test_rest_answers_the_row_format_too(servers, trained):
    import json
    import urllib.request

    body = json.dumps({"signature_name": "label", "instances": trained.texts[:2]}).encode()
    request = urllib.request.Request(
        f"http://{servers['rest']}/v1/models/{MODEL_NAME}:predict", data=body, method="POST")
    with urllib.request.urlopen(request, timeout=30) as response:
        predictions = json.loads(response.read())["predictions"]
    assert [p["label_labels"] for p in predictions] == [
        e["labels"][0] for e in trained.expected["label"][:2]]


@pytest.mark.parametrize("make", [GrpcPredictor, RestPredictor])
def test_server_errors_name_model_and_reason(servers, make):
    protocol = "grpc" if make is GrpcPredictor else "rest"
    with make(servers[protocol], "nope", timeout=10) as predictor:
        with pytest.raises(ClientError, match=r"(NOT_FOUND|HTTP 404).*Servable not found"):
            predictor.predict("serving_default", "text", np.array([b"a"], dtype=object))
    with make(servers[protocol], MODEL_NAME, timeout=10) as predictor:
        with pytest.raises(ClientError, match="signature 'nope'.*not found"):
            predictor.predict("nope", "text", np.array([b"a"], dtype=object))


@pytest.mark.parametrize("protocol", ["grpc", "rest"])
def test_an_unreachable_server_is_a_clear_error(protocol):
    import socket

    with socket.socket() as s:  # A port nobody listens on.
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with make_predictor(server=f"127.0.0.1:{port}", model="m", protocol=protocol,
                        timeout=5) as predictor:
        with pytest.raises(ClientError, match=f"cannot reach TF Serving at .*127.0.0.1:{port}"):
            predictor.predict("serving_default", "text", np.array([b"a"], dtype=object))


def test_predictor_arguments_are_checked(tmp_path):
    with pytest.raises(ClientError, match="either --saved_model"):
        make_predictor()
    with pytest.raises(ClientError, match="--server needs --model"):
        make_predictor(server="localhost:8500")
    with pytest.raises(ClientError, match="--server: 'localhost' is not HOST:PORT"):
        make_predictor(server="localhost", model="m")
    with pytest.raises(FileNotFoundError, match="no saved_model.pb"):
        make_predictor(saved_model=str(tmp_path))
    assert make_predictor(server="http://[::1]:8501", model="m").url == (
        "http://[::1]:8501/v1/models/m:predict")
    assert RestPredictor("h:1", "m", version=3).url == "http://h:1/v1/models/m/versions/3:predict"
