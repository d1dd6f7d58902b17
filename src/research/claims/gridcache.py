"""The specification grid, computed once per inputs: in the process, and on disk.

Every report page evaluates its claims in its own kernel, and each needs the whole grid
(the Holm family under each specification takes every price claim), so the grid is
cached under a key made of everything it depends on: the article's files (their
content digest, :attr:`research.claims.Article.fingerprint`, taken from the bounded reads
of the loader -- nothing else in the article directory is read), the evaluation
parameters, the grid, the price snapshot's manifest and the package's source.
A changed input is a new key; the cache can only be stale if a file changes during a run.
Entries are JSON written atomically (temporary file, then rename), so concurrent runs at
worst compute the same entry twice; an unreadable or unwritable cache is ignored.

A cache directory is not trusted either. An entry is served only when

* it is at most :data:`ENTRY_LIMIT` bytes of JSON of the expected shape (claim id ->
  the ``robustness`` record of claims.json) that reads back to exactly itself;
* its HMAC-SHA256 matches: the MAC covers the cache key and the entry, keyed by a random
  per-user secret ``grid/.hmac-key`` created with mode 0600 beside the entries. A plain
  digest could be recomputed by whoever edits an entry; the MAC cannot without the key.
  A key file that is a link, not a regular file, not the user's own or readable by others
  is not used (nothing is read from or written to the disk cache then).

Any other entry (``null``, a list, deep nesting, edited numbers, a wrong MAC) is ignored
and recomputed, with one warning line on stderr (logging), never a traceback.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import hmac
import json
import logging
import os
import secrets
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from research.claims.params import EvalParams
from research.claims.robustness import Robustness, SpecificationGrid, run_grid
from research.data import paths

__all__ = ["cached_grid", "grid_key"]

_MEMORY: dict[str, dict[str, Robustness]] = {}
_SOURCE = Path(__file__).resolve().parents[1]  # src/research
_LOG = logging.getLogger(__name__)
#: Largest cache entry read back (bytes).
ENTRY_LIMIT = 64 << 20
_KEY_FILE = ".hmac-key"
_FORMAT = 2


def _digest(h: Any, root: Path, pattern: str) -> None:
    for f in sorted(root.rglob(pattern)):
        if f.is_file():
            h.update(str(f.relative_to(root)).encode())
            h.update(f.read_bytes())


def grid_key(article: Any, params: EvalParams, grid: SpecificationGrid) -> str:
    """sha256 of the grid's inputs (see the module docstring)."""
    h = hashlib.sha256()
    h.update(str(article.fingerprint).encode())
    h.update(json.dumps(params.to_dict(), sort_keys=True, default=str).encode())
    h.update(repr(grid).encode())
    snap = paths.snapshot_dir()
    for name in ("MANIFEST.json", paths.SNAPSHOT_FILE):  # the data: its manifest and its bytes' size/time
        f = snap / name
        if f.is_file():
            st = f.stat()
            h.update(f"{name}:{st.st_size}:{st.st_mtime_ns}".encode())
    if (snap / "MANIFEST.json").is_file():
        h.update((snap / "MANIFEST.json").read_bytes())
    _digest(h, _SOURCE, "*.py")
    return h.hexdigest()


def _secret(folder: Path) -> bytes | None:
    """The per-user MAC key of the cache folder (created, mode 0600, when missing); None
    when it cannot be created or is not trustworthy."""
    f = folder / _KEY_FILE
    try:
        folder.mkdir(parents=True, exist_ok=True)
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
                _LOG.warning("grid cache: %s is not a private file of this user; the disk cache is not used", f)
                return None
            key = fh.read(64)
    except OSError:
        return None
    return key if len(key) == 32 else None


def _mac(secret: bytes, key: str, body: str) -> str:
    return hmac.new(secret, f"{key}\n{body}".encode(), hashlib.sha256).hexdigest()


def _body(entries: dict[str, Any]) -> str:
    return json.dumps(entries, sort_keys=True, allow_nan=False)


