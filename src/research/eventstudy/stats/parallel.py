"""Row-parallel helpers: Student-t p-values, row ranks and sorts over blocks of rows on a
few threads (:func:`over_blocks`)."""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from scipy import special as _sp_special

from research.errors import SpecificationError

__all__ = [
    "argsort_rows",
    "avg_ranks_sorted",
    "flat_index",
    "over_blocks",
    "PARALLEL_MIN",
    "PARALLEL_MIN_SPECIAL",
    "rank_rows",
    "scatter_rows",
    "sort_rows",
    "two_sided_t_p",
    "usable_cores",
]


def two_sided_t_p(t, df, threads: int | None = None):
    """Two-sided Student-t p-value ``2 * P(T_df > |t|)``; NaN where ``df <= 0``.

    The special function behind ``scipy.stats.t.sf`` (``scipy.special.stdtr``), called
    directly: identical numbers without the per-call argument machinery. ``t`` and ``df``
    broadcast; above :data:`PARALLEL_MIN_SPECIAL` values the work is split over
    ``threads`` threads (default :func:`usable_cores`), element by element the same."""
    t = np.asarray(t, dtype=float)
    df = np.asarray(df, dtype=float)
    if max(t.size, df.size) <= PARALLEL_MIN_SPECIAL:  # one call: a test's few statistics
        with np.errstate(invalid="ignore"):
            out = np.where(df > 0, 2.0 * _sp_special.stdtr(np.where(df > 0, df, 1.0), -np.abs(t)), np.nan)
        return out[()]
    shape = np.broadcast_shapes(t.shape, df.shape)
    tf = np.broadcast_to(t, shape).reshape(-1)
    dff = np.broadcast_to(df, shape).reshape(-1)
    out = np.empty(tf.size)

    def part(a: int, b: int) -> None:
        d = dff[a:b]
        with np.errstate(invalid="ignore"):
            out[a:b] = np.where(d > 0, 2.0 * _sp_special.stdtr(np.where(d > 0, d, 1.0), -np.abs(tf[a:b])), np.nan)

    k = usable_cores() if threads is None else threads
    over_blocks(part, tf.size, k if tf.size > PARALLEL_MIN_SPECIAL else 1)
    return out.reshape(shape) if shape else out[0]




def rank_rows(a: np.ndarray) -> np.ndarray:
    """Average ranks (1-based, ties averaged) of each row's finite values; NaN elsewhere.

    Same result as ``scipy.stats.rankdata(a, axis=1, nan_policy="omit")`` (R's
    ``rank(ties.method="average", na.last="keep")``) with one sort per row.
    """
    a = np.asarray(a, dtype=float)
    if a.ndim != 2:
        raise SpecificationError(f"rank_rows expects a 2-D array, got shape {a.shape}")
    if a.shape[1] == 0:
        return a.copy()
    order, srt = sort_rows(a)
    return scatter_rows(avg_ranks_sorted(srt)[0], order)


#: rows x columns above which :func:`argsort_rows` splits the rows over threads
PARALLEL_MIN = 200_000
#: values above which :func:`two_sided_t_p` splits its work over threads (~0.4 us each)
PARALLEL_MIN_SPECIAL = 20_000


def usable_cores(limit: int = 4) -> int:
    """Cores this process may run on (its CPU affinity), at most ``limit``."""
    k = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, min(limit, k))


def over_blocks(fn: Callable[[int, int], None], n: int, threads: int) -> None:
    """``fn(a, b)`` on ``threads`` consecutive blocks ``[a, b)`` of ``range(n)``, each in
    its own thread (``fn`` writes its block's results; numpy releases the GIL in sorts and
    ufunc loops). Each block's numbers are the ones of one call on the whole range."""
    if threads < 2 or n < 2:
        fn(0, n)
        return
    bounds = np.linspace(0, n, threads + 1).astype(int)
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(lambda i: fn(bounds[i], bounds[i + 1]), range(threads)))


