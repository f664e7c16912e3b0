"""A user's file, read safely: a one-line reason for every way its path or bytes can be wrong.

Scenario, experiment and graph files come from users. Their paths can hold a NUL byte,
a component longer than the file system allows, or run through a folder this user may
not enter; their bytes can start with a byte-order mark, be in another encoding, hold
NUL bytes or be far larger than any scenario. The readers use these helpers so that each
case ends as one line naming the file (``UnreadableFile``), never as a traceback.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

#: a scenario or experiment file is a few KB; one of this size is not one
MAX_TEXT_BYTES = 4 * 1024 * 1024

_BOMS = (
    (b"\xef\xbb\xbf", "starts with a UTF-8 byte-order mark (BOM); save it as UTF-8 without BOM"),
    (b"\xff\xfe", "is UTF-16 (it starts with a UTF-16 byte-order mark); save it as UTF-8"),
    (b"\xfe\xff", "is UTF-16 (it starts with a UTF-16 byte-order mark); save it as UTF-8"),
)


class UnreadableFile(ValueError):
    """A file that cannot be used; ``str()`` is the reason, without the file's name."""


def os_reason(exc: OSError) -> str:
    """What an OSError says, in words a user can act on (no errno numbers)."""
    if exc.errno in (errno.ENOENT,):
        return "file not found"
    if exc.errno == errno.ENOTDIR:
        return "a part of the path is a file, not a folder"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "permission denied"
    if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        return f"{os.strerror(exc.errno)} (the disk is full, or the file is over a size limit)"
    return exc.strerror or str(exc) or type(exc).__name__


def naming_file(exc: OSError, path: str | os.PathLike[str]) -> OSError:
    """The same error, naming ``path`` (the errors of pyarrow and of write() name no file)."""
    if exc.filename is not None:
        return exc
    return OSError(exc.errno, os_reason(exc), os.fspath(path))


def path_problem(path: str | os.PathLike[str], kind: str = "file") -> str | None:
    """Why ``path`` is not a readable ``kind`` ("file" or "folder"), or None if it is."""
    text = os.fspath(path)
    if "\x00" in text:
        return "the path contains a NUL byte"
    try:
        info = os.stat(text)
    except OSError as exc:
        if exc.errno == errno.ENOENT and kind == "folder":
            return "no such folder"
        return os_reason(exc)
    if kind == "file" and stat.S_ISDIR(info.st_mode):
        return "is a folder, not a file"
    if kind == "file" and not stat.S_ISREG(info.st_mode):
        return "not a file"
    if kind == "folder" and not stat.S_ISDIR(info.st_mode):
        return "not a folder"
    return None


def exists(path: str | os.PathLike[str]) -> bool:
    """Whether something is at ``path`` (False for a path no file can have: too long, NUL)."""
    text = os.fspath(path)
    if "\x00" in text:
        return False
    try:
        os.lstat(text)
    except OSError as exc:
        if exc.errno in (errno.ENOENT, errno.ENOTDIR, errno.ENAMETOOLONG):
            return False
        return True  # there, but not for us (permission): path_problem says why
    return True


def nearest_existing(path: str | os.PathLike[str]) -> Path:
    """``path`` itself if it exists, else its nearest ancestor that does (where a file
    or folder to be created would have to be made)."""
    found = Path(path)
    while not found.exists() and found != found.parent:
        found = found.parent
    return found


def read_bytes(path: str | os.PathLike[str], max_bytes: int = MAX_TEXT_BYTES) -> bytes:
    """The bytes of a file of at most ``max_bytes``; UnreadableFile otherwise.

    The size is checked before anything is read, so a huge file costs nothing.
    """
    problem = path_problem(path)
    if problem is not None:
        raise UnreadableFile(problem)
    try:
        with open(os.fspath(path), "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            if size > max_bytes:
                raise UnreadableFile(
                    f"is {size / 1e6:.1f} MB; a file of this kind is at most "
                    f"{max_bytes / 1e6:.0f} MB"
                )
            data = handle.read(max_bytes + 1)
    except OSError as exc:
        raise UnreadableFile(os_reason(exc)) from None
    if len(data) > max_bytes:  # grew while being read, or a special file
        raise UnreadableFile(f"is larger than {max_bytes / 1e6:.0f} MB")
    return data


def _line_column(data: bytes, offset: int) -> tuple[int, int]:
    line = data.count(b"\n", 0, offset) + 1
    column = offset - (data.rfind(b"\n", 0, offset) + 1) + 1
    return line, column


def decode_text(data: bytes) -> str:
    """UTF-8 text from bytes; UnreadableFile with a hint for a BOM, another encoding or NUL."""
    for mark, reason in _BOMS:
        if data.startswith(mark):
            raise UnreadableFile(reason)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line, column = _line_column(data, exc.start)
        raise UnreadableFile(
            f"is not UTF-8 (byte 0x{data[exc.start]:02x} at line {line}, column {column}); "
            "save it as UTF-8"
        ) from None
    nul = data.find(b"\x00")
    if nul != -1:
        line, column = _line_column(data, nul)
        raise UnreadableFile(f"holds a NUL byte at line {line}, column {column} (a binary file?)")
    return text


def read_text(path: str | os.PathLike[str], max_bytes: int = MAX_TEXT_BYTES) -> str:
    """A UTF-8 text file of at most ``max_bytes`` (``read_bytes`` then ``decode_text``)."""
    return decode_text(read_bytes(Path(path), max_bytes))
