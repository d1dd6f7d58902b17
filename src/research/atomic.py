"""Atomic file writes: the snapshot, the yfinance cache and everything under ``reports/``.

A build can crash (kernel death, exporter bug, Ctrl-C, a full disk). Every file the
package writes goes through :func:`atomic_write_bytes`: the payload is written to a
uniquely named temporary file in the destination directory, flushed to disk, and then
moved over the destination with :func:`os.replace` (atomic on POSIX and Windows). A reader
therefore sees either the previous complete file or the new complete file, never a
half-written one.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

__all__ = ["atomic_write_bytes", "atomic_write_text", "temp_path_beside"]


def temp_path_beside(path: Path, suffix: str = ".tmp") -> Path:
    """Create (empty) and return a unique temporary file next to ``path``.

    The caller fills it and moves it into place with :func:`os.replace`, or deletes it.
    ``suffix`` is kept at the end of the name (papermill, for one, checks ``.ipynb``).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=suffix, dir=path.parent)
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(name, 0o666 & ~umask)  # mkstemp makes 0600; use the usual mode for a new file
    return Path(name)


def atomic_write_bytes(path: str | os.PathLike[str], payload: bytes) -> Path:
    """Write ``payload`` to ``path`` atomically; create parent directories as needed.

    Returns the destination path. On any error the temporary file is removed and the
    previous content of ``path`` (if any) is left untouched.
    """
    dest = Path(path)
    tmp = temp_path_beside(dest, suffix=".part")
    try:
        with open(tmp, "wb") as fh:
            fh.write(payload)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, dest)
    except OSError as exc:
        if exc.filename is None and exc.errno is not None:  # write/fsync errors (a full disk) name no file
            raise OSError(exc.errno, exc.strerror, str(dest)) from exc
        raise
    finally:
        if tmp.exists():
            tmp.unlink()
    return dest


def atomic_write_text(path: str | os.PathLike[str], text: str) -> Path:
    """UTF-8 text variant of :func:`atomic_write_bytes`."""
    return atomic_write_bytes(path, text.encode("utf-8"))
