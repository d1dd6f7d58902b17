"""The event-study engine: align events, build aligned matrices, fit, test.

``run_event_study`` turns a table of events into an :class:`EventStudyResult`:

1. **Day 0** of every event from :func:`research.data.align_event` (date + timing), or
   an explicit ``day0`` column.
2. **Aligned matrices** for all events at once: the returns panel (sessions x tickers)
   becomes one float array and every event's estimation and event windows are read with
   one fancy-indexing operation at positions ``day0_pos + relative_day``. No per-event
   Python loop touches the statistics.
3. **One call** to :func:`research.eventstudy.models.fit` for all estimable events,
   then abnormal returns, prediction-error factors, CAR/BHAR and the single-event t
   test per window, and the cross-sectional test battery of
   :mod:`research.eventstudy.stats` per day and per window.

Events that cannot be estimated are kept (``status="skipped"`` with a reason). Relative
days are rows of the returns panel, i.e. trading sessions.

References
----------
MacKinlay, A. C. (1997). Event studies in economics and finance. *J. Econ. Lit.* 35, 13-39.
Campbell, J. Y., Lo, A. W. and MacKinlay, A. C. (1997). *The Econometrics of Financial
Markets*, ch. 4.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as _sps

from research.errors import (
    CalendarError,
    DataError,
    DuplicateEventError,
    EventStudyError,
    SpecificationError,
    UnknownTickerError,
)
from research.eventstudy.result import (
    AAR_COLUMNS,
    CAR_COLUMNS,
    EVENT_COLUMNS,
    TEST_COLUMNS,
    EventStudyResult,
)
from research.eventstudy import models as _models
from research.eventstudy import stats as _stats
from research.eventstudy.spec import EventStudySpec

__all__ = ["run_event_study", "prepare_events", "load_return_panel", "expand_tickers"]


# ----------------------------------------------------------------------------------------
# events
# ----------------------------------------------------------------------------------------
def prepare_events(events: pd.DataFrame) -> pd.DataFrame:
    """Validate an events table and attach ``day0`` and ``timing_uncertain``.

    Parameters
    ----------
    events : pandas.DataFrame
        Columns ``event_id`` (unique), ``ticker``, and either ``date`` + ``timing``
        (aligned with :func:`research.data.align_event`) or ``day0`` (sessions, used
        as given).

    Returns
    -------
    pandas.DataFrame
        Columns ``event_id, ticker, date, timing, day0, timing_uncertain, align_error``
        in input order, RangeIndex. ``day0`` is NaT and ``align_error`` non-empty when
        the calendar could not place the event.
    """
    if not isinstance(events, pd.DataFrame):
        raise EventStudyError(
            f"events must be a pandas DataFrame with columns event_id, ticker, date, timing; "
            f"got {type(events).__name__}"
        )
    has_day0 = "day0" in events.columns
    need = ["event_id", "ticker"] + ([] if has_day0 else ["date", "timing"])
    missing = [c for c in need if c not in events.columns]
    if missing:
        raise EventStudyError(
            f"events table lacks column(s) {missing}; it needs event_id, ticker and either "
            "date + timing (pre_open/intraday/after_close/weekend_or_holiday/unknown) or day0"
        )
    if events.empty:
        raise EventStudyError("events table is empty; pass at least one event row")
    ids = events["event_id"].astype(str)
    dup = ids[ids.duplicated(keep=False)]
    if not dup.empty:
        raise DuplicateEventError(
            f"event_id values are not unique: {sorted(set(dup))[:10]}; give each "
            "(event, ticker) row its own id, e.g. f'{event_id}:{ticker}'"
        )
    n = len(events)
    out = pd.DataFrame({
        "event_id": ids.to_numpy(),
        "ticker": events["ticker"].astype(str).str.strip().to_numpy(),
    })
    if "date" in events.columns:
        out["date"] = pd.to_datetime(events["date"].to_numpy(), errors="coerce", format="mixed")
    else:
        out["date"] = pd.to_datetime(events["day0"].to_numpy(), errors="coerce", format="mixed")
    if "timing" in events.columns:
        out["timing"] = events["timing"].astype(str).to_numpy()
    else:
        out["timing"] = "day0"
    errors = np.full(n, "", dtype=object)
    if has_day0:
        day0 = pd.to_datetime(events["day0"].to_numpy(), errors="coerce", format="mixed")
        uncertain = (out["timing"] == "unknown").to_numpy()
        bad = np.asarray(pd.isna(day0))
        errors[bad] = "day0 is missing or not a date"
    else:
        day0, uncertain, errors = align_days(events["date"], out["timing"])
    out["day0"] = pd.DatetimeIndex(day0).as_unit("ns") if len(day0) else day0
    out["timing_uncertain"] = uncertain.astype(bool)
    out["align_error"] = pd.array(errors.astype(str), dtype="str")
    return out


def align_days(dates: pd.Series, timings: pd.Series) -> tuple[pd.DatetimeIndex, np.ndarray, np.ndarray]:
    """Day 0 of many events: :func:`research.data.align_event` semantics, vectorised.

    Dates that parse to plain (tz-naive) dates with a known timing are aligned with one
    ``searchsorted`` on the XNYS sessions (``pre_open``, ``weekend_or_holiday``,
    ``unknown``: the date's session, else the next; ``after_close``: the next session;
    ``intraday``: the date's session). Everything else (unparseable dates, unknown
    timings, intraday on a non-session, dates outside the calendar) goes through
    ``align_event`` itself, whose :class:`CalendarError` message becomes the event's
    reason. A test pins equality with ``align_event`` for every timing.

    Returns
    -------
    (day0 DatetimeIndex with NaT on failure, uncertain (N,) bool, error (N,) str object)
    """
    from research.data import align_event, sessions
    from research.data.calendar import TIMINGS

    n = len(dates)
    tim = np.asarray(timings, dtype=object).astype(str)
    errors = np.full(n, "", dtype=object)
    uncertain = tim == "unknown"
    day0 = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
    try:
        if pd.api.types.is_datetime64_any_dtype(dates):
            parsed = pd.Series(pd.DatetimeIndex(dates))
        else:
            parsed = pd.to_datetime(pd.Series(list(dates), dtype=object), errors="coerce",
                                    format="mixed")
        if getattr(parsed.dt, "tz", None) is not None:
            raise TypeError("tz-aware")
        pv = parsed.to_numpy(dtype="datetime64[ns]")
        midnight = parsed.dt.normalize().to_numpy(dtype="datetime64[ns]") == pv
        fast = ~np.isnat(pv) & midnight & np.isin(tim, TIMINGS)
    except (TypeError, ValueError):
        pv = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
        fast = np.zeros(n, dtype=bool)
    if fast.any():
        lo, hi = pv[fast].min(), pv[fast].max()
        try:
            sess = sessions(pd.Timestamp(lo) - pd.Timedelta(days=10),
                            pd.Timestamp(hi) + pd.Timedelta(days=10)).to_numpy(dtype="datetime64[ns]")
        except (CalendarError, DataError, ValueError):
            sess = None
            fast[:] = False
        if sess is not None:
            d = pv[fast]
            i_on = np.searchsorted(sess, d, side="left")
            i_next = np.searchsorted(sess, d, side="right")
            on = (i_on < sess.size) & (sess[np.minimum(i_on, sess.size - 1)] == d)
            nxt = sess[np.minimum(i_next, sess.size - 1)]
            t = tim[fast]
            res = np.where(on, d, nxt)
            res = np.where(t == "after_close", nxt, res)
            bad = (t == "intraday") & ~on  # error message from align_event
            idx = np.flatnonzero(fast)
            day0[idx[~bad]] = res[~bad]
            fast[idx[bad]] = False
    slow = np.flatnonzero(~fast)
    cache: dict[tuple[str, str], tuple[Any, bool, str]] = {}
    raw = list(dates) if slow.size else []
    for i in slow:  # only unusual rows reach the scalar path
        key = (repr(raw[i]), tim[i])
        if key not in cache:
            try:
                a = align_event(raw[i], str(tim[i]))
                cache[key] = (np.datetime64(pd.Timestamp(a.day0).as_unit("ns")), bool(a.uncertain), "")
            except (CalendarError, DataError, ValueError, TypeError) as exc:
                cache[key] = (np.datetime64("NaT"), tim[i] == "unknown", f"calendar: {exc}")
        day0[i], uncertain[i], errors[i] = cache[key]
    return pd.DatetimeIndex(day0), uncertain.astype(bool), errors


def expand_tickers(events: pd.DataFrame, *, sep: str = ":") -> pd.DataFrame:
    """One row per (event, ticker) from an article events frame.

    ``events`` has ``event_id, date, timing`` and ``tickers`` (a sequence of symbols or a
    space-separated string, as in ``research.data.events_frame()``). The new
    ``event_id`` is ``f"{event_id}{sep}{ticker}"`` (unique); the article's id is kept in
    ``article_event_id``. Other columns are carried along.
    """
    missing = [c for c in ("event_id", "date", "timing", "tickers") if c not in events.columns]
    if missing:
        raise EventStudyError(f"events frame lacks column(s) {missing}; pass research.data.events_frame()")
    tick = events["tickers"].map(lambda v: v.split() if isinstance(v, str) else list(v))
    out = events.drop(columns="tickers").assign(ticker=tick).explode("ticker", ignore_index=True)
    out = out[out["ticker"].notna()]
    out["ticker"] = out["ticker"].astype("str")
    out["article_event_id"] = out["event_id"].astype("str")
    out["event_id"] = (out["article_event_id"] + sep + out["ticker"]).astype("str")
    return out.reset_index(drop=True)


# ----------------------------------------------------------------------------------------
# data
# ----------------------------------------------------------------------------------------
def load_return_panel(
    tickers: list[str], return_type: str = "simple", *, source: str = "snapshot",
    with_volume: bool = False,
) -> tuple[pd.DataFrame, pd.DataFrame | None, list[str]]:
    """Load daily returns (sessions x tickers) via :mod:`research.data`.

    Tickers unknown to the source are left out (returned as the third element) instead
    of failing the whole study; their events are skipped with a reason.

    Returns
    -------
    (returns, volume or None, unknown_tickers)
    """
    from research import data as rdata

    wanted = sorted(set(tickers))
    unknown: list[str] = []
    try:
        prices = rdata.load_prices(wanted, source=source)
    except UnknownTickerError:
        avail = set(rdata.available_tickers())
        unknown = [t for t in wanted if t not in avail]
        wanted = [t for t in wanted if t in avail]
        if not wanted:
            raise
        prices = rdata.load_prices(wanted, source=source)
    closes = rdata.close_panel(prices, field="close")
    rets = rdata.returns(closes, kind=return_type)
    vol = rdata.close_panel(prices, field="volume") if with_volume else None
    return rets, vol, unknown


def _check_panel(panel: pd.DataFrame, name: str) -> pd.DataFrame:
    if not isinstance(panel, pd.DataFrame):
        raise EventStudyError(f"{name} must be a DataFrame (dates x tickers), got {type(panel).__name__}")
    if not isinstance(panel.index, pd.DatetimeIndex):
        try:
            panel = panel.set_axis(pd.DatetimeIndex(pd.to_datetime(panel.index, format="mixed")), axis=0)
        except (TypeError, ValueError):
            raise EventStudyError(
                f"{name} must be indexed by session dates (DatetimeIndex); "
                "use panel.set_index(pd.to_datetime(panel['date']))"
            ) from None
    if panel.index.has_duplicates:
        d = panel.index[panel.index.duplicated()][:5]
        raise EventStudyError(f"{name} has duplicated dates {list(d.strftime('%Y-%m-%d'))}; "
                              "drop duplicates so each session is one row")
    panel = panel.sort_index()  # row order of the input never matters
    panel.columns = [str(c) for c in panel.columns]
    bad = [c for c, t in panel.dtypes.items() if not (pd.api.types.is_numeric_dtype(t)
                                                      and not pd.api.types.is_bool_dtype(t))]
    if bad:
        raise EventStudyError(
            f"{name} column(s) {bad[:10]} are not numeric; pass daily returns as floats "
            "(e.g. research.data.returns(close_panel(prices)))"
        )
    if panel.columns.has_duplicates:
        raise EventStudyError(f"{name} has duplicated columns; keep one column per ticker")
    return panel


# ----------------------------------------------------------------------------------------
# numerics (thin adapters over models.py / stats.py, with closed-form fallbacks)
# ----------------------------------------------------------------------------------------
def _n_params(spec: EventStudySpec) -> int:
    """Parameters estimated per event (:func:`research.eventstudy.models.n_params`)."""
    return _models.n_params(spec.model, len(spec.factor_columns))


@dataclass(frozen=True)
class _Core:
    """Estimated quantities for a stacked batch of N events."""

    alpha: np.ndarray  # (N,)
    beta: np.ndarray  # (N,K)
    sigma: np.ndarray  # (N,)
    r2: np.ndarray  # (N,)
    n_obs: np.ndarray  # (N,)
    ar: np.ndarray  # (N,T) event-window abnormal returns
    ar_est: np.ndarray  # (N,L) estimation-window residuals
    pe: np.ndarray  # (N,T) prediction-error variance factors
    xtx_inv: np.ndarray | None  # (N,P,P) prediction-error matrix V_i
    design_evt: np.ndarray | None  # (N,T,P) event-day design rows x0_t
    fit: Any


def _estimate(y_est: np.ndarray, x_est: np.ndarray | None, y_evt: np.ndarray,
              x_evt: np.ndarray | None, spec: EventStudySpec) -> _Core:
    """Fit the expected-return model for N stacked events (one call to
    :func:`research.eventstudy.models.fit`) and compute AR and prediction-error factors."""
    model = spec.model
    fit = _models.fit(y_est, x_est, model, convention=spec.convention)
    ar = _models.abnormal(y_evt, x_evt, fit, model)
    pe = _models.prediction_factor(x_evt, fit, model, n_days=y_evt.shape[1])
    alpha = np.asarray(fit.alpha, dtype=float)
    beta = np.asarray(fit.beta, dtype=float).reshape(len(alpha), -1)
    return _Core(alpha, beta, np.asarray(fit.sigma, float), np.asarray(fit.r2, float),
                 np.asarray(fit.n_obs), np.asarray(ar, float), np.asarray(fit.resid, float),
                 np.asarray(pe, float), fit.xtx_inv,
                 _models.design(x_evt if x_evt is not None else y_evt, fit), fit)


def _window_index(spec: EventStudySpec) -> tuple[np.ndarray, np.ndarray]:
    tmin, _ = spec.event_span
    starts = np.array([a - tmin for a, _ in spec.windows])
    ends = np.array([b - tmin for _, b in spec.windows])
    return starts, ends


def _car_with_se(core: _Core, starts: np.ndarray, ends: np.ndarray, spec: EventStudySpec
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """CAR over day indices [starts[w], ends[w]] and its standard error, for N events.

    Returns ``car`` (N,W; NaN when a day of the window is missing), ``car_se`` (N,W),
    ``complete`` (N,W) and the t degrees of freedom ``dof`` (N,). Cumulative sums give
    every window in O(N*T); the variance is ``sigma^2 (L + s' V s)`` with ``s`` the sum of
    the window's design rows (prediction error of the fitted model included).
    """
    n_ev = core.ar.shape[0]
    w = len(starts)
    ar = core.ar
    finite = np.isfinite(ar)
    cs = np.concatenate([np.zeros((n_ev, 1)), np.cumsum(np.where(finite, ar, 0.0), axis=1)], axis=1)
    cnt = np.concatenate([np.zeros((n_ev, 1), int), np.cumsum(finite, axis=1)], axis=1)
    length = ends - starts + 1
    car = cs[:, ends + 1] - cs[:, starts]
    complete = (cnt[:, ends + 1] - cnt[:, starts]) == length[None, :]
    car = np.where(complete, car, np.nan)
    if spec.model == "market_adjusted" or core.xtx_inv is None:
        var_factor = np.broadcast_to(length[None, :].astype(float), (n_ev, w)).copy()
        dof = core.n_obs - max(_n_params(spec), 1)
    else:
        d = core.design_evt
        dcs = np.concatenate([np.zeros((n_ev, 1, d.shape[-1])), np.cumsum(d, axis=1)], axis=1)
        s = dcs[:, ends + 1, :] - dcs[:, starts, :]  # (N,W,P)
        var_factor = length[None, :] + np.einsum("nwp,npq,nwq->nw", s, core.xtx_inv, s)
        dof = core.n_obs - _n_params(spec)
    with np.errstate(all="ignore"):
        car_se = core.sigma[:, None] * np.sqrt(var_factor)
    return car, car_se, complete, dof


def car_tests(core: _Core, y_evt: np.ndarray, x_evt: np.ndarray | None,
              spec: EventStudySpec) -> dict[str, np.ndarray]:
    """CAR, BHAR and the single-event CAR t-test for every event x window.

    The CAR variance is the exact prediction-error variance of a sum of out-of-sample
    OLS forecast errors (Campbell, Lo and MacKinlay 1997, eq. 4.4.13 generalised to K
    regressors): ``Var(CAR) = sigma^2 * (L2 + s' (X'X)^{-1} s)``, ``s`` the sum of the
    event-window design rows; ``sigma^2 * L2`` for the market-adjusted model. The test
    is two-sided with ``n_obs - n_params`` degrees of freedom (normal for
    market-adjusted with ``n_obs - 1``).

    BHAR is ``prod(1 + R) - prod(1 + E[R])`` over the window in simple-return units,
    with ``E[R] = R - AR`` (for log returns ``1 + R = exp(r)``).

    Returns arrays of shape (N, W): car, bhar, car_se, t_stat, p_value, complete.
    """
    starts, ends = _window_index(spec)
    n_ev, t_len = core.ar.shape
    ar = core.ar
    finite = np.isfinite(ar)
    car, car_se, complete, dof = _car_with_se(core, starts, ends, spec)
    # BHAR
    if spec.return_type == "log":
        g_act = y_evt
        g_exp = y_evt - ar
        lcs_a = np.concatenate([np.zeros((n_ev, 1)), np.cumsum(np.where(finite, g_act, 0.0), 1)], 1)
        lcs_e = np.concatenate([np.zeros((n_ev, 1)), np.cumsum(np.where(finite, g_exp, 0.0), 1)], 1)
    else:
        with np.errstate(all="ignore"):
            lcs_a = np.concatenate([np.zeros((n_ev, 1)),
                                    np.cumsum(np.where(finite, np.log1p(y_evt), 0.0), 1)], 1)
            lcs_e = np.concatenate([np.zeros((n_ev, 1)),
                                    np.cumsum(np.where(finite, np.log1p(y_evt - ar), 0.0), 1)], 1)
    bhar = np.exp(lcs_a[:, ends + 1] - lcs_a[:, starts]) - np.exp(lcs_e[:, ends + 1] - lcs_e[:, starts])
    bhar = np.where(complete, bhar, np.nan)
    with np.errstate(all="ignore"):
        t_stat = car / car_se
        dof_f = np.where(dof > 0, dof, np.nan).astype(float)
        p = 2.0 * _sps.t.sf(np.abs(t_stat), dof_f[:, None])
    return {"car": car, "bhar": bhar, "car_se": car_se, "t_stat": t_stat, "p_value": p,
            "complete": complete}


def _battery(core: _Core, spec: EventStudySpec, n_params: int,
             tests: tuple[str, ...] | None = None) -> tuple[pd.DataFrame, list[str]]:
    """Cross-sectional tests per day and per window via :mod:`research.eventstudy.stats`."""
    notes: list[str] = []
    empty = _empty_tests()
    if core.ar.shape[0] < 2:
        notes.append("cross-sectional tests need at least 2 estimated events; tests table empty "
                     "(use the single-event t in result.car)")
        return empty, notes
    n_est = np.asarray(core.n_obs)
    design_evt = core.design_evt if spec.model != "market_adjusted" else None
    inp = _stats.BatteryInput(ar=core.ar, ar_est=core.ar_est, sigma=core.sigma, pe=core.pe,
                              n_est=n_est, n_params=n_params, design_evt=design_evt,
                              xtx_inv=None if design_evt is None else core.xtx_inv)
    try:
        return _run_battery(inp, spec, tests), notes
    except Exception as exc:  # noqa: BLE001 - keep per-event results usable, but say so loudly
        msg = f"cross-sectional test battery failed ({type(exc).__name__}: {exc}); tests table empty"
        warnings.warn(msg, RuntimeWarning, stacklevel=3)
        notes.append(msg)
        return empty, notes


def _run_battery(inp: Any, spec: EventStudySpec, tests: tuple[str, ...] | None) -> pd.DataFrame:
    """The long tests table: every test on every event day, then every test per window.

    One :func:`research.eventstudy.stats.battery` call (shared work done once) and one
    frame built from its arrays.
    """
    tmin, _ = spec.event_span
    starts, ends = _window_index(spec)
    res = _stats.battery(inp, list(zip(starts.tolist(), ends.tolist(), strict=True)),
                         convention=spec.convention, tests=tests)
    k, t = res.day_statistic.shape
    w = len(res.windows)
    names = np.asarray(res.tests, dtype=object)
    na = np.full(k * w, pd.NA, dtype=object)
    day = np.tile(np.arange(t) + tmin, k)
    return pd.DataFrame({
        "test": pd.array(np.concatenate([np.repeat(names, t), np.tile(names, w)]), dtype="str"),
        "scope": pd.array(["day"] * (k * t) + ["window"] * (k * w), dtype="str"),
        "day": pd.array(np.concatenate([day.astype(object), na]), dtype="Int64"),
        "window_start": pd.array(np.concatenate([np.full(k * t, pd.NA, dtype=object),
                                                 np.repeat([a for a, _ in spec.windows], k).astype(object)]),
                                 dtype="Int64"),
        "window_end": pd.array(np.concatenate([np.full(k * t, pd.NA, dtype=object),
                                               np.repeat([b for _, b in spec.windows], k).astype(object)]),
                               dtype="Int64"),
        "statistic": np.concatenate([res.day_statistic.ravel(), res.window_statistic.ravel()]),
        "p_value": np.concatenate([res.day_p_value.ravel(), res.window_p_value.ravel()]),
    })


#: Name of Hall's skewness-corrected t applied to the BHAR cross-section (per window).
BHAR_SKEWNESS_TEST = "skewness_corrected_bhar"


def _with_bhar_skewness(tests_df: pd.DataFrame, bhar: np.ndarray, spec: EventStudySpec) -> pd.DataFrame:
    """Append Hall's (1992) skewness-corrected t of the BHAR cross-section, one row per
    window (Lyon, Barber and Tsai 1999 recommend it for long-horizon BHARs, whose
    cross-section is right-skewed). ``bhar`` is (N, W): the events counted in the
    aggregates. A window with fewer than 3 complete BHARs gets NaN."""
    rows = [_stats.skewness_adjusted_t(bhar[:, j]) for j in range(len(spec.windows))]
    extra = pd.DataFrame({
        "test": pd.array([BHAR_SKEWNESS_TEST] * len(rows), dtype="str"),
        "scope": pd.array(["window"] * len(rows), dtype="str"),
        "day": pd.array([pd.NA] * len(rows), dtype="Int64"),
        "window_start": pd.array([a for a, _ in spec.windows], dtype="Int64"),
        "window_end": pd.array([b for _, b in spec.windows], dtype="Int64"),
        "statistic": np.array([float(r.statistic) for r in rows]),
        "p_value": np.array([float(r.p_value) for r in rows]),
    })
    if tests_df.empty:
        return extra
    return pd.concat([tests_df, extra.astype(tests_df.dtypes.to_dict())], ignore_index=True)


# ----------------------------------------------------------------------------------------
# aligned matrices
# ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class AlignedData:
    """Aligned matrices for N events (rows) read from a returns panel.

    ``y_est`` (N,L) and ``y_evt`` (N,T) are the stock's returns over the estimation
    window and the event span; ``x_est`` (N,L,K) / ``x_evt`` (N,T,K) the regressors
    (market proxy or factors), None for the mean-adjusted model. ``pos0`` is each
    event's day-0 row in the panel (-1 when unknown).
    """

    y_est: np.ndarray
    x_est: np.ndarray | None
    y_evt: np.ndarray
    x_evt: np.ndarray | None
    pos0: np.ndarray


def _take(arr: np.ndarray, rows: np.ndarray, cols: np.ndarray | None) -> np.ndarray:
    """``arr[rows, cols]`` (or ``arr[rows]`` for 1-D/2-D regressors) with NaN where a row
    falls outside ``[0, len(arr))``. One flat fancy index, no Python loop."""
    d = arr.shape[0]
    inside = (rows >= 0) & (rows < d)
    r = np.where(inside, rows, 0)
    if cols is None:
        out = arr[r]  # a fresh array (fancy indexing copies)
        out[~inside] = np.nan
        return out
    m = arr.shape[1]
    out = arr.ravel().take(r * m + cols)
    out[~inside] = np.nan
    return out


def regressor_array(panel_index: pd.DatetimeIndex, returns: pd.DataFrame | None,
                    spec: EventStudySpec) -> np.ndarray | None:
    """(D,K) regressors on the panel's dates: market proxy column or factor columns."""
    if spec.model == "mean_adjusted":
        return None
    if spec.model == "factor":
        f = spec.factors
        assert f is not None
        fx = f.sort_index().reindex(panel_index)
        return fx[list(spec.factor_columns)].to_numpy(dtype=float)
    assert returns is not None
    if spec.market not in returns.columns:
        cols = sorted(returns.columns)
        raise UnknownTickerError(
            f"market proxy {spec.market!r} is not in the returns data (columns: "
            f"{cols[:20]}{'...' if len(cols) > 20 else ''}); add its returns or choose "
            f"another proxy, e.g. EventStudySpec(market='IWM')"
        )
    return returns[spec.market].to_numpy(dtype=float)[:, None]


