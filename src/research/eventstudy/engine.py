"""The event-study engine: :func:`run_event_study`, a short composition of the pipeline.

``run_event_study`` turns a table of events into an :class:`EventStudyResult` with the
steps of :mod:`research.eventstudy.pipeline` (align -> screen -> estimate -> abnormal
returns -> window statistics), then the cross-sectional battery of
:mod:`research.eventstudy.stats` per day and per window, the optional placebo p-values
(:mod:`research.eventstudy.placebo`) and the result tables. Events that cannot be
estimated are kept (``status="skipped"`` with a reason).
"""

from __future__ import annotations

import dataclasses
import functools
import warnings
from typing import Any

import numpy as np
import pandas as pd

from research.errors import EventStudyError, SpecificationError, UnknownTickerError
from research.eventstudy import garch as _garch
from research.eventstudy import placebo as _placebo
from research.eventstudy import stats as _stats
from research.eventstudy.chunks import (
    StudyPanel,
    chunk_bounds,
    chunk_grank,
    chunk_pass,
    first_mask,
    per_event_arrays,
    run_chunks,
    share,
)
from research.eventstudy.events import align_days, expand_tickers, prepare_events, str_array
from research.eventstudy.pipeline import (
    align_matrices,
    load_return_panel,
    market_sums,
    regressor_array,
    risk_free,
    screen,
    validate_panel,
    window_index,
)
from research.eventstudy.result import (
    TEST_COLUMNS,
    EventStudyResult,
)
from research.eventstudy.spec import EventStudySpec
from research.eventstudy.volume import abnormal_volume_panel

# align_days, align_matrices, load_return_panel, prepare_events, screen, expand_tickers:
# re-exported from their pipeline modules for existing callers.
__all__ = ["run_event_study", "prepare_events", "load_return_panel", "expand_tickers", "align_days",
           "align_matrices", "screen", "BHAR_SKEWNESS_TEST", "DASK_CHUNK_SIZE", "PLACEBO_METHODS"]

#: Name of Hall's skewness-corrected t applied to the BHAR cross-section (per window).
BHAR_SKEWNESS_TEST = "skewness_corrected_bhar"
#: Placebo p-value methods (:mod:`research.eventstudy.placebo`).
PLACEBO_METHODS = ("resample", "exact")
#: Events per chunk when ``run_event_study`` is given a Dask ``client`` and no ``chunk_size``.
DASK_CHUNK_SIZE = 10_000


