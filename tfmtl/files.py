"""Writing files so that a reader or a crash never sees half of one."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path


def fsync_directory(path: str | os.PathLike) -> None:
    """Makes a rename inside `path` durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    """Writes ``text`` as UTF-8 to ``path`` through a synced temporary file and ``os.replace``.

    Readers see the old content or the new one, never half, and after a crash
    (power loss included) the file holds one of the two. Missing parent
    folders are created. Returns the destination path.
    """
    return atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """:func:`atomic_write_text` of bytes."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except FileNotFoundError:
            pass
        raise
    fsync_directory(path.parent)
    return path


_HASHES: dict[tuple[str, int, int], str] = {}


def file_sha256(path: str | os.PathLike) -> str:
    """SHA-256 of a file's bytes, hex (memoised on path, size and modification time)."""
    path = os.fspath(path)
    stat = os.stat(path)
    key = (path, stat.st_size, stat.st_mtime_ns)
    if key not in _HASHES:
        digest = hashlib.sha256()
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
        _HASHES[key] = digest.hexdigest()
    return _HASHES[key]


def replace_paths(value, replace):
    """`value` with each absolute path it names replaced by ``replace(path)``: the value
    itself when it is an absolute path, or each PATH of a ``name=PATH,name=PATH`` list (a
    resolved config's ``data.classes``); any other value unchanged."""
    if not isinstance(value, str):
        return value
    if os.path.isabs(value):
        return replace(value)
    pairs = [part.partition("=") for part in value.split(",")]
    if value and all(sep and os.path.isabs(path) for _, sep, path in pairs):
        return ",".join(f"{name}={replace(path)}" for name, _, path in pairs)
    return value


def content_of(value, known: dict[str, str] | None = None):
    """`value` with each file it names (see :func:`replace_paths`) replaced by
    ``sha256:<digest of its bytes>`` (from `known`, path -> digest, where it has the path),
    a missing one by ``missing:<path>``; folders and other values are kept. Two values are
    the same data exactly when their ``content_of`` are equal."""
    def digest(path: str) -> str:
        if known and path in known:
            return f"sha256:{known[path]}"
        if os.path.isfile(path):
            return f"sha256:{file_sha256(path)}"
        return path if os.path.isdir(path) else f"missing:{path}"

    return replace_paths(value, digest)


def value_files(value) -> list[str]:
    """The existing files a value names (see :func:`replace_paths`)."""
    found: list[str] = []

    def keep(path: str) -> str:
        if os.path.isfile(path):
            found.append(path)
        return path

    replace_paths(value, keep)
    return found


@contextlib.contextmanager
def locked(path: str | os.PathLike, *, blocking: bool = True) -> Iterator[bool]:
    """Holds an exclusive ``flock`` on the file `path` (created, with its folders, when
    missing); yields False, without it, when not `blocking` and another holder has it. The
    kernel drops the lock when its holder dies, however it dies."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        except OSError as e:
            if e.errno in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                yield False
                return
            raise
        try:
            yield True
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