def align_matrices(y_panel: np.ndarray, x_panel: np.ndarray | None, col: np.ndarray,
                   pos0: np.ndarray, spec: EventStudySpec, rf: np.ndarray | None = None) -> AlignedData:
    """Read estimation and event windows for all events with one fancy index each.

    Parameters
    ----------
    y_panel : (D, M) returns array; x_panel : (D, K) regressors or None;
    col : (N,) column of each event's ticker; pos0 : (N,) day-0 row (-1 = unknown);
    rf : (D,) risk-free rate subtracted from y for the factor model, optional.
    """
    est = spec.estimation
    tmin, tmax = spec.event_span
    rel_est = np.arange(est.start, est.end + 1)
    rel_evt = np.arange(tmin, tmax + 1)
    bad = pos0 < 0
    p0 = np.where(bad, -(10**9), pos0)
    # one read over the hull of both windows, then two slices
    lo = min(est.start, tmin)
    hi = max(est.end, tmax)
    rows = p0[:, None] + np.arange(lo, hi + 1)[None, :]
    s_est = rel_est - lo
    s_evt = rel_evt - lo
    y_all = _take(np.ascontiguousarray(y_panel), rows, col[:, None])
    if rf is not None:
        y_all = y_all - _take(rf, rows, None)
    y_est, y_evt = _slice(y_all, s_est), _slice(y_all, s_evt)
    if x_panel is None:
        return AlignedData(y_est, None, y_evt, None, pos0)
    x_all = _take(x_panel, rows, None)
    return AlignedData(y_est, _slice(x_all, s_est), y_evt, _slice(x_all, s_evt), pos0)