def run_event_study(
    events: pd.DataFrame,
    spec: EventStudySpec | None = None,
    *,
    returns: pd.DataFrame | None = None,
    volume: pd.DataFrame | bool | None = None,
    source: str = "snapshot",
    placebo_draws: int = 0,
    seed: int = 0,
    tests: tuple[str, ...] | list[str] | None = None,
    placebo_method: str = "resample",
    placebo_exclude: dict[str, Any] | None = None,
    placebo_min_gap: int | None = None,
    placebo_until: object = None,
    chunk_size: int | None = None,
    client: Any = None,
) -> EventStudyResult:
    """Run an event study on many events at once, optionally in chunks or on Dask.

    Parameters
    ----------
    events : pandas.DataFrame
        ``event_id`` (unique), ``ticker``, ``date`` and ``timing`` (see
        :func:`research.data.align_event`), or a ``day0`` column of sessions instead.
    spec : EventStudySpec, optional
        Defaults to ``EventStudySpec()``: market model on SPY, simple returns,
        estimation [-260, -11] with >= 120 valid returns, windows (0,0) (-1,1) (0,1)
        (0,5) (-5,5) (0,20).
    returns : pandas.DataFrame, optional
        Wide daily returns (DatetimeIndex of sessions x tickers, ``spec.return_type``
        units) to use instead of loading from ``research.data``. Its rows are the
        trading-day clock; row order does not matter (it is sorted).
    volume : DataFrame, bool or None
        Share volume panel (dates x tickers) for abnormal volume. None (default):
        computed from the loaded data when ``returns`` is not given; False: skip.
    source : {"snapshot", "yfinance", "auto"}, default "snapshot"
        Data source for :func:`research.data.load_prices`.
    placebo_draws : int, default 0
        ``placebo_method="resample"``: pseudo-event dates drawn per event (0 = no placebo,
        ``p_placebo`` NaN).
    seed : int, default 0
        Seed of the resampled placebo draws.
    tests : sequence of str, optional
        Names of the cross-sectional tests to run (``research.eventstudy.stats.DAY_TESTS``);
        default all of them. An empty tuple skips the battery.
    placebo_method : {"resample", "exact"}, default "resample"
        ``"exact"``: every admissible pseudo date
        (:func:`research.eventstudy.placebo.exact_placebo`), whatever ``placebo_draws``.
    placebo_exclude, placebo_min_gap, placebo_until
        Admissibility of the exact placebo's pseudo dates (see
        :func:`research.eventstudy.placebo.admissible_rows`): catalogued event dates per
        ticker, their minimum distance in sessions, the last usable date (None = all).
    chunk_size : int, optional
        Process the events in consecutive chunks of this many (default: all at once, or
        ``DASK_CHUNK_SIZE`` with a ``client``). Each chunk is aligned, screened and
        estimated on its own (:mod:`research.eventstudy.chunks`), so the estimation
        arrays (``chunk_size x (L + T)`` returns and regressors, the fit's temporaries)
        are bounded by the chunk; the per-event results (O(T) per event) are what the
        result returns anyway. The cross-sectional tests are combined exactly from each
        chunk's share (:func:`research.eventstudy.stats.combine_parts` says how each test
        combines; the generalized rank test takes a second pass that estimates each
        chunk again). Results equal the one-shot run up to the order of floating-point
        additions (``tests/test_engine_chunks.py`` pins 1e-12). The placebo and abnormal
        volume use chunks of their own whatever ``chunk_size`` (``placebo.EVENT_CHUNK``
        events' draws, ``volume.EVENT_CHUNK`` events' estimation windows), with results
        that do not depend on them.
    client : dask.distributed.Client, optional
        Run the chunks as tasks on this Dask cluster (the returns panel is scattered once
        to every worker); results are gathered in chunk order, so the result is the one
        of the in-process run with the same ``chunk_size``. The placebo's pseudo-event
        statistics run there too (:func:`research.eventstudy.placebo.pseudo_statistics`),
        and so do abnormal volume's estimation windows
        (:func:`research.eventstudy.volume.estimation_moments`).

    Returns
    -------
    EventStudyResult
        With ``spec.standardize="garch"`` also ``car["scar"]`` (the GARCH-standardized
        CAR, :mod:`research.eventstudy.garch`), ``car``/``events`` ``vol_model`` and
        ``events`` ``garch_omega, garch_alpha, garch_beta``; the placebo then compares
        SCARs (its frame's ``statistic`` is ``"garch_scar"``). The GARCH fits run in
        process after the chunks (one per estimated event).

    Raises
    ------
    DuplicateEventError, EventStudyError (bad events table, e.g. a row without a ticker),
    InsufficientDataError (empty returns table), UnknownTickerError (market proxy
    missing), SpecificationError.
    """
    spec = _check_arguments(spec, tests, placebo_draws, placebo_method)
    chunk_size = _check_chunking(chunk_size, client)
    ev = prepare_events(events)
    pan = _panel(ev, spec, returns, volume, source)
    ok, reasons, per, agg, tests_df, notes = _estimate_all(ev, pan, spec, tests, chunk_size, client)
    std = _standardized(pan, ok, spec) if spec.standardize is not None else None
    placebo_frame = None
    p_placebo = np.full((len(ev), len(spec.windows)), np.nan)
    if ok.any() and (placebo_method == "exact" or placebo_draws):
        placebo_frame, p_placebo, pl_notes = _run_placebo(
            ev, pan, ok, per["t_stat"] if std is None else std.scar, spec, placebo_method,
            int(placebo_draws), int(seed), placebo_exclude, placebo_min_gap, placebo_until, client,
            params=None if std is None else std.params)
        notes.extend(pl_notes)
    vol_df = None
    if pan.volume is not None and volume is not False:
        vol_df = abnormal_volume_panel(ev, pan.volume, spec, client=client)
    res = _result(ev, spec, ok, reasons, per, agg, tests_df, p_placebo, placebo_frame, vol_df, notes)
    return res if std is None else _with_standardized(res, std, len(spec.windows))


