"""Small stand-ins for TF Serving that the tests start on 127.0.0.1, ephemeral ports.

The TF Serving binary cannot be installed here, so these serve a SavedModel
the way it does: the TF1 SavedModel loader (which runs the saved restore op,
as TF Serving's C++ loader does) and ``Session.run`` on the tensor names of
the requested SignatureDef. They speak TF Serving's gRPC ``PredictionService``
(tensorflow-serving-api) and its REST ``/v1/models/NAME:predict`` JSON API,
so the client under test is the real one.
"""

from __future__ import annotations

import base64
import contextlib
import http.server
import json
import re
import threading
from concurrent import futures

import numpy as np


class SignatureRunner:
    """A SavedModel loaded with the TF1 loader; runs SignatureDefs by tensor names."""

    def __init__(self, path: str):
        import tensorflow as tf
        import tensorflow_text  # noqa: F401 (exports may use its ops)

        self._tf = tf
        self.graph = tf.Graph()
        self.session = tf.compat.v1.Session(graph=self.graph)
        with self.graph.as_default():
            meta_graph = tf.compat.v1.saved_model.loader.load(self.session, ["serve"], path)
        self.signatures = dict(meta_graph.signature_def)

    def run(self, signature: str, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Runs `signature` ("" means serving_default).

        Raises:
            KeyError: unknown signature; ValueError: inputs that do not match it.
        """
        signature = signature or "serving_default"
        if signature not in self.signatures:
            raise KeyError(f"Serving signature name: \"{signature}\" not found in signature def")
        definition = self.signatures[signature]
        if set(inputs) != set(definition.inputs):
            raise ValueError(f"inputs {sorted(inputs)} do not match the signature's "
                             f"{sorted(definition.inputs)}")
        feeds = {definition.inputs[k].name: v for k, v in inputs.items()}
        fetches = {k: t.name for k, t in definition.outputs.items()}
        return self.session.run(fetches, feeds)

    def close(self) -> None:
        self.session.close()


def _prediction_servicer(models: dict[str, SignatureRunner]):
    import grpc
    import tensorflow as tf
    from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc

    class PredictionServicer(prediction_service_pb2_grpc.PredictionServiceServicer):
        def Predict(self, request, context):  # noqa: N802 (the gRPC method's name)
            name = request.model_spec.name
            if name not in models:
                context.abort(grpc.StatusCode.NOT_FOUND,
                              f"Servable not found for request: Latest({name})")
            inputs = {k: tf.make_ndarray(v) for k, v in request.inputs.items()}
            try:
                outputs = models[name].run(request.model_spec.signature_name, inputs)
            except (KeyError, ValueError, tf.errors.OpError) as e:
                context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(e))
            response = predict_pb2.PredictResponse()
            response.model_spec.name = name
            response.model_spec.signature_name = (request.model_spec.signature_name
                                                  or "serving_default")
            for key, value in outputs.items():
                response.outputs[key].CopyFrom(tf.make_tensor_proto(value))
            return response

    return PredictionServicer()


@contextlib.contextmanager
def grpc_server(models: dict[str, SignatureRunner]):
    """Serves `models` over gRPC; yields ``127.0.0.1:PORT``."""
    import grpc
    from tensorflow_serving.apis import prediction_service_pb2_grpc

    size = 512 * 1024 * 1024
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4), options=[
        ("grpc.max_receive_message_length", size), ("grpc.max_send_message_length", size)])
    prediction_service_pb2_grpc.add_PredictionServiceServicer_to_server(
        _prediction_servicer(models), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        yield f"127.0.0.1:{port}"
    finally:
        server.stop(grace=None).wait()


def _decode_json_value(value):
    if isinstance(value, list):
        return [_decode_json_value(v) for v in value]
    if isinstance(value, dict) and set(value) == {"b64"}:
        return base64.b64decode(value["b64"])
    if isinstance(value, str):
        return value.encode("utf-8")
    return value


def _encode_json_value(name: str, value):
    if isinstance(value, np.ndarray):
        return [_encode_json_value(name, v) for v in value]
    if isinstance(value, bytes):
        if name.endswith("_bytes"):
            return {"b64": base64.b64encode(value).decode("ascii")}
        return value.decode("utf-8")
    if isinstance(value, np.generic):
        return value.item()
    return value


class _RestHandler(http.server.BaseHTTPRequestHandler):
    models: dict[str, SignatureRunner] = {}
    _PATH = re.compile(r"^/v1/models/([^/:]+)(?:/versions/(\d+))?:predict$")

    def log_message(self, *args):  # Quiet.
        pass

    def _answer(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):  # noqa: N802 (http.server's name)
        match = self._PATH.match(self.path)
        if not match:
            return self._answer(404, {"error": f"Malformed request: POST {self.path}"})
        name = match.group(1)
        if name not in self.models:
            return self._answer(404, {"error": f"Servable not found for request: Latest({name})"})
        try:
            request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            runner = self.models[name]
            signature = request.get("signature_name", "serving_default")
            definition = runner.signatures.get(signature)
            if definition is None:
                raise KeyError(f"Serving signature name: \"{signature}\" not found")
            (only_input,) = definition.inputs if len(definition.inputs) == 1 else (None,)
            if "instances" in request:  # Row format.
                rows = request["instances"]
                if rows and isinstance(rows[0], dict):
                    inputs = {k: [row[k] for row in rows] for k in rows[0]}
                else:
                    inputs = {only_input: rows}
            elif "inputs" in request:  # Columnar format.
                given = request["inputs"]
                inputs = given if isinstance(given, dict) else {only_input: given}
            else:
                raise ValueError("Missing 'inputs' or 'instances' key")
            arrays = {k: np.array(_decode_json_value(v), dtype=object)
                      for k, v in inputs.items()}
            outputs = runner.run(signature, arrays)
        except (KeyError, ValueError, TypeError) as e:
            return self._answer(400, {"error": str(e)})
        except Exception as e:  # noqa: BLE001 (TF errors answer 400 as TF Serving does)
            return self._answer(400, {"error": f"{type(e).__name__}: {e}"})
        encoded = {k: _encode_json_value(k, v) for k, v in outputs.items()}
        if "instances" in request:
            count = len(next(iter(outputs.values())))
            predictions = [{k: v[i] for k, v in encoded.items()} for i in range(count)]
            if len(encoded) == 1:
                predictions = [row[next(iter(encoded))] for row in predictions]
            return self._answer(200, {"predictions": predictions})
        if len(encoded) == 1:
            return self._answer(200, {"outputs": next(iter(encoded.values()))})
        return self._answer(200, {"outputs": encoded})


@contextlib.contextmanager
def rest_server(models: dict[str, SignatureRunner]):
    """Serves `models` over TF Serving's REST API; yields ``127.0.0.1:PORT``."""
    handler = type("Handler", (_RestHandler,), {"models": models})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
