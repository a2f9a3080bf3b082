import pytest

from tfmtl.data import DataError, Sentence


def conll_sentence():
    return Sentence(
        tokens=("the", "dog"),
        fields={"1": ("DT", "NN"), "2": ("B-NP", "I-NP")},
        path="x.conll",
        line=7,
    )


def test_columns_by_name_index_and_negative_index():
    sentence = conll_sentence()
    assert sentence.column("tokens") == sentence.column("0") == ("the", "dog")
    assert sentence.column("1") == ("DT", "NN")
    assert sentence.column("-1") == sentence.column("2") == ("B-NP", "I-NP")
    assert sentence.column("-2") == ("DT", "NN")
    assert sentence.column("-3") == ("the", "dog")


def test_named_fields():
    sentence = Sentence(tokens=("a",), fields={"upos": ("DET",)})
    assert sentence.column("upos") == ("DET",)


@pytest.mark.parametrize("name", ["3", "-4", "upos", ""])
def test_unknown_column_names_file_line_and_choices(name):
    with pytest.raises(DataError) as info:
        conll_sentence().column(name)
    assert (info.value.path, info.value.line) == ("x.conll", 7)
    assert str(info.value).startswith("x.conll:7: ")
    assert "available columns: tokens, 0, 1, 2" in str(info.value)


def test_defaults_are_not_shared():
    first, second = Sentence(tokens=("a",)), Sentence(tokens=("b",))
    assert first.fields == {} and first.meta == {}
    assert first.fields is not second.fields
    assert (first.label, first.target, first.path, first.line) == (None, None, "", 0)
    assert len(Sentence(tokens=("a", "b"))) == 2