def _standardized(pan: StudyPanel, ok: np.ndarray, spec: EventStudySpec) -> _garch.Standardized:
    """The estimated events' GARCH-standardized CARs (:func:`research.eventstudy.garch.standardize`),
    in process on the whole panel (one fit per event), as (N, ...) arrays."""
    n, w = len(ok), len(spec.windows)
    idx = np.flatnonzero(ok)
    part = _garch.standardize(pan.y, pan.x, pan.col[idx], pan.pos0[idx], spec, pan.rf, sums=pan.sums)
    span = part.sigma.shape[1]
    full = _garch.Standardized(np.zeros(n, bool), np.full((n, w), np.nan), np.full((n, span), np.nan),
                               np.full((n, spec.estimation.length), np.nan), np.full((n, 3), np.nan),
                               np.full(n, "", dtype=object))
    for name in ("ok", "scar", "sigma", "sigma_est", "params", "vol_model"):
        getattr(full, name)[idx] = getattr(part, name)
    return full


def _with_standardized(res: EventStudyResult, std: _garch.Standardized, w: int) -> EventStudyResult:
    """The result with the standardized statistics: ``car["scar"]`` per event x window,
    ``events`` ``vol_model`` and ``garch_omega/alpha/beta`` per event."""
    car = res.car.copy()
    car["scar"] = std.scar.ravel()
    car["vol_model"] = pd.array(np.repeat(std.vol_model, w).astype(str), dtype="str")
    events = res.events.copy()
    events["vol_model"] = pd.array(std.vol_model.astype(str), dtype="str")
    for j, name in enumerate(("omega", "alpha", "beta")):
        events[f"garch_{name}"] = std.params[:, j]
    return dataclasses.replace(res, car=car, events=events)


def _estimate_all(ev: pd.DataFrame, pan: StudyPanel, spec: EventStudySpec, tests: Any,
                  chunk_size: int | None, client: Any) -> tuple:
    """The pipeline on every chunk of events (:func:`research.eventstudy.chunks.chunk_pass`),
    the per-event arrays filled chunk by chunk, then the tests table.

    Returns (ok, reasons, per, agg, tests_df, notes)."""
    n = len(ev)
    bounds = chunk_bounds(n, chunk_size)
    first, first_idx = first_mask(pan)
    battery_tests = None if tests is None else tuple(t for t in tests if t != BHAR_SKEWNESS_TEST)
    whole = len(bounds) == 1
    ok = np.zeros(n, dtype=bool)
    agg = np.zeros(n, dtype=bool)
    reasons: list[str] = [""] * n
    per = per_event_arrays(n, np.zeros(0, np.intp), None, spec) if not whole else {}
    parts, inp = [], None
    # scattered once (workers need no volume panel); the GRANK round reuses it
    shared = share(dataclasses.replace(pan, volume=None) if client is not None else pan, client)
    outs = run_chunks(chunk_pass, bounds, shared,
                      lambda a, b: (ev.iloc[a:b], a, b, first[a:b], spec, battery_tests, whole), client)
    for (a, b), out in zip(bounds, outs, strict=True):
        ok[a:b], agg[a:b], reasons[a:b] = out.ok, out.agg, out.reasons
        if whole:
            per = out.per  # one chunk: its arrays are the study's (no copy)
        else:
            for key, arr in out.per.items():
                per[key][a:b] = arr
        inp = out.inp if whole else inp
        if out.part is not None:
            parts.append(out.part)
    notes = _repeat_notes(ev, ok, first, first_idx, reasons)

    def make_inp():
        return inp if whole else _combined_input(parts, bounds, shared, first, spec, battery_tests, client)

    tests_df, bat_notes = _tests_table(ok.any(), int(agg.sum()), make_inp, per["bhar"][agg], spec, tests)
    return ok, reasons, per, agg, tests_df, notes + bat_notes


