"""The event-study pipeline: align -> screen -> estimate -> abnormal returns -> windows.

Every caller -- the engine (:func:`research.eventstudy.run_event_study`), the placebo
(:mod:`research.eventstudy.placebo`), the portfolio approach, the size/power simulation
(:mod:`research.eventstudy.simulate`) -- runs the same small typed steps on arrays:

1. :func:`validate_panel` / :func:`load_return_panel`: a returns panel (sessions x
   tickers) checked once; :func:`regressor_array` its regressors.
2. :func:`align_matrices`: every event's estimation window and event span read from the
   panel with one fancy index (:class:`AlignedData`).
3. :func:`screen`: which events can be estimated, with a :class:`ScreenReason` each.
4. :func:`estimate`: one stacked OLS fit (:func:`research.eventstudy.models.fit`),
   abnormal returns and prediction-error factors (:class:`Estimate`).
5. :func:`window_statistics`: CAR, BHAR and the single-event CAR t-test per window
   (the one CAR variance of :func:`research.eventstudy.stats.car_moments`).
6. :func:`first_occurrence`: integer-keyed de-duplication of (ticker, day 0) for the
   cross-sectional aggregates.

Relative days are rows of the returns panel, i.e. trading sessions.

References
----------
MacKinlay, A. C. (1997). Event studies in economics and finance. *J. Econ. Lit.* 35, 13-39.
Campbell, J. Y., Lo, A. W. and MacKinlay, A. C. (1997). *The Econometrics of Financial
Markets*, ch. 4.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from research.data.panel import close_panel, returns
from research.data.sources import available_tickers, load_prices
from research.errors import EventStudyError, InsufficientDataError, UnknownTickerError
from research.eventstudy import models as _models
from research.eventstudy import stats as _stats
from research.eventstudy.spec import EventStudySpec

__all__ = [
    "AlignedData", "Estimate", "ScreenReason", "align_matrices", "estimate", "first_occurrence",
    "load_return_panel", "n_params", "regressor_array", "risk_free", "screen", "validate_panel",
    "window_index", "window_statistics",
]


# ----------------------------------------------------------------------------------------
# 1. data
# ----------------------------------------------------------------------------------------
def validate_panel(panel: pd.DataFrame, name: str = "returns") -> pd.DataFrame:
    """A panel (sessions x tickers) checked and sorted by date, columns as ``str``.

    Raises
    ------
    EventStudyError
        Not a DataFrame, index not dates, duplicated dates or columns, non-numeric columns.
    InsufficientDataError
        No rows or no columns.
    """
    if not isinstance(panel, pd.DataFrame):
        raise EventStudyError(f"{name} must be a DataFrame (dates x tickers), got {type(panel).__name__}")
    if panel.shape[0] == 0 or panel.shape[1] == 0:
        raise InsufficientDataError(
            f"{name} table is empty ({panel.shape[0]} dates x {panel.shape[1]} tickers); pass daily "
            "returns covering the estimation window and event span of every event, e.g. "
            "research.data.returns(research.data.close_panel(prices))"
        )
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
    wanted = sorted(set(tickers))
    unknown: list[str] = []
    try:
        prices = load_prices(wanted, source=source)
    except UnknownTickerError:
        avail = set(available_tickers())
        unknown = [t for t in wanted if t not in avail]
        wanted = [t for t in wanted if t in avail]
        if not wanted:
            raise
        prices = load_prices(wanted, source=source)
    closes = close_panel(prices, field="close")
    rets = returns(closes, kind=return_type)
    vol = close_panel(prices, field="volume") if with_volume else None
    return rets, vol, unknown


def regressor_array(panel_index: pd.DatetimeIndex, returns: pd.DataFrame | None,
                    spec: EventStudySpec) -> np.ndarray | None:
    """(D, K) regressors on the panel's dates: market proxy column or factor columns
    (None for the mean-adjusted model).

    Raises
    ------
    UnknownTickerError
        The market proxy is not a column of ``returns``.
    """
    model = spec.expected_return
    if model.regressors == "none":
        return None
    if model.uses_factors:
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


def risk_free(panel_index: pd.DatetimeIndex, spec: EventStudySpec) -> np.ndarray | None:
    """(D,) risk-free rate subtracted from returns for a factor model with an ``RF``
    column, else None."""
    if spec.expected_return.uses_factors and spec.factors is not None and "RF" in spec.factors.columns:
        return spec.factors.sort_index()["RF"].reindex(panel_index).to_numpy(float)
    return None


def n_params(spec: EventStudySpec) -> int:
    """Parameters estimated per event (:func:`research.eventstudy.models.n_params`)."""
    return spec.expected_return.n_params(len(spec.factor_columns))


def window_index(spec: EventStudySpec) -> tuple[np.ndarray, np.ndarray]:
    """(starts, ends): the spec's windows as inclusive indices into the event span."""
    tmin, _ = spec.event_span
    starts = np.array([a - tmin for a, _ in spec.windows], dtype=np.intp)
    ends = np.array([b - tmin for _, b in spec.windows], dtype=np.intp)
    return starts, ends