def argsort_rows(a: np.ndarray, threads: int | None = None) -> np.ndarray:
    """``np.argsort(a, axis=1)`` with the rows split over ``threads`` threads (default:
    :func:`usable_cores`) when ``a`` has more than :data:`PARALLEL_MIN` values.

    numpy's sort releases the GIL and each row is sorted on its own, so the result is
    the single-threaded one, whatever the number of threads."""
    k = usable_cores() if threads is None else threads
    if k < 2 or a.size <= PARALLEL_MIN or a.shape[0] < 2:
        return np.argsort(a, axis=1)
    out = np.empty(a.shape, dtype=np.intp)

    def part(lo: int, hi: int) -> None:
        out[lo:hi] = np.argsort(a[lo:hi], axis=1)

    over_blocks(part, a.shape[0], k)
    return out


def flat_index(order: np.ndarray) -> np.ndarray:
    """Row-wise column indices ``order (n, m)`` as indices into the flattened array."""
    n, m = order.shape
    return order + (np.arange(n, dtype=np.int64) * m)[:, None]


def sort_rows(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row-wise ascending ``argsort`` of ``a`` as flat indices, and the sorted rows (NaN last).

    NaN is sorted as ``+inf`` (numpy's sort is several times slower on NaN); the sorted
    rows hold the original values, so NaN (and ``+inf``) stay at the end of each row.
    The first result indexes ``a.ravel()``: ``column = flat % m`` (see
    :func:`flat_index`); it feeds :func:`scatter_rows`.
    """
    nan = np.isnan(a)
    key = np.where(nan, np.inf, a) if nan.any() else a
    flat = flat_index(argsort_rows(key))  # tie order is irrelevant to every use below
    return flat, a.ravel().take(flat)


def avg_ranks_sorted(srt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Average 1-based ranks of sorted rows (NaN where not finite) and ``sum (t^3 - t)``
    over each row's tie groups ``t`` of finite values (Wilcoxon's tie correction).

    Ranks are positions in the sorted row, so a row's ``-inf`` values (if any) push its
    finite ranks up, as :func:`numpy.argsort`-based ranking always did here.
    """
    n, m = srt.shape
    fin = np.isfinite(srt)
    diff = srt[:, 1:] != srt[:, :-1]  # NaN != NaN, so NaN never forms a tie group
    avg = np.broadcast_to(np.arange(1.0, m + 1.0), (n, m))
    ties = np.zeros(n)
    tied_rows = np.flatnonzero(~diff.all(axis=1)) if m > 1 else np.zeros(0, np.int64)
    if tied_rows.size:  # ties only in these rows: average their groups
        d = diff[tied_rows]
        k = d.shape[0]
        j = np.broadcast_to(np.arange(m), (k, m))
        start_flag = np.concatenate([np.ones((k, 1), bool), d], axis=1)
        end_flag = np.concatenate([d, np.ones((k, 1), bool)], axis=1)
        start = np.maximum.accumulate(np.where(start_flag, j, 0), axis=1)
        end = np.minimum.accumulate(np.where(end_flag, j, m)[:, ::-1], axis=1)[:, ::-1]
        avg = avg.copy()
        avg[tied_rows] = (start + end) / 2.0 + 1.0
        size = (end - start + 1).astype(float)
        # each member of a group of t contributes (t^2 - 1): the group adds t^3 - t
        ties[tied_rows] = np.where(fin[tied_rows], size * size - 1.0, 0.0).sum(axis=1)
    return np.where(fin, avg, np.nan), ties


def scatter_rows(vals_sorted: np.ndarray, flat: np.ndarray) -> np.ndarray:
    """Inverse of sorting: ``out.ravel()[flat[i, q]] = vals_sorted[i, q]`` (``flat`` from
    :func:`sort_rows` / :func:`flat_index`)."""
    out = np.empty(flat.shape, dtype=vals_sorted.dtype)
    out.ravel()[flat.ravel()] = vals_sorted.ravel()
    return out