def _check_chunking(chunk_size: Any, client: Any) -> int | None:
    if chunk_size is None:
        return DASK_CHUNK_SIZE if client is not None else None
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, (int, np.integer)) or chunk_size < 1:
        raise SpecificationError(f"chunk_size must be a whole number >= 1 (events per chunk), "
                                 f"got {chunk_size!r}")
    return int(chunk_size)


def _combined_input(parts: list, bounds: list[tuple[int, int]], shared: Any, first: np.ndarray,
                    spec: EventStudySpec, battery_tests: tuple[str, ...] | None, client: Any) -> Any:
    """The battery's input over every chunk (:func:`research.eventstudy.stats.combine_parts`),
    with the generalized rank test's second pass over the chunks when it is requested."""
    inp = _stats.combine_parts(parts)
    parts.clear()  # their per-event arrays are now in ``inp``: do not hold them twice
    if battery_tests is not None and "generalized_rank" not in battery_tests:
        return inp
    starts, ends = window_index(spec)
    windows = [(d, d) for d in range(inp.n_days)] + list(zip(starts.tolist(), ends.tolist(), strict=True))
    scale = _stats.grank_scale(inp, windows)
    total = None
    for sums in run_chunks(chunk_grank, bounds, shared,
                           lambda a, b: (a, b, first[a:b], spec, windows, scale), client):
        if sums is not None:
            total = sums if total is None else _stats.add_grank_sums(total, sums)
    _stats.set_grank(inp, windows, total)
    return inp


def _repeat_notes(ev: pd.DataFrame, ok: np.ndarray, first: np.ndarray, first_idx: np.ndarray,
                  reasons: list[str]) -> list[str]:
    """Each estimated event that repeats an earlier event's (ticker, day 0) is counted once
    in the cross-sectional aggregates -- two article events on the same stock and day are
    one observation, not two; say so in its reason and in a note."""
    dup = np.flatnonzero(ok & ~first)
    if not dup.size:
        return []
    ids = ev["event_id"].to_numpy()
    for i in dup:  # only the repeats (few)
        msg = (f"same ticker and day 0 as {ids[first_idx[i]]}: counted once in the "
               "cross-sectional aggregates (aar, tests)")
        reasons[i] = f"{reasons[i]}; {msg}" if reasons[i] else msg
    return [(f"{dup.size} event(s) repeat an earlier event's ticker and day 0; "
             "AAR/CAAR and the cross-sectional tests count each (ticker, day 0) once")]


def _check_arguments(spec: EventStudySpec | None, tests: Any, placebo_draws: Any,
                     placebo_method: str) -> EventStudySpec:
    spec = EventStudySpec() if spec is None else spec
    if not isinstance(spec, EventStudySpec):
        raise EventStudyError(f"spec must be an EventStudySpec, got {type(spec).__name__}")
    if tests is not None:
        known = (*_stats.DAY_TESTS, BHAR_SKEWNESS_TEST)
        unknown_tests = [t for t in tests if t not in known]
        if unknown_tests:
            raise SpecificationError(
                f"unknown test(s) {unknown_tests}; choose from {', '.join(known)}")
    if isinstance(placebo_draws, bool) or not isinstance(placebo_draws, (int, np.integer)) or placebo_draws < 0:
        raise SpecificationError(
            f"placebo_draws must be a whole number >= 0 (0 skips the placebo test; the reports "
            f"use 1000), got {placebo_draws!r}"
        )
    if placebo_method not in PLACEBO_METHODS:
        raise SpecificationError(
            f"placebo_method must be one of {PLACEBO_METHODS}, got {placebo_method!r}")
    return spec


