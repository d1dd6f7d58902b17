"""The specification grid, computed once per inputs: in the process, and on disk.

Every report page evaluates its claims in its own kernel, and each needs the whole grid
(the Holm family under each specification takes every price claim), so the grid is
cached under a key made of everything it depends on: the article's files (content), the
evaluation parameters, the grid, the price snapshot's manifest and the package's source.
A changed input is a new key; the cache can only be stale if a file changes during a run.
Entries are JSON written atomically (temporary file, then rename), so concurrent runs at
worst compute the same entry twice; an unreadable or unwritable cache is ignored.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
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


def _digest(h: Any, root: Path, pattern: str) -> None:
    for f in sorted(root.rglob(pattern)):
        if f.is_file():
            h.update(str(f.relative_to(root)).encode())
            h.update(f.read_bytes())


def grid_key(article: Any, params: EvalParams, grid: SpecificationGrid) -> str:
    """sha256 of the grid's inputs (see the module docstring)."""
    h = hashlib.sha256()
    _digest(h, Path(article.path), "*")
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


def _load(path: Path) -> dict[str, Robustness] | None:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return {cid: Robustness.from_dict(cid, d) for cid, d in raw.items()}
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _store(path: Path, result: dict[str, Robustness]) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump({cid: r.to_dict() for cid, r in result.items()}, fh, sort_keys=True, allow_nan=False)
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
        fh = open(path.with_suffix(".lock"), "a")  # noqa: SIM115
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
    path = paths.results_cache_dir() / "grid" / f"{key}.json" if params.source == "snapshot" else None
    result = _load(path) if path is not None and path.is_file() else None
    if result is None:
        with _exclusive(path):  # concurrent pages wait for the first one instead of recomputing
            result = _load(path) if path is not None and path.is_file() else None
            if result is None:
                fresh = run_grid(article, params, grid)
                if path is not None:
                    _store(path, fresh)
                # what is served is always the JSON round trip, so memory and disk agree exactly
                result = {cid: Robustness.from_dict(cid, r.to_dict()) for cid, r in fresh.items()}
    if len(_MEMORY) >= 8:
        _MEMORY.pop(next(iter(_MEMORY)))
    _MEMORY[key] = result
    return result
