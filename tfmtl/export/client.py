"""Running an exported model's signatures: in process, or on TF Serving over gRPC or REST.

Every predictor takes a signature name, its input name (``text`` or
``tokens``) and a NumPy array of byte strings, and returns the signature's
outputs as NumPy arrays (strings as ``bytes``), whatever carried them.

Example:
    with GrpcPredictor("localhost:8500", "tagger") as predictor:
        outputs = predictor.predict("serving_default", "text", np.array([b"the dog walks ."]))
"""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request

import numpy as np

DEFAULT_TIMEOUT = 30.0
# Responses grow with batch size times labels (per-token probabilities); gRPC's default is 4 MiB.
MAX_MESSAGE_BYTES = 512 * 1024 * 1024


class ClientError(ValueError):
    """A prediction failed: the message names the model or server and the reason."""


class Predictor:
    """Runs signatures of one exported model. Use as a context manager or call :meth:`close`."""

    def predict(self, signature: str, input_name: str, values: np.ndarray) -> dict[str, np.ndarray]:
        """Runs `signature` on `values` (bytes, ``[batch]`` or ``[batch, tokens]``).

        Raises:
            ClientError: the model or server refused or could not run the request.
        """
        raise NotImplementedError

    def close(self) -> None:
        """Releases connections or the loaded model."""

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()


def _as_bytes_array(array) -> np.ndarray:
    array = np.asarray(array)
    if array.dtype.kind in "US":
        array = np.vectorize(lambda s: s.encode("utf-8") if isinstance(s, str) else bytes(s),
                             otypes=[object])(array) if array.size else array.astype(object)
    return array


class SavedModelPredictor(Predictor):
    """Runs a SavedModel folder in this process with TensorFlow (and tensorflow-text's ops).

    Args:
        path: a version folder written by ``tfmtl-export`` (or any SavedModel with its signatures).

    Raises:
        FileNotFoundError: `path` holds no SavedModel.
    """

    def __init__(self, path: str):
        import os

        if not os.path.isfile(os.path.join(path, "saved_model.pb")):
            raise FileNotFoundError(f"{path}: no saved_model.pb; give a version folder such as "
                                    "BASE/NAME/1")
        import tensorflow as tf
        import tensorflow_text  # noqa: F401 (registers the ops the tokenizer uses)

        self.path = path
        self._tf = tf
        self._model = tf.saved_model.load(path)
        self.signatures = sorted(self._model.signatures)

    def predict(self, signature, input_name, values):
        if signature not in self._model.signatures:
            raise ClientError(f"{self.path}: no signature {signature!r}; it has "
                              f"{', '.join(self.signatures)}")
        function = self._model.signatures[signature]
        try:
            outputs = function(**{input_name: self._tf.constant(values, self._tf.string)})
        except TypeError as e:
            raise ClientError(f"{self.path}: signature {signature!r}: {e}") from None
        return {key: value.numpy() for key, value in outputs.items()}


def parse_server(server: str) -> str:
    """Checks ``HOST:PORT`` (``[::1]:8500`` for IPv6) and returns it.

    Raises:
        ClientError: no port, or a port that is not a number in 1..65535.
    """
    host, sep, port = server.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ClientError(f"--server: {server!r} is not HOST:PORT (e.g. localhost:8500)")
    return server


class GrpcPredictor(Predictor):
    """Calls TF Serving's ``PredictionService/Predict`` over gRPC (tensorflow-serving-api).

    Args:
        server: ``HOST:PORT`` of the gRPC port (TF Serving's ``--port``, 8500 by default).
        model: the model name of TF Serving's config.
        version: a model version (None: the one the server serves by default).
        timeout: seconds per request.
    """

    def __init__(self, server: str, model: str, *, version: int | None = None,
                 timeout: float = DEFAULT_TIMEOUT):
        self.server = parse_server(server)
        import grpc
        from tensorflow_serving.apis import prediction_service_pb2_grpc

        self.model = model
        self.version = version
        self.timeout = timeout
        self._grpc = grpc
        self._channel = grpc.insecure_channel(self.server, options=[
            ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
            ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
        ])
        self._stub = prediction_service_pb2_grpc.PredictionServiceStub(self._channel)

    def predict(self, signature, input_name, values):
        import tensorflow as tf
        from tensorflow_serving.apis import predict_pb2

        request = predict_pb2.PredictRequest()
        request.model_spec.name = self.model
        request.model_spec.signature_name = signature
        if self.version is not None:
            request.model_spec.version.value = self.version
        request.inputs[input_name].CopyFrom(
            tf.make_tensor_proto(_as_bytes_array(values), dtype=tf.string)
        )
        try:
            response = self._stub.Predict(request, timeout=self.timeout)
        except self._grpc.RpcError as e:
            code = e.code()
            if code == self._grpc.StatusCode.UNAVAILABLE:
                raise ClientError(f"cannot reach TF Serving at {self.server} (gRPC): "
                                  f"{e.details()}") from None
            raise ClientError(f"TF Serving at {self.server}, model {self.model!r}, signature "
                              f"{signature!r}: {code.name}: {e.details()}") from None
        return {key: tf.make_ndarray(proto) for key, proto in response.outputs.items()}

    def close(self):
        self._channel.close()