def _panel(ev: pd.DataFrame, spec: EventStudySpec, returns: pd.DataFrame | None,
           volume: pd.DataFrame | bool | None, source: str) -> StudyPanel:
    """Load or validate the returns (and volume) panel once; place every event in it."""
    unknown: list[str] = []
    vol_panel: pd.DataFrame | None = None
    if returns is None:
        need = list(ev["ticker"].unique()) + ([spec.market] if spec.uses_market else [])
        returns, vol_panel, unknown = load_return_panel(
            need, spec.return_type, source=source, with_volume=volume is None)
        if spec.uses_market and spec.market in unknown:
            raise UnknownTickerError(
                f"market proxy {spec.market!r} is not available from source={source!r}; "
                "choose another proxy, e.g. EventStudySpec(market='IWM')"
            )
    returns = validate_panel(returns, "returns")
    if isinstance(volume, pd.DataFrame):
        vol_panel = validate_panel(volume, "volume")
    x = regressor_array(returns.index, returns, spec)  # raises if the proxy is missing
    col = pd.Index(returns.columns).get_indexer(ev["ticker"])
    pos0 = returns.index.get_indexer(pd.DatetimeIndex(ev["day0"]))
    pos0 = np.where(col < 0, -1, pos0)
    y, rf = returns.to_numpy(dtype=float), risk_free(returns.index, spec)
    return StudyPanel(returns, vol_panel, unknown, y, x, rf, col, pos0, market_sums(y, x, spec, rf))


def _tests_table(estimated: bool, n_agg: int, make_inp: Any, bhar: np.ndarray,
                 spec: EventStudySpec, tests: Any) -> tuple[pd.DataFrame, list[str]]:
    """The cross-sectional tests table over the ``n_agg`` aggregated events (battery input
    from ``make_inp()``, their BHARs ``bhar`` (n_agg, W)), and its notes."""
    battery_tests = None if tests is None else tuple(t for t in tests if t != BHAR_SKEWNESS_TEST)
    parts: list[dict[str, np.ndarray]] = []
    if battery_tests is not None and len(battery_tests) == 0:
        notes = ["cross-sectional tests not requested (tests=())"]
    elif estimated:
        rows, notes = _battery(make_inp, n_agg, spec, battery_tests)
        parts += [rows] if rows else []
    else:
        notes = ["no event could be estimated: no cross-sectional tests"]
    if estimated and (tests is None or BHAR_SKEWNESS_TEST in tuple(tests)):
        parts.append(_bhar_skewness_rows(bhar, spec))
    return (_tests_frame(parts) if parts else _empty_tests()), notes


def _run_placebo(ev: pd.DataFrame, pan: StudyPanel, ok: np.ndarray, t_stat: np.ndarray, spec: EventStudySpec,
                 method: str, draws: int, seed: int, exclude: Any, min_gap: int | None,
                 until: object, client: Any = None, *,
                 params: np.ndarray | None = None) -> tuple[pd.DataFrame, np.ndarray, list[str]]:
    notes: list[str] = []
    col = np.maximum(pan.col, 0)
    if method == "exact":
        frame = _placebo.exact_placebo(
            ev["event_id"].to_numpy(), pan.pos0, col, ok, t_stat, pan.y, pan.x, spec,
            index=pan.returns.index, columns=pan.returns.columns, exclude=exclude,
            min_gap=min_gap, until=until, rf=pan.rf, client=client, params=params)
        p = frame["p_placebo"].to_numpy().reshape(len(ev), len(spec.windows))
        return frame, p, notes
    frame, p = _placebo.placebo_pvalues(ev, pan.pos0, col, ok, t_stat, pan.y, pan.x, spec,
                                        n_draws=draws, seed=seed, rf=pan.rf, client=client,
                                        params=params)
    few = frame.drop_duplicates("event_id")
    few = few[(few["n_draws"] > 0) & (few["n_candidates"] < _placebo.MIN_CANDIDATES)]
    if not few.empty:
        notes.append(
            f"placebo: {len(few)} event(s) have fewer than {_placebo.MIN_CANDIDATES} distinct pseudo "
            f"dates (e.g. {few['event_id'].iat[0]}: {int(few['n_candidates'].iat[0])}); "
            "pass a longer returns history so pseudo dates can come from the ticker's "
            "whole non-event history")
    return frame, p, notes


