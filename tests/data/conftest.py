"""Helpers for the data-layer tests: files written by the test, and error locations."""

import pytest

from tfmtl.data import DataError


@pytest.fixture
def make_file(tmp_path):
    """Returns a function writing text (UTF-8, exactly as given) or bytes to tmp_path/name."""

    def make(name: str, content: str | bytes):
        path = tmp_path / name
        path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
        return path

    return make


@pytest.fixture
def error_at():
    """Returns a function that consumes a reader and checks the DataError's file and line."""

    def check(sentences, path, line, match: str = "") -> DataError:
        with pytest.raises(DataError) as info:
            list(sentences)
        error = info.value
        assert error.path == str(path)
        assert error.line == line
        location = str(path) if line is None else f"{path}:{line}"
        assert str(error).startswith(f"{location}: ")
        assert match in error.message
        return error

    return check