def _json_value(value):
    """A string for TF Serving's JSON: text when valid UTF-8, else ``{"b64": ...}``."""
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            return {"b64": base64.b64encode(value).decode("ascii")}
    return value


def _from_json(value):
    """A JSON output as NumPy: strings become bytes, ``{"b64": ...}`` is decoded."""
    def convert(item):
        if isinstance(item, list):
            return [convert(i) for i in item]
        if isinstance(item, dict) and set(item) == {"b64"}:
            return base64.b64decode(item["b64"])
        if isinstance(item, str):
            return item.encode("utf-8")
        return item

    converted = convert(value)
    array = np.array(converted, dtype=object)
    if array.size and not isinstance(array.flat[0], bytes):
        array = np.array(converted)
        if array.dtype == np.float64:
            array = array.astype(np.float32)
    return array


class RestPredictor(Predictor):
    """Calls TF Serving's REST API: ``POST /v1/models/NAME[/versions/N]:predict``.

    Requests use the columnar format (``{"signature_name", "inputs"}``);
    sentences that are not valid UTF-8 travel as ``{"b64": ...}``.

    Args:
        server: ``HOST:PORT`` of the REST port (TF Serving's ``--rest_api_port``, 8501 by
            default), optionally with ``http://`` or ``https://``.
        model: the model name of TF Serving's config.
        version: a model version (None: the one the server serves by default).
        timeout: seconds per request.
    """

    def __init__(self, server: str, model: str, *, version: int | None = None,
                 timeout: float = DEFAULT_TIMEOUT):
        scheme = "http"
        for prefix in ("http://", "https://"):
            if server.startswith(prefix):
                scheme, server = prefix[:-3], server[len(prefix):].rstrip("/")
        self.server = parse_server(server)
        self.model = model
        self.version = version
        self.timeout = timeout
        path = f"/v1/models/{model}" + (f"/versions/{version}" if version is not None else "")
        self.url = f"{scheme}://{self.server}{path}:predict"

    def predict(self, signature, input_name, values):
        values = _as_bytes_array(values)
        body = {
            "signature_name": signature,
            "inputs": {input_name: np.vectorize(_json_value, otypes=[object])(values).tolist()
                       if values.size else values.tolist()},
        }
        request = urllib.request.Request(
            self.url, data=json.dumps(body).encode("utf-8"), method="POST",
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                answer = json.loads(response.read().decode("utf-8"))
        except urllib.error.HTTPError as e:
            detail = e.read().decode("utf-8", errors="replace")
            try:
                detail = json.loads(detail).get("error", detail)
            except (ValueError, AttributeError):
                pass
            raise ClientError(f"TF Serving at {self.url}, signature {signature!r}: HTTP "
                              f"{e.code}: {detail}") from None
        except (urllib.error.URLError, OSError) as e:
            reason = getattr(e, "reason", e)
            raise ClientError(f"cannot reach TF Serving at {self.url} (REST): {reason}") from None
        if "outputs" not in answer:
            raise ClientError(f"TF Serving at {self.url}: no 'outputs' in the answer "
                              f"(keys: {', '.join(answer)})")
        outputs = answer["outputs"]
        if not isinstance(outputs, dict):  # A signature with one output answers its value alone.
            outputs = {"output": outputs}
        return {key: _from_json(value) for key, value in outputs.items()}


def make_predictor(*, saved_model: str | None = None, server: str | None = None,
                   model: str | None = None, protocol: str = "grpc", version: int | None = None,
                   timeout: float = DEFAULT_TIMEOUT) -> Predictor:
    """The predictor for a local SavedModel or a TF Serving server (exactly one of them).

    Raises:
        ClientError: both or neither source, no model name for a server, or an unknown protocol.
    """
    if (saved_model is None) == (server is None):
        raise ClientError("give either --saved_model=DIR or --server=HOST:PORT with --model=NAME")
    if saved_model is not None:
        return SavedModelPredictor(saved_model)
    if not model:
        raise ClientError("--server needs --model=NAME, the model's name in TF Serving")
    if server.startswith(("http://", "https://")):
        protocol = "rest"
    if protocol == "grpc":
        return GrpcPredictor(server, model, version=version, timeout=timeout)
    if protocol == "rest":
        return RestPredictor(server, model, version=version, timeout=timeout)
    raise ClientError(f"--protocol: {protocol!r} is not 'grpc' or 'rest'")