def _result(ev: pd.DataFrame, spec: EventStudySpec, ok: np.ndarray, reasons: list[str],
            per: dict[str, np.ndarray], agg: np.ndarray, tests_df: pd.DataFrame, p_placebo: np.ndarray,
            placebo_frame: pd.DataFrame | None, vol_df: pd.DataFrame | None, notes: list[str]) -> EventStudyResult:
    """The result tables from the per-event arrays."""
    n, w = len(ev), len(spec.windows)
    rel = np.arange(spec.event_span[0], spec.event_span[1] + 1)
    events_out = pd.DataFrame({  # in EVENT_COLUMNS order (then any factor betas)
        **{c: ev[c].array for c in ("event_id", "ticker", "date", "timing", "day0", "timing_uncertain")},
        "status": pd.array(["skipped", "ok"], dtype="str").take(ok.astype(np.intp)),
        "reason": str_array(reasons),
        "alpha": per["alpha"], "beta": per["beta"][:, 0], "sigma": per["sigma"], "r2": per["r2"],
        "n_obs": per["n_obs"],
    })
    if spec.expected_return.uses_factors:
        for j, name in enumerate(spec.factor_columns):
            events_out[f"beta_{name}"] = per["beta"][:, j]
    ids = pd.Index(ev["event_id"], name="event_id")
    # the per-event arrays are this study's own: the frames take them without a copy
    ar_df = pd.DataFrame(per["ar"], index=ids, columns=pd.Index(rel, name="day"), copy=False)
    rep = np.repeat(np.arange(n), w)  # each event's row repeated per window: one string take
    car_df = pd.DataFrame({  # in CAR_COLUMNS order
        "event_id": ev["event_id"].astype("str").array.take(rep),
        "ticker": ev["ticker"].astype("str").array.take(rep),
        "day0": np.repeat(ev["day0"].to_numpy(), w),
        "window_start": np.tile([a for a, _ in spec.windows], n),
        "window_end": np.tile([b for _, b in spec.windows], n),
        **{c: per[c].ravel() for c in ("car", "bhar", "car_se", "t_stat", "p_value")},
        "p_placebo": p_placebo.ravel(),
    })
    with np.errstate(all="ignore"):
        ar_ok = per["ar"][agg]
        cnt = np.isfinite(ar_ok).sum(axis=0)
        aar = np.where(cnt > 0, np.nansum(ar_ok, axis=0) / np.maximum(cnt, 1), np.nan)
    aar_df = pd.DataFrame({"aar": aar, "caar": np.cumsum(np.nan_to_num(aar)), "n": cnt},
                          index=pd.Index(rel, name="day"))
    aar_df.loc[cnt == 0, "caar"] = np.nan
    return EventStudyResult(
        events=events_out, ar=ar_df, car=car_df, aar=aar_df, tests=tests_df,
        spec=spec, volume=vol_df, placebo=placebo_frame, notes=tuple(notes),
        car_path=pd.DataFrame(
            np.concatenate([per["path_car"], per["path_se"]], axis=1), index=ids, copy=False,
            columns=pd.MultiIndex.from_product([["car", "car_se"], rel], names=["stat", "day"])),
    )


def _battery(make_inp: Any, n_agg: int, spec: EventStudySpec,
             tests: tuple[str, ...] | None = None) -> tuple[dict[str, np.ndarray] | None, list[str]]:
    """Cross-sectional tests per day and per window via :mod:`research.eventstudy.stats`:
    the tests table's columns (:func:`_tests_frame`), None without a battery."""
    notes: list[str] = []
    if n_agg < 2:
        notes.append("cross-sectional tests need at least 2 estimated events; tests table empty "
                     "(use the single-event t in result.car)")
        return None, notes
    inp = make_inp()
    try:
        return _battery_rows(inp, spec, tests), notes
    except Exception as exc:  # noqa: BLE001 - keep per-event results usable, but say so loudly
        msg = f"cross-sectional test battery failed ({type(exc).__name__}: {exc}); tests table empty"
        warnings.warn(msg, RuntimeWarning, stacklevel=3)
        notes.append(msg)
        return None, notes


