"""Line-level file access shared by the readers and writers of the data layer."""

from __future__ import annotations

import os
from collections.abc import Iterator

from tfmtl.data.errors import DataError

_TRAILING = " \t\r\n"


def iter_lines(path: str | os.PathLike, strip: str = _TRAILING, encoding: str = "utf-8"
               ) -> Iterator[tuple[int, str]]:
    """Yields ``(line_number, text)`` for each line of a text file (UTF-8 unless told), streaming.

    Line numbers are 1-based. The characters in ``strip`` are removed from the end of each line
    (by default line endings, LF or CRLF, and trailing spaces and tabs), and a byte-order mark
    from the start of the file.

    Raises:
        DataError: the file cannot be opened (line None), or a line is not valid in
            ``encoding`` (never silently replaced).
    """
    try:
        handle = open(path, "rb")
    except FileNotFoundError:
        raise DataError(path, None, "no such file") from None
    except IsADirectoryError:
        raise DataError(path, None, "is a directory, expected a file") from None
    except OSError as error:
        raise DataError(path, None, f"cannot open: {error.strerror or error}") from None
    with handle:
        for number, raw in enumerate(handle, start=1):
            try:
                text = raw.decode(encoding)
            except UnicodeDecodeError as error:
                name = "UTF-8" if encoding.lower().replace("_", "-") in ("utf-8", "utf8") \
                    else encoding
                raise DataError(
                    path,
                    number,
                    f"invalid {name} (byte 0x{raw[error.start]:02x} at column {error.start + 1}"
                    f"{'; set data.encoding' if name == 'UTF-8' else ''})",
                ) from None
            if number == 1 and text.startswith("\ufeff"):
                text = text[1:]
            yield number, text.rstrip(strip)
