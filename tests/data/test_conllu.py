import pytest

from tfmtl.data import CONLLU_FIELDS, read_conllu

GOOD = (
    "# newdoc id = doc1\n"
    "# sent_id = s1\n"
    "# text = I don't know.\n"
    "# a comment without a value\n"
    "1\tI\tI\tPRON\tPRP\t_\t4\tnsubj\t4:nsubj\t_\n"
    "2-3\tdon't\t_\t_\t_\t_\t_\t_\t_\t_\n"
    "2\tdo\tdo\tAUX\tVBP\t_\t4\taux\t4:aux\t_\n"
    "3\tn't\tnot\tPART\tRB\t_\t4\tadvmod\t4:advmod\t_\n"
    "4\tknow\tknow\tVERB\tVB\t_\t0\troot\t0:root\tSpaceAfter=No\n"
    "4.1\tknow\tknow\tVERB\tVB\t_\t_\t_\t4:conj\t_\n"
    "5\t.\t.\tPUNCT\t.\t_\t4\tpunct\t4:punct\t_\n"
    "\n"
    "# sent_id = s2\n"
    "1\tYes\tyes\tINTJ\tUH\t_\t_\t_\t_\t_\n"
)


def word(ident, form="w", head="0"):
    return f"{ident}\t{form}\t{form}\tX\tX\t_\t{head}\tdep\t_\t_\n"


def test_reads_words_fields_and_comments(make_file):
    path = make_file("good.conllu", GOOD)
    first, second = read_conllu(path)
    assert first.tokens == ("I", "do", "n't", "know", ".")
    assert set(first.fields) == set(CONLLU_FIELDS)
    assert first.fields["upos"] == ("PRON", "AUX", "PART", "VERB", "PUNCT")
    assert first.fields["head"] == ("4", "4", "4", "0", "4")
    assert first.fields["misc"][3] == "SpaceAfter=No"
    assert first.meta == {"newdoc id": "doc1", "sent_id": "s1", "text": "I don't know."}
    assert (first.path, first.line) == (str(path), 1)
    assert second.tokens == ("Yes",) and second.fields["head"] == ("_",)
    assert (second.meta, second.line) == ({"sent_id": "s2"}, 13)


def test_crlf_trailing_whitespace_and_bom_are_tolerated(make_file):
    text = "\ufeff" + GOOD.replace("\n", "  \t\r\n")
    first, second = read_conllu(make_file("crlf.conllu", text))
    assert first.tokens == ("I", "do", "n't", "know", ".")
    assert first.meta["text"] == "I don't know."
    assert second.fields["misc"] == ("_",)


@pytest.mark.parametrize(
    "text, line, match",
    [
        (
            word(1) + "2\tw\tw\tX\tX\t_\t0\tdep\t_\n",
            2,
            "expected 10 tab-separated columns, found 9",
        ),
        (word(1) + word(1).replace("\n", "\t_\n"), 2, "found 11"),
        (word(1) + "2 w w X X _ 0 dep _ _\n", 2, "found 1"),
        (word(1) + word("x"), 2, "bad ID 'x'"),
        (word(1) + word("0"), 2, "bad ID '0'"),
        (word(1) + word(3), 2, "word ID 3 out of sequence, expected 2"),
        (word(2), 1, "expected 1"),
        (word(1) + word("3-4") + word(2), 2, "must start at the next word ID 2"),
        (word(1) + word("2-2") + word(2), 2, "bad multiword token range 2-2"),
        (word(1) + word("3-2") + word(2), 2, "bad multiword token range"),
        (word(1) + word("2-4") + word(2) + word(3) + "\n", 2, "not covered"),
        (word(1) + word("2-3") + word(2) + word("2-3"), 4, "starts inside the range on line 2"),
        (word(1) + word("2.1"), 2, "empty node 2.1 out of sequence"),
        (word(1) + word(2, head="3"), 2, "HEAD '3' is not an integer in 0..2"),
        (word(1, head="-1"), 1, "HEAD '-1'"),
        (word(1, head="root"), 1, "HEAD 'root'"),
        (word(1) + "2\t\tw\tX\tX\t_\t0\tdep\t_\t_\n", 2, "column 2 is empty"),
        (word(1) + "# late comment\n", 2, "comment line inside a sentence"),
        (word(1) + "\n# orphan comment\n", 3, "comment lines at the end of the file"),
        ("# only a comment\n" + word("1-2") + "\n", 2, "not covered"),
    ],
)
def test_malformed_input_names_file_and_line(make_file, error_at, text, line, match):
    path = make_file("bad.conllu", text)
    error_at(read_conllu(path), path, line, match)


def test_error_in_a_later_sentence_reports_its_line(make_file, error_at):
    path = make_file("late.conllu", GOOD + "\n" + word(1) + word(3))
    sentences = read_conllu(path)
    assert len(next(sentences).tokens) == 5
    error_at(sentences, path, 17, "out of sequence")


def test_undecodable_bytes_name_the_line(make_file, error_at):
    path = make_file("latin1.conllu", word(1).encode() + word(2, form="caf\xe9").encode("latin-1"))
    error_at(read_conllu(path), path, 2, "invalid UTF-8")


@pytest.mark.parametrize("text", ["", "\n\n  \n"])
def test_file_without_sentences_is_empty(make_file, error_at, text):
    path = make_file("empty.conllu", text)
    error_at(read_conllu(path), path, None, "empty")


def test_missing_file(tmp_path, error_at):
    error_at(read_conllu(tmp_path / "nope.conllu"), tmp_path / "nope.conllu", None, "no such file")


def test_streams_without_reading_ahead(make_file):
    path = make_file("stream.conllu", word(1) + "\n" + word(1) + word(3))
    sentences = read_conllu(path)
    assert next(sentences).tokens == ("w",)


def test_ud_english_ewt_dev(shared_data):
    path = shared_data("ud_english_ewt") / "en_ewt-ud-dev.conllu"
    sentences = list(read_conllu(path))
    assert len(sentences) == 2001
    assert sum(len(sentence.tokens) for sentence in sentences) == 25147
    first = sentences[0]
    assert first.meta["text"] == "From the AP comes this story :"
    assert first.meta["sent_id"].endswith("-0001") and "newdoc id" in first.meta
    assert first.fields["upos"][:3] == ("ADP", "DET", "PROPN")
    contraction = next(s for s in sentences if "didn't" in s.meta.get("text", ""))
    assert "did" in contraction.tokens and "n't" in contraction.tokens
    assert "didn't" not in contraction.tokens