def _slice(a: np.ndarray, rel: np.ndarray) -> np.ndarray:
    return a[:, rel[0]: rel[-1] + 1]  # a view: no copy of the aligned block


def screen(al: AlignedData, spec: EventStudySpec) -> tuple[np.ndarray, np.ndarray]:
    """Which events can be estimated: returns (ok (N,) bool, code (N,) int).

    Codes: 0 ok, 1 no day 0, 2 all estimation returns NaN, 3 too few valid returns,
    4 zero-variance regressor, 5 collinear factors.
    """
    n = al.y_est.shape[0]
    code = np.zeros(n, dtype=np.int8)
    valid = np.isfinite(al.y_est)
    if al.x_est is not None:
        valid &= np.isfinite(al.x_est).all(axis=-1)
    n_valid = valid.sum(axis=1)
    code[n_valid < spec.estimation.min_obs] = 3
    code[~np.isfinite(al.y_est).any(axis=1)] = 2
    if al.x_est is not None and spec.model in ("market", "factor"):
        xz = np.where(valid[..., None], al.x_est, 0.0)
        nv = np.maximum(n_valid, 1)[:, None]
        with np.errstate(all="ignore"):
            mean = xz.sum(axis=1) / nv
            dev = np.where(valid[..., None], al.x_est - mean[:, None, :], 0.0)
            sd = np.sqrt((dev * dev).sum(axis=1) / nv)
            scale = 1.0 + np.abs(xz).max(axis=1) if al.x_est.shape[1] else np.ones_like(sd)
        zero = ~(sd > 1e-12 * scale).all(axis=1)
        code[(code == 0) & zero] = 4
        if spec.model == "factor" and al.x_est.shape[-1] > 1:
            ok_rows = code == 0
            if ok_rows.any():
                g = np.einsum("nlp,nlq->npq", dev[ok_rows], dev[ok_rows])
                cond = np.linalg.cond(g)
                coll = np.zeros(n, bool)
                coll[ok_rows] = ~(cond < 1e10)
                code[(code == 0) & coll] = 5
    code[al.pos0 < 0] = 1
    return code == 0, code