def _parse(entries: Any) -> dict[str, Robustness]:
    """The entries as results; ValueError unless they have exactly the shape
    :meth:`Robustness.to_dict` writes (and read back to themselves)."""
    if not isinstance(entries, dict) or not all(isinstance(k, str) and isinstance(v, dict) for k, v in entries.items()):
        raise ValueError("not a mapping of claim id -> record")
    out = {}
    for cid, d in entries.items():
        if not isinstance(d.get("grid"), list) or not all(isinstance(r, dict) for r in d["grid"]):
            raise ValueError(f"{cid}: no grid rows")
        r = Robustness.from_dict(cid, d)
        if _body(r.to_dict()) != _body(d):
            raise ValueError(f"{cid}: does not read back to itself")
        out[cid] = r
    return out


def _load(path: Path, secret: bytes) -> dict[str, Robustness] | None:
    """The entry at ``path`` when it is well formed and its MAC matches; None (and one
    warning line) otherwise."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        with os.fdopen(fd, "rb") as fh:
            if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
                raise ValueError("not a regular file")
            raw = fh.read(ENTRY_LIMIT + 1)
        if len(raw) > ENTRY_LIMIT:
            raise ValueError(f"larger than {ENTRY_LIMIT} bytes")
        doc = json.loads(raw.decode("utf-8"))
        if not isinstance(doc, dict) or doc.get("format") != _FORMAT or not isinstance(doc.get("mac"), str):
            raise ValueError("not a grid cache entry")
        entries = doc.get("entries")
        if not isinstance(entries, dict):
            raise ValueError("no entries")
        if not hmac.compare_digest(doc["mac"], _mac(secret, path.stem, _body(entries))):
            raise ValueError("its MAC does not match (edited, or written with another key)")
        return _parse(entries)
    except (OSError, ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
        _LOG.warning("grid cache: ignored %s (%s); recomputing", path.name, str(exc).splitlines()[0][:120] if str(exc)
                     else type(exc).__name__)
        return None


def _store(path: Path, result: dict[str, Robustness], secret: bytes) -> None:
    entries = {cid: r.to_dict() for cid, r in result.items()}
    doc = {"format": _FORMAT, "mac": _mac(secret, path.stem, _body(entries)), "entries": entries}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(doc, fh, sort_keys=True, allow_nan=False)
        os.replace(tmp, path)
    except OSError:
        try:
            os.unlink(tmp)  # type: ignore[possibly-undefined]
        except (OSError, NameError):
            pass


@contextlib.contextmanager
def _exclusive(path: Path | None) -> Iterator[None]:
    """An exclusive advisory lock (``flock``) on ``<path>.lock`` while computing; released by
    the OS if the process dies. No lock where the cache cannot be written."""
    if path is None:
        yield
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path.with_suffix(".lock"), os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW, 0o600)
        fh = os.fdopen(fd, "a")
    except OSError:
        yield
        return
    with fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        yield


def cached_grid(article: Any, params: EvalParams, grid: SpecificationGrid | None = None) -> dict[str, Robustness]:
    """:func:`~research.claims.robustness.run_grid` for every price claim, from the cache
    when its inputs were seen before. The result read back from disk carries the numbers
    rounded as in claims.json (6 decimals), identical to a fresh run's ``to_dict()``."""
    grid = grid if grid is not None else SpecificationGrid.from_mapping(article.robustness)
    key = grid_key(article, params, grid)
    if key in _MEMORY:
        return _MEMORY[key]
    # live prices are not part of the key: only snapshot results go to disk
    folder = paths.results_cache_dir() / "grid"
    secret = _secret(folder) if params.source == "snapshot" else None
    path = folder / f"{key}.json" if secret is not None else None
    existed = path is not None and os.path.lexists(path)
    result = _load(path, secret) if existed else None  # type: ignore[arg-type]
    if result is None:
        with _exclusive(path):  # concurrent pages wait for the first one instead of recomputing
            if path is not None and not existed and os.path.lexists(path):
                result = _load(path, secret)  # type: ignore[arg-type]
            if result is None:
                fresh = run_grid(article, params, grid)
                if path is not None and secret is not None:
                    _store(path, fresh, secret)
                # what is served is always the JSON round trip, so memory and disk agree exactly
                result = {cid: Robustness.from_dict(cid, r.to_dict()) for cid, r in fresh.items()}
    if len(_MEMORY) >= 8:
        _MEMORY.pop(next(iter(_MEMORY)))
    _MEMORY[key] = result
    return result
