"""The one exception type of the data layer."""

from __future__ import annotations

import os


class DataError(ValueError):
    """A problem in a data file, located by file and line.

    ``str(error)`` reads ``"{path}:{line}: {message}"``, or ``"{path}: {message}"`` when the
    problem concerns the whole file (``line`` is None), so editors and terminals can jump to it.

    Args:
        path: the file the problem is in.
        line: the 1-based line number, or None for a whole-file problem.
        message: what is wrong, in words a user can act on.
    """

    def __init__(self, path: str | os.PathLike, line: int | None, message: str):
        self.path = os.fspath(path)
        self.line = line
        self.message = message
        location = self.path if line is None else f"{self.path}:{line}"
        super().__init__(f"{location}: {message}")

    def __reduce__(self):
        return type(self), (self.path, self.line, self.message)
