"""tfmtl-data end to end in subprocesses, as a user runs it."""

import os
import pathlib
import subprocess
import sys

import pytest

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]


def tfmtl_data(*args: str) -> subprocess.CompletedProcess:
    env = dict(
        os.environ, PYTHONPATH=str(REPO_ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")
    )
    return subprocess.run(
        [sys.executable, "-m", "tfmtl.cli.data", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO_ROOT,
        timeout=300,
    )


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    out = tmp_path_factory.mktemp("synth") / "corpus"
    result = tfmtl_data("synth", f"--out={out}", "--sentences=200", "--seed=4")
    assert result.returncode == 0, result.stderr
    return out, result.stdout


def test_synth_writes_and_reports_the_corpus(corpus):
    out, stdout = corpus
    expected = {
        f"{split}.{suffix}"
        for split in ("train", "dev", "test")
        for suffix in ("conll", "tsv", "src", "tgt", "trees")
    }
    assert {path.name for path in out.iterdir()} == expected | {"README.txt"}
    assert f"wrote 200 synthetic sentences (seed 4, ner chunks) to {out}" in stdout
    assert "train: 160 sentences" in stdout and "dev: 20 sentences" in stdout
    assert "dev OOV rate" in stdout and str(out / "test.trees") in stdout


def test_synth_is_reproducible(corpus, tmp_path):
    out, _ = corpus
    result = tfmtl_data("synth", "--out", str(tmp_path), "--sentences", "200", "--seed", "4")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "dev.conll").read_bytes() == (out / "dev.conll").read_bytes()


def test_check_reports_counts_and_inventories(corpus):
    out, _ = corpus
    result = tfmtl_data("check", "--format=conll", str(out / "dev.conll"), str(out / "test.conll"))
    assert result.returncode == 0, result.stderr
    assert f"{out / 'dev.conll'}: 20 sentences" in result.stdout
    assert f"{out / 'test.conll'}: 20 sentences" in result.stdout
    assert "  3: " in result.stdout and "B-PER=" in result.stdout
    result = tfmtl_data("check", "--format=tsv", str(out / "train.tsv"))
    assert result.returncode == 0 and "label: 2 values" in result.stdout
    result = tfmtl_data("check", "--format=parallel", str(out / "dev.src"), str(out / "dev.tgt"))
    assert result.returncode == 0 and "20 sentences" in result.stdout
    assert "target: " in result.stdout


def test_check_bad_input_exits_nonzero_with_file_and_line(corpus, tmp_path):
    out, _ = corpus
    bad = tmp_path / "bad.conll"
    bad.write_text("the DT B-NP\ndog NN\n")
    result = tfmtl_data("check", "--format=conll", str(out / "dev.conll"), str(bad))
    assert result.returncode == 1
    assert f"{bad}:2: expected 3 columns (as on line 1), found 2" in result.stderr
    assert f"{out / 'dev.conll'}: 20 sentences" in result.stdout


def test_check_parallel_length_mismatch(corpus, tmp_path):
    out, _ = corpus
    short = tmp_path / "short.tgt"
    short.write_text("a b\n")
    result = tfmtl_data("check", "--format=parallel", str(out / "dev.src"), str(short))
    assert result.returncode == 1
    assert f"{out / 'dev.src'}:2: line 2 has no counterpart" in result.stderr


@pytest.mark.parametrize(
    "args, message",
    [
        ((), "missing subcommand"),
        (("frobnicate",), "unknown subcommand 'frobnicate'"),
        (("check", "x.conll"), "check needs --format"),
        (("check", "--format=conllu"), "at least one FILE"),
        (("check", "--format=parallel", "a.src"), "two files"),
        (("synth",), "needs --out"),
        (("synth", "--out=/tmp/x", "--sentences=5"), "at least 10"),
    ],
)
def test_usage_errors(args, message):
    result = tfmtl_data(*args)
    assert result.returncode != 0
    assert message in result.stderr


def test_check_ud_english_ewt_dev(shared_data):
    path = shared_data("ud_english_ewt") / "en_ewt-ud-dev.conllu"
    result = tfmtl_data("check", "--format=conllu", str(path))
    assert result.returncode == 0, result.stderr
    assert f"{path}: 2001 sentences, 25147 tokens" in result.stdout
    assert "upos: 17 values" in result.stdout