# ----------------------------------------------------------------------------------------
# 2. align
# ----------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class PanelSums:
    """Running sums of a returns panel against one regressor (the market): every
    event's estimation-window moments in O(1), whatever the window's length.

    Each array is (D+1, M): row ``k`` holds, per stock column, the sum over panel rows
    ``< k`` of the days where the stock *and* the regressor are finite (valid days):
    ``n`` (count), ``y``, ``x``, ``xx``, ``xy``, ``yy``; ``fy`` counts the days where
    the stock alone is finite. A window's sum is a difference of two rows; its rounding
    error is at most about ``D * eps`` times the running sum it is taken from, which
    :func:`estimate` checks before trusting it (see there).
    """

    n: np.ndarray
    y: np.ndarray
    x: np.ndarray
    xx: np.ndarray
    xy: np.ndarray
    yy: np.ndarray
    fy: np.ndarray

    @classmethod
    def of(cls, y_panel: np.ndarray, x_col: np.ndarray) -> PanelSums:
        """From a (D, M) returns array and the (D,) regressor."""
        y = np.asarray(y_panel, dtype=float)
        x = np.asarray(x_col, dtype=float).reshape(-1)
        fy = np.isfinite(y)
        valid = fy & np.isfinite(x)[:, None]
        yz = np.where(valid, y, 0.0)
        xz = np.where(valid, x[:, None], 0.0)

        def run(a: np.ndarray) -> np.ndarray:
            out = np.zeros((a.shape[0] + 1, a.shape[1]))
            np.cumsum(a, axis=0, out=out[1:])
            return out

        with np.errstate(over="ignore"):  # absurd returns overflow to inf: those fits are refitted
            return cls(run(valid.astype(float)), run(yz), run(xz), run(xz * xz), run(xz * yz), run(yz * yz),
                       run(fy.astype(float)))

    def window(self, col: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> dict[str, np.ndarray]:
        """(N,) sums over panel rows ``[lo, hi)`` of column ``col``, and ``pxx``/``pyy``:
        the running sums at ``hi`` the ``xx``/``yy`` differences are taken from."""
        out = {k: getattr(self, k)[hi, col] - getattr(self, k)[lo, col]
               for k in ("n", "y", "x", "xx", "xy", "yy", "fy")}
        out["pxx"], out["pyy"] = self.xx[hi, col], self.yy[hi, col]
        return out


def market_sums(y_panel: np.ndarray, x_panel: np.ndarray | None, spec: EventStudySpec,
                rf: np.ndarray | None = None) -> PanelSums | None:
    """:class:`PanelSums` for a model fitted from window sums (the market model: one
    regressor, no risk-free rate), else None."""
    if not spec.expected_return.from_sums or rf is not None or x_panel is None or np.shape(x_panel)[-1] != 1:
        return None
    return PanelSums.of(y_panel, np.asarray(x_panel)[:, 0])


#: cached window arrays of :class:`AlignedData`, subset by :meth:`AlignedData.take`
_READ = ("hull", "event")


@dataclass(frozen=True, eq=False)
class AlignedData:
    """N events (rows) placed in a returns panel; their windows are read on first use.

    ``y_est`` (N,L) and ``y_evt`` (N,T) are the stock's returns over the estimation
    window and the event span; ``x_est`` (N,L,K) / ``x_evt`` (N,T,K) the regressors
    (market proxy or factors), None for the mean-adjusted model. Each is read from the
    panel (one memcpy per event, NaN outside the panel or for an unknown day 0) the
    first time it is used and then kept: a study that needs only window sums
    (``sums``, the market model) never reads the estimation window at all.

    Attributes
    ----------
    y_panel : (D, M) returns; x_panel : (D, K) regressors or None; col : (N,) column of
    each event's ticker; pos0 : (N,) day-0 row (-1 = unknown); spec; rf : (D,) risk-free
    rate subtracted from y (factor model) or None; sums : :class:`PanelSums` or None.
    """

    y_panel: np.ndarray
    x_panel: np.ndarray | None
    col: np.ndarray
    pos0: np.ndarray
    spec: EventStudySpec
    rf: np.ndarray | None = None
    sums: PanelSums | None = None

    def _read(self, a: int, b: int) -> tuple[np.ndarray, np.ndarray | None]:
        """Stock returns (N, b-a+1) and regressors (N, b-a+1, K) on relative days a..b."""
        p0 = np.where(self.pos0 < 0, -(10**9), self.pos0)
        span, reach = b - a + 1, abs(a) + abs(b)
        zeros = np.zeros_like(self.col)
        y = _windows(np.asarray(self.y_panel, dtype=float).T, self.col, p0 + a, span, reach)
        if self.rf is not None:
            y -= _windows(np.asarray(self.rf, dtype=float)[None, :], zeros, p0 + a, span, reach)
        if self.x_panel is None:
            return y, None
        xp = np.asarray(self.x_panel, dtype=float)
        cols = [_windows(xp[:, k][None, :], zeros, p0 + a, span, reach) for k in range(xp.shape[1])]
        return y, (cols[0][:, :, None] if len(cols) == 1 else np.stack(cols, axis=-1))

    @functools.cached_property
    def hull(self) -> tuple[np.ndarray, np.ndarray | None]:
        """Both windows' hull read at once: (y, x) on relative days ``min(est.start,
        tmin) .. max(est.end, tmax)``."""
        est, (tmin, tmax) = self.spec.estimation, self.spec.event_span
        return self._read(min(est.start, tmin), max(est.end, tmax))

    def _slice(self, a: int, b: int) -> tuple[np.ndarray, np.ndarray | None]:
        lo = min(self.spec.estimation.start, self.spec.event_span[0])
        y, x = self.hull
        return y[:, a - lo: b - lo + 1], (None if x is None else x[:, a - lo: b - lo + 1])

    @property
    def y_est(self) -> np.ndarray:
        return self._slice(self.spec.estimation.start, self.spec.estimation.end)[0]

    @property
    def x_est(self) -> np.ndarray | None:
        return self._slice(self.spec.estimation.start, self.spec.estimation.end)[1]

    @functools.cached_property
    def event(self) -> tuple[np.ndarray, np.ndarray | None]:
        """(y, x) on the event span: sliced from :attr:`hull` when it was read, else
        read alone (a study that needs only window sums reads nothing else)."""
        span = self.spec.event_span
        return self._slice(*span) if "hull" in self.__dict__ else self._read(*span)

    @property
    def y_evt(self) -> np.ndarray:
        return self.event[0]

    @property
    def x_evt(self) -> np.ndarray | None:
        return self.event[1]

    def take(self, rows: np.ndarray) -> AlignedData:
        """The events ``rows`` (an index or boolean mask); itself when ``rows`` are all
        events in order (no copy). Windows already read are kept (subset), so a change
        made to them (e.g. an injected return) carries over."""
        if _all_rows(rows, self.pos0.shape[0]):
            return self
        out = dataclasses.replace(self, col=self.col[rows], pos0=self.pos0[rows])
        for key in _READ:
            if key in self.__dict__:
                out.__dict__[key] = tuple(None if v is None else v[rows] for v in self.__dict__[key])
        return out

    def estimation_sums(self) -> dict[str, np.ndarray]:
        """(N,) estimation-window sums from :attr:`sums` (:meth:`PanelSums.window`)."""
        assert self.sums is not None
        d = self.sums.n.shape[0] - 1
        ok = self.pos0 >= 0
        lo = np.where(ok, np.clip(self.pos0 + self.spec.estimation.start, 0, d), 0)
        hi = np.where(ok, np.clip(self.pos0 + self.spec.estimation.end + 1, 0, d), 0)
        return self.sums.window(self.col, lo, hi)


def _all_rows(rows: np.ndarray, n: int) -> bool:
    """Whether ``rows`` (index or boolean mask) selects every one of ``n`` rows, in order."""
    rows = np.asarray(rows)
    if rows.dtype == bool:
        return rows.size == n and bool(rows.all())
    return rows.size == n and (n == 0 or (int(rows[0]) == 0 and int(rows[-1]) == n - 1
                                          and bool((np.diff(rows) == 1).all())))


def _windows(series: np.ndarray, rows: np.ndarray, start: np.ndarray, span: int, reach: int) -> np.ndarray:
    """``span`` consecutive values of ``series[rows[i]]`` from position ``start[i]``, NaN
    where a position falls outside ``[0, D)``: one gather of contiguous rows.

    ``series`` (S, D) holds one series per row; it is copied once into a NaN-padded
    array whose sliding windows (a view) are indexed by (row, start) -- a memcpy per
    event instead of an element-wise gather. ``reach`` bounds ``|start - p|`` for every
    start ``p`` in ``[0, D)`` (the padding); other starts (unknown day 0) give NaN."""
    n_s, d = series.shape
    pad = span + reach + 1
    padded = np.full((n_s, d + 2 * pad), np.nan)
    padded[:, pad:pad + d] = series
    first = start + pad
    inside = (first >= 0) & (first + span <= d + 2 * pad)
    win = np.lib.stride_tricks.sliding_window_view(padded, span, axis=1)
    out = win[rows, np.where(inside, first, 0)]
    out[~inside] = np.nan
    return out


def align_matrices(y_panel: np.ndarray, x_panel: np.ndarray | None, col: np.ndarray,
                   pos0: np.ndarray, spec: EventStudySpec, rf: np.ndarray | None = None,
                   sums: PanelSums | None = None) -> AlignedData:
    """Place N events in a returns panel (:class:`AlignedData`; windows read on use).

    Parameters
    ----------
    y_panel : (D, M) returns array; x_panel : (D, K) regressors or None;
    col : (N,) column of each event's ticker; pos0 : (N,) day-0 row (-1 = unknown);
    rf : (D,) risk-free rate subtracted from y for the factor model, optional;
    sums : the panel's :func:`market_sums`, to share between calls (built here for the
        market model when not given).
    """
    y_panel = np.asarray(y_panel, dtype=float)
    x_panel = None if x_panel is None else np.asarray(x_panel, dtype=float)
    if sums is None:
        sums = market_sums(y_panel, x_panel, spec, rf)
    return AlignedData(y_panel, x_panel, np.asarray(col, dtype=np.int64), np.asarray(pos0, dtype=np.int64),
                       spec, rf, sums)


# ----------------------------------------------------------------------------------------
# 3. screen
# ----------------------------------------------------------------------------------------
class ScreenReason(enum.IntEnum):
    """Why an event can (``OK``) or cannot be estimated; :func:`screen` gives one each."""

    OK = 0
    NO_DAY0 = 1  #: day 0 unknown or not a row of the panel, or the ticker is not a column
    NO_ESTIMATION_DATA = 2  #: every estimation-window return of the stock is NaN
    TOO_FEW_OBSERVATIONS = 3  #: fewer than ``min_obs`` valid (stock and regressor) returns
    ZERO_VARIANCE_REGRESSOR = 4  #: a regressor is constant over the estimation window
    COLLINEAR_FACTORS = 5  #: factor regressors collinear (condition number >= 1e10)


def screen(al: AlignedData, spec: EventStudySpec) -> tuple[np.ndarray, np.ndarray]:
    """Which events can be estimated.

    With :attr:`AlignedData.sums` (the market model) the counts and the regressor's
    variance come from window sums (:func:`_screen_sums`); otherwise an event whose
    stock and regressor returns are all finite over the estimation window (the usual
    case) is decided from its row sum and the regressor's moments, computed once per
    day 0 (:func:`research.eventstudy.models.row_moments`), and the others by masked
    counts and moments (:func:`_screen_masked`). All apply the same rules.

    Returns
    -------
    (ok (N,) bool, reason (N,) int8 codes of :class:`ScreenReason`)
    """
    single = al.x_panel is None or (al.x_panel.shape[-1] == 1 and not spec.expected_return.uses_factors)
    if al.sums is not None:
        code = _screen_sums(al, spec)
    elif not single:
        code = _screen_masked(al, spec)
    else:
        code = _screen_complete(al, spec)
    code[al.pos0 < 0] = ScreenReason.NO_DAY0
    return code == ScreenReason.OK, code


def _screen_sums(al: AlignedData, spec: EventStudySpec) -> np.ndarray:
    """:func:`screen`'s codes from window sums. The regressor's variance is trusted
    where it is clearly non-zero (at least 1% of the running sum it is taken from, and
    twice the zero-variance threshold); other events are decided by
    :func:`_screen_masked` on their own rows."""
    w = al.estimation_sums()
    code = np.zeros(al.pos0.shape[0], dtype=np.int8)
    code[w["n"] < spec.estimation.min_obs] = ScreenReason.TOO_FEW_OBSERVATIONS
    code[w["fy"] == 0] = ScreenReason.NO_ESTIMATION_DATA
    with np.errstate(all="ignore"):
        sxx = w["xx"] - w["x"] * (w["x"] / w["n"])
        clear = (sxx >= 0.01 * w["pxx"]) & (np.sqrt(sxx / w["n"]) > 2e-12 * (1.0 + np.sqrt(w["xx"])))
    unsure = np.flatnonzero((code == 0) & ~clear & (al.pos0 >= 0))
    if unsure.size:
        code[unsure] = _screen_masked(al.take(unsure), spec)
    return code


def _screen_complete(al: AlignedData, spec: EventStudySpec) -> np.ndarray:
    """:func:`screen`'s codes for one regressor or none, complete rows from row sums."""
    n, n_days = al.y_est.shape
    full = np.isfinite(al.y_est.sum(axis=1))
    if al.x_est is not None:
        _, sxx, big, x_full = _models.row_moments(al.x_est[:, :, 0], al.pos0)
        full &= x_full
    code = np.zeros(n, dtype=np.int8)
    if n_days < spec.estimation.min_obs:
        code[full] = ScreenReason.TOO_FEW_OBSERVATIONS
    elif al.x_est is not None and spec.expected_return.slopes:
        with np.errstate(all="ignore"):
            zero = ~(np.sqrt(sxx / n_days) > 1e-12 * (1.0 + big))
        code[full & zero] = ScreenReason.ZERO_VARIANCE_REGRESSOR
    rest = np.flatnonzero(~full)
    if rest.size:
        code[rest] = _screen_masked(al.take(rest), spec)
    return code


def _screen_masked(al: AlignedData, spec: EventStudySpec) -> np.ndarray:
    """:func:`screen`'s codes from masked counts and moments (any missing returns)."""
    n = al.y_est.shape[0]
    code = np.zeros(n, dtype=np.int8)
    fin_y = np.isfinite(al.y_est)
    valid = fin_y if al.x_est is None else fin_y & np.isfinite(al.x_est).all(axis=-1)
    n_valid = valid.sum(axis=1)
    code[n_valid < spec.estimation.min_obs] = ScreenReason.TOO_FEW_OBSERVATIONS
    code[~fin_y.any(axis=1)] = ScreenReason.NO_ESTIMATION_DATA
    if al.x_est is not None and spec.expected_return.slopes:
        nv = np.maximum(n_valid, 1)
        devs, zero = [], np.zeros(n, dtype=bool)
        with np.errstate(all="ignore"):
            for j in range(al.x_est.shape[-1]):  # regressors (1 to a few), 2-D arrays each
                xz = np.where(valid, al.x_est[..., j], 0.0)
                dev = np.where(valid, al.x_est[..., j] - (xz.sum(axis=1) / nv)[:, None], 0.0)
                sd = np.sqrt(np.einsum("ij,ij->i", dev, dev) / nv)
                big = np.maximum(xz.max(axis=1), -xz.min(axis=1))  # max |x| over valid days
                zero |= ~(sd > 1e-12 * (1.0 + big))
                devs.append(dev)
        code[(code == 0) & zero] = ScreenReason.ZERO_VARIANCE_REGRESSOR
        if spec.expected_return.uses_factors and al.x_est.shape[-1] > 1:
            ok_rows = code == 0
            if ok_rows.any():
                dev = np.stack([d[ok_rows] for d in devs], axis=-1)
                g = np.einsum("nlp,nlq->npq", dev, dev)
                cond = np.linalg.cond(g)
                coll = np.zeros(n, bool)
                coll[ok_rows] = ~(cond < 1e10)
                code[(code == 0) & coll] = ScreenReason.COLLINEAR_FACTORS
    return code


# ----------------------------------------------------------------------------------------
# 4. estimate -> abnormal returns
# ----------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class Estimate:
    """Estimated quantities for a stacked batch of N events (:func:`estimate`).

    The estimation-window residuals ``ar_est`` (N, L) and the prediction-error factors
    ``pe`` (N, T) -- needed only by the cross-sectional battery -- are computed on first
    use by ``residuals()`` and ``factors()``.
    """

    alpha: np.ndarray  #: (N,)
    beta: np.ndarray  #: (N, K)
    sigma: np.ndarray  #: (N,) residual standard deviation
    r2: np.ndarray  #: (N,)
    n_obs: np.ndarray  #: (N,) estimation observations used
    ar: np.ndarray  #: (N, T) event-span abnormal returns
    xtx_inv: np.ndarray | None  #: (N, P, P) prediction-error matrix V_i
    design_evt: np.ndarray | None  #: (N, T, P) event-day design rows x0_t
    y_evt: np.ndarray  #: (N, T) event-span returns (for BHAR)
    residuals: Callable[[], np.ndarray] = dataclasses.field(repr=False)  #: computes ``ar_est``
    factors: Callable[[], np.ndarray] = dataclasses.field(repr=False)  #: computes ``pe``
    fit: Any = None

    @functools.cached_property
    def pe(self) -> np.ndarray:
        """(N, T) prediction-error variance factors, ``Var(AR_it) = sigma_i^2 pe_it``."""
        return np.asarray(self.factors(), dtype=float)

    @functools.cached_property
    def ar_est(self) -> np.ndarray:
        """(N, L) estimation-window residuals (NaN on days not used)."""
        return np.asarray(self.residuals(), dtype=float)

    def take(self, rows: np.ndarray) -> Estimate:
        """The events ``rows`` (an index or boolean mask)."""
        sub = (lambda a: None if a is None else a[rows])  # noqa: E731
        return Estimate(self.alpha[rows], self.beta[rows], self.sigma[rows], self.r2[rows],
                        self.n_obs[rows], self.ar[rows], sub(self.xtx_inv), sub(self.design_evt),
                        self.y_evt[rows], residuals=lambda: self.ar_est[rows],
                        factors=lambda: self.pe[rows])

    def battery_input(self, spec: EventStudySpec) -> _stats.BatteryInput:
        """The cross-sectional battery's input (:class:`research.eventstudy.stats.BatteryInput`)."""
        design = spec.expected_return.car_design(self.design_evt)
        return _stats.BatteryInput(ar=self.ar, ar_est=self.ar_est, sigma=self.sigma, pe=self.pe,
                                   n_est=np.asarray(self.n_obs), n_params=n_params(spec),
                                   design_evt=design, xtx_inv=None if design is None else self.xtx_inv)


def estimate(al: AlignedData, spec: EventStudySpec) -> Estimate:
    """Fit the expected-return model for N stacked events and compute abnormal returns
    (on first use) prediction-error factors. Pass only screened events (``al.take(ok)``).

    The market model (textbook convention) is fitted from the estimation-window sums of
    :attr:`AlignedData.sums` (:func:`research.eventstudy.models.market_from_sums`): the
    estimation window is never read unless the residuals are asked for. Events whose
    sums could lose digits are fitted from their returns, as every event of the other
    models is (one call to :func:`research.eventstudy.models.fit`).
    """
    model = spec.expected_return
    if al.sums is not None and model.from_sums and spec.convention == "textbook":
        fit, good = _models.market_from_sums(al.estimation_sums())
        bad = np.flatnonzero(~good)
        if bad.size:
            sub = al.take(bad)
            _models.fill_rows(fit, bad, sub.y_est, sub.x_est)
        residuals = lambda: _models.market_residuals(al.y_est, al.x_est[:, :, 0], fit)  # noqa: E731
    else:
        fit = _models.fit(al.y_est, al.x_est, model, convention=spec.convention, groups=al.pos0)
        residuals = functools.partial(np.asarray, fit.resid)
    ar = _models.abnormal(al.y_evt, al.x_evt, fit, model)
    alpha = np.asarray(fit.alpha, dtype=float)
    beta = np.asarray(fit.beta, dtype=float).reshape(len(alpha), -1)
    return Estimate(alpha, beta, np.asarray(fit.sigma, float), np.asarray(fit.r2, float),
                    np.asarray(fit.n_obs), np.asarray(ar, float), fit.xtx_inv,
                    _models.design(al.x_evt if al.x_evt is not None else al.y_evt, fit),
                    al.y_evt, residuals=residuals, fit=fit,
                    factors=lambda: _models.prediction_factor(al.x_evt, fit, model, n_days=al.y_evt.shape[1]))


# ----------------------------------------------------------------------------------------
# 5. window statistics
# ----------------------------------------------------------------------------------------
def window_statistics(est: Estimate, spec: EventStudySpec, starts: np.ndarray | None = None,
                      ends: np.ndarray | None = None, *, bhar: bool = True,
                      pvalues: bool = True, path: bool = False) -> dict[str, np.ndarray]:
    """CAR, BHAR and the single-event CAR t-test for every event x window.

    The CAR and its variance come from :func:`research.eventstudy.stats.car_moments`
    (exact prediction-error variance ``sigma^2 (L2 + s' V s)``; Campbell, Lo and
    MacKinlay 1997, eq. 4.4.13 generalised to K regressors; ``sigma^2 L2`` for the
    market-adjusted model). A window is reported only when complete (every day has an
    abnormal return); otherwise ``car``, ``car_se``, ``t_stat``, ``p_value`` and
    ``bhar`` are NaN and ``complete`` is False. The test is two-sided Student t with
    ``n_obs - n_params`` degrees of freedom (``n_obs - 1`` for market-adjusted).

    BHAR is :func:`research.eventstudy.stats.bhar` (``prod(1 + R) - prod(1 + E[R])`` in
    simple-return units, ``E[R] = R - AR``; for log returns ``1 + R = exp(r)``).

    Parameters
    ----------
    starts, ends : inclusive day indices into the event span; default the spec's windows.
    bhar, pvalues : compute BHAR and the t-test p-values (default True; the CAR path and
        the placebo need neither).
    path : also return ``path_car`` and ``path_se`` (N, T): the CAR and its standard error
        from the first event day to each day (one CAR computation with the windows).

    Returns
    -------
    dict of (N, W) arrays: car, bhar, car_se, t_stat, p_value, complete (and the path).
    """
    if starts is None or ends is None:
        starts, ends = window_index(spec)
    n_w = len(starts)
    if path:
        days = np.arange(est.ar.shape[1])
        starts, ends = np.r_[starts, np.zeros_like(days)], np.r_[ends, days]
    design = spec.expected_return.car_design(est.design_evt)
    car, v, complete = _stats.car_moments(est.ar, starts, ends, design=design,
                                          xtx_inv=None if design is None else est.xtx_inv)
    car = np.where(complete, car, np.nan)
    dof = est.n_obs - spec.expected_return.dof_params(len(spec.factor_columns))
    with np.errstate(all="ignore"):
        car_se = est.sigma[:, None] * np.sqrt(np.where(complete, v, np.nan))
    out = {"path_car": car[:, n_w:], "path_se": car_se[:, n_w:]} if path else {}
    car, car_se, complete = car[:, :n_w], car_se[:, :n_w], complete[:, :n_w]
    starts, ends = starts[:n_w], ends[:n_w]
    with np.errstate(all="ignore"):
        t_stat = car / car_se
        p = _stats.two_sided_t_p(t_stat, dof[:, None]) if pvalues else np.full_like(t_stat, np.nan)
    out.update({"car": car, "car_se": car_se, "t_stat": t_stat, "p_value": p, "complete": complete})
    if bhar:
        if spec.return_type == "log":
            with np.errstate(all="ignore"):
                r, e = np.expm1(est.y_evt), np.expm1(est.y_evt - est.ar)
        else:
            r, e = est.y_evt, est.y_evt - est.ar
        out["bhar"] = np.where(complete, _stats.bhar_windows(r, e, starts, ends), np.nan)
    return out


# ----------------------------------------------------------------------------------------
# 6. aggregates: one observation per (ticker, day 0)
# ----------------------------------------------------------------------------------------
def first_occurrence(col: np.ndarray, pos0: np.ndarray) -> np.ndarray:
    """(N,) index of the first event with the same (ticker column, day-0 row).

    Integer keys ``col * (max(pos0) + 2) + pos0 + 1`` and one ``np.unique``; an event is
    a repeat when ``first_occurrence(...)[i] != i``.
    """
    col = np.asarray(col, dtype=np.int64)
    pos0 = np.asarray(pos0, dtype=np.int64)
    if col.size == 0:
        return np.zeros(0, dtype=np.intp)
    key = col * (int(pos0.max()) + 2) + (pos0 + 1)
    _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    return first[inverse.ravel()]
