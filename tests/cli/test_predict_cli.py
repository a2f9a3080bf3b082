"""tfmtl-predict end to end: a local SavedModel from a file, TF Serving over gRPC from stdin."""

import json
import subprocess

import pytest

from tests.cli_helpers import binary_command, env
from tests.conftest import REPO_ROOT
from tests.export import helpers
from tests.export.servers import grpc_server


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    return helpers.session_root(tmp_path_factory)


def _predict(*args, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(binary_command("predict", *args), input=stdin, capture_output=True,
                          env=env(), cwd=REPO_ROOT, timeout=300)


def _blocks(stdout: bytes) -> list[list[str]]:
    """The sentences of the columns format: lists of lines, blank-line separated."""
    return [block.splitlines() for block in stdout.decode().split("\n\n") if block.strip()]


def test_local_saved_model_labels_a_file_with_bad_lines(root, tmp_path):
    run = helpers.trained(root)
    export = helpers.exported(root)
    long = " ".join(["the"] * (export.max_length + 5))
    lines = [t.encode() for t in run.texts[:3]] + [b"", b"  \t", b"the \xff dog", long.encode()]
    (tmp_path / "in.txt").write_bytes(b"\r\n".join(lines) + b"\n")
    result = _predict(f"--saved_model={export.path}", f"--input={tmp_path / 'in.txt'}",
                      "--scores")
    assert result.returncode == 0, result.stderr.decode()[-3000:]
    blocks = _blocks(result.stdout)
    assert len(blocks) == len(lines)
    for block, tokens, index in zip(blocks, run.sentences, range(3), strict=False):
        assert block[0] == f"# text: {' '.join(tokens)}"
        label = run.expected["label"][index]["labels"][0]
        assert block[1].startswith(f"# label: {label} (")
        assert block[2].split() == ["#", "token", "chunk", "pos"]
        rows = [line.split() for line in block[3:]]
        assert [r[1] for r in rows] == tokens
        assert [r[2] for r in rows] == run.expected["chunk"][index]["labels"]
        assert [r[4] for r in rows] == run.expected["pos"][index]["labels"]
    assert blocks[3][-1] == blocks[4][-1] == "# (no tokens)"
    assert [r.split()[1] for r in blocks[5][3:]] == ["the", "\ufffd", "dog"]
    assert f"# truncated: {export.max_length + 5} tokens, labels for the first " \
           f"{export.max_length}" in blocks[6]


def test_grpc_server_from_stdin_as_json_lines(root):
    run = helpers.trained(root)
    stdin = "\n".join(run.texts[:4] + [""]).encode() + b"\n"
    with grpc_server({helpers.MODEL_NAME: helpers.runner(root)}) as address:
        result = _predict(f"--server={address}", f"--model={helpers.MODEL_NAME}",
                          "--format=json", "--tasks=pos,label", "--batch_size=3", stdin=stdin)
        assert result.returncode == 0, result.stderr.decode()[-3000:]
        records = [json.loads(line) for line in result.stdout.decode().splitlines()]
        assert len(records) == 5
        for index, record in enumerate(records[:4]):
            assert record["tokens"] == run.sentences[index]
            assert set(record["tasks"]) == {"pos", "label"}
            assert record["tasks"]["pos"]["labels"] == run.expected["pos"][index]["labels"]
            assert [record["tasks"]["label"]["label"]] == run.expected["label"][index]["labels"]
        assert records[4]["tokens"] == [] and records[4]["tasks"]["label"]["label"] is None


@pytest.mark.parametrize("args, message", [
    (["--probabilities", "a b"], "--probabilities needs --format=json"),
    (["--server=localhost:8500", "a b"], "--server needs --model=NAME"),
    (["--server=localhost", "--model=m", "a"], "--server: 'localhost' is not HOST:PORT"),
    (["--saved_model=/nonexistent", "--input=/nonexistent.txt"],
     "--input: /nonexistent.txt: no such file"),
    (["--saved_model=/nonexistent", "a"], "/nonexistent: no saved_model.pb"),
])
def test_usage_errors_are_one_line_and_exit_2(args, message):
    result = _predict(*args)
    assert result.returncode == 2, result.stderr.decode()[-2000:]
    assert f"tfmtl-predict: error: {message}" in result.stderr.decode()
