"""Reading a file of an article directory: the one gate every read of an article goes through.

An article directory is untrusted input. A file it names (``layout.yaml``'s page intros,
``prose/<claim>.md``, the article text, ``events.csv`` ...) is read only when

* the name is relative, without ``..``, a drive, a backslash or a NUL, so it stays
  inside the directory;
* no component of the path below the directory is a symbolic link (checked with
  ``lstat`` and opened component by component with ``O_NOFOLLOW`` relative to the
  directory's descriptor, so a link swapped in between check and open is refused too);
* the file is a regular file (not a FIFO, device or socket -- the type is checked
  before opening, and the open is non-blocking, so a FIFO never blocks);
* it is not larger than its limit (:data:`TEXT_LIMIT`, :data:`CSV_LIMIT`,
  :data:`IMAGE_LIMIT`): the size is checked before reading and at most limit + 1 bytes
  are read.

A refusal raises :class:`ArticleFileError`, naming the file (relative to the article
directory) and the fix; the loaders turn it into a Problem.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

from research.errors import MalformedDataError

__all__ = ["ArticleFileError", "CSV_LIMIT", "IMAGE_LIMIT", "TEXT_LIMIT", "check_name", "exists",
           "read_bytes", "read_text"]

#: Largest markdown, YAML or article text file read from an article directory (1 MiB).
TEXT_LIMIT = 1 << 20
#: Largest ``events.csv`` / ``facts.csv`` (8 MiB).
CSV_LIMIT = 8 << 20
#: Largest image a markdown file may embed (2 MiB).
IMAGE_LIMIT = 2 << 20

_KIND = {stat.S_IFDIR: "a directory", stat.S_IFCHR: "a character device", stat.S_IFBLK: "a block device",
         stat.S_IFIFO: "a FIFO (named pipe)", stat.S_IFSOCK: "a socket", stat.S_IFLNK: "a symbolic link"}


class ArticleFileError(MalformedDataError):
    """A file named by an article is outside it, not a regular file, or too large.

    Attributes
    ----------
    name : the file's name as the article gives it (relative to the article directory).
    reason : what is wrong and the fix.
    """

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(f"{name!r}: {reason}")
        self.name = name
        self.reason = reason


def check_name(name: str) -> tuple[str, ...]:
    """The components of ``name``, a path relative to the article directory.

    Raises
    ------
    ArticleFileError
        Absolute, with ``..``, a backslash, a drive or a NUL, or empty.
    """
    fix = "name a file inside the article directory by a relative path (e.g. pages/intro.md)"
    if not isinstance(name, str) or not name.strip():
        raise ArticleFileError(str(name), f"empty file name; {fix}")
    if "\0" in name or "\\" in name or (len(name) > 1 and name[1] == ":"):
        raise ArticleFileError(name, f"not a portable relative file name; {fix}")
    p = PurePosixPath(name)
    if p.is_absolute() or name.startswith("~"):
        raise ArticleFileError(name, f"an absolute path leaves the article directory; {fix}")
    parts = tuple(x for x in p.parts if x != ".")
    if ".." in parts:
        raise ArticleFileError(name, f"'..' leaves the article directory; {fix}")
    if not parts:
        raise ArticleFileError(name, f"not a file name; {fix}")
    return parts


def _kind(mode: int) -> str:
    return _KIND.get(stat.S_IFMT(mode), "not a regular file")


@contextlib.contextmanager
def _parent_fd(root: Path, name: str, parts: tuple[str, ...]) -> Iterator[int]:
    """A descriptor of the directory holding ``parts[-1]``, walked from ``root`` without
    following any link."""
    flags = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC
    fd = os.open(root, flags)
    try:
        for i, part in enumerate(parts[:-1]):
            st = os.lstat(part, dir_fd=fd)
            if not stat.S_ISDIR(st.st_mode):
                where = "/".join(parts[: i + 1])
                raise ArticleFileError(name, f"{where} is {_kind(st.st_mode)}, not a directory of the article; "
                                             "links are refused (copy the file into the article directory)")
            nfd = os.open(part, flags | os.O_NOFOLLOW, dir_fd=fd)
            os.close(fd)
            fd = nfd
        yield fd
    finally:
        os.close(fd)


def exists(root: str | Path, name: str) -> bool:
    """Whether the article directory has an entry ``name`` (any kind, links not followed).

    False for a name that is refused by :func:`check_name` or whose parent is missing."""
    try:
        parts = check_name(name)
        with _parent_fd(Path(root), name, parts) as fd:
            os.lstat(parts[-1], dir_fd=fd)
        return True
    except (OSError, ArticleFileError):
        return False


def read_bytes(root: str | Path, name: str, *, limit: int = TEXT_LIMIT) -> bytes:
    """The bytes of the article's file ``name`` (relative to the directory ``root``).

    Parameters
    ----------
    root : the article directory (itself may be reached through a link; nothing below it may).
    name : the file's name as the article gives it.
    limit : largest size read, in bytes.

    Raises
    ------
    ArticleFileError
        Outside the directory, a link at any component, not a regular file, missing,
        unreadable or larger than ``limit``.
    """
    parts = check_name(name)
    try:
        with _parent_fd(Path(root), name, parts) as dfd:
            st = os.lstat(parts[-1], dir_fd=dfd)
            if not stat.S_ISREG(st.st_mode):
                raise ArticleFileError(name, f"is {_kind(st.st_mode)}; an article reads regular files only "
                                             "(copy the file into the article directory)")
            _check_size(name, st.st_size, limit)
            fd = os.open(parts[-1], os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=dfd)
    except FileNotFoundError:
        raise ArticleFileError(name, "does not exist in the article directory") from None
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENOTDIR):
            raise ArticleFileError(name, "a link or non-directory on the path; links are refused") from None
        raise ArticleFileError(name, f"cannot be read ({exc.strerror})") from None
    with os.fdopen(fd, "rb") as fh:
        st2 = os.fstat(fh.fileno())
        if not stat.S_ISREG(st2.st_mode) or (st2.st_dev, st2.st_ino) != (st.st_dev, st.st_ino):
            raise ArticleFileError(name, "changed while it was opened; try again")
        _check_size(name, st2.st_size, limit)
        data = fh.read(limit + 1)
    _check_size(name, len(data), limit)
    return data


def _check_size(name: str, size: int, limit: int) -> None:
    if size > limit:
        raise ArticleFileError(name, f"is larger than the {limit // 1024} KiB an article file may have "
                                     f"({size} bytes or more); shorten it")


def read_text(root: str | Path, name: str, *, limit: int = TEXT_LIMIT) -> str:
    """:func:`read_bytes` decoded as UTF-8 (a leading byte-order mark is dropped).

    Raises
    ------
    ArticleFileError
        As :func:`read_bytes`, or the bytes are not UTF-8 (names the byte offset).
    """
    data = read_bytes(root, name, limit=limit)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ArticleFileError(name, f"line {line} is not UTF-8 text (byte {exc.start}); save the file "
                                     "as UTF-8") from None
