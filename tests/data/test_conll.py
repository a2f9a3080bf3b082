import pytest

from tfmtl.data import read_conll

CHUNKS = (
    "-DOCSTART- -X- O\n"
    "\n"
    "Rockwell NNP B-NP\n"
    "Corp. NNP I-NP\n"
    "said VBD B-VP\n"
    "\n"
    "\n"
    "It PRP B-NP\n"
    "rose VBD B-VP\n"
)


def test_reads_sentences_and_skips_docstart(make_file):
    path = make_file("chunks.txt", CHUNKS)
    first, second = read_conll(path)
    assert first.tokens == ("Rockwell", "Corp.", "said")
    assert first.fields == {"1": ("NNP", "NNP", "VBD"), "2": ("B-NP", "I-NP", "B-VP")}
    assert first.column("-1") == ("B-NP", "I-NP", "B-VP")
    assert (first.path, first.line) == (str(path), 3)
    assert (second.tokens, second.line) == (("It", "rose"), 8)


def test_crlf_and_trailing_whitespace_are_tolerated(make_file):
    path = make_file("crlf.txt", CHUNKS.replace("\n", " \t\r\n"))
    assert [s.tokens for s in read_conll(path)] == [("Rockwell", "Corp.", "said"), ("It", "rose")]


def test_tab_separated_tokens_may_hold_spaces(make_file):
    path = make_file("ner.conll", "New York\tB-LOC\nis\tO\n\t\nhi\tO\n")
    first, second = read_conll(path)
    assert first.tokens == ("New York", "is") and first.fields == {"1": ("B-LOC", "O")}
    assert second.line == 4


@pytest.mark.parametrize(
    "text, line, match",
    [
        ("a DT B-NP\nb NN\n", 2, "expected 3 columns (as on line 1), found 2"),
        ("a DT\n\nb NN I-NP x\n", 3, "expected 2 columns (as on line 1), found 4"),
        ("-DOCSTART- O\n\nlonely\n", 3, "expected at least 2 columns"),
        ("a\tO\nb\t\tO\n", 2, "found 3"),
        ("a\tO\n\tO\n", 2, "empty column 1"),
    ],
)
def test_malformed_input_names_file_and_line(make_file, error_at, text, line, match):
    path = make_file("bad.conll", text)
    error_at(read_conll(path), path, line, match)


def test_undecodable_bytes_name_the_line(make_file, error_at):
    path = make_file("bad.conll", b"a O\n\n\xff\xfe O\n")
    error_at(read_conll(path), path, 3, "invalid UTF-8")


@pytest.mark.parametrize("text", ["", "\n\n", "-DOCSTART- -X- O\n\n"])
def test_file_without_sentences_is_empty(make_file, error_at, text):
    path = make_file("empty.conll", text)
    error_at(read_conll(path), path, None, "empty")


def test_missing_file(tmp_path, error_at):
    error_at(read_conll(tmp_path / "none.txt"), tmp_path / "none.txt", None, "no such file")


def test_conll2000_test(shared_data):
    sentences = list(read_conll(shared_data("conll2000") / "test.txt"))
    assert len(sentences) == 2012
    assert sum(len(sentence.tokens) for sentence in sentences) == 47377
    assert sentences[0].tokens[:3] == ("Rockwell", "International", "Corp.")
    assert sentences[0].fields["2"][:3] == ("B-NP", "I-NP", "I-NP")


def test_wnut17_dev_and_train(shared_data):
    folder = shared_data("wnut17")
    dev = list(read_conll(folder / "emerging.dev.conll"))
    assert (len(dev), sum(len(s.tokens) for s in dev)) == (1009, 15733)
    assert all(set(s.fields) == {"1"} for s in dev)
    # The training file separates some sentences with a line holding only a tab.
    train = list(read_conll(folder / "wnut17train.conll"))
    assert (len(train), sum(len(s.tokens) for s in train)) == (3394, 62730)