# ----------------------------------------------------------------------------------------
# public entry point
# ----------------------------------------------------------------------------------------
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
) -> EventStudyResult:
    """Run an event study on many events at once.

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
        Number of pseudo-event dates per event for empirical p-values
        (:mod:`research.eventstudy.placebo`); 0 = skip (``p_placebo`` NaN).
    seed : int, default 0
        Seed of the placebo draws.
    tests : sequence of str, optional
        Names of the cross-sectional tests to run (``research.eventstudy.stats.DAY_TESTS``);
        default all of them. An empty tuple skips the battery.

    Returns
    -------
    EventStudyResult

    Raises
    ------
    DuplicateEventError, EventStudyError, UnknownTickerError (market proxy missing),
    SpecificationError.
    """
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
    ev = prepare_events(events)
    notes: list[str] = []
    unknown: list[str] = []
    vol_panel: pd.DataFrame | None = None
    if returns is None:
        need = list(ev["ticker"].unique()) + ([spec.market] if spec.uses_market else [])
        returns, vol_loaded, unknown = load_return_panel(
            need, spec.return_type, source=source, with_volume=volume is None)
        if spec.uses_market and spec.market in unknown:
            raise UnknownTickerError(
                f"market proxy {spec.market!r} is not available from source={source!r}; "
                "choose another proxy, e.g. EventStudySpec(market='IWM')"
            )
        vol_panel = vol_loaded
    else:
        returns = _check_panel(returns, "returns")
        if isinstance(volume, pd.DataFrame):
            vol_panel = _check_panel(volume, "volume")
    if isinstance(volume, pd.DataFrame) and vol_panel is None:
        vol_panel = _check_panel(volume, "volume")
    returns = _check_panel(returns, "returns")

    x_panel = regressor_array(returns.index, returns, spec)  # raises if proxy missing
    rf = None
    if spec.model == "factor" and spec.factors is not None and "RF" in spec.factors.columns:
        rf = spec.factors.sort_index()["RF"].reindex(returns.index).to_numpy(float)

    columns = pd.Index(returns.columns)
    col = columns.get_indexer(ev["ticker"])
    day0 = pd.DatetimeIndex(ev["day0"])
    pos0 = returns.index.get_indexer(day0)
    pos0 = np.where(col < 0, -1, pos0)
    y_panel = returns.to_numpy(dtype=float)
    al = align_matrices(y_panel, x_panel, np.where(col < 0, 0, col), pos0, spec, rf)
    ok, code = screen(al, spec)
    reasons = _reasons(ev, code, col, pos0, returns, al, spec, unknown)

    n = len(ev)
    idx = np.flatnonzero(ok)
    t_len = al.y_evt.shape[1]
    k = 0 if al.x_est is None else al.x_est.shape[-1]
    alpha = np.full(n, np.nan)
    beta = np.full((n, max(k, 1)), np.nan)
    sigma = np.full(n, np.nan)
    r2 = np.full(n, np.nan)
    n_obs = np.zeros(n, dtype=np.int64)
    ar = np.full((n, t_len), np.nan)
    w = len(spec.windows)
    res = {c: np.full((n, w), np.nan) for c in ("car", "bhar", "car_se", "t_stat", "p_value")}
    path_car = np.full((n, t_len), np.nan)
    path_se = np.full((n, t_len), np.nan)
    core = None
    if idx.size:
        sub = lambda a: None if a is None else a[idx]  # noqa: E731
        core = _estimate(al.y_est[idx], sub(al.x_est), al.y_evt[idx], sub(al.x_evt), spec)
        alpha[idx] = core.alpha
        if core.beta.shape[1]:
            beta[idx, : core.beta.shape[1]] = core.beta
        sigma[idx] = core.sigma
        r2[idx] = core.r2
        n_obs[idx] = core.n_obs
        ar[idx] = core.ar
        ct = car_tests(core, al.y_evt[idx], sub(al.x_evt), spec)
        for c in res:
            res[c][idx] = ct[c]
        # the CAR path: windows (first day, d) for every day d of the span
        days = np.arange(t_len)
        path_car[idx], path_se[idx], _, _ = _car_with_se(core, np.zeros_like(days), days, spec)
        short = np.flatnonzero(core.n_obs < spec.estimation.length)
        for j in short:
            reasons[idx[j]] = (f"estimated on {int(core.n_obs[j])} of {spec.estimation.length} "
                               "estimation days (missing returns or listed during the window)")
        incomplete = ~ct["complete"].all(axis=1)
        for j in np.flatnonzero(incomplete):
            i = idx[j]
            miss = int((~np.isfinite(core.ar[j])).sum())
            reasons[i] = (f"{miss} missing return(s) in the event span; CAR is NaN for windows "
                          "that contain them")
        zero_sig = ~(core.sigma > 0)
        for j in np.flatnonzero(zero_sig):
            reasons[idx[j]] = ("zero residual variance in the estimation window (e.g. the market proxy "
                               "itself): t-statistics undefined; left out of the cross-sectional "
                               "aggregates (aar, tests)")
    # Aggregates count each distinct (ticker, day 0) once: two article events on the same
    # day for the same stock are one observation, not two (identical AR rows would
    # otherwise double-count it, the repeated-firm inflation of sipemu/EventStudy #7).
    agg = ok.copy()
    if idx.size:
        agg[idx[~(core.sigma > 0)]] = False  # no standardisation possible (see reasons)
        key = pd.MultiIndex.from_arrays([ev["ticker"].to_numpy()[idx], pd.DatetimeIndex(ev["day0"])[idx]])
        codes, _ = pd.factorize(key)
        _, first_row = np.unique(codes, return_index=True)  # first occurrence of each key
        first_of = first_row[np.searchsorted(np.unique(codes), codes)]
        dup = first_of != np.arange(idx.size)
        if dup.any():
            ids = ev["event_id"].to_numpy()
            for j in np.flatnonzero(dup):  # only the repeats (few)
                i = idx[j]
                agg[i] = False
                msg = (f"same ticker and day 0 as {ids[idx[first_of[j]]]}: counted once in the "
                       "cross-sectional aggregates (aar, tests)")
                reasons[i] = f"{reasons[i]}; {msg}" if reasons[i] else msg
            notes.append(f"{int(dup.sum())} event(s) repeat an earlier event's ticker and day 0; "
                         "AAR/CAAR and the cross-sectional tests count each (ticker, day 0) once")
    battery_tests = None if tests is None else tuple(t for t in tests if t != BHAR_SKEWNESS_TEST)
    if battery_tests is not None and len(battery_tests) == 0:
        tests_df, bat_notes = _empty_tests(), ["cross-sectional tests not requested (tests=())"]
    elif core is not None:
        keep = agg[idx]
        core_agg = core if keep.all() else _subset_core(core, keep)
        tests_df, bat_notes = _battery(core_agg, spec, _n_params(spec), battery_tests)
    else:
        tests_df, bat_notes = _battery_empty()
    if core is not None and (tests is None or BHAR_SKEWNESS_TEST in tuple(tests)):
        tests_df = _with_bhar_skewness(tests_df, res["bhar"][idx][agg[idx]], spec)
    notes.extend(bat_notes)

    # placebo
    p_placebo = np.full((n, w), np.nan)
    placebo_frame = None
    if placebo_draws and idx.size:
        from research.eventstudy.placebo import placebo_pvalues

        placebo_frame, p_placebo = placebo_pvalues(
            ev, pos0, np.where(col < 0, 0, col), ok, res["t_stat"], y_panel, x_panel, spec,
            n_draws=int(placebo_draws), seed=int(seed), rf=rf)
        from research.eventstudy.placebo import MIN_CANDIDATES

        few = placebo_frame.drop_duplicates("event_id")
        few = few[(few["n_draws"] > 0) & (few["n_candidates"] < MIN_CANDIDATES)]
        if not few.empty:
            notes.append(
                f"placebo: {len(few)} event(s) have fewer than {MIN_CANDIDATES} distinct pseudo "
                f"dates (e.g. {few['event_id'].iat[0]}: {int(few['n_candidates'].iat[0])}); "
                "pass a longer returns history so pseudo dates can come from the ticker's "
                "whole non-event history")

    # tables
    rel = np.arange(spec.event_span[0], spec.event_span[1] + 1)
    events_out = pd.DataFrame({
        "event_id": ev["event_id"], "ticker": ev["ticker"], "date": ev["date"],
        "timing": ev["timing"], "day0": ev["day0"], "timing_uncertain": ev["timing_uncertain"],
        "status": pd.array(np.where(ok, "ok", "skipped").astype(str), dtype="str"),
        "reason": pd.array([str(r) for r in reasons], dtype="str"),
        "alpha": alpha, "beta": beta[:, 0], "sigma": sigma, "r2": r2, "n_obs": n_obs,
    })
    if spec.model == "factor":
        for j, name in enumerate(spec.factor_columns):
            events_out[f"beta_{name}"] = beta[:, j]
    ar_df = pd.DataFrame(ar, index=pd.Index(ev["event_id"], name="event_id"),
                         columns=pd.Index(rel, name="day"))
    car_df = pd.DataFrame({
        "event_id": np.repeat(ev["event_id"].to_numpy(), w),
        "ticker": np.repeat(ev["ticker"].to_numpy(), w),
        "day0": np.repeat(ev["day0"].to_numpy(), w),
        "window_start": np.tile([a for a, _ in spec.windows], n),
        "window_end": np.tile([b for _, b in spec.windows], n),
        **{c: res[c].ravel() for c in ("car", "bhar", "car_se", "t_stat", "p_value")},
        "p_placebo": p_placebo.ravel(),
    })
    car_df["event_id"] = car_df["event_id"].astype("str")
    car_df["ticker"] = car_df["ticker"].astype("str")
    with np.errstate(all="ignore"):
        ar_ok = ar[agg]
        cnt = np.isfinite(ar_ok).sum(axis=0)
        aar = np.where(cnt > 0, np.nansum(ar_ok, axis=0) / np.maximum(cnt, 1), np.nan)
    aar_df = pd.DataFrame({"aar": aar, "caar": np.cumsum(np.nan_to_num(aar)), "n": cnt},
                          index=pd.Index(rel, name="day"))
    aar_df.loc[cnt == 0, "caar"] = np.nan

    vol_df = None
    if vol_panel is not None and volume is not False:
        from research.eventstudy.volume import abnormal_volume_panel

        vol_df = abnormal_volume_panel(ev, vol_panel, spec)
    return EventStudyResult(
        events=events_out[list(EVENT_COLUMNS) + [c for c in events_out.columns if c.startswith("beta_")]],
        ar=ar_df, car=car_df[list(CAR_COLUMNS)], aar=aar_df[list(AAR_COLUMNS)], tests=tests_df,
        spec=spec, volume=vol_df, placebo=placebo_frame, notes=tuple(notes),
        car_path=pd.concat({"car": pd.DataFrame(path_car, index=ar_df.index, columns=ar_df.columns),
                            "car_se": pd.DataFrame(path_se, index=ar_df.index, columns=ar_df.columns)},
                           axis=1, names=["stat", "day"]),
    )


