"""Chunks of events: the per-chunk work of :func:`research.eventstudy.run_event_study`.

``run_event_study(..., chunk_size=k)`` cuts the events into consecutive chunks of ``k``
and runs on each, independently, the pipeline (align -> screen -> estimate -> window
statistics, :func:`chunk_pass`); the per-event results are copied into the study's
arrays and each chunk's share of the cross-sectional battery
(:func:`research.eventstudy.stats.battery_part`: per-event O(T) arrays and fixed-size
sums) is kept, so the working memory of the estimation step is bounded by the chunk,
not by the number of events. The generalized rank test needs a second pass
(:func:`chunk_grank`). :func:`run_chunks` runs the chunks in this process or as tasks
on a ``dask.distributed`` client; either way the results come back in chunk order, so
the combination -- and the result -- is the same.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from research.eventstudy import stats as _stats
from research.eventstudy.pipeline import (
    AlignedData,
    Estimate,
    PanelSums,
    ScreenReason,
    align_matrices,
    estimate,
    first_occurrence,
    screen,
    window_statistics,
)
from research.eventstudy.spec import EventStudySpec

__all__ = ["ChunkOut", "StudyPanel", "chunk_bounds", "chunk_grank", "chunk_pass", "first_mask",
           "fit_caveats", "per_event_arrays", "run_chunks", "share", "skip_reasons"]


@dataclass(frozen=True)
class StudyPanel:
    """The returns panel of a study as arrays, and each event's place in it (read-only;
    shipped once to every Dask worker)."""

    returns: pd.DataFrame
    volume: pd.DataFrame | None
    unknown: list[str]
    y: np.ndarray  # (D, M)
    x: np.ndarray | None  # (D, K)
    rf: np.ndarray | None  # (D,)
    col: np.ndarray  # (N,) ticker column, -1 unknown
    pos0: np.ndarray  # (N,) day-0 row, -1 unknown
    sums: PanelSums | None = None  # the market model's running sums (pipeline.market_sums)


def per_event_arrays(n: int, idx: np.ndarray, est: Estimate | None, spec: EventStudySpec) -> dict[str, np.ndarray]:
    """Per-event arrays (n rows, NaN for skipped events): the model, AR, window
    statistics and the CAR path (windows from the first event day to each day)."""
    t_len = spec.event_span[1] - spec.event_span[0] + 1
    w = len(spec.windows)
    k = max(len(spec.factor_columns), 1)
    out: dict[str, np.ndarray] = {
        "alpha": np.full(n, np.nan), "beta": np.full((n, k), np.nan), "sigma": np.full(n, np.nan),
        "r2": np.full(n, np.nan), "n_obs": np.zeros(n, dtype=np.int64),
        "ar": np.full((n, t_len), np.nan), "path_car": np.full((n, t_len), np.nan),
        "path_se": np.full((n, t_len), np.nan), "complete": np.zeros((n, w), dtype=bool),
        **{c: np.full((n, w), np.nan) for c in ("car", "bhar", "car_se", "t_stat", "p_value")},
    }
    if est is None:
        return out
    for c in ("alpha", "sigma", "r2", "n_obs", "ar"):
        out[c][idx] = getattr(est, c)
    out["beta"][idx, : est.beta.shape[1]] = est.beta
    ws = window_statistics(est, spec, path=True)
    for c in ("car", "bhar", "car_se", "t_stat", "p_value", "complete", "path_car", "path_se"):
        out[c][idx] = ws[c]
    return out


def fit_caveats(reasons: list[str], idx: np.ndarray, est: Estimate, complete: np.ndarray,
                 spec: EventStudySpec) -> None:
    """Caveats of estimated events, written into ``reasons`` (short estimation window,
    missing event-span returns, zero residual variance)."""
    for j in np.flatnonzero(est.n_obs < spec.estimation.length):
        reasons[idx[j]] = (f"estimated on {int(est.n_obs[j])} of {spec.estimation.length} "
                           "estimation days (missing returns or listed during the window)")
    for j in np.flatnonzero(~complete.all(axis=1)):
        miss = int((~np.isfinite(est.ar[j])).sum())
        reasons[idx[j]] = (f"{miss} missing return(s) in the event span; CAR is NaN for windows "
                           "that contain them")
    for j in np.flatnonzero(~(est.sigma > 0)):
        reasons[idx[j]] = ("zero residual variance in the estimation window (e.g. the market proxy "
                           "itself): t-statistics undefined; left out of the cross-sectional "
                           "aggregates (aar, tests)")


def skip_reasons(ev: pd.DataFrame, code: np.ndarray, col: np.ndarray, pos0: np.ndarray,
             returns: pd.DataFrame, al: AlignedData, spec: EventStudySpec,
             unknown: list[str]) -> list[str]:
    """Human-readable reason per event (loops only over the skipped ones)."""
    out = [""] * len(ev)
    est = spec.estimation
    idx_dates = returns.index
    skipped = np.flatnonzero(code != ScreenReason.OK)
    sk = al.take(skipped)  # only the skipped events' windows are read
    row = {int(i): j for j, i in enumerate(skipped)}
    first_valid = returns.apply(lambda s: s.first_valid_index()) if skipped.size else {}
    for i in skipped:
        t = ev["ticker"].iat[i]
        d0 = ev["day0"].iat[i]
        if code[i] == ScreenReason.NO_DAY0:
            if ev["align_error"].iat[i]:
                out[i] = ev["align_error"].iat[i]
            elif col[i] < 0:
                out[i] = (f"ticker {t} is not in the returns data"
                          + (" (unknown to the data source)" if t in unknown else "")
                          + "; add it or drop the event")
            elif pd.isna(d0):
                out[i] = "day 0 unknown"
            elif d0 > idx_dates[-1]:
                out[i] = (f"day 0 {d0:%Y-%m-%d} is after the end of the data "
                          f"({idx_dates[-1]:%Y-%m-%d})")
            elif d0 < idx_dates[0]:
                out[i] = (f"day 0 {d0:%Y-%m-%d} is before the start of the data "
                          f"({idx_dates[0]:%Y-%m-%d})")
            else:
                out[i] = f"day 0 {d0:%Y-%m-%d} is not a session (row) of the returns data"
            continue
        j = row[int(i)]
        nv = int((np.isfinite(sk.y_est[j]) & (np.isfinite(sk.x_est[j]).all(-1)
                                              if sk.x_est is not None else True)).sum())
        fv = first_valid.get(t)
        est_start_pos = pos0[i] + est.start
        if code[i] == ScreenReason.NO_ESTIMATION_DATA:
            if fv is not None and not pd.isna(fv) and fv > d0:
                out[i] = (f"{t} has no returns before {fv:%Y-%m-%d} (not listed yet / outside "
                          f"coverage) but day 0 is {d0:%Y-%m-%d}: no estimation data")
            else:
                out[i] = (f"all {est.length} estimation-window returns of {t} are NaN; "
                          "check the price data")
        elif code[i] == ScreenReason.TOO_FEW_OBSERVATIONS:
            if fv is None or pd.isna(fv):
                out[i] = f"{t} has no returns at all in the data"
            elif est_start_pos < 0 or fv > idx_dates[max(est_start_pos, 0)]:
                out[i] = (f"{t} not listed (no data) before {fv:%Y-%m-%d}: only {nv} valid "
                          f"estimation returns, fewer than min_obs={est.min_obs}; lower "
                          "EstimationWindow.min_obs or drop the event")
            else:
                out[i] = (f"only {nv} valid estimation returns (stock and regressors), fewer "
                          f"than min_obs={est.min_obs}")
        elif code[i] == ScreenReason.ZERO_VARIANCE_REGRESSOR:
            out[i] = (spec.expected_return.regressor_phrase(spec.market)
                      + "has zero variance in the estimation window: the model cannot be "
                      "estimated; use model='market_adjusted' or another proxy")
        elif code[i] == ScreenReason.COLLINEAR_FACTORS:
            out[i] = "factor regressors are collinear in the estimation window"
    return out


def chunk_bounds(n: int, chunk_size: int | None) -> list[tuple[int, int]]:
    """Consecutive ``[a, b)`` row ranges of at most ``chunk_size`` events (one range for
    ``None``); at least one range, empty when ``n == 0``."""
    if not chunk_size or n <= chunk_size:
        return [(0, n)]
    return [(a, min(a + chunk_size, n)) for a in range(0, n, chunk_size)]


def first_mask(pan: StudyPanel) -> tuple[np.ndarray, np.ndarray]:
    """(first (N,) bool, first_idx (N,)): whether each event is the first with its
    (ticker, day 0), and the index of that first one. Events with the same ticker and
    day 0 align to the same data, so they are estimated (or skipped) alike: deciding
    repeats over all events at once is the same as deciding them among the estimated."""
    first_idx = first_occurrence(pan.col, pan.pos0)
    return first_idx == np.arange(pan.col.size), first_idx


@dataclass(frozen=True)
class ChunkOut:
    """One chunk's results (:func:`chunk_pass`); arrays have the chunk's rows."""

    ok: np.ndarray  #: (n,) estimated
    reasons: list[str]  #: skip reasons and fit caveats
    per: dict[str, np.ndarray]  #: :func:`per_event_arrays`
    agg: np.ndarray  #: (n,) counted in the cross-sectional aggregates
    part: Any = None  #: :class:`research.eventstudy.stats.BatteryPart` (several chunks)
    inp: Any = None  #: the chunk's :class:`research.eventstudy.stats.BatteryInput` (one chunk)


def _estimate_chunk(pan: StudyPanel, a: int, b: int, first: np.ndarray, spec: EventStudySpec):
    """Align, screen and estimate events ``a:b``; ``keep`` marks the estimated events
    counted in the aggregates (positive sigma, first of their ticker and day 0)."""
    col, pos0 = pan.col[a:b], pan.pos0[a:b]
    al = align_matrices(pan.y, pan.x, np.maximum(col, 0), pos0, spec, pan.rf, pan.sums)
    ok, code = screen(al, spec)
    idx = np.flatnonzero(ok)
    est = estimate(al.take(idx), spec) if idx.size else None
    keep = first[idx] & (est.sigma > 0) if est is not None else np.zeros(0, bool)
    return al, ok, code, idx, est, keep


def _battery_input(est: Estimate, keep: np.ndarray, spec: EventStudySpec) -> Any:
    return (est if keep.all() else est.take(keep)).battery_input(spec)


def chunk_pass(pan: StudyPanel, ev: pd.DataFrame, a: int, b: int, first: np.ndarray,
               spec: EventStudySpec, battery_tests: tuple[str, ...] | None, whole: bool) -> ChunkOut:
    """The pipeline on events ``a:b`` (``ev`` their rows, ``first`` their slice of
    :func:`first_mask`). ``battery_tests``: the battery's tests (None = all, () = none);
    ``whole``: the chunk is the whole study, so its battery input is kept as it is
    instead of its :class:`~research.eventstudy.stats.BatteryPart`."""
    al, ok, code, idx, est, keep = _estimate_chunk(pan, a, b, first, spec)
    reasons = skip_reasons(ev, code, pan.col[a:b], pan.pos0[a:b], pan.returns, al, spec, pan.unknown)
    per = per_event_arrays(b - a, idx, est, spec)
    agg = np.zeros(b - a, dtype=bool)
    if est is None:
        return ChunkOut(ok, reasons, per, agg)
    fit_caveats(reasons, idx, est, per["complete"][idx], spec)
    agg[idx[keep]] = True
    if battery_tests == () or not keep.any():
        return ChunkOut(ok, reasons, per, agg)
    inp = _battery_input(est, keep, spec)
    if whole:
        return ChunkOut(ok, reasons, per, agg, inp=inp)
    return ChunkOut(ok, reasons, per, agg, part=_stats.battery_part(inp, battery_tests))


def chunk_grank(pan: StudyPanel, a: int, b: int, first: np.ndarray, spec: EventStudySpec,
                windows: list[tuple[int, int]], scale: np.ndarray) -> tuple[np.ndarray, ...] | None:
    """The generalized rank test's second pass on events ``a:b``: the chunk is estimated
    again (its estimation residuals are not kept between passes) and
    :func:`research.eventstudy.stats.grank_sums` taken with the study-wide ``scale``.
    None when the chunk has no event in the aggregates."""
    _, _, _, _, est, keep = _estimate_chunk(pan, a, b, first, spec)
    if est is None or not keep.any():
        return None
    return _stats.grank_sums(_battery_input(est, keep, spec), windows, scale)


def share(pan: Any, client: Any = None) -> Any:
    """``pan`` (the study panel, or any input every chunk reads) as :func:`run_chunks`
    takes it: itself in process, or scattered once to every worker of ``client`` (a
    future that every round of chunks reuses)."""
    if client is None:
        return pan
    # hash=False: a fresh key per study, never raced by the release of another study's copy
    return client.scatter(pan, broadcast=True, hash=False)


def run_chunks(fn, bounds: list[tuple[int, int]], shared: Any, args_of, client: Any = None) -> Iterator:
    """``fn(shared, *args_of(a, b))`` for each chunk, results yielded in chunk order.

    Without ``client``: one chunk at a time in this process (only one chunk's working
    arrays alive at once). With a ``dask.distributed.Client``: ``shared`` is the panel
    from :func:`share` (already on every worker), each chunk is a task; results are
    gathered in chunk order and released, so the combination is the same as in process."""
    if client is None:
        for a, b in bounds:
            yield fn(shared, *args_of(a, b))
        return
    futures = [client.submit(fn, shared, *args_of(a, b), pure=False) for a, b in bounds]
    for f in futures:
        out = f.result()
        f.release()
        yield out
