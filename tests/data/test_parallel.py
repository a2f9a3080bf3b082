import pytest

from tfmtl.data import read_parallel


def test_reads_aligned_lines(make_file):
    source = make_file("train.en", "a dog runs .\r\nthe  cat\n")
    target = make_file("train.de", "ein Hund läuft .\ndie Katze \n")
    first, second = read_parallel(source, target)
    assert first.tokens == ("a", "dog", "runs", ".")
    assert first.target == ("ein", "Hund", "läuft", ".")
    assert (first.path, first.line) == (str(source), 1)
    assert (second.tokens, second.target, second.line) == (("the", "cat"), ("die", "Katze"), 2)


@pytest.mark.parametrize("longer", ["source", "target"])
def test_files_of_different_lengths_name_both_files_and_the_line(make_file, error_at, longer):
    source = make_file("a.src", "x\ny\nz\n" if longer == "source" else "x\ny\n")
    target = make_file("a.tgt", "x\ny\nz\n" if longer == "target" else "x\ny\n")
    longer_path, shorter_path = (source, target) if longer == "source" else (target, source)
    error = error_at(read_parallel(source, target), longer_path, 3, "has no counterpart")
    assert f"{shorter_path} ends after 2 lines" in error.message
    assert str(source) in error.message and str(target) in error.message


@pytest.mark.parametrize("side", ["source", "target"])
def test_empty_line_on_either_side(make_file, error_at, side):
    source = make_file("b.src", "x\n \ny\n" if side == "source" else "x\nz\ny\n")
    target = make_file("b.tgt", "x\n\ny\n" if side == "target" else "x\nz\ny\n")
    error_at(read_parallel(source, target), source if side == "source" else target, 2, "empty line")


def test_undecodable_target_names_the_target(make_file, error_at):
    source = make_file("c.src", "x\ny\n")
    target = make_file("c.tgt", b"x\n\xff\n")
    error_at(read_parallel(source, target), target, 2, "invalid UTF-8")


def test_empty_files(make_file, error_at):
    source, target = make_file("d.src", ""), make_file("d.tgt", "")
    error_at(read_parallel(source, target), source, None, "empty")


def test_missing_target(make_file, tmp_path, error_at):
    source = make_file("e.src", "x\n")
    error_at(read_parallel(source, tmp_path / "e.tgt"), tmp_path / "e.tgt", None, "no such file")
