"""The conlleval-format reader and `python -m tfmtl.metrics.span_f1`."""

import os
import pathlib
import subprocess
import sys

import pytest

from tfmtl.metrics import conlleval_report, evaluate_conll_file, span_f1
from tfmtl.metrics.span_f1 import main

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]

# Two sentences separated by a blank line, then a -X- boundary line, then a third sentence.
CONLL = """\
Peter NNP B-PER B-PER
Blackburn NNP I-PER I-PER
in IN O O
Paris NNP B-LOC B-ORG

EU NNP B-ORG B-ORG
rejects VBZ O O
-X- -X- O O
German JJ B-MISC B-MISC

"""
GOLD = [["B-PER", "I-PER", "O", "B-LOC"], ["B-ORG", "O"], ["B-MISC"]]
PRED = [["B-PER", "I-PER", "O", "B-ORG"], ["B-ORG", "O"], ["B-MISC"]]


def _write(tmp_path, text, name="out.txt"):
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    return path


def test_file_scores_like_the_sentences(tmp_path):
    path = _write(tmp_path, CONLL)
    assert evaluate_conll_file(path) == span_f1(GOLD, PRED)


def test_main_prints_the_report(tmp_path, capsysbinary):
    # gold PER, LOC, ORG, MISC; pred PER, ORG, ORG, MISC; correct PER, ORG (s1), MISC.
    # tags: only "Paris" differs -> 6/7 = 85.71%. P = R = 3/4.
    assert main([str(_write(tmp_path, CONLL))]) == 0
    assert capsysbinary.readouterr().out.decode() == (
        "processed 7 tokens with 4 phrases; found: 4 phrases; correct: 3.\n"
        "accuracy:  85.71%; precision:  75.00%; recall:  75.00%; FB1:  75.00\n"
        "              LOC: precision:   0.00%; recall:   0.00%; FB1:   0.00  0\n"
        "             MISC: precision: 100.00%; recall: 100.00%; FB1: 100.00  1\n"
        "              ORG: precision:  50.00%; recall: 100.00%; FB1:  66.67  2\n"
        "              PER: precision: 100.00%; recall: 100.00%; FB1: 100.00  1\n"
    )


def test_missing_final_blank_line_follows_conlleval(tmp_path):
    # Without a closing boundary, conlleval counts a candidate still open at the end of the
    # input. gold B-X .-X / pred B-X I-X: the candidate survives t1 (no END on either side);
    # a final boundary would END only pred and drop it, the end of input counts it.
    closed = evaluate_conll_file(_write(tmp_path, "a B-X B-X\nb .-X I-X\n\n", "closed"))
    open_ = evaluate_conll_file(_write(tmp_path, "a B-X B-X\nb .-X I-X\n", "open"))
    assert (closed.correct_spans, open_.correct_spans) == (0, 1)
    assert closed == span_f1([["B-X", ".-X"]], [["B-X", "I-X"]])


def test_boundary_line_forces_out_of_chunk(tmp_path):
    # On a -X- line conlleval reads both tags as O whatever the columns say, and the line
    # is not a token: the chunk before it closes and "I-X" after it opens a new one.
    path = _write(tmp_path, "a B-X B-X\n-X- B-X I-X\nb I-X I-X\n")
    scores = evaluate_conll_file(path)
    assert (scores.tokens, scores.gold_spans, scores.pred_spans, scores.correct_spans) == (
        2, 2, 2, 2)


def test_docstart_is_a_token_unless_asked(tmp_path):
    # conlleval treats only blank lines and -X- lines as boundaries: -DOCSTART- with tags
    # O O is one more (correct) token. --docstart-boundary drops it.
    text = "-DOCSTART- -X- O O\n\nEU NNP B-ORG O\n\n"
    path = _write(tmp_path, text)
    assert evaluate_conll_file(path).tokens == 2
    assert evaluate_conll_file(path).accuracy == 50
    scores = evaluate_conll_file(path, docstart_boundary=True)
    assert (scores.tokens, scores.accuracy) == (1, 0)


def test_columns_split_on_any_ascii_whitespace(tmp_path):
    path = _write(tmp_path, "a\tB-X  B-X\r\nb \tI-X\tO\r\n\r\n")
    assert evaluate_conll_file(path) == span_f1([["B-X", "I-X"]], [["B-X", "O"]])


def test_column_count_mismatch_names_the_line(tmp_path, capsys):
    path = _write(tmp_path, "a NN B-X B-X\n\nb B-X B-X\n")
    with pytest.raises(ValueError, match=r"out\.txt:3: 3 columns where the first line has 4"):
        evaluate_conll_file(path)
    assert main([str(path)]) == 1
    assert "out.txt:3" in capsys.readouterr().err


def test_single_column_line_is_an_error(tmp_path):
    with pytest.raises(ValueError, match=r":1: need the gold and the predicted tag"):
        evaluate_conll_file(_write(tmp_path, "B-X\n"))


def test_missing_file_exits_with_an_error(tmp_path, capsys):
    assert main([str(tmp_path / "absent.txt")]) == 1
    assert "absent.txt" in capsys.readouterr().err


def _run_module(*args, stdin=None):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(REPO_ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]))
    return subprocess.run(
        [sys.executable, "-m", "tfmtl.metrics.span_f1", *args],
        input=stdin, capture_output=True, env=env, cwd=REPO_ROOT, timeout=60, check=False,
    )


def test_python_dash_m_entry(tmp_path):
    path = _write(tmp_path, CONLL)
    result = _run_module(str(path))
    assert result.returncode == 0
    assert result.stderr == b""
    assert result.stdout.decode() == conlleval_report(span_f1(GOLD, PRED))
    from_stdin = _run_module(stdin=CONLL.encode())
    assert from_stdin.stdout == result.stdout


def test_non_utf8_bytes_pass_through(tmp_path):
    # Latin-1 type names are neither decoded wrongly nor rejected: the report carries the
    # same bytes, padded by byte count as Perl pads them (6 bytes -> 11 spaces).
    path = tmp_path / "latin1.txt"
    path.write_bytes("a B-ÉQUIPE B-ÉQUIPE\n\n".encode("latin-1"))
    result = _run_module(str(path))
    assert result.returncode == 0
    assert result.stdout.splitlines()[2] == (
        b" " * 11 + "ÉQUIPE".encode("latin-1")
        + b": precision: 100.00%; recall: 100.00%; FB1: 100.00  1"
    )
