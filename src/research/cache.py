"""The package's one results cache: one key function over content, one atomic, locked,
authenticated writer.

Keys
----
:func:`content_key` hashes what a result depends on -- e.g. the article's files (their
content digest), the evaluation parameters, the price snapshot's manifest digest
(:func:`file_digest`; the manifest pins the data file's sha256) and the package's source
(:func:`code_version`) -- never file times: the same inputs give the same key on any
machine, a changed input a new one.

Entries
-------
:class:`ResultCache` stores bytes under ``<root>/<namespace>/<key><suffix>``:

* written atomically (:func:`research.atomic.atomic_write_bytes`: a temporary file, then a
  rename) while holding an exclusive ``flock`` on ``<key>.lock``, so concurrent processes
  computing the same key wait for the first one (:meth:`ResultCache.get_or_compute`);
* authenticated: an HMAC-SHA256 over the key and the payload, keyed by a random per-user
  secret ``<root>/<namespace>/.hmac-key`` (mode 0600). A plain digest could be recomputed
  by whoever edits an entry; the MAC cannot without the key. A key file that is a link, not
  a regular file, not the user's own or readable by others is not used (the disk cache is
  then off: results are computed, nothing is read or written).

An entry that is larger than its limit, not a regular file, malformed, tampered with or
that its decoder refuses is ignored and recomputed, with one warning line (logging),
never a traceback. The cache never decides a number: a miss only costs time.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import hmac
import json
import logging
import os
import secrets
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from research.atomic import atomic_write_bytes

__all__ = ["ResultCache", "code_version", "content_key", "file_digest", "ENTRY_LIMIT"]

T = TypeVar("T")
_LOG = logging.getLogger(__name__)
_SOURCE = Path(__file__).resolve().parent  # src/research
#: Largest entry read back (bytes).
ENTRY_LIMIT = 256 << 20
_KEY_FILE = ".hmac-key"
_MAGIC = b"research-cache 1 "


@functools.lru_cache(maxsize=1)
def code_version() -> str:
    """sha256 of the package's source (every ``*.py`` under ``src/research``, by relative
    path): results computed by other code are other entries."""
    h = hashlib.sha256()
    for f in sorted(_SOURCE.rglob("*.py")):
        if f.is_file():
            h.update(str(f.relative_to(_SOURCE)).encode())
            h.update(b"\0")
            h.update(f.read_bytes())
    return h.hexdigest()


def file_digest(path: str | os.PathLike[str]) -> str:
    """sha256 of a file's bytes ("" when it does not exist)."""
    p = Path(path)
    if not p.is_file():
        return ""
    return hashlib.sha256(p.read_bytes()).hexdigest()


