"""The specification grid, computed once per inputs: in the process, and on disk through
the package's one results cache (:mod:`research.cache`).

The grid (every price claim of the article under ~100 specifications) is cached under
:func:`grid_key`: the article's files (their content digest,
:attr:`research.claims.Article.fingerprint`, taken from the bounded reads of the loader --
nothing else in the article directory is read), the evaluation parameters, the grid, the
price snapshot's manifest digest (which pins the data file's sha256) and the package's
source. A changed input is a new key. Only results from the snapshot go to disk (live
prices are not part of the key).

A cache directory is not trusted either: :class:`research.cache.ResultCache` serves an
entry only when its HMAC matches and it is within its size limit, and here only when it is
JSON of exactly the shape :meth:`Robustness.to_dict` writes that reads back to itself. Any
other entry (``null``, a list, deep nesting, edited numbers, a wrong MAC) is ignored and
recomputed, with one warning line on stderr (logging), never a traceback.
"""

from __future__ import annotations

import json
from typing import Any

from research.cache import ResultCache, code_version, content_key, file_digest
from research.claims.params import EvalParams
from research.claims.robustness import Robustness, SpecificationGrid, run_grid
from research.data import paths

__all__ = ["cached_grid", "grid_key"]

_MEMORY: dict[str, dict[str, Robustness]] = {}
#: Largest cache entry read back (bytes).
ENTRY_LIMIT = 64 << 20


def grid_key(article: Any, params: EvalParams, grid: SpecificationGrid) -> str:
    """The grid's cache key (:func:`research.cache.content_key` of its inputs; see the
    module docstring)."""
    snap = paths.snapshot_dir()
    return content_key("grid", str(article.fingerprint), params.to_dict(), repr(grid),
                       file_digest(snap / "MANIFEST.json"), code_version())


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


def _decode(raw: bytes) -> dict[str, Robustness]:
    return _parse(json.loads(raw.decode("utf-8")))


def _encode(result: dict[str, Robustness]) -> bytes:
    return _body({cid: r.to_dict() for cid, r in result.items()}).encode("utf-8")


def cached_grid(article: Any, params: EvalParams, grid: SpecificationGrid | None = None) -> dict[str, Robustness]:
    """:func:`~research.claims.robustness.run_grid` for every price claim, from the cache
    when its inputs were seen before. The result read back from disk carries the numbers
    rounded as in claims.json (6 decimals), identical to a fresh run's ``to_dict()``."""
    grid = grid if grid is not None else SpecificationGrid.from_mapping(article.robustness)
    key = grid_key(article, params, grid)
    if key in _MEMORY:
        return _MEMORY[key]
    cache = ResultCache(paths.results_cache_dir(), "grid", suffix=".json", limit=ENTRY_LIMIT,
                        enabled=params.source == "snapshot")
    result, computed = cache.get_or_compute(key, lambda: run_grid(article, params, grid), encode=_encode,
                                            decode=_decode)
    if computed:  # what is served is always the JSON round trip, so memory and disk agree exactly
        result = {cid: Robustness.from_dict(cid, r.to_dict()) for cid, r in result.items()}
    if len(_MEMORY) >= 8:
        _MEMORY.pop(next(iter(_MEMORY)))
    _MEMORY[key] = result
    return result
