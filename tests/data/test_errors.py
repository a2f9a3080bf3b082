import pickle

from tfmtl.data import DataError


def test_message_names_file_and_line():
    error = DataError("corpus/train.conll", 12, "expected 3 columns, found 2")
    assert str(error) == "corpus/train.conll:12: expected 3 columns, found 2"
    assert (error.path, error.line, error.message) == (
        "corpus/train.conll",
        12,
        "expected 3 columns, found 2",
    )
    assert isinstance(error, ValueError)


def test_whole_file_error_has_no_line(tmp_path):
    error = DataError(tmp_path / "x.tsv", None, "empty: no sentences")
    assert str(error) == f"{tmp_path / 'x.tsv'}: empty: no sentences"
    assert error.path == str(tmp_path / "x.tsv")


def test_survives_pickling():
    error = pickle.loads(pickle.dumps(DataError("a.conllu", 3, "bad ID")))
    assert (error.path, error.line, str(error)) == ("a.conllu", 3, "a.conllu:3: bad ID")