def content_key(*parts: Any) -> str:
    """The one key function: sha256 of ``parts`` as canonical JSON (mappings with sorted
    keys; anything else JSON cannot hold by its ``str``)."""
    text = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class ResultCache:
    """Authenticated, atomic, locked entries under ``root/namespace`` (see the module
    docstring). ``enabled=False`` (e.g. for results from live prices) turns the disk off."""

    def __init__(self, root: str | os.PathLike[str], namespace: str, *, suffix: str = ".bin",
                 limit: int = ENTRY_LIMIT, enabled: bool = True) -> None:
        self.folder = Path(root) / namespace
        self.suffix = suffix
        self.limit = limit
        self._secret = self._load_secret() if enabled else None

    # ---- the secret --------------------------------------------------------------------
    def _load_secret(self) -> bytes | None:
        f = self.folder / _KEY_FILE
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            try:
                fd = os.open(f, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
            except FileExistsError:
                pass
            else:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(secrets.token_bytes(32))
            fd = os.open(f, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
            with os.fdopen(fd, "rb") as fh:
                st = os.fstat(fh.fileno())
                if not stat.S_ISREG(st.st_mode) or st.st_uid != os.getuid() or st.st_mode & 0o077:
                    _LOG.warning("results cache: %s is not a private file of this user; the disk cache is not used", f)
                    return None
                key = fh.read(64)
        except OSError:
            return None
        return key if len(key) == 32 else None

    @property
    def enabled(self) -> bool:
        """True when entries are read and written (the folder and its secret are usable)."""
        return self._secret is not None

    def path(self, key: str) -> Path:
        return self.folder / f"{key}{self.suffix}"

    def _mac(self, key: str, payload: bytes) -> bytes:
        assert self._secret is not None
        return hmac.new(self._secret, key.encode() + b"\n" + payload, hashlib.sha256).hexdigest().encode()

    # ---- read / write ------------------------------------------------------------------
    def read(self, key: str, *, warn: bool = True) -> bytes | None:
        """The payload stored under ``key`` when present, a regular file within the limit,
        and its MAC matches; None otherwise (one warning line for a bad entry, unless
        ``warn`` is False)."""
        if not self.enabled:
            return None
        path = self.path(key)
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except FileNotFoundError:
            return None
        except OSError as exc:
            if warn:
                self._ignored(path, exc)
            return None
        try:
            with os.fdopen(fd, "rb") as fh:
                if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
                    raise ValueError("not a regular file")
                raw = fh.read(self.limit + 1 + 128)
            head, sep, payload = raw.partition(b"\n")
            if not sep or not head.startswith(_MAGIC):
                raise ValueError("not a cache entry")
            if len(payload) > self.limit:
                raise ValueError(f"larger than {self.limit} bytes")
            if not hmac.compare_digest(head[len(_MAGIC):], self._mac(key, payload)):
                raise ValueError("its MAC does not match (edited, or written with another key)")
            return payload
        except (OSError, ValueError) as exc:
            if warn:
                self._ignored(path, exc)
            return None

    def write(self, key: str, payload: bytes) -> None:
        """Store ``payload`` under ``key`` atomically (an unwritable cache is ignored)."""
        if not self.enabled:
            return
        try:
            atomic_write_bytes(self.path(key), _MAGIC + self._mac(key, payload) + b"\n" + payload)
        except OSError as exc:
            _LOG.warning("results cache: could not write %s (%s)", self.path(key).name, exc)

    @contextlib.contextmanager
    def lock(self, key: str) -> Iterator[None]:
        """An exclusive advisory lock (``flock``) on ``<key>.lock``; released by the OS if
        the process dies. No lock where the cache cannot be written."""
        if not self.enabled:
            yield
            return
        try:
            fd = os.open(self.folder / f"{key}.lock", os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW, 0o600)
            fh = os.fdopen(fd, "a")
        except OSError:
            yield
            return
        with fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            yield

    def get_or_compute(self, key: str, compute: Callable[[], T], *, encode: Callable[[T], bytes],
                       decode: Callable[[bytes], T]) -> tuple[T, bool]:
        """``(value, computed)``: the decoded entry under ``key``, or -- under the key's lock,
        after looking again -- ``compute()``, stored with ``encode``. ``decode`` raising
        ValueError (or KeyError, TypeError) marks the entry bad: it is recomputed."""
        hit = self._decoded(key, decode)
        if hit is not None:
            return hit, False
        with self.lock(key):  # a concurrent process computing the same key: wait for it
            hit = self._decoded(key, decode, warn=False)
            if hit is not None:
                return hit, False
            value = compute()
            self.write(key, encode(value))
            return value, True

    def _decoded(self, key: str, decode: Callable[[bytes], T], *, warn: bool = True) -> T | None:
        raw = self.read(key, warn=warn)
        if raw is None:
            return None
        try:
            return decode(raw)
        except (ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
            if warn:
                self._ignored(self.path(key), exc)
            return None

    @staticmethod
    def _ignored(path: Path, exc: BaseException) -> None:
        why = str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__
        _LOG.warning("results cache: ignored %s (%s); recomputing", path.name, why)
