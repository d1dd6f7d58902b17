"""Empirical (placebo) p-values from pseudo-event dates: exact, or seeded resampling.

Exact placebo (:func:`exact_placebo`, ``run_event_study(placebo_method="exact")``)
-------------------------------------------------------------------------------------
Every admissible pseudo day 0 of the event's ticker (:func:`admissible_rows`, the one
definition of admissibility) is an event study of its own, run through the vectorised
pipeline (:mod:`research.eventstudy.pipeline`) -- no resampling. With ``n`` admissible
pseudo dates whose statistic is defined::

    p = (1 + #{ |t*| >= |t| }) / (1 + n),        floor = 1 / (1 + n)

``n`` and the floor are reported with every p. The admissible dates of an event depend
only on its ticker's data, its own day 0, the caller's exclusion set for that ticker,
``min_gap``, ``until`` and the spec -- never on the other events of the call -- so one
(ticker, day 0, window, spec) has one p everywhere.

Seeded resampling (``placebo_method="resample"``, :func:`placebo_pvalues`)
-------------------------------------------------------------------------
For every estimated event we draw ``n_draws`` pseudo day-0 sessions from the same
ticker's own history and recompute exactly the same statistic as for the real event:
the single-event CAR t-statistic of each window, each pseudo-event with its **own**
estimation window (relative days ``[start, end]`` of the spec, its own alpha, beta and
sigma). All pseudo-events of all events go through :func:`models.fit` as one stacked
batch (in chunks to bound memory). A pseudo-event is fully determined by its ticker and
day-0 row, so each distinct (ticker, row) pair is estimated once and shared by every
draw that hits it (draws repeat: they are with replacement, and a ticker's events share
its candidate dates); the numbers are identical to estimating every draw separately.

Candidate pseudo dates for ticker ``k`` are rows ``p`` of the returns panel with

* a full estimation window inside the ticker's data: ``p + est.start`` on or after the
  ticker's first finite return, and the event span ``[p + tmin, p + tmax]`` on or before
  its last finite return (``tmin, tmax`` = union of the event windows);
* no overlap with any actual event of that ticker in the events table:
  ``|p - q| > buffer`` for each actual day-0 row ``q`` (default ``buffer = tmax - tmin``,
  so the pseudo and actual event spans are disjoint).

Draws are uniform **with replacement** among the candidates. Pseudo-events that cannot
be estimated (fewer than ``min_obs`` valid returns) or whose window has a missing
return are discarded; ``n_valid`` counts the rest.

p-value (two-sided, Davison-Hinkley / North et al. 2002 "+1" estimator, never 0)::

    p_placebo = (1 + #{ |t_pseudo| >= |t_actual| }) / (1 + n_valid)

so ``p_placebo`` lies in ``(0, 1]``; with 1000 draws the smallest attainable value is
about 0.001. The candidates come from the rows of the returns panel given to the
engine: pass the ticker's full history (not just a window around the event), otherwise
few candidate dates remain; the engine adds a note when an event has fewer than
:data:`MIN_CANDIDATES` distinct candidate dates.

Determinism: the draws of an event come from
``numpy.random.default_rng(SeedSequence([seed, crc32("TICKER|day0")]))``; the same seed,
ticker and day 0 give identical draws whatever the other events or their order (and two
article events on the same stock and day get the same p-value).

Volatility-aware placebo (``EventStudySpec(standardize="garch")``)
-------------------------------------------------------------------
With ``params`` (the events' GARCH(1,1) parameters from
:func:`research.eventstudy.garch.standardize`) both placebos compare the
GARCH-standardized CAR instead of the CAR t: ``t_actual`` holds the event's SCAR and
every pseudo date's statistic is its own SCAR -- its own estimation window, expected-
return fit and AR path, the conditional variance filtered through returns before each
day -- with the parameters of the real event it is compared with (so pseudo dates are
shared by the events of one ticker only when their parameters agree). The frames then
carry ``statistic = "garch_scar"``; ``size_t_05`` and ``t_crit_*`` refer to that
statistic. Without ``params`` and with ``standardize="garch"`` in the spec, each pseudo
date would be fitted on its own (a fit per date: correct, but slow).

References
----------
North, B. V., Curtis, D. and Sham, P. C. (2002). A note on the calculation of empirical
P values from Monte Carlo procedures. *Am. J. Human Genetics* 71, 439-441.
Brown, S. J. and Warner, J. B. (1980, 1985): simulation with pseudo-event dates.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from research.errors import SpecificationError
from research.eventstudy.chunks import chunk_bounds, run_chunks, share
from research.eventstudy.garch import standardize
from research.eventstudy.pipeline import (
    PanelSums,
    align_matrices,
    estimate,
    market_sums,
    screen,
    window_statistics,
)
from research.eventstudy.spec import EventStudySpec

__all__ = ["placebo_critical_values", "CRITICAL_LEVELS", "placebo_pvalues", "exact_placebo", "admissible_rows", "pseudo_statistics", "event_rng",
           "draw_key", "candidate_positions", "DEFAULT_DRAWS", "EVENT_CHUNK", "DRAWS_PER_ROUND", "exceedances",
           "pseudo_chunk", "PseudoPanel"]

DEFAULT_DRAWS = 1000
MIN_CANDIDATES = 100
_CHUNK = 20_000
#: events per round of the resampled placebo (:func:`placebo_pvalues`) ...
EVENT_CHUNK = 2_000
#: ... and at most this many draws per round (fewer events when each has many draws)
DRAWS_PER_ROUND = 2_000_000


def draw_key(ticker: str, day0: object) -> str:
    """Seed key of an event's resampled draws: ``"TICKER|YYYY-MM-DD"`` (ticker and day 0).

    A key into the random stream, not an id (ids use
    :func:`research.eventstudy.events.combined_id`); its bytes are part of the seed, so it
    stays as it is to keep earlier resampled p-values reproducible."""
    return f"{ticker}|{pd.Timestamp(day0):%Y-%m-%d}"


def event_rng(seed: int, key: str) -> np.random.Generator:
    """The seeded generator of one event's draws (independent of other events).

    ``key`` is :func:`draw_key` of the event, so two events with the same ticker and
    day 0 (same t-statistic) get the same draws and the same ``p_placebo``.
    """
    key = zlib.crc32(str(key).encode("utf-8"))
    return np.random.default_rng(np.random.SeedSequence([int(seed) & 0xFFFFFFFF, key]))


def candidate_positions(finite: np.ndarray, actual_pos: np.ndarray, spec: EventStudySpec,
                        buffer: int | None = None) -> np.ndarray:
    """Admissible pseudo day-0 rows for one ticker (see the module docstring).

    Parameters
    ----------
    finite : (D,) bool, the ticker's finite returns by panel row.
    actual_pos : day-0 rows of the ticker's actual events (>= 0).
    """
    tmin, tmax = spec.event_span
    buf = (tmax - tmin) if buffer is None else int(buffer)
    rows = np.flatnonzero(finite)
    if rows.size == 0:
        return rows
    first, last = rows[0], rows[-1]
    d = finite.shape[0]
    p = np.arange(d)
    ok = (p + spec.estimation.start >= first) & (p + tmax <= last) & (p + tmin >= 0)
    if actual_pos.size:
        dist = np.abs(p[:, None] - actual_pos[None, :]).min(axis=1)
        ok &= dist > buf
    return p[ok]


def placebo_pvalues(
    events: pd.DataFrame,
    pos0: np.ndarray,
    col: np.ndarray,
    ok: np.ndarray,
    t_actual: np.ndarray,
    y_panel: np.ndarray,
    x_panel: np.ndarray | None,
    spec: EventStudySpec,
    *,
    n_draws: int = DEFAULT_DRAWS,
    seed: int = 0,
    rf: np.ndarray | None = None,
    buffer: int | None = None,
    chunk: int = EVENT_CHUNK,
    client: Any = None,
    params: np.ndarray | None = None,
) -> tuple[pd.DataFrame, np.ndarray]:
    """Placebo p-values of the CAR t-statistic for every event x window.

    Parameters
    ----------
    events : prepared events (``event_id``, ``ticker``), N rows.
    pos0, col : (N,) day-0 row and ticker column of each event in ``y_panel``.
    ok : (N,) events that were estimated (others get NaN).
    t_actual : (N, W) actual CAR t-statistics.
    y_panel : (D, M) returns; x_panel : (D, K) regressors or None; rf : (D,) or None.
    spec : the study's spec (same model, windows and estimation window).
    n_draws : pseudo-events per event (default 1000). seed : int.
    buffer : minimum distance in sessions from any actual event of the ticker
        (default: the event span's length minus one).
    chunk : events whose draws are evaluated at once (default :data:`EVENT_CHUNK`, and
        at most :data:`DRAWS_PER_ROUND` draws): the working arrays are
        ``chunk x n_draws x W``, whatever the number of events. The pseudo statistics are
        kept in a (sessions x tickers x W) table, each computed once; the p-values do not
        depend on ``chunk``.
    client : dask.distributed.Client, optional
        Compute the pseudo statistics of every candidate date of the events' tickers up
        front as Dask tasks (:func:`pseudo_statistics`); the p-values are the same.
    params : (N, 3) GARCH parameters of the events, optional: compare GARCH-standardized
        CARs (``t_actual`` then holds the events' SCARs; see the module docstring).

    Returns
    -------
    (detail frame, p (N, W))
        The frame has ``event_id, window_start, window_end, t_actual, n_draws,
        n_candidates`` (distinct admissible pseudo dates), ``n_valid, n_exceed,
        p_placebo`` (one row per event x window).
    """
    if isinstance(n_draws, bool) or not isinstance(n_draws, (int, np.integer)) or n_draws < 1:
        raise SpecificationError(
            f"placebo draws must be a positive whole number (default 1000), got {n_draws!r}"
        )
    n, w = t_actual.shape
    finite_cols = np.isfinite(y_panel)
    if x_panel is not None:
        finite_cols &= np.isfinite(x_panel).all(axis=1)[:, None]
    tickers = events["ticker"].astype(str).to_numpy()
    ids = events["event_id"].astype(str).to_numpy()
    todo = np.flatnonzero(ok)
    # A pseudo event is fully determined by (ticker column, day-0 row): its statistics go
    # into a table over the estimated events' tickers, each computed once, when first drawn
    used, slot, slot_par = _slots(col[todo], None if params is None else np.asarray(params, float)[todo])
    d_rows = y_panel.shape[0]
    table = np.full((d_rows, used.size, w), np.nan)
    done = np.zeros((d_rows, used.size), dtype=bool)
    actual = _positions_by_column(col, pos0, used)
    cands = [candidate_positions(finite_cols[:, c], actual[k], spec, buffer) for k, c in enumerate(used)]
    sums = market_sums(y_panel, x_panel, spec, rf) if todo.size else None
    if client is not None and used.size:  # every candidate at once, on the cluster
        r_all = np.concatenate(cands)
        s_all = np.repeat(np.arange(used.size), [c.size for c in cands])
        table[r_all, s_all] = pseudo_statistics(y_panel, x_panel, used[s_all], r_all, spec, rf,
                                                sums=sums, client=client, params=_take(slot_par, s_all))
        done[r_all, s_all] = True
    n_cand = np.zeros(n, dtype=np.int64)
    p = np.full((n, w), np.nan)
    nv = np.zeros((n, w), dtype=np.int64)
    ne = np.zeros((n, w), dtype=np.int64)
    chunk = max(1, min(int(chunk), DRAWS_PER_ROUND // n_draws))
    for a in range(0, todo.size, chunk):  # memory bounded by the chunk (and the table)
        ev_idx, sl = todo[a:a + chunk], slot[a:a + chunk]
        draws = np.full((ev_idx.size, n_draws), -1, dtype=np.int64)
        for j, (i, k) in enumerate(zip(ev_idx, sl, strict=True)):  # one rng per event (cheap)
            n_cand[i] = cands[k].size
            if cands[k].size:
                rng = event_rng(seed, draw_key(tickers[i], events["day0"].iat[i]))
                draws[j] = rng.choice(cands[k], size=n_draws, replace=True)
        rows, cols = np.maximum(draws, 0), np.broadcast_to(sl[:, None], draws.shape)
        new = np.unique((rows * used.size + cols)[(draws >= 0) & ~done[rows, cols]])
        if new.size:
            r_new, s_new = new // used.size, new % used.size
            table[r_new, s_new] = pseudo_statistics(y_panel, x_panel, used[s_new], r_new, spec, rf, sums=sums,
                                                    params=_take(slot_par, s_new))
            done[r_new, s_new] = True
        nv[ev_idx], ne[ev_idx], p[ev_idx] = exceedances(
            np.where((draws >= 0)[:, :, None], table[rows, cols], np.nan), t_actual[ev_idx])
    frame = pd.DataFrame({
        "event_id": pd.array(np.repeat(ids, w), dtype="str"),
        "window_start": np.tile([s for s, _ in spec.windows], n),
        "window_end": np.tile([e for _, e in spec.windows], n),
        "t_actual": t_actual.ravel(),
        "n_draws": np.where(np.repeat(ok, w), n_draws, 0),
        "n_candidates": np.repeat(n_cand, w),
        "n_valid": nv.ravel(),
        "n_exceed": ne.ravel(),
        "p_placebo": p.ravel(),
        "p_floor": np.where(nv.ravel() > 0, 1.0 / (1.0 + nv.ravel()), np.nan),
        "method": pd.array(["resample"] * (n * w), dtype="str"),
    })
    return _label(frame, params), p


def _slots(cols: np.ndarray, params: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """The pseudo-statistics table's slots: one per ticker column (plain statistics), or
    per (ticker column, GARCH parameters) when ``params`` (n, 3) are given. Returns the
    slots' columns, each event's slot and the slots' parameters (or None)."""
    if params is None:
        used, slot = np.unique(cols, return_inverse=True)
        return used, slot.ravel(), None
    key = np.column_stack([cols.astype(float), np.nan_to_num(params, nan=-1.0)])
    uniq, slot = np.unique(key, axis=0, return_inverse=True)
    par = np.where(uniq[:, 1:] == -1.0, np.nan, uniq[:, 1:])
    return uniq[:, 0].astype(np.int64), slot.ravel(), par


def _take(a: np.ndarray | None, idx: np.ndarray) -> np.ndarray | None:
    return None if a is None else a[idx]


def _label(frame: pd.DataFrame, params: np.ndarray | None) -> pd.DataFrame:
    """Name the compared statistic in the frame when it is not the plain CAR t."""
    if params is not None:
        frame["statistic"] = pd.array(["garch_scar"] * len(frame), dtype="str")
    return frame


def exceedances(t_pseudo: np.ndarray, t_actual: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Placebo counts of N events from their pseudo statistics.

    Parameters
    ----------
    t_pseudo : (N, draws, W) pseudo-event t-statistics, NaN where undefined.
    t_actual : (N, W) the events' own t-statistics.

    Returns
    -------
    (n_valid, n_exceed, p) each (N, W): defined pseudo statistics, those with
    ``|t_pseudo| >= |t_actual|``, and ``p = (1 + n_exceed) / (1 + n_valid)`` (NaN when
    ``t_actual`` is NaN or no pseudo statistic is defined).
    """
    valid = np.isfinite(t_pseudo)
    n_valid = valid.sum(axis=1)
    with np.errstate(invalid="ignore"):
        n_exceed = (valid & (np.abs(t_pseudo) >= np.abs(t_actual)[:, None, :])).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = np.where(np.isfinite(t_actual) & (n_valid > 0), (1.0 + n_exceed) / (1.0 + n_valid), np.nan)
    return n_valid, n_exceed, p


def pseudo_statistics(y_panel: np.ndarray, x_panel: np.ndarray | None, col: np.ndarray, pos0: np.ndarray,
                      spec: EventStudySpec, rf: np.ndarray | None = None, *, chunk: int = _CHUNK,
                      sums: PanelSums | None = None, client: Any = None,
                      params: np.ndarray | None = None) -> np.ndarray:
    """(N, W) CAR t-statistics of pseudo-events (ticker column, day-0 row) through the
    pipeline, in chunks of ``chunk`` events; NaN where a pseudo-event cannot be
    estimated or a window is incomplete. ``sums``: the panel's
    :func:`~research.eventstudy.pipeline.market_sums` when the caller has them.
    ``client``: a ``dask.distributed.Client``; the panel is scattered once and each
    chunk is a task (:func:`research.eventstudy.chunks.run_chunks`), same numbers.
    ``params``: (N, 3) GARCH parameters per pseudo-event: their GARCH-standardized CARs
    (:func:`research.eventstudy.garch.standardize`) instead of the CAR t."""
    w = len(spec.windows)
    out = np.full((len(pos0), w), np.nan)
    if not len(pos0):
        return out
    if sums is None:
        sums = market_sums(y_panel, x_panel, spec, rf)
    shared = share(PseudoPanel(y_panel, x_panel, rf, sums), client)
    bounds = chunk_bounds(len(pos0), chunk)
    def args(a: int, b: int) -> tuple:
        return (col[a:b], pos0[a:b], spec) + (() if params is None else (params[a:b],))

    for (a, b), t in zip(bounds, run_chunks(pseudo_chunk, bounds, shared, args, client), strict=True):
        out[a:b] = t
    return out


@dataclass(frozen=True)
class PseudoPanel:
    """What :func:`pseudo_chunk` reads: returns (D, M), regressors (D, K) or None, the
    risk-free rate (D,) or None and the market model's running sums (shipped once to
    every Dask worker)."""

    y: np.ndarray
    x: np.ndarray | None
    rf: np.ndarray | None
    sums: PanelSums | None


def pseudo_chunk(pan: PseudoPanel, col: np.ndarray, pos0: np.ndarray, spec: EventStudySpec,
                 params: np.ndarray | None = None) -> np.ndarray:
    """(n, W) CAR t-statistics of one chunk of pseudo-events (NaN where undefined); with
    ``params`` (n, 3), or a spec with ``standardize="garch"``, their GARCH-standardized
    CARs (:func:`research.eventstudy.garch.standardize`)."""
    if params is not None or spec.standardize == "garch":
        return standardize(pan.y, pan.x, col, pos0, spec, pan.rf, sums=pan.sums, params=params).scar
    out = np.full((len(pos0), len(spec.windows)), np.nan)
    al = align_matrices(pan.y, pan.x, col, pos0, spec, pan.rf, pan.sums)
    good, _ = screen(al, spec)
    gi = np.flatnonzero(good)
    if gi.size:
        out[gi] = window_statistics(estimate(al.take(gi), spec), spec, bhar=False, pvalues=False)["t_stat"]
    return out


def admissible_rows(finite: np.ndarray, spec: EventStudySpec, *, exclude_rows: Iterable[int] = (),
                    min_gap: int | None = None, last_row: int | None = None,
                    span: tuple[int, int] | None = None) -> np.ndarray:
    """Admissible pseudo day-0 rows of one ticker: THE definition for the exact placebo.

    A panel row ``p`` is admissible when

    1. the full estimation window and the pseudo event span lie inside the ticker's data:
       ``p + est.start >= first`` and ``p + tmax <= last`` (``first``/``last`` the rows of
       the ticker's first and last finite return; ``tmin, tmax`` the event span);
    2. it is at least ``min_gap`` sessions from every excluded row: ``|p - q| >= min_gap``
       (default ``tmax - tmin + 1``: the pseudo and the excluded event spans are disjoint);
    3. its pseudo event span ends on or before ``last_row`` when given (the ``until``
       date: only history known at the as-of date).

    Pseudo-events that are admissible but cannot be estimated (fewer than ``min_obs``
    valid returns) or whose window misses a return are not counted in ``n``.

    Parameters
    ----------
    finite : (D,) bool, the ticker's finite returns by panel row.
    exclude_rows : panel rows of excluded dates (the article's catalogued events of the
        ticker, and the event's own day 0).
    min_gap : sessions, default ``tmax - tmin + 1``.
    last_row : last panel row a pseudo event span may use; None = all history.
    span : (tmin, tmax) relative days the pseudo event span must cover (default
        ``spec.event_span``; :func:`exact_placebo` passes the shortest window's end and
        applies each window's own end, so a window's p-value does not depend on the
        other windows of the study).
    """
    tmin, tmax = spec.event_span if span is None else span
    gap = (tmax - tmin + 1) if min_gap is None else int(min_gap)
    if gap < 0:
        raise SpecificationError(f"min_gap must be >= 0 sessions, got {min_gap!r}")
    rows = np.flatnonzero(finite)
    if rows.size == 0:
        return rows
    first, last = rows[0], rows[-1]
    if last_row is not None:
        last = min(last, int(last_row))
    p = np.arange(finite.shape[0])
    ok = (p + spec.estimation.start >= first) & (p + tmax <= last) & (p + min(tmin, 0) >= 0)
    q = np.unique(np.asarray(list(exclude_rows), dtype=np.int64))
    if q.size and gap > 0:
        j = np.searchsorted(q, p)  # nearest excluded rows on each side
        left = np.abs(p - q[np.maximum(j - 1, 0)])
        right = np.abs(q[np.minimum(j, q.size - 1)] - p)
        ok &= np.minimum(left, right) >= gap
    return p[ok]


#: Levels at which :func:`exact_placebo` reports the placebo critical |t| (``t_crit_01``, ...).
CRITICAL_LEVELS: tuple[float, ...] = (0.01, 0.05, 0.10)
_Z05 = 1.959963984540054  # two-sided 5% normal critical value (the t's df are >= 118 here)


def _positions_by_column(col: np.ndarray, pos0: np.ndarray, cols: np.ndarray) -> list[np.ndarray]:
    """Day-0 rows (>= 0) of the events in each column of ``cols`` (one sort, not a scan
    of every event per column)."""
    have = np.flatnonzero(pos0 >= 0)
    order = have[np.argsort(col[have], kind="stable")]
    sc = col[order]
    lo, hi = np.searchsorted(sc, cols, side="left"), np.searchsorted(sc, cols, side="right")
    return [pos0[order[a:b]] for a, b in zip(lo, hi, strict=True)]


def placebo_critical_values(abs_t: np.ndarray, levels: Iterable[float]) -> np.ndarray:
    """The smallest |t| an event must *exceed* for its exact placebo p-value to be at most
    each level: with the n pseudo |t| sorted descending ``a_1 >= ... >= a_n`` and
    ``j = floor(level * (1 + n)) - 1`` (the most pseudo values that may reach |t|), it is
    ``a_{j+1}`` (``a_{n+1}`` = 0); ``inf`` when even ``j = 0`` is too many (n too small:
    the floor ``1/(1+n)`` is above the level); NaN without pseudo dates.
    """
    a = np.sort(np.asarray(abs_t, dtype=float))[::-1]
    n = a.size
    if n == 0:
        return np.full(len(tuple(levels)), np.nan)
    out = []
    for lev in levels:
        j = int(np.floor(lev * (1 + n) + 1e-12)) - 1
        out.append(np.inf if j < 0 else (a[j] if j < n else 0.0))
    return np.array(out, dtype=float)


def _last_usable(finite: np.ndarray, last_row: int | None) -> int:
    """The last panel row a pseudo window may use: the ticker's last finite return, or
    ``last_row`` (the ``until`` date) when earlier."""
    rows = np.flatnonzero(finite)
    last = int(rows[-1]) if rows.size else -1
    return last if last_row is None else min(last, int(last_row))


def _rows_of_dates(index: pd.DatetimeIndex, dates: object) -> np.ndarray:
    """Panel rows of dates: the date's session row, else the next one (as day 0)."""
    d = pd.DatetimeIndex(pd.to_datetime(pd.Series(list(dates), dtype=object), errors="coerce"))
    d = d[~d.isna()]
    return np.searchsorted(index.to_numpy(dtype="datetime64[ns]"), d.to_numpy(dtype="datetime64[ns]"))


def exact_placebo(
    event_ids: np.ndarray,
    pos0: np.ndarray,
    col: np.ndarray,
    ok: np.ndarray,
    t_actual: np.ndarray,
    y_panel: np.ndarray,
    x_panel: np.ndarray | None,
    spec: EventStudySpec,
    *,
    index: pd.DatetimeIndex,
    columns: Iterable[str],
    exclude: Mapping[str, Iterable[object]] | None = None,
    min_gap: int | None = None,
    until: object = None,
    rf: np.ndarray | None = None,
    client: Any = None,
    params: np.ndarray | None = None,
) -> pd.DataFrame:
    """Exact placebo p-values of the CAR t-statistic over every admissible pseudo date.

    Parameters
    ----------
    event_ids : (N,) ids; pos0, col : (N,) day-0 row and ticker column in ``y_panel``.
    ok : (N,) events that were estimated (others get NaN).
    t_actual : (N, W) the events' CAR t-statistics.
    y_panel : (D, M) returns; x_panel : (D, K) regressors or None; rf : (D,) or None.
    spec : the study's spec (model, windows, estimation window).
    index, columns : the panel's session dates and ticker names.
    exclude : ticker -> dates to keep pseudo dates away from (e.g. every catalogued
        event of the article for that ticker); the event's own day 0 is always excluded.
    min_gap : sessions between a pseudo day 0 and an excluded date (default: the event
        span's length, so the spans are disjoint); see :func:`admissible_rows`.
    until : date or None. Pseudo event spans end on or before it (the as-of date);
        None uses all history.
    client : dask.distributed.Client, optional
        Compute the pseudo statistics as Dask tasks (:func:`pseudo_statistics`).
    params : (N, 3) GARCH parameters of the events, optional: compare GARCH-standardized
        CARs (``t_actual`` then holds the events' SCARs; see the module docstring).

    Returns
    -------
    pandas.DataFrame, one row per event x window (event order, then window order):
    ``event_id, window_start, window_end, t_actual, n_draws`` (admissible dates),
    ``n_candidates`` (same), ``n_valid`` (= n, dates whose statistic is defined),
    ``n_exceed, p_placebo, p_floor`` (= 1/(1+n)), ``method`` ("exact").
    """
    n, w = t_actual.shape
    columns = [str(c) for c in columns]
    last_row = None
    if until is not None:
        last_row = int(np.searchsorted(index.to_numpy(dtype="datetime64[ns]"),
                                       np.datetime64(pd.Timestamp(until), "ns"), side="right")) - 1
    finite = np.isfinite(y_panel)
    if x_panel is not None:
        finite &= np.isfinite(x_panel).all(axis=1)[:, None]
    tmin, tmax = spec.event_span
    gap = (tmax - tmin + 1) if min_gap is None else int(min_gap)
    todo = np.flatnonzero(ok & (pos0 >= 0))
    # one pseudo-event study per (ticker, admissible row), shared by the ticker's events
    cand: dict[int, np.ndarray] = {}
    for c in np.unique(col[todo]):
        excl = _rows_of_dates(index, (exclude or {}).get(columns[c], ()))
        cand[int(c)] = admissible_rows(finite[:, c], spec, exclude_rows=excl, min_gap=gap, last_row=last_row,
                                       span=(tmin, min(b for _, b in spec.windows)))
    ends = np.array([b for _, b in spec.windows], dtype=np.int64)
    last_of = {c: _last_usable(finite[:, c], last_row) for c in cand}
    keys = list(cand)
    all_rows = np.concatenate([cand[c] for c in keys]) if keys else np.zeros(0, np.int64)
    all_cols = np.concatenate([np.full(cand[c].size, c) for c in keys]) if keys else np.zeros(0, np.int64)
    if params is None:
        t_all = pseudo_statistics(y_panel, x_panel, all_cols, all_rows, spec, rf, client=client)
        offs = dict(zip(keys, np.cumsum([0] + [cand[c].size for c in keys])[:-1], strict=True))
        stats_of = lambda i, c: t_all[offs[c]: offs[c] + cand[c].size]  # noqa: E731
    else:
        stats_of = _garch_stats(y_panel, x_panel, spec, rf, cand, np.asarray(params, float), client)
    n_cand = np.zeros(n, dtype=np.int64)
    n_valid = np.zeros((n, w), dtype=np.int64)
    n_exceed = np.zeros((n, w), dtype=np.int64)
    n_size = np.zeros((n, w), dtype=np.int64)
    crit = np.full((n, w, len(CRITICAL_LEVELS)), np.nan)
    for i in todo:
        c = int(col[i])
        rows = cand[c]
        ts = stats_of(i, c)
        keep = np.abs(rows - pos0[i]) >= max(gap, 1)  # never the event's own date
        tk = ts[keep]
        # each window counts the pseudo dates whose own window ends by the last usable row
        valid = np.isfinite(tk) & (rows[keep][:, None] + ends[None, :] <= last_of[c])
        n_cand[i] = int(keep.sum())
        nv_i, ne_i, _ = exceedances(np.where(valid, tk, np.nan)[None], t_actual[i][None])
        n_valid[i], n_exceed[i] = nv_i[0], ne_i[0]
        with np.errstate(invalid="ignore"):
            n_size[i] = (valid & (np.abs(tk) > _Z05)).sum(axis=0)
        for j in range(w):
            crit[i, j] = placebo_critical_values(np.abs(tk[valid[:, j], j]), CRITICAL_LEVELS)
    live = ok[:, None] & (pos0 >= 0)[:, None] & np.isfinite(t_actual) & (n_valid > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = np.where(live, (1.0 + n_exceed) / (1.0 + n_valid), np.nan)
        floor = np.where(n_valid > 0, 1.0 / (1.0 + n_valid), np.nan)
    return _label(pd.DataFrame({
        "event_id": pd.array(np.repeat(np.asarray(event_ids).astype(str), w), dtype="str"),
        "window_start": np.tile([s for s, _ in spec.windows], n),
        "window_end": np.tile([e for _, e in spec.windows], n),
        "t_actual": t_actual.ravel(),
        "n_draws": np.repeat(n_cand, w),
        "n_candidates": np.repeat(n_cand, w),
        "n_valid": n_valid.ravel(),
        "n_exceed": n_exceed.ravel(),
        "p_placebo": p.ravel(),
        "p_floor": floor.ravel(),
        "method": pd.array(["exact"] * (n * w), dtype="str"),
        # the plain t-test's real size on this ticker: share of its pseudo dates with |t| > 1.96
        "size_t_05": np.where(n_valid > 0, n_size / np.maximum(n_valid, 1), np.nan).ravel(),
        **{f"t_crit_{round(a * 100):02d}": crit[:, :, k].ravel() for k, a in enumerate(CRITICAL_LEVELS)},
    }), params)


def _garch_stats(y_panel: np.ndarray, x_panel: np.ndarray | None, spec: EventStudySpec,
                 rf: np.ndarray | None, cand: dict[int, np.ndarray], params: np.ndarray, client: Any):
    """``stats_of(i, c)``: the GARCH-standardized CARs of ticker ``c``'s admissible rows
    with event ``i``'s parameters, computed once per (ticker, parameters)."""
    memo: dict[tuple, np.ndarray] = {}
    sums = market_sums(y_panel, x_panel, spec, rf)

    def stats_of(i: int, c: int) -> np.ndarray:
        key = (c, *np.nan_to_num(params[i], nan=-1.0).tolist())
        if key not in memo:
            rows = cand[c]
            memo[key] = pseudo_statistics(y_panel, x_panel, np.full(rows.size, c), rows, spec, rf, sums=sums,
                                          client=client, params=np.broadcast_to(params[i], (rows.size, 3)))
        return memo[key]
    return stats_of
