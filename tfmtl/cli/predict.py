r"""tfmtl-predict: labels sentences with an exported model, locally or through TF Serving.

    tfmtl-predict --saved_model=exports/quickstart/1 "the dog walks ." "a cat sleeps ."
    tfmtl-predict --server=localhost:8500 --model=quickstart --input=sentences.txt
    tfmtl-predict --server=localhost:8501 --protocol=rest --model=quickstart < sentences.txt
    ... --format=json --probabilities

Sentences come from the arguments, from --input (a file, "-" for stdin) or
from stdin, one per line; the output has one record per input sentence, in
order: aligned columns (token, then one label column per token task; sentence
labels as "# task: label" lines) or JSON lines. Empty or whitespace-only lines
give a sentence without tokens (no labels); sentences longer than the model's
max_length are truncated and flagged; bytes that are not UTF-8 become U+FFFD;
an empty input gives an empty output.
"""

import sys
from collections.abc import Iterator

from tfmtl.cli.common import quiet_tensorflow, run_main

quiet_tensorflow()

from absl import app, flags  # noqa: E402

_SAVED_MODEL = flags.DEFINE_string("saved_model", None,
                                   "A SavedModel version folder (BASE/NAME/N) to run locally.")
_SERVER = flags.DEFINE_string("server", None, "TF Serving's HOST:PORT (gRPC: --port, 8500; "
                              "REST: --rest_api_port, 8501).")
_MODEL = flags.DEFINE_string("model", None, "The model's name in TF Serving (with --server).")
_PROTOCOL = flags.DEFINE_enum("protocol", "grpc", ["grpc", "rest"],
                              "How to talk to --server (an http:// address means rest).")
_MODEL_VERSION = flags.DEFINE_integer("model_version", None,
                                      "Model version to ask TF Serving for (default: its own).")
_TIMEOUT = flags.DEFINE_float("timeout", 30.0, "Seconds per request to TF Serving.")
_INPUT = flags.DEFINE_string("input", None, "File of sentences, one per line ('-': stdin); "
                             "default: the arguments, or stdin without arguments.")
_FORMAT = flags.DEFINE_enum("format", "columns", ["columns", "json"],
                            "Output: aligned columns or JSON lines.")
_TASKS = flags.DEFINE_list("tasks", None, "Tasks to show (default: all the model serves).")
_PRETOKENIZED = flags.DEFINE_bool("pretokenized", False, "Input lines are tokens separated by "
                                  "whitespace (skips the model's tokenizer).")
_SCORES = flags.DEFINE_bool("scores", False, "Columns: show each label's probability.")
_PROBABILITIES = flags.DEFINE_bool("probabilities", False,
                                   "JSON: add every label's probability.")
_BATCH_SIZE = flags.DEFINE_integer("batch_size", 64, "Sentences per request.")


def read_lines(stream) -> Iterator[bytes]:
    """Lines of a binary stream as bytes, without their line ending (LF or CRLF)."""
    for line in stream:
        if line.endswith(b"\n"):
            line = line[:-1]
        if line.endswith(b"\r"):
            line = line[:-1]
        yield line


def _sentences(args: list[str]):
    if args and _INPUT.value is not None:
        raise ValueError("give sentences either as arguments or with --input, not both")
    if args:
        return [arg.encode("utf-8", errors="surrogateescape") for arg in args]
    if _INPUT.value in (None, "-"):
        return read_lines(sys.stdin.buffer)
    try:
        stream = open(_INPUT.value, "rb")  # noqa: SIM115 (read lazily, closed at exit)
    except FileNotFoundError:
        raise FileNotFoundError(f"--input: {_INPUT.value}: no such file") from None
    except IsADirectoryError:
        raise ValueError(f"--input: {_INPUT.value}: is a directory, expected a file") from None
    return read_lines(stream)


def main(argv):
    def body():
        from tfmtl.export.client import make_predictor
        from tfmtl.export.predictions import format_columns, format_json, predict_records

        if _PROBABILITIES.value and _FORMAT.value != "json":
            raise ValueError("--probabilities needs --format=json")
        sentences = _sentences(argv[1:])
        if _PRETOKENIZED.value:
            sentences = (line.split() for line in sentences)
        with make_predictor(saved_model=_SAVED_MODEL.value, server=_SERVER.value,
                            model=_MODEL.value, protocol=_PROTOCOL.value,
                            version=_MODEL_VERSION.value, timeout=_TIMEOUT.value) as predictor:
            for record in predict_records(
                predictor, sentences, tasks=_TASKS.value, pretokenized=_PRETOKENIZED.value,
                batch_size=_BATCH_SIZE.value, probabilities=_PROBABILITIES.value,
            ):
                if _FORMAT.value == "json":
                    sys.stdout.write(format_json(record) + "\n")
                else:
                    sys.stdout.write(format_columns(record, scores=_SCORES.value) + "\n")
                sys.stdout.flush()

    run_main("tfmtl-predict", body)


def run():
    app.run(main)


if __name__ == "__main__":
    run()