def _battery_rows(inp: Any, spec: EventStudySpec, tests: tuple[str, ...] | None) -> dict[str, np.ndarray]:
    """The long tests table's columns: every test on every event day, then every test per
    window (one :func:`research.eventstudy.stats.battery` call, shared work done once).
    Relative days and window bounds are floats here, NaN where they do not apply."""
    tmin, _ = spec.event_span
    starts, ends = window_index(spec)
    res = _stats.battery(inp, list(zip(starts.tolist(), ends.tolist(), strict=True)),
                         convention=spec.convention, tests=tests)
    k, t = res.day_statistic.shape
    w = len(res.windows)
    names = np.asarray(res.tests, dtype=object)
    na = np.full(k * w, np.nan)
    return {
        "test": np.concatenate([np.repeat(names, t), np.tile(names, w)]),
        "scope": np.array(["day"] * (k * t) + ["window"] * (k * w), dtype=object),
        "day": np.concatenate([np.tile(np.arange(t) + tmin, k).astype(float), na]),
        "window_start": np.concatenate([np.full(k * t, np.nan),
                                        np.repeat([a for a, _ in spec.windows], k).astype(float)]),
        "window_end": np.concatenate([np.full(k * t, np.nan),
                                      np.repeat([b for _, b in spec.windows], k).astype(float)]),
        "statistic": np.concatenate([res.day_statistic.ravel(), res.window_statistic.ravel()]),
        "p_value": np.concatenate([res.day_p_value.ravel(), res.window_p_value.ravel()]),
    }


def _bhar_skewness_rows(bhar: np.ndarray, spec: EventStudySpec) -> dict[str, np.ndarray]:
    """Hall's (1992) skewness-corrected t of the BHAR cross-section, one row per window
    (Lyon, Barber and Tsai 1999 recommend it for long-horizon BHARs, whose cross-section
    is right-skewed), as tests-table columns. ``bhar`` is (N, W): the events counted in
    the aggregates. A window with fewer than 3 complete BHARs gets NaN."""
    rows = [_stats.skewness_adjusted_t(bhar[:, j]) for j in range(len(spec.windows))]
    w = len(rows)
    return {
        "test": np.array([BHAR_SKEWNESS_TEST] * w, dtype=object),
        "scope": np.array(["window"] * w, dtype=object),
        "day": np.full(w, np.nan),
        "window_start": np.array([a for a, _ in spec.windows], dtype=float),
        "window_end": np.array([b for _, b in spec.windows], dtype=float),
        "statistic": np.array([float(r.statistic) for r in rows]),
        "p_value": np.array([float(r.p_value) for r in rows]),
    }


def _tests_frame(parts: list[dict[str, np.ndarray]]) -> pd.DataFrame:
    """One tests table (``TEST_COLUMNS``, the dtypes of :func:`_empty_tests`) from column
    arrays of its parts, in order: built once, integer columns with a missing mask."""
    cols = {c: np.concatenate([p[c] for p in parts]) for c in TEST_COLUMNS}
    out: dict[str, Any] = {c: pd.array(cols[c], dtype="str") for c in ("test", "scope")}
    for c in ("day", "window_start", "window_end"):
        missing = np.isnan(cols[c])
        out[c] = pd.arrays.IntegerArray(np.where(missing, 0, cols[c]).astype(np.int64), missing)
    out.update(statistic=cols["statistic"].astype(float), p_value=cols["p_value"].astype(float))
    return pd.DataFrame(out)


def _empty_tests() -> pd.DataFrame:
    """An empty tests table with the result's dtypes (a fresh copy of one template)."""
    return _empty_tests_template().copy()


@functools.cache
def _empty_tests_template() -> pd.DataFrame:
    dtypes = {"test": "str", "scope": "str", "day": "Int64", "window_start": "Int64",
              "window_end": "Int64", "statistic": "float64", "p_value": "float64"}
    return pd.DataFrame({c: pd.Series(dtype=dtypes[c]) for c in TEST_COLUMNS})