def _subset_core(core: _Core, keep: np.ndarray) -> _Core:
    """Rows ``keep`` of a stacked estimate (for the aggregates)."""
    def take(a: Any) -> Any:
        return None if a is None else a[keep]

    return _Core(core.alpha[keep], core.beta[keep], core.sigma[keep], core.r2[keep],
                 core.n_obs[keep], core.ar[keep], core.ar_est[keep], core.pe[keep],
                 take(core.xtx_inv), take(core.design_evt), None)


def _empty_tests() -> pd.DataFrame:
    dtypes = {"test": "str", "scope": "str", "day": "Int64", "window_start": "Int64",
              "window_end": "Int64", "statistic": "float64", "p_value": "float64"}
    return pd.DataFrame({c: pd.Series(dtype=dtypes[c]) for c in TEST_COLUMNS})


def _battery_empty() -> tuple[pd.DataFrame, list[str]]:
    return _empty_tests(), ["no event could be estimated: no cross-sectional tests"]


def _reasons(ev: pd.DataFrame, code: np.ndarray, col: np.ndarray, pos0: np.ndarray,
             returns: pd.DataFrame, al: AlignedData, spec: EventStudySpec,
             unknown: list[str]) -> list[str]:
    """Human-readable reason per event (loops only over the skipped ones)."""
    out = [""] * len(ev)
    est = spec.estimation
    idx_dates = returns.index
    first_valid = returns.apply(lambda s: s.first_valid_index())
    for i in np.flatnonzero(code != 0):
        t = ev["ticker"].iat[i]
        d0 = ev["day0"].iat[i]
        if code[i] == 1:
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
        nv = int((np.isfinite(al.y_est[i]) & (np.isfinite(al.x_est[i]).all(-1)
                                              if al.x_est is not None else True)).sum())
        fv = first_valid.get(t)
        est_start_pos = pos0[i] + est.start
        if code[i] == 2:
            if fv is not None and not pd.isna(fv) and fv > d0:
                out[i] = (f"{t} has no returns before {fv:%Y-%m-%d} (not listed yet / outside "
                          f"coverage) but day 0 is {d0:%Y-%m-%d}: no estimation data")
            else:
                out[i] = (f"all {est.length} estimation-window returns of {t} are NaN; "
                          "check the price data")
        elif code[i] == 3:
            if fv is None or pd.isna(fv):
                out[i] = f"{t} has no returns at all in the data"
            elif est_start_pos < 0 or fv > idx_dates[max(est_start_pos, 0)]:
                out[i] = (f"{t} not listed (no data) before {fv:%Y-%m-%d}: only {nv} valid "
                          f"estimation returns, fewer than min_obs={est.min_obs}; lower "
                          "EstimationWindow.min_obs or drop the event")
            else:
                out[i] = (f"only {nv} valid estimation returns (stock and regressors), fewer "
                          f"than min_obs={est.min_obs}")
        elif code[i] == 4:
            out[i] = ((f"market proxy {spec.market} " if spec.model == "market" else "a factor ")
                      + "has zero variance in the estimation window: the model cannot be "
                      "estimated; use model='market_adjusted' or another proxy")
        elif code[i] == 5:
            out[i] = "factor regressors are collinear in the estimation window"
    return out
