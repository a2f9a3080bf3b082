import pytest

from tfmtl.data import read_tsv


def test_reads_labels_and_tokens(make_file):
    path = make_file("polarity.tsv", "pos\ta  fine film\n\nneg\tdull ,\tslow\n")
    first, second = read_tsv(path)
    assert (first.label, first.tokens, first.line) == ("pos", ("a", "fine", "film"), 1)
    assert (second.label, second.tokens, second.line) == ("neg", ("dull", ",", "slow"), 3)
    assert first.path == str(path) and first.fields == {}


def test_crlf_and_trailing_whitespace_are_tolerated(make_file):
    path = make_file("crlf.tsv", "pos\tgood \t\r\n \r\nneg\tbad\r\n")
    assert [(s.label, s.tokens) for s in read_tsv(path)] == [("pos", ("good",)), ("neg", ("bad",))]


@pytest.mark.parametrize(
    "text, line, match",
    [
        ("pos\tok\nno tab here\n", 2, "found no tab"),
        ("pos\tok\n\tsome text\n", 2, "empty label"),
        ("pos\tok\n \tsome text\n", 2, "empty label"),
        ("pos\tok\n\nneg\t   \n", 3, "has no text"),
        ("pos\tok\nneg\n", 2, "found no tab"),
    ],
)
def test_malformed_input_names_file_and_line(make_file, error_at, text, line, match):
    path = make_file("bad.tsv", text)
    error_at(read_tsv(path), path, line, match)


def test_undecodable_bytes_name_the_line(make_file, error_at):
    path = make_file("bad.tsv", b"pos\tok\npos\tok\nneg\t\xc3\x28\n")
    error_at(read_tsv(path), path, 3, "invalid UTF-8")


@pytest.mark.parametrize("text", ["", "\n \n"])
def test_file_without_sentences_is_empty(make_file, error_at, text):
    path = make_file("empty.tsv", text)
    error_at(read_tsv(path), path, None, "empty")
