"""The cross-event test battery: pure numpy over stacked (events x days) arrays.

Inputs are a :class:`BatteryInput`: event-window abnormal returns ``ar (N, T)``,
estimation-window abnormal returns ``ar_est (N, L)``, residual sigma ``sigma (N,)``,
prediction-error factors ``pe (N, T)`` (``Var(AR_it) = sigma_i^2 pe_it``, see
:func:`research.eventstudy.models.prediction_factor`), the usable estimation rows
``n_est (N,)`` and the number of model parameters. Rows of ``ar_est`` / columns of ``ar``
are trading days relative to each event; events that share a calendar date share
positions, which is what the Brown-Warner 1985, Lamb, rank and Kolari-Pynnönen
statistics pool over. ``NaN`` = missing; an event whose ``sigma`` is not finite and
positive (a failed fit) is left out of every statistic.

Every test is available per event day (``window=None``: arrays of length T) and for the
cumulative abnormal return over an inclusive window of day indices
(``window=(start_idx, end_idx)``: scalars). All p-values are two-sided; the reference
distribution of each test is given in its docstring (N = standard normal, t(df) =
Student t). :func:`day_tests` and :func:`window_tests` run the whole battery and return
long data frames; :func:`battery` runs it on every day and a list of windows at once
(arrays; what the engine uses). Derived arrays (ranks, sorted rows, standardized CARs,
the generalized rank test's setup and results) are memoised on the frozen input, so
days and windows share them.

Conventions
-----------
``convention="textbook"`` (default) follows the cited papers. ``convention="estudy2"``
reproduces the R package estudy2 (0.10) where it departs from them (used by the
reference-value tests; the corresponding Patell/BMP/BW1980 inputs come from
``models.fit(..., convention="estudy2")``):

* Lamb: the portfolio prediction error uses ``1/mean(n_est)`` instead of the mean of
  ``1/n_est`` (exact only with one common market regressor, as in estudy2);
* Corrado rank / modified rank / Corrado sign: day sums over the available events are
  rescaled by ``N / n_t`` on days where events are missing (estudy2 computes them as
  ``rowMeans(..., na.rm=TRUE) * ncol``) and the variance is averaged over
  ``mean(M_i)`` (mean count of usable days per event) instead of the number of days;
* Cowan (1992) CAR rank test: ranks centred by the common mean expected rank;
* generalized sign: ``p_hat`` pooled over all estimation observations instead of the
  mean over events of each event's fraction of positive abnormal returns.

Units: abnormal returns in the units of the input returns (simple or log, per trading
day); the statistics are unit-free.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
from scipy import special as _sp_special
from scipy import stats as _st

from research.errors import SpecificationError
from research.eventstudy.models import quad_form

__all__ = [
    "BatteryInput",
    "BatteryPart",
    "RBAR_EXACT_MAX",
    "add_grank_sums",
    "battery_part",
    "combine_parts",
    "grank_scale",
    "grank_sums",
    "set_grank",
    "argsort_rows",
    "car_moments",
    "window_matrix",
    "two_sided_t_p",
    "BatteryResult",
    "battery",
    "DAY_TESTS",
    "TestStat",
    "WINDOW_TESTS",
    "bhar",
    "bhar_windows",
    "bmp",
    "bmp_kp",
    "brown_warner_1980",
    "brown_warner_1985",
    "car",
    "car_variance_factor",
    "corrado_rank",
    "corrado_sign",
    "cross_sectional_t",
    "day_tests",
    "generalized_rank",
    "generalized_sign",
    "lamb",
    "mean_cross_correlation",
    "modified_rank",
    "patell",
    "patell_kp",
    "rank_rows",
    "sign",
    "single_event_tests",
    "skewness_adjusted_t",
    "skewness_corrected",
    "wilcoxon",
    "window_tests",
]

Window = tuple[int, int] | None
CONVENTIONS = ("textbook", "estudy2")


# --------------------------------------------------------------------------------------
# containers
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TestStat:
    """One test's result.

    ``statistic`` and ``p_value`` (two-sided) are floats for a window and arrays of
    length T for per-day results. ``reference`` cites the paper (and the distribution).
    """

    __test__ = False  # not a pytest test class

    name: str
    statistic: float | np.ndarray
    p_value: float | np.ndarray
    reference: str


def _frozen(a) -> np.ndarray:
    arr = np.array(a, dtype=float, copy=True)
    arr.flags.writeable = False
    return arr


@dataclass(frozen=True)
class BatteryInput:
    """Arrays the battery works on (see the module docstring).

    Attributes
    ----------
    ar : (N, T) event-window abnormal returns.
    ar_est : (N, L) estimation-window abnormal returns (model residuals).
    sigma : (N,) residual standard deviation of each event's model.
    pe : (N, T) prediction-error factors, ``Var(AR_it) = sigma_i^2 pe_it``.
    n_est : (N,) usable estimation observations per event.
    n_params : int, parameters estimated per event (0 market-adjusted, 1 mean-adjusted,
        2 market model, K+1 factor model). ``sigma`` has ``n_est - max(n_params, 1)``
        degrees of freedom.
    design_evt : optional (N, T, P) design rows ``x0_t`` of the event days and
    xtx_inv : optional (N, P, P) prediction-error matrix ``V_i`` (both from
        :mod:`research.eventstudy.models`). With them a CAR's variance includes the
        covariance of the estimation error across days; without, it is ``sum pe``.
    """

    ar: np.ndarray
    ar_est: np.ndarray
    sigma: np.ndarray
    pe: np.ndarray
    n_est: np.ndarray
    n_params: int
    design_evt: np.ndarray | None = None
    xtx_inv: np.ndarray | None = None
    _cache: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # private read-only copies: derived arrays are memoised, so inputs must not change
        ar = _frozen(self.ar)
        ar_est = _frozen(self.ar_est)
        sigma = _frozen(self.sigma)
        pe = _frozen(self.pe)
        n_est = _frozen(self.n_est)
        if ar.ndim != 2 or ar_est.ndim != 2:
            raise SpecificationError(
                f"ar must be (N, T) and ar_est (N, L); got {ar.shape} and {ar_est.shape}"
            )
        n = ar.shape[0]
        for name, arr, shape in (
            ("ar_est", ar_est, (n, ar_est.shape[1])),
            ("sigma", sigma, (n,)),
            ("pe", pe, ar.shape),
            ("n_est", n_est, (n,)),
        ):
            if arr.shape != shape:
                raise SpecificationError(
                    f"{name} has shape {arr.shape}, expected {shape} for N={n} events "
                    f"and T={ar.shape[1]} event days"
                )
        if n == 0:
            raise SpecificationError("BatteryInput needs at least one event (N=0)")
        if int(self.n_params) < 0:
            raise SpecificationError(f"n_params must be >= 0, got {self.n_params}")
        object.__setattr__(self, "ar", ar)
        object.__setattr__(self, "ar_est", ar_est)
        object.__setattr__(self, "sigma", sigma)
        object.__setattr__(self, "pe", pe)
        object.__setattr__(self, "n_est", n_est)
        object.__setattr__(self, "n_params", int(self.n_params))
        if (self.design_evt is None) != (self.xtx_inv is None):
            raise SpecificationError("pass both design_evt and xtx_inv, or neither")
        if self.design_evt is not None:
            d = _frozen(self.design_evt)
            v = _frozen(self.xtx_inv)
            if d.ndim != 3 or d.shape[:2] != ar.shape or v.shape != (n, d.shape[2], d.shape[2]):
                raise SpecificationError(
                    f"design_evt must be (N, T, P) and xtx_inv (N, P, P); got {d.shape}, {v.shape}"
                )
            object.__setattr__(self, "design_evt", d)
            object.__setattr__(self, "xtx_inv", v)

    @property
    def n_events(self) -> int:
        return self.ar.shape[0]

    @property
    def n_days(self) -> int:
        return self.ar.shape[1]

    @property
    def valid(self) -> np.ndarray:
        """(N,) events with a usable fit (finite, positive sigma)."""
        return np.isfinite(self.sigma) & (self.sigma > 0)

    @property
    def dof(self) -> np.ndarray:
        """(N,) degrees of freedom of sigma: ``n_est - max(n_params, 1)``."""
        return self.n_est - max(self.n_params, 1)


# --------------------------------------------------------------------------------------
# small helpers
# --------------------------------------------------------------------------------------
def _check_convention(convention: str) -> None:
    if convention not in CONVENTIONS:
        raise SpecificationError(
            f"unknown convention {convention!r}; use one of {', '.join(CONVENTIONS)}"
        )


def _window(inp: BatteryInput, window: Window) -> tuple[int, int] | None:
    if window is None:
        return None
    a, b = int(window[0]), int(window[1])
    if a > b:
        raise SpecificationError(f"window start index {a} is after its end index {b}; swap them")
    if a < 0 or b >= inp.n_days:
        raise SpecificationError(
            f"window ({a}, {b}) is outside the event days 0..{inp.n_days - 1}"
        )
    return a, b


def _p_norm(z):
    # = 2 * scipy.stats.norm.sf(|z|) (the same special function, without its argument checks)
    return 2.0 * _sp_special.ndtr(-np.abs(z))


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


_p_t = two_sided_t_p


def _out(name: str, stat, p, ref: str, scalar: bool) -> TestStat:
    stat = np.asarray(stat, dtype=float)
    p = np.asarray(p, dtype=float)
    if scalar:
        return TestStat(name, float(stat.reshape(-1)[0]), float(p.reshape(-1)[0]), ref)
    return TestStat(name, stat, p, ref)


def _cached(inp: BatteryInput, key: str, make: Callable[[], object]):
    """Memoise a derived array on the (frozen) input; inputs are never mutated."""
    if key not in inp._cache:
        inp._cache[key] = make()
    return inp._cache[key]


def _ar(inp: BatteryInput) -> np.ndarray:
    """Event ARs with failed-fit events blanked."""
    return _cached(inp, "ar", lambda: np.where(inp.valid[:, None], inp.ar, np.nan))


def _ar_est(inp: BatteryInput) -> np.ndarray:
    return _cached(inp, "ar_est", lambda: np.where(inp.valid[:, None], inp.ar_est, np.nan))


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
    order, srt = _sort_rows(a)
    return _scatter_rows(_avg_ranks_sorted(srt)[0], order)


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


def _flat_index(order: np.ndarray) -> np.ndarray:
    """Row-wise column indices ``order (n, m)`` as indices into the flattened array."""
    n, m = order.shape
    return order + (np.arange(n, dtype=np.int64) * m)[:, None]


def _sort_rows(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row-wise ascending ``argsort`` of ``a`` as flat indices, and the sorted rows (NaN last).

    NaN is sorted as ``+inf`` (numpy's sort is several times slower on NaN); the sorted
    rows hold the original values, so NaN (and ``+inf``) stay at the end of each row.
    The first result indexes ``a.ravel()``: ``column = flat % m`` (see
    :func:`_flat_index`); it feeds :func:`_scatter_rows`.
    """
    nan = np.isnan(a)
    key = np.where(nan, np.inf, a) if nan.any() else a
    flat = _flat_index(argsort_rows(key))  # tie order is irrelevant to every use below
    return flat, a.ravel().take(flat)


def _avg_ranks_sorted(srt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
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


def _scatter_rows(vals_sorted: np.ndarray, flat: np.ndarray) -> np.ndarray:
    """Inverse of sorting: ``out.ravel()[flat[i, q]] = vals_sorted[i, q]`` (``flat`` from
    :func:`_sort_rows` / :func:`_flat_index`)."""
    out = np.empty(flat.shape, dtype=vals_sorted.dtype)
    out.ravel()[flat.ravel()] = vals_sorted.ravel()
    return out


def _count(x: np.ndarray, axis: int = 0) -> np.ndarray:
    return np.isfinite(x).sum(axis=axis)


def _nanmean(x: np.ndarray, axis: int = 0) -> np.ndarray:
    n = _count(x, axis)
    s = np.where(np.isfinite(x), x, 0.0).sum(axis=axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, s / np.maximum(n, 1), np.nan)


def _nanstd(x: np.ndarray, axis: int = 0) -> np.ndarray:
    """Sample standard deviation (ddof=1) ignoring NaN; NaN if fewer than 2 values."""
    n = _count(x, axis)
    m = _nanmean(x, axis)
    d = np.where(np.isfinite(x), x - np.expand_dims(m, axis), 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 1, np.sqrt((d * d).sum(axis=axis) / np.maximum(n - 1, 1)), np.nan)


def car_moments(
    ar: np.ndarray,
    starts: np.ndarray,
    ends: np.ndarray,
    *,
    design: np.ndarray | None = None,
    xtx_inv: np.ndarray | None = None,
    pe: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """CAR over day-index windows and its variance factor: the one implementation.

    ``Var(CAR_i) = sigma_i^2 v_i`` under the null. For OLS models with design rows
    ``x0_t`` (market model ``(1, R_mt)``, mean-adjusted ``(1,)``, market-adjusted none)
    and prediction-error matrix ``V = (X'X)^{-1}``::

        v = tau + s' V s,      s = sum over the window's present days of x0_t

    the exact variance of a sum of out-of-sample OLS forecast errors (Campbell, Lo and
    MacKinlay 1997, eq. 4.4.13-4.4.14; MacKinlay 1997): the ARs share the estimation
    error of the parameters. Without ``design`` it is ``sum pe_t`` (covariance ignored).

    **Missing-day rule** (the only one in the package): a day whose abnormal return is
    NaN is left out of the CAR *and* of its variance -- ``tau`` counts the present days
    and ``s`` sums only their design rows, so the variance always belongs to the sum it
    standardises. A window with no present day is NaN. ``complete`` says whether every
    day of the window is present; the single-event table of the engine reports a window
    only when it is complete (a CAR that skips a day is a different window), the
    cross-sectional battery uses every present day.

    Parameters
    ----------
    ar : (N, T) abnormal returns (NaN = missing).
    starts, ends : (W,) inclusive day indices into the T axis.
    design : (N, T, P) design rows, with ``xtx_inv`` (N, P, P); or ``pe`` (N, T).

    Returns
    -------
    (car (N, W), v (N, W), complete (N, W) bool)
    """
    ar = np.asarray(ar, dtype=float)
    starts = np.asarray(starts, dtype=np.intp)
    ends = np.asarray(ends, dtype=np.intp)
    n_days = ar.shape[1]
    present = np.isfinite(ar)
    # window sums as one matrix product each: (N, T) @ (T, W) with A[t, w] = 1 on window w's days
    a = window_matrix(starts, ends, n_days)
    car_ = np.where(present, ar, 0.0) @ a
    tau = present.astype(float) @ a
    complete = tau == (ends - starts + 1)[None, :]
    if design is not None:
        s = [np.where(present, design[:, :, p], 0.0) @ a for p in range(design.shape[-1])]
        v = tau + quad_form(s, xtx_inv) if s else tau.copy()
    elif pe is not None:
        v = np.where(present, pe, 0.0) @ a
    else:
        v = tau.copy()
    none = tau == 0
    return np.where(none, np.nan, car_), np.where(none, np.nan, v), complete


def window_matrix(starts: np.ndarray, ends: np.ndarray, n_days: int) -> np.ndarray:
    """(T, W) 0/1 matrix with ``A[t, w] = 1`` for ``starts[w] <= t <= ends[w]``: ``x @ A``
    sums each row of ``x`` (N, T) over every window (inclusive day indices)."""
    t = np.arange(n_days)[:, None]
    return ((t >= np.asarray(starts)[None, :]) & (t <= np.asarray(ends)[None, :])).astype(float)


def car(inp: BatteryInput, start_idx: int, end_idx: int) -> np.ndarray:
    """(N,) cumulative abnormal return over ``[start_idx, end_idx]`` (missing days skipped;
    NaN if the event has no return in the window or a failed fit). See :func:`car_moments`."""
    return _car_v(inp, start_idx, end_idx)[0]


def car_variance_factor(inp: BatteryInput, start_idx: int, end_idx: int) -> np.ndarray:
    """(N,) ``v_i`` with ``Var(CAR_i) = sigma_i^2 v_i`` under the null (:func:`car_moments`:
    ``tau + s' V s`` over the window's present days; ``sum pe`` without ``design_evt``).
    For the market model this is ``tau + tau^2/L + (sum_t R_mt - tau * mean)^2 / SS``."""
    return _car_v(inp, start_idx, end_idx)[1]


def _car_v(inp: BatteryInput, start_idx: int, end_idx: int) -> tuple[np.ndarray, np.ndarray]:
    a, b = _window(inp, (start_idx, end_idx))

    def make():
        sl = slice(a, b + 1)  # the window's days only: cost in proportion to its length
        c, v, _ = car_moments(_ar(inp)[:, sl], np.array([0]), np.array([b - a]),
                              design=None if inp.design_evt is None else inp.design_evt[:, sl],
                              xtx_inv=inp.xtx_inv, pe=inp.pe[:, sl])
        return c[:, 0], v[:, 0]

    return _cached(inp, f"car_v:{a}:{b}", make)


def _sar(inp: BatteryInput) -> np.ndarray:
    """(N, T) standardized abnormal returns AR / (sigma sqrt(pe)) (Patell 1976)."""

    def make():
        with np.errstate(invalid="ignore", divide="ignore"):
            return _ar(inp) / (inp.sigma[:, None] * np.sqrt(inp.pe))

    return _cached(inp, "sar", make)


def _scar(inp: BatteryInput, a: int, b: int) -> np.ndarray:
    """(N,) standardized CAR, CAR / (sigma sqrt(v)) (Mikkelson-Partch 1988 variance)."""
    def make():
        with np.errstate(invalid="ignore", divide="ignore"):
            return car(inp, a, b) / (inp.sigma * np.sqrt(car_variance_factor(inp, a, b)))

    return _cached(inp, f"scar:{a}:{b}", make)


def _moments(inp: BatteryInput, w) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``x`` -- the ARs (N, T) for ``w=None``, else the window's CARs (N, 1) -- and its
    cross-sectional count, mean and sd (ddof=1) per column, memoised (several tests
    read them)."""
    def make():
        x = _ar(inp) if w is None else car(inp, *w)[:, None]
        return x, _count(x, 0), _nanmean(x, 0), _nanstd(x, 0)

    return _cached(inp, f"moments:{w}", make)


def _aar_est_sd(inp: BatteryInput) -> tuple[float, int]:
    """Time-series sd (ddof=1) of the estimation-window AAR and its number of days."""
    return _cached(inp, "aar_est_sd", lambda: _aar_est_sd_from(*_aar_est_parts(inp)))


def _aar_est_parts(inp: BatteryInput) -> tuple[np.ndarray, np.ndarray]:
    """(L,) sums and counts of the estimation-window ARs per day (they add across chunks)."""
    def make():
        est = _ar_est(inp)
        fin = np.isfinite(est)
        return np.where(fin, est, 0.0).sum(axis=0), fin.sum(axis=0)

    return _cached(inp, "parts:aar_est", make)


def _aar_est_sd_from(s: np.ndarray, n: np.ndarray) -> tuple[float, int]:
    with np.errstate(invalid="ignore", divide="ignore"):
        aar_est = np.where(n > 0, s / np.maximum(n, 1), np.nan)
    aar_est = aar_est[np.isfinite(aar_est)]
    if aar_est.size < 2:
        return np.nan, int(aar_est.size)
    return float(np.std(aar_est, ddof=1)), int(aar_est.size)


# --------------------------------------------------------------------------------------
# parametric tests
# --------------------------------------------------------------------------------------
def cross_sectional_t(inp: BatteryInput, window: Window = None, *, convention: str = "textbook") -> TestStat:
    """Cross-sectional t of AAR (per day) or CAAR (window).

    ``t = mean(X) / (sd(X) / sqrt(n))`` over the events' ARs (CARs); t(n-1).
    Reference: Brown and Warner (1985); Boehmer, Musumeci and Poulsen (1991) "ordinary
    cross-sectional test"; estudy2 ``t_test``.
    """
    _check_convention(convention)
    w = _window(inp, window)
    _, n, m, sd = _moments(inp, w)
    with np.errstate(invalid="ignore", divide="ignore"):
        t = m / (sd / np.sqrt(n))
    return _out("cross_sectional_t", t, _p_t(t, n - 1), "Brown & Warner (1985); t(n-1)", w is not None)


def brown_warner_1980(inp: BatteryInput, window: Window = None, *, convention: str = "textbook") -> TestStat:
    """Brown-Warner (1980) test assuming cross-sectional independence.

    ``t = AAR_t / (sqrt(sum_i sigma_i^2) / n_t)``; for a window
    ``CAAR / (sqrt(sum_i tau_i sigma_i^2) / n)``. The sum runs over the events present.
    Distribution t(mean(n_est) - 1) as in estudy2's ``brown_warner_1980``.
    Reference: Brown and Warner (1980), J. Financial Economics 8, 205-258.
    """
    _check_convention(convention)
    w = _window(inp, window)
    ar = _ar(inp)
    s2 = inp.sigma**2
    df = float(_nanmean(np.where(inp.valid, inp.n_est, np.nan), 0)) - 1.0
    with np.errstate(invalid="ignore", divide="ignore"):
        if w is None:
            present = np.isfinite(ar)
            n = present.sum(axis=0)
            den = np.sqrt(np.where(present, s2[:, None], 0.0).sum(axis=0)) / n
            t = _nanmean(ar, 0) / den
        else:
            c = car(inp, *w)
            tau = _count(ar[:, w[0] : w[1] + 1], 1)
            ok = np.isfinite(c)
            n = ok.sum()
            t = _nanmean(c, 0) / (np.sqrt(np.sum(np.where(ok, tau * s2, 0.0))) / n)
    return _out("brown_warner_1980", t, _p_t(t, df), "Brown & Warner (1980); t(mean L - 1)", w is not None)


def brown_warner_1985(inp: BatteryInput, window: Window = None, *, convention: str = "textbook") -> TestStat:
    """Brown-Warner (1985) test with the crude dependence adjustment.

    ``t = AAR_t / S(AAR_est)`` with ``S`` the time-series sd (ddof=1) of the
    estimation-window average abnormal return; window: ``CAAR / (sqrt(tau) S)`` with
    ``CAAR = sum_t AAR_t``. t(D - 1), D = estimation days with data.
    Reference: Brown and Warner (1985), J. Financial Economics 14, 3-31.
    """
    _check_convention(convention)
    w = _window(inp, window)
    s, d = _aar_est_sd(inp)
    aar = _moments(inp, None)[2]
    return _window_from_days(aar, s, w, "brown_warner_1985", "Brown & Warner (1985); t(D-1)",
                             p_value=lambda t: _p_t(t, d - 1))


def lamb(inp: BatteryInput, window: Window = None, *, convention: str = "textbook") -> TestStat:
    """Lamb (1995) portfolio test: Brown-Warner 1985 with a prediction-error correction.

    ``z_t = AAR_t / (S(AAR_est) sqrt(pe_bar_t))`` with ``pe_bar_t`` the mean prediction
    error factor of the events present (estudy2: ``1 + 1/mean(n_est) + (R_mt - mean)^2/SS``).
    Window (as estudy2's ``car_lamb``): ``sum_t z_t / sqrt(tau)``. N(0, 1).
    Reference: Lamb (1995), J. Risk and Insurance 62(1), 111-123.
    """
    _check_convention(convention)
    w = _window(inp, window)
    z = _cached(inp, f"lamb:{convention}", lambda: _lamb_days(inp, convention))
    if w is not None:
        seg = z[w[0] : w[1] + 1]
        seg = seg[np.isfinite(seg)]
        z = seg.sum() / np.sqrt(seg.size) if seg.size else np.nan
    return _out("lamb", z, _p_norm(z), "Lamb (1995); N(0,1)", w is not None)


def _lamb_days(inp: BatteryInput, convention: str) -> np.ndarray:
    """(T,) Lamb's day statistics ``z_t`` (see :func:`lamb`); its windows sum them."""
    ar = _ar(inp)
    s, _ = _aar_est_sd(inp)
    present = np.isfinite(ar)
    pe = np.where(present, inp.pe, np.nan)
    pe_bar = _nanmean(pe, 0)
    if convention == "estudy2":
        inv_n = np.where(present, 1.0 / inp.n_est[:, None], np.nan)
        n_mean = _nanmean(np.where(inp.valid, inp.n_est, np.nan), 0)
        pe_bar = 1.0 + 1.0 / n_mean + (pe_bar - 1.0 - _nanmean(inv_n, 0))
    with np.errstate(invalid="ignore", divide="ignore"):
        return _nanmean(ar, 0) / (s * np.sqrt(pe_bar))


def _std_moments(inp: BatteryInput, w) -> tuple[np.ndarray, ...]:
    """``x`` -- the standardized ARs (N, T) for ``w=None``, else the window's standardized
    CARs (N,) -- with its presence, count, mean and sd (ddof=1) over the events, memoised
    (Patell, BMP and their Kolari-Pynnönen versions read them)."""
    def make():
        x = _sar(inp) if w is None else _scar(inp, *w)
        return x, np.isfinite(x), _count(x, 0), _nanmean(x, 0), _nanstd(x, 0)

    return _cached(inp, f"std_moments:{w}", make)


def _patell_den(inp: BatteryInput, present: np.ndarray) -> np.ndarray:
    df = inp.dof.astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        var = np.where(df > 2, df / (df - 2), np.nan)
    if present.ndim == 1:
        return np.sqrt(np.sum(np.where(present, var, 0.0)))
    return np.sqrt(np.where(present, var[:, None], 0.0).sum(axis=0))


def patell(inp: BatteryInput, window: Window = None, *, convention: str = "textbook") -> TestStat:
    """Patell (1976) standardized-residual test.

    ``Z_t = sum_i SAR_it / sqrt(sum_i df_i / (df_i - 2))`` with
    ``SAR_it = AR_it / (sigma_i sqrt(pe_it))`` and ``df_i = n_est_i - n_params``; window:
    the same with ``SCAR_i = CAR_i / (sigma_i sqrt(v_i))`` (exact CAR variance, see
    :func:`car_variance_factor`). N(0, 1).
    Reference: Patell (1976), J. Accounting Research 14(2), 246-276.
    """
    _check_convention(convention)
    w = _window(inp, window)
    x, present, *_ = _std_moments(inp, w)
    with np.errstate(invalid="ignore", divide="ignore"):
        z = np.where(present, x, 0.0).sum(axis=0) / _patell_den(inp, present)
    return _out("patell", z, _p_norm(z), "Patell (1976); N(0,1)", w is not None)


def bmp(inp: BatteryInput, window: Window = None, *, convention: str = "textbook") -> TestStat:
    """Boehmer, Musumeci and Poulsen (1991) standardized cross-sectional test.

    ``t = mean(SAR) / (sd(SAR) / sqrt(n))`` (window: on ``SCAR``); t(n-1).
    Reference: Boehmer, Musumeci and Poulsen (1991), J. Financial Economics 30, 253-272.
    """
    _check_convention(convention)
    w = _window(inp, window)
    _, _, n, m, sd = _std_moments(inp, w)
    with np.errstate(invalid="ignore", divide="ignore"):
        t = m / (sd / np.sqrt(n))
    return _out("bmp", t, _p_t(t, n - 1), "Boehmer, Musumeci & Poulsen (1991); t(n-1)", w is not None)


def mean_cross_correlation(
    ar_est: np.ndarray, *, method: str = "auto", min_overlap: int = 3, block: int = 256
) -> float:
    """Average pairwise Pearson correlation ``r_bar`` of estimation-window abnormal returns.

    Kolari and Pynnönen (2010) adjust Patell and BMP by ``sqrt((1 - r) / (1 + (n - 1) r))``
    with ``r`` the mean over pairs ``i < j`` of the sample correlations of the events'
    estimation residuals. Rows are aligned by position (event-relative day), so events
    on the same calendar date are compared day by day.

    Parameters
    ----------
    ar_est : array (N, L)
    method : {"auto", "exact", "fast"}
        ``"exact"``: pairwise-complete Pearson correlation of every pair (pairs with
        fewer than ``min_overlap`` common rows skipped), quadratic in N, computed in row
        blocks with six matrix products each. ``"fast"``: O(N L) identity
        ``sum_{i != j} r_ij = [sum_t (sum_i z_it)^2 - sum_i sum_t z_it^2] / (L - 1)`` on
        each event's own standardized residuals ``z`` (zero where missing): exact when
        every event has the same usable rows, an approximation otherwise.
        ``"auto"`` (default): the O(N L) identity when all events share their usable
        rows (exact), else the pairwise computation up to :data:`RBAR_EXACT_MAX`
        (1,000) events and the O(N L) identity above (exact for a balanced panel; on a
        ragged one it standardises each event over its own rows instead of each pair's
        common rows).

    Returns NaN when no pair qualifies (N < 2).
    """
    if method not in ("auto", "exact", "fast"):
        raise SpecificationError(f"unknown method {method!r}; use 'auto', 'exact' or 'fast'")
    x = np.asarray(ar_est, dtype=float)
    keep = _count(x, 1) >= min_overlap
    x = x if keep.all() else x[keep]
    n = x.shape[0]
    if n < 2:
        return np.nan
    fin = np.isfinite(x)
    same_rows = bool((fin == fin[:1]).all())  # every event has the same usable rows
    if method == "fast" or (method == "auto" and (same_rows or n > RBAR_EXACT_MAX)):
        if same_rows:  # then pairwise-complete == own-sample moments: exact
            x = x[:, fin[0]]
        return _mean_corr_fast(x)
    m = np.isfinite(x).astype(float)
    x0 = np.where(m > 0, x, 0.0)
    x2 = x0 * x0
    total = 0.0
    count = 0
    for s in range(0, n, block):  # blocks of rows, not events one by one
        e = min(n, s + block)
        b = e - s
        a = np.concatenate([m[s:e], x0[s:e], x2[s:e]])  # (3b, L): indicator, value, square
        # pairs i < j only: columns from the block's first row on; two matrix products
        # per block (few BLAS calls: each can wait for idle threads on a busy machine)
        mj, xj, x2j = m[s:], x0[s:], x2[s:]
        nj = n - s
        c1 = a @ mj.T  # common-row counts, sums of x_i, sums of x_i^2
        c2 = a[: 2 * b] @ np.concatenate([xj, x2j]).T  # sums of x_j, x_j^2 and x_i x_j
        nij, sx, sxx = c1[:b], c1[b : 2 * b], c1[2 * b :]
        sy, syy, sxy = c2[:b, :nj], c2[:b, nj:], c2[b:, :nj]
        with np.errstate(invalid="ignore", divide="ignore"):
            cov = sxy - sx * sy / nij
            vx = sxx - sx * sx / nij
            vy = syy - sy * sy / nij
            r = cov / np.sqrt(vx * vy)
        upper = np.arange(s, n)[None, :] > np.arange(s, e)[:, None]
        ok = upper & (nij >= min_overlap) & np.isfinite(r)
        total += float(r[ok].sum())
        count += int(ok.sum())
    return total / count if count else np.nan


def _mean_corr_fast(x: np.ndarray) -> float:
    return _corr_fast_finish(*_corr_fast_sums(x))


def _corr_fast_sums(x: np.ndarray) -> tuple[np.ndarray, float, int, int]:
    """The O(N L) identity's sums over the rows of ``x``: (L,) column sums of the
    standardized residuals ``z``, ``sum z^2``, the rows with a positive sd and their
    usable days. They add across chunks of events."""
    # each row's mean and sd (ddof=1) over its finite values, as _nanmean / _nanstd; the
    # deviations d are zero where x is missing, so z = d / sd and sum_i z_i = d' (1 / sd)
    fin = np.isfinite(x)
    cnt = fin.sum(axis=1)
    d = np.where(fin, x, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mu = np.where(cnt > 0, d.sum(axis=1) / np.maximum(cnt, 1), np.nan)
        d -= mu[:, None]
        np.copyto(d, 0.0, where=~fin)
        ss = np.einsum("ij,ij->i", d, d)
        sd = np.where(cnt > 1, np.sqrt(ss / np.maximum(cnt - 1, 1)), np.nan)
    ok = np.isfinite(sd) & (sd > 0)
    inv = np.where(ok, 1.0 / np.where(ok, sd, 1.0), 0.0)
    col = inv @ d  # (L,) column sums of z over the rows with a positive sd
    zz = float(ss @ (inv * inv))
    return col, zz, int(ok.sum()), int(cnt[ok].sum())


def _corr_fast_finish(col: np.ndarray, zz: float, n_ok: int, cnt_ok: int) -> float:
    """``sum_{i != j} r_ij = (||sum_i z_i||^2 - sum_i ||z_i||^2) / (mean days - 1)``, averaged."""
    if n_ok < 2:
        return np.nan
    scale = cnt_ok / n_ok - 1.0
    total = (float(col @ col) - zz) / scale
    return total / (n_ok * (n_ok - 1))


#: ``mean_cross_correlation(method="auto")`` computes every pair exactly (quadratic) up to
#: this many events with ragged usable rows, the O(N L) identity beyond.
RBAR_EXACT_MAX = 1000


@dataclass(frozen=True)
class _RbarParts:
    """What ``mean_cross_correlation(method="auto")`` needs from a chunk of events' estimation
    residuals; chunks add. ``rows`` keeps the residuals themselves while the events number at
    most :data:`RBAR_EXACT_MAX` (the exact pairwise computation), then is dropped."""

    n: int  # events with >= 3 usable rows
    first: np.ndarray | None  # usable-row pattern of the first of them
    same_rows: bool  # all of them share that pattern
    fast: tuple[np.ndarray, float, int, int]  # _corr_fast_sums
    rows: np.ndarray | None

    @staticmethod
    def of(ar_est: np.ndarray, min_overlap: int = 3) -> _RbarParts:
        x = ar_est[_count(ar_est, 1) >= min_overlap]
        fin = np.isfinite(x)
        first = fin[0] if len(x) else None
        same = bool((fin == fin[:1]).all()) if len(x) else True
        return _RbarParts(len(x), first, same, _corr_fast_sums(x),
                          x if len(x) <= RBAR_EXACT_MAX else None)

    def __add__(self, o: _RbarParts) -> _RbarParts:
        n = self.n + o.n
        same = self.same_rows and o.same_rows and (
            self.n == 0 or o.n == 0 or bool(np.array_equal(self.first, o.first)))
        keep = n <= RBAR_EXACT_MAX and self.rows is not None and o.rows is not None
        fast = (self.fast[0] + o.fast[0], self.fast[1] + o.fast[1], self.fast[2] + o.fast[2],
                self.fast[3] + o.fast[3])
        return _RbarParts(n, self.first if self.n else o.first, same, fast,
                          np.concatenate([self.rows, o.rows]) if keep else None)

    def rbar(self) -> float:
        """``mean_cross_correlation(all rows)`` (``method="auto"``)."""
        if self.n < 2:
            return np.nan
        if self.same_rows or self.n > RBAR_EXACT_MAX:
            return _corr_fast_finish(*self.fast)
        return mean_cross_correlation(self.rows, method="exact")


def _rbar(inp: BatteryInput) -> float:
    return _cached(inp, "rbar", lambda: mean_cross_correlation(_ar_est(inp)))


def _kp_factor(rbar: float, n: np.ndarray) -> np.ndarray:
    n = np.asarray(n, dtype=float)
    if not np.isfinite(rbar):
        return np.full(n.shape, np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.sqrt((1.0 - rbar) / (1.0 + (n - 1.0) * rbar))


def patell_kp(
    inp: BatteryInput, window: Window = None, *, convention: str = "textbook", rbar: float | None = None
) -> TestStat:
    """Kolari-Pynnönen (2010) cross-correlation adjusted Patell Z.

    ``Z_adj = Z sqrt((1 - r) / (1 + (n - 1) r))`` with ``r`` =
    :func:`mean_cross_correlation` of the estimation residuals. N(0, 1).
    Reference: Kolari and Pynnönen (2010), Review of Financial Studies 23(11), 3996-4025.
    """
    w = _window(inp, window)
    z = patell(inp, window, convention=convention).statistic
    r = _rbar(inp) if rbar is None else rbar
    za = np.asarray(z) * _kp_factor(r, _std_moments(inp, w)[2])
    return _out("patell_kp", za, _p_norm(za), "Kolari & Pynnönen (2010) adjusted Patell; N(0,1)", w is not None)


def bmp_kp(
    inp: BatteryInput, window: Window = None, *, convention: str = "textbook", rbar: float | None = None
) -> TestStat:
    """Kolari-Pynnönen (2010) cross-correlation adjusted BMP t.

    ``t_adj = t_BMP sqrt((1 - r) / (1 + (n - 1) r))``; t(n-1).
    Reference: Kolari and Pynnönen (2010), Review of Financial Studies 23(11), 3996-4025.
    """
    w = _window(inp, window)
    t = bmp(inp, window, convention=convention).statistic
    r = _rbar(inp) if rbar is None else rbar
    n = _std_moments(inp, w)[2]
    ta = np.asarray(t) * _kp_factor(r, n)
    return _out("bmp_kp", ta, _p_t(ta, n - 1), "Kolari & Pynnönen (2010) adjusted BMP; t(n-1)", w is not None)


def skewness_adjusted_t(x: np.ndarray) -> TestStat:
    """Hall (1992) skewness-adjusted t of a cross-section (e.g. BHARs or CARs).

    ``S = mean / sd``, ``g = sum (x - mean)^3 / (n sd^3)``,
    ``t_sa = sqrt(n) (S + g S^2 / 3 + g / (6 n))``; t(n-1).
    References: Hall (1992), J. Royal Statistical Society B 54, 221-228;
    Lyon, Barber and Tsai (1999), J. Finance 54(1), 165-201.
    """
    x = np.asarray(x, dtype=float).ravel()
    x = x[np.isfinite(x)]
    n = x.size
    if n < 3:
        return TestStat("skewness_corrected", np.nan, np.nan, "Hall (1992); t(n-1)")
    m = x.mean()
    sd = x.std(ddof=1)
    s = m / sd
    g = np.sum((x - m) ** 3) / (n * sd**3)
    t = np.sqrt(n) * (s + g * s * s / 3.0 + g / (6.0 * n))
    return TestStat("skewness_corrected", float(t), float(_p_t(t, n - 1)), "Hall (1992); Lyon, Barber & Tsai (1999); t(n-1)")


def skewness_corrected(inp: BatteryInput, window: Window = None, *, convention: str = "textbook") -> TestStat:
    """Hall (1992) skewness-corrected t of the AR (per day) or CAR (window) cross-section.

    Vectorised over days; see :func:`skewness_adjusted_t` for the formula. t(n-1).
    """
    _check_convention(convention)
    w = _window(inp, window)
    x, n, m, sd = _moments(inp, w)
    n = n.astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        g = np.where(np.isfinite(x), (x - m) ** 3, 0.0).sum(axis=0) / (n * sd**3)
        s = m / sd
        t = np.where(n >= 3, np.sqrt(n) * (s + g * s * s / 3.0 + g / (6.0 * n)), np.nan)
    return _out(
        "skewness_corrected", t, _p_t(t, n - 1), "Hall (1992); Lyon, Barber & Tsai (1999); t(n-1)", w is not None
    )


def bhar(r: np.ndarray, r_expected: np.ndarray, start_idx: int, end_idx: int) -> np.ndarray:
    """Buy-and-hold abnormal return over ``[start_idx, end_idx]`` (inclusive) per event.

    ``BHAR_i = prod_t (1 + R_it) - prod_t (1 + E[R_it])`` on **simple** returns
    (convert log returns with ``expm1`` first). NaN when any day of the window is
    missing for the event (a buy-and-hold return cannot skip days).
    Reference: Barber and Lyon (1997); Lyon, Barber and Tsai (1999).
    """
    r = np.asarray(r, dtype=float)
    e = np.asarray(r_expected, dtype=float)
    if r.shape != e.shape or r.ndim != 2:
        raise SpecificationError(f"r and r_expected must both be (N, T); got {r.shape}, {e.shape}")
    a, b = int(start_idx), int(end_idx)
    if a > b or a < 0 or b >= r.shape[1]:
        raise SpecificationError(f"window ({a}, {b}) is reversed or outside 0..{r.shape[1] - 1}")
    return bhar_windows(r, e, np.array([a]), np.array([b]))[:, 0]


def bhar_windows(r: np.ndarray, r_expected: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """(N, W) :func:`bhar` over every window ``[starts[w], ends[w]]`` (inclusive day
    indices, checked by the caller): the gross returns ``1 + R`` are formed once."""
    gr, ge = 1.0 + r, 1.0 + r_expected
    ok = np.isfinite(gr) & np.isfinite(ge)
    out = np.empty((r.shape[0], len(starts)))
    for w, (a, b) in enumerate(zip(starts, ends, strict=True)):  # a few windows
        sl = slice(int(a), int(b) + 1)
        out[:, w] = np.where(ok[:, sl].all(axis=1), gr[:, sl].prod(axis=1) - ge[:, sl].prod(axis=1), np.nan)
    return out


# --------------------------------------------------------------------------------------
# nonparametric tests
# --------------------------------------------------------------------------------------
def _full(inp: BatteryInput) -> np.ndarray:
    """(N, L+T) estimation then event abnormal returns."""
    return _cached(inp, "full", lambda: np.concatenate([_ar_est(inp), _ar(inp)], axis=1))


@dataclass(frozen=True)
class _DayParts:
    """Column sums of a score matrix ``u`` (events x days): they add across chunks of events.

    ``s`` (D,) sums over the events present, ``n_t`` (D,) their counts, ``n_rows`` the
    events, ``m_sum`` / ``m_cnt`` the sum of each event's present days and the number of
    events with at least one (estudy2's day divisor is their ratio).
    """

    s: np.ndarray
    n_t: np.ndarray
    n_rows: int
    m_sum: int
    m_cnt: int

    @staticmethod
    def of(u: np.ndarray) -> _DayParts:
        present = np.isfinite(u)
        m_i = present.sum(axis=1)
        return _DayParts(np.where(present, u, 0.0).sum(axis=0), present.sum(axis=0), u.shape[0],
                         int(m_i.sum()), int((m_i > 0).sum()))

    def __add__(self, other: _DayParts) -> _DayParts:
        return _DayParts(self.s + other.s, self.n_t + other.n_t, self.n_rows + other.n_rows,
                         self.m_sum + other.m_sum, self.m_cnt + other.m_cnt)


def _series_from(p: _DayParts, convention: str, *, mean: bool) -> tuple[np.ndarray, float]:
    """Per-day statistic series (mean or sum/sqrt(n)) of centred scores and its sd.

    Day sums over the events present; estudy2 rescales them by ``N / n_t`` and divides
    the sum of squares by the mean count of usable days per event instead of the number
    of days with data."""
    s, n_t = p.s, p.n_t
    with np.errstate(invalid="ignore", divide="ignore"):
        if convention == "estudy2":
            s = np.where(n_t > 0, s / np.maximum(n_t, 1) * p.n_rows, 0.0)
        z = np.where(n_t > 0, s / (n_t if mean else np.sqrt(n_t)), np.nan)
    if convention == "estudy2":
        d = p.m_sum / p.m_cnt if p.m_cnt else 0.0
    else:
        d = float((n_t > 0).sum())
    sd = float(np.sqrt(np.nansum(z**2) / d)) if d > 0 else np.nan
    return z, sd


def _scaled_day_series(u: np.ndarray, convention: str, *, mean: bool) -> tuple[np.ndarray, float]:
    """:func:`_series_from` of the score matrix ``u``."""
    return _series_from(_DayParts.of(u), convention, mean=mean)


def _window_from_days(z_evt: np.ndarray, sd: float, w, name: str, ref: str, *,
                      p_value=None) -> TestStat:
    """Daily statistic ``z_t / sd``, or for a window ``sum_t z_t / (sqrt(tau) sd)`` over its
    non-missing days; p-values from ``p_value`` (default: standard normal)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        if w is None:
            stat = z_evt / sd
        else:
            seg = z_evt[w[0] : w[1] + 1]
            seg = seg[np.isfinite(seg)]
            stat = seg.sum() / (np.sqrt(seg.size) * sd) if seg.size else np.nan
    return _out(name, stat, (p_value or _p_norm)(stat), ref, w is not None)


def _m_i(inp: BatteryInput) -> np.ndarray:
    """(N,) usable estimation + event days per event."""
    return _cached(inp, "m_i", lambda: _count(_full(inp), 1).astype(float))


def _full_sorted(inp: BatteryInput) -> tuple[np.ndarray, np.ndarray]:
    """Row-wise argsort (flat indices) and sorted rows of :func:`_full` (one sort shared by
    the rank tests, the sign test's medians and the generalized rank test's setup)."""
    return _cached(inp, "full_sorted", lambda: _sort_rows(_full(inp)))


def _ranks(inp: BatteryInput) -> np.ndarray:
    """(N, L+T) average ranks of each event's ARs over its estimation + event days (not
    memoised: :func:`_rank_base` keeps what the rank tests need)."""
    order, srt = _full_sorted(inp)
    return _scatter_rows(_avg_ranks_sorted(srt)[0], order)


def _row_median_sorted(srt: np.ndarray) -> np.ndarray:
    """Median of each sorted row's finite values (NaN for an empty row)."""
    n_fin = _count(srt, 1)
    lo = np.clip((n_fin - 1) // 2, 0, None)
    hi = np.clip(n_fin // 2, 0, None)
    rows = np.arange(srt.shape[0])
    med = 0.5 * (srt[rows, lo] + srt[rows, hi])
    return np.where(n_fin > 0, med, np.nan)


def _rank_base(inp: BatteryInput) -> tuple[np.ndarray, np.ndarray, np.ndarray, _DayParts]:
    """Ranks with 0 on missing days (N, L+T), presence as 0/1 floats, ``M_i`` and the
    rank day parts: the pieces every rank score's day sums are made of."""

    def make():
        k = _ranks(inp)
        present = np.isfinite(k)
        k0 = np.where(present, k, 0.0)
        m_i = _m_i(inp)
        parts = _DayParts(k0.sum(axis=0), np.add.reduce(present, axis=0, dtype=np.int64),
                          k.shape[0], int(m_i.sum()), int((m_i > 0).sum()))
        return k0, present.astype(float), m_i, parts

    return _cached(inp, "rank_base", make)


def _rank_score_parts(inp: BatteryInput, name: str) -> _DayParts:
    """Day parts of the rank scores (``K`` the ranks, ``M_i`` the usable days):

    * ``rank``: ``K_it``;
    * ``corrado_rank``: ``K_it - (M_i + 1) / 2`` -- half-integers, so the day sums
      ``sum_i K_it - sum_i (M_i + 1) / 2`` are exact in any order;
    * ``modified_rank``: ``K_it / (M_i + 1) - 1/2`` -- ``sum_i (K_it - (M_i + 1) / 2) / (M_i + 1)``;
    * ``corrado_sign``: ``sign(AR_it - median_i)`` over the AR rows.

    The rank scores are matrix-vector products with one rank matrix instead of a
    matrix per score."""
    if name == "corrado_sign":
        full = _full(inp)
        return _DayParts.of(np.sign(full - _row_median_sorted(_full_sorted(inp)[1])[:, None]))
    k0, present, m_i, parts = _rank_base(inp)
    if name == "rank":
        return parts
    half = (m_i + 1.0) / 2.0
    if name == "corrado_rank":
        s = parts.s - half @ present
    else:  # modified_rank: centred first (exact), so the weighted sum does not cancel
        s = (1.0 / (m_i + 1.0)) @ (k0 - half[:, None] * present)
    return replace(parts, s=s)


#: the rank scores whose day parts the rank tests use (:func:`_rank_score_parts`)
_RANK_SCORES: tuple[str, ...] = ("rank", "corrado_rank", "modified_rank", "corrado_sign")


def _rank_parts(inp: BatteryInput, name: str) -> _DayParts:
    """Day sums of the rank scores ``name`` (:data:`_RANK_SCORES`), memoised."""
    return _cached(inp, f"parts:{name}", lambda: _rank_score_parts(inp, name))


def corrado_rank(inp: BatteryInput, window: Window = None, *, convention: str = "textbook") -> TestStat:
    """Corrado (1989) rank test; window version of Cowan (1992).

    Ranks ``K_it`` of each event's ARs over its estimation + event days (``M_i`` usable
    days, average ties); ``k_t = mean_i (K_it - (M_i + 1)/2)`` over the events present;
    ``S_K = sqrt(sum_t k_t^2 / D)`` over the D days with data; day statistic
    ``k_t / S_K``; window ``sum_{t in W} k_t / (sqrt(tau) S_K)``. N(0, 1).
    estudy2 convention: see the module docstring (``car_rank_test`` centres by the
    common mean rank and uses unscaled day means).
    References: Corrado (1989), J. Financial Economics 23, 385-395; Cowan (1992),
    Review of Quantitative Finance and Accounting 2, 343-358.
    """
    _check_convention(convention)
    w = _window(inp, window)
    t_len = inp.n_days
    ref = "Corrado (1989); Cowan (1992) for windows; N(0,1)"
    if convention == "estudy2" and w is not None:
        # estudy2 car_rank_test: common centring by the mean expected rank
        p = _rank_parts(inp, "rank")
        if p.m_cnt == 0:
            return _out("corrado_rank", np.nan, np.nan, ref, True)
        mean_rank = (p.m_sum + p.m_cnt) / 2.0 / p.m_cnt  # mean of (M_i + 1) / 2 (half-integers)
        with np.errstate(invalid="ignore", divide="ignore"):
            row_means = np.where(p.n_t > 0, p.s / np.maximum(p.n_t, 1), np.nan)
        sd = np.sqrt(np.nansum((row_means - mean_rank) ** 2) / (p.m_sum / p.m_cnt))
        cols = slice(p.s.size - t_len + w[0], p.s.size - t_len + w[1] + 1)
        tau = int((p.n_t[cols] > 0).sum())
        cnt = p.n_t[cols].sum()
        with np.errstate(invalid="ignore", divide="ignore"):  # sd = 0: no rank variation
            evt_mean = p.s[cols].sum() / cnt if cnt else np.nan  # rank sums: exact half-integers
            stat = np.sqrt(tau) * (evt_mean - mean_rank) / sd
        return _out("corrado_rank", stat, _p_norm(stat), ref, True)
    z, sd = _cached(inp, f"corrado_rank:{convention}",
                    lambda: _series_from(_rank_parts(inp, "corrado_rank"), convention, mean=True))
    return _window_from_days(z[z.size - t_len:], sd, w, "corrado_rank", ref)


def modified_rank(inp: BatteryInput, window: Window = None, *, convention: str = "textbook") -> TestStat:
    """Campbell-Wasley (1993) modified rank test (standardized ranks; handles missing).

    ``U_it = K_it / (M_i + 1)``; ``z_t = sum_i (U_it - 1/2) / sqrt(n_t)``;
    ``S_U = sqrt(sum_t z_t^2 / D)``; day ``z_t / S_U``; window
    ``sum_{t in W} z_t / (sqrt(tau) S_U)``. N(0, 1).
    References: Corrado and Zivney (1992), JFQA 27(3), 465-478; Campbell and Wasley
    (1993), J. Financial Economics 33, 73-92.
    """
    _check_convention(convention)
    w = _window(inp, window)
    z, sd = _cached(inp, f"modified_rank:{convention}",
                    lambda: _series_from(_rank_parts(inp, "modified_rank"), convention, mean=False))
    return _window_from_days(z[z.size - inp.n_days:], sd, w, "modified_rank",
                             "Campbell & Wasley (1993); N(0,1)")


def corrado_sign(inp: BatteryInput, window: Window = None, *, convention: str = "textbook") -> TestStat:
    """Corrado-Zivney (1992) sign test.

    ``G_it = sign(AR_it - median_i)`` with each event's median over its estimation +
    event days; ``z_t = sum_i G_it / sqrt(n_t)``; ``S_G = sqrt(sum_t z_t^2 / D)``; day
    ``z_t / S_G``; window ``sum_{t in W} z_t / (sqrt(tau) S_G)``. N(0, 1).
    Reference: Corrado and Zivney (1992), JFQA 27(3), 465-478.
    """
    _check_convention(convention)
    w = _window(inp, window)
    z, sd = _cached(inp, f"corrado_sign:{convention}",
                    lambda: _series_from(_rank_parts(inp, "corrado_sign"), convention, mean=False))
    return _window_from_days(z[z.size - inp.n_days:], sd, w, "corrado_sign", "Corrado & Zivney (1992); N(0,1)")


def sign(inp: BatteryInput, window: Window = None, *, convention: str = "textbook") -> TestStat:
    """Simple sign test: ``(w - n/2) / sqrt(n/4)`` with ``w`` positive ARs (CARs). N(0, 1).

    Reference: Boehmer, Musumeci and Poulsen (1991); estudy2 ``sign_test``.
    """
    _check_convention(convention)
    w = _window(inp, window)
    x, n, _, _ = _moments(inp, w)
    n = n.astype(float)
    pos = (x > 0).sum(axis=0)  # NaN > 0 is False
    with np.errstate(invalid="ignore", divide="ignore"):
        z = np.where(n > 0, (pos - 0.5 * n) / np.sqrt(0.25 * n), np.nan)
    return _out("sign", z, _p_norm(z), "binomial sign test; N(0,1)", w is not None)


def generalized_sign(inp: BatteryInput, window: Window = None, *, convention: str = "textbook") -> TestStat:
    """Cowan (1992) generalized sign test.

    ``z = (w - n p) / sqrt(n p (1 - p))`` with ``w`` positive ARs (CARs) and ``p`` the
    expected fraction of positive ARs from the estimation window: the mean over events of
    each event's fraction (Cowan 1992), or pooled over all estimation observations
    (estudy2). N(0, 1).
    Reference: Cowan (1992), Review of Quantitative Finance and Accounting 2, 343-358.
    """
    _check_convention(convention)
    w = _window(inp, window)
    p = _cached(inp, f"p_hat:{convention}", lambda: _p_hat(inp, convention))
    x, n, _, _ = _moments(inp, w)
    n = n.astype(float)
    pos = (x > 0).sum(axis=0)  # NaN > 0 is False
    with np.errstate(invalid="ignore", divide="ignore"):
        z = np.where(n > 0, (pos - n * p) / np.sqrt(n * p * (1.0 - p)), np.nan)
    return _out("generalized_sign", z, _p_norm(z), "Cowan (1992); N(0,1)", w is not None)


def _p_hat(inp: BatteryInput, convention: str) -> float:
    """Expected fraction of positive abnormal returns from the estimation window."""
    return _p_hat_from(_p_hat_parts(inp), convention)


def _p_hat_parts(inp: BatteryInput) -> np.ndarray:
    """[sum of events' positive fractions, events with data, positive ARs, ARs] of the
    estimation window (they add across chunks)."""
    def make():
        est = _ar_est(inp)
        fin = np.isfinite(est)
        posest = est > 0  # NaN > 0 is False
        cnt = fin.sum(axis=1)
        frac = posest.sum(axis=1)[cnt > 0] / cnt[cnt > 0]
        return np.array([frac.sum(), frac.size, posest.sum(), fin.sum()], dtype=float)

    return _cached(inp, "parts:p_hat", make)


def _p_hat_from(p: np.ndarray, convention: str) -> float:
    if convention == "estudy2":
        return float(p[2] / p[3]) if p[3] else np.nan
    return float(p[0] / p[1]) if p[1] else np.nan


def wilcoxon(inp: BatteryInput, window: Window = None, *, convention: str = "textbook") -> TestStat:
    """Wilcoxon (1945) signed-rank test of the AR (CAR) cross-section against zero.

    Statistic: ``V`` = sum of the ranks of ``|x|`` belonging to positive ``x`` (zeros
    dropped, average ranks for ties), as R's ``wilcox.test``/estudy2. p-value:
    ``scipy.stats.wilcoxon`` (exact for small samples without ties, else normal
    approximation), computed day by day.
    Reference: Wilcoxon (1945), Biometrics Bulletin 1(6), 80-83.
    """
    _check_convention(convention)
    w = _window(inp, window)
    x = _ar(inp) if w is None else car(inp, *w)[:, None]
    v, p = _wilcoxon_columns(x)
    return _out("wilcoxon", v, p, "Wilcoxon (1945) signed rank; V statistic", w is not None)


# scipy.stats.wilcoxon's method="auto" uses the normal approximation above this size
_WILCOXON_EXACT_MAX = 50


def _wilcoxon_columns(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Signed-rank ``V`` and two-sided p-value of each column of ``x (N, W)``.

    Columns with more than 50 non-zero values use scipy's normal approximation written
    out (``z = (V - n(n+1)/4) / sqrt((n(n+1)(2n+1) - sum(t^3 - t)/2) / 24)``, no
    continuity correction, ``p = 2 Phi(-|z|)``: the same operations, the same numbers),
    vectorised over columns; smaller ones call :func:`scipy.stats.wilcoxon` (exact or
    permutation distribution).
    """
    xt = np.ascontiguousarray(x.T)  # one row per day (or window)
    with np.errstate(invalid="ignore"):
        ax = np.where(xt == 0, np.nan, np.abs(xt))
    if np.isinf(ax).any():  # not abnormal returns: rank them the way scipy does
        r = _st.rankdata(ax, axis=1, nan_policy="omit")
        ties = None
    else:
        flat, srt = _sort_rows(ax)
        avg, ties = _avg_ranks_sorted(srt)
        r = _scatter_rows(avg, flat)
    fin = np.isfinite(r)
    n = fin.sum(axis=1)
    v = np.where(n > 0, np.where(fin & (xt > 0), r, 0.0).sum(axis=1), np.nan)
    p = np.full(xt.shape[0], np.nan)
    big = n > _WILCOXON_EXACT_MAX
    if ties is not None and big.any():
        count = n[big].astype(float)
        mn = count * (count + 1.0) * 0.25
        se = count * (count + 1.0) * (2.0 * count + 1.0)
        se = np.sqrt((se - ties[big] / 2) / 24)
        z = (v[big] - mn) / se
        p[big] = 2 * _sp_special.ndtr(-np.abs(z))
    for t in np.flatnonzero((n >= 1) & ~(big if ties is not None else np.zeros_like(big))):
        col = xt[t]
        col = col[np.isfinite(col) & (col != 0)]
        p[t] = _st.wilcoxon(col, zero_method="wilcox").pvalue
    return v, p


def generalized_rank(inp: BatteryInput, window: Window = None, *, convention: str = "textbook") -> TestStat:
    """Kolari-Pynnönen (2011) generalized rank test (GRANK), days and CAR windows.

    For each test window (a single day, or ``[a, b]``): ``SCAR_i = CAR_i /
    (sigma_i sqrt(v_i))``, re-standardized by its cross-sectional sd
    (``SCAR*_i = SCAR_i / sd(SCAR)``) to absorb event-induced volatility. The generalized
    standardized abnormal returns are ``SAR_it = AR_it / sigma_i`` on estimation days
    plus ``SCAR*_i`` as one cumulated event day; ``U_it = rank_i / (T_i + 1) - 1/2`` with
    ``T_i`` the event's usable days (estimation + 1). With ``U_bar_t`` the mean over the
    ``n_t`` events present, ``S^2 = (1/T) sum_t (n_t / n) U_bar_t^2`` over the ``T`` days,
    ``Z = U_bar_0 / S`` and ``t = Z sqrt((T - 2) / (T - 1 - Z^2))``; t(T - 2).
    Reference: Kolari and Pynnönen (2011), J. Empirical Finance 18, 953-971.
    """
    _check_convention(convention)
    w = _window(inp, window)
    windows = [(t, t) for t in range(inp.n_days)] if w is None else [w]
    stat, df = _grank_windows(inp, windows)
    p = _p_t(stat, df)
    return _out("generalized_rank", stat, p, "Kolari & Pynnönen (2011) GRANK; t(T-2)", w is not None)


def _grank_windows(inp: BatteryInput, windows: list[tuple[int, int]]) -> tuple[np.ndarray, np.ndarray]:
    """GRANK (statistic, df) for validated windows; the ones not computed yet for this
    input are computed together (one batched search) and memoised per window."""
    done: dict[tuple[int, int], tuple[float, float]] = _cached(inp, "grank", dict)
    todo = list(dict.fromkeys(w for w in windows if w not in done))
    if todo:
        order = [w for w in todo if w[0] == w[1]] + [w for w in todo if w[0] != w[1]]
        sums = grank_sums(inp, order, grank_scale(inp, order))
        stat, df = _grank_finish(*sums)
        done.update({w: (float(s_), float(d_)) for w, s_, d_ in zip(order, stat, df, strict=True)})
    res = np.array([done[w] for w in windows], dtype=float).reshape(len(windows), 2)
    return res[:, 0], res[:, 1]


def _grank_columns(inp: BatteryInput, windows: list[tuple[int, int]]) -> np.ndarray:
    """(N, W) standardized CARs ``SCAR_i`` of the windows (one-day windows from
    :func:`_scar_days`)."""
    cols = [(_scar_days(inp)[:, a] if a == b else _scar(inp, a, b)) for a, b in windows]
    return np.stack(cols, axis=1) if cols else np.empty((inp.n_events, 0))


def grank_scale(inp: BatteryInput, windows: list[tuple[int, int]]) -> np.ndarray:
    """(W,) cross-sectional sd of each window's standardized CAR (GRANK's re-standardization,
    :func:`generalized_rank`): the first of GRANK's two passes over the events."""
    return _nanstd(_grank_columns(inp, windows), 0)


def grank_sums(inp: BatteryInput, windows: list[tuple[int, int]],
               scale: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """GRANK's second pass on the events of ``inp``: per window, the sums that add across
    chunks of events -- ``n_t`` (W, L) events per estimation day, ``u_sum`` (W, L) their
    weighted centred ranks, ``r_sum`` (W,) the event day's and ``n`` (W,) its events.
    ``scale`` is :func:`grank_scale` over *all* events (of every chunk)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        g0 = _grank_columns(inp, windows) / scale[None, :]  # re-standardized by the cross-sectional sd
    return _grank_core(_cached(inp, "grank_setup", lambda: _GrankSetup.make(inp)), g0)


def set_grank(inp: BatteryInput, windows: list[tuple[int, int]],
              sums: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]) -> None:
    """Memoise GRANK on ``inp`` from :func:`grank_sums` added over every chunk of events
    (the combined input of :func:`combine_parts` has no estimation residuals)."""
    stat, df = _grank_finish(*sums)
    done = _cached(inp, "grank", dict)
    done.update({(int(a), int(b)): (float(s_), float(d_))
                 for (a, b), s_, d_ in zip(windows, stat, df, strict=True)})


def _grank_finish(n_t: np.ndarray, u_sum: np.ndarray, r_sum: np.ndarray,
                  n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """GRANK t and df per window from the sums of :func:`grank_sums`."""
    n_w = n.shape[0]
    stat = np.full(n_w, np.nan)
    df = np.full(n_w, np.nan)
    for k in range(n_w):  # windows, not events
        if n[k] == 0:
            continue
        ubar0 = r_sum[k] / n[k]
        with np.errstate(invalid="ignore", divide="ignore"):
            ubar_est = np.where(n_t[k] > 0, u_sum[k] / n_t[k], 0.0)
        days = float((n_t[k] > 0).sum() + 1)
        s2 = (np.sum((n_t[k] / n[k]) * ubar_est**2) + ubar0**2) / days
        with np.errstate(invalid="ignore", divide="ignore"):
            z = ubar0 / np.sqrt(s2)
            stat[k] = z * np.sqrt((days - 2.0) / (days - 1.0 - z * z))
        df[k] = days - 2.0
    return stat, df


def _scar_days(inp: BatteryInput) -> np.ndarray:
    """(N, T) one-day standardized CARs, ``_scar(inp, t, t)`` for every day at once."""

    def make():
        ar = _ar(inp)
        present = np.isfinite(ar)
        if inp.design_evt is None:
            v = np.where(present, inp.pe, 0.0)
        else:
            d = np.where(present[:, :, None], inp.design_evt, 0.0)
            v = present + quad_form(d, inp.xtx_inv)
        v = np.where(present, v, np.nan)
        with np.errstate(invalid="ignore", divide="ignore"):
            return ar / (inp.sigma[:, None] * np.sqrt(v))

    return _cached(inp, "scar_days", make)


@dataclass(frozen=True)
class _GrankSetup:
    """Window-independent GRANK pieces, events sorted by their usable-day count."""

    order: np.ndarray  # (N,) events sorted by t_i
    starts: np.ndarray  # first row of each group of equal t_i (sorted order)
    w_g: np.ndarray  # 1 / (t_i + 1) of each group
    srt: np.ndarray  # (N, 2^k - 1 >= L) each event's estimation SARs sorted ascending, NaN last
    pos1: np.ndarray  # (N, L) 1-based position of each SAR in its sorted row, 0 where missing
    fin_e: np.ndarray  # (N, L) bool
    base0: np.ndarray  # (N, L) ranks among estimation days, 0 where missing
    t_i: np.ndarray  # (N,) usable estimation days + 1 (the cumulated event day)
    n_t_all: np.ndarray  # (L,) events with data on each estimation day
    base_all: np.ndarray  # (G, L) per group column sums of base0 (exact: half-integers)

    @staticmethod
    def make(inp: BatteryInput) -> _GrankSetup:
        est = _ar_est(inp)
        n_ev, n_days = est.shape
        with np.errstate(invalid="ignore", divide="ignore"):
            sar = est / inp.sigma[:, None]
        fin = np.isfinite(sar)
        t_i = fin.sum(axis=1) + 1.0
        order = np.argsort(t_i, kind="stable")
        t_sorted = t_i[order]
        starts = np.flatnonzero(np.r_[True, t_sorted[1:] != t_sorted[:-1]])
        # the row sort of estimation + event ARs (shared with the rank tests) restricted to
        # the estimation columns orders the SARs too (sigma > 0: a monotone rescaling)
        flat_full, _ = _full_sorted(inp)
        n_full = flat_full.shape[1]
        small = np.int16 if n_full < 2**15 else np.int64
        col = (flat_full - (np.arange(n_ev, dtype=np.int64) * n_full)[:, None]).astype(small)
        o_est = col[col < n_days].reshape(n_ev, n_days)[order]
        flat = _flat_index(o_est)
        sar_o = sar[order]
        fin_o = fin[order]
        pad = (1 << n_days.bit_length()) - 1 - n_days  # NaN columns: a fixed-step binary search
        srt_pad = np.full((n_ev, n_days + pad), np.nan)
        srt = srt_pad[:, :n_days]
        srt[...] = sar_o.ravel().take(flat)
        fin_s = np.isfinite(srt)
        avg, _ = _avg_ranks_sorted(srt)  # ties are found among the SARs themselves
        base0 = _scatter_rows(np.where(fin_s, avg, 0.0), flat)
        pos_dtype = np.uint8 if n_days < 255 else np.uint16 if n_days < 65535 else np.int64
        q1 = np.arange(1, n_days + 1, dtype=pos_dtype)
        pos1 = _scatter_rows(np.where(fin_s, q1, pos_dtype(0)), flat)
        grp_end = np.r_[starts[1:], n_ev]
        base_all = np.stack([base0[a:b].sum(axis=0) for a, b in zip(starts, grp_end, strict=True)])
        return _GrankSetup(
            order=order,
            starts=starts,
            w_g=1.0 / (t_sorted[starts] + 1.0),
            srt=srt_pad,
            pos1=pos1,
            fin_e=fin_o,
            base0=base0,
            t_i=t_sorted,
            n_t_all=np.add.reduce(fin_o, axis=0, dtype=np.int64).astype(float),
            base_all=base_all,
        )

    def sums(self, fin_0: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``n_t`` (L,) and ``sum_i w_i base_it`` (L,) over the events ``fin_0`` (sorted order).

        Totals over all events minus the (few) events left out of this test window;
        integer and half-integer sums, so exact in any order.
        """
        if fin_0.all():
            return self.n_t_all, self.w_g @ self.base_all
        out = np.flatnonzero(~fin_0)
        n_t = self.n_t_all - np.add.reduce(self.fin_e[out], axis=0, dtype=np.int64)
        grp = np.searchsorted(self.starts, out, side="right") - 1  # group of each left-out row
        first = np.flatnonzero(np.r_[True, grp[1:] != grp[:-1]])
        base = self.base_all.copy()
        base[grp[first]] -= np.add.reduceat(self.base0[out], first, axis=0)
        return n_t, self.w_g @ base


def _count_below(srt: np.ndarray, g: np.ndarray, *, strict: bool = False, rows: int = 1024) -> np.ndarray:
    """(N, W) number of values of each sorted row ``srt[i]`` that are ``<= g[i, k]`` (``< g``
    if ``strict``); 0 where ``g`` is NaN.

    ``srt`` has ``2^k - 1`` columns, NaN last (NaN compares False), so a branch-free
    binary search with steps ``2^(k-1), ..., 1`` runs on all windows of a block of
    ``rows`` events at once (blocks keep the searched rows in cache).
    """
    n, m = srt.shape
    out = np.zeros(g.shape, dtype=np.int64)
    if m == 0:
        return out
    cmp = np.less if strict else np.less_equal
    for s in range(0, n, rows):  # blocks of events, not events one by one
        e = min(n, s + rows)
        flat = srt[s:e].ravel()
        base = (np.arange(e - s, dtype=np.int64) * m - 1)[:, None]  # position 0 is base + 1
        cur = np.repeat(base, g.shape[1], axis=1)
        gb = g[s:e]
        step = (m + 1) // 2
        while step:
            cur += step * cmp(flat.take(cur + step), gb)
            step >>= 1
        out[s:e] = cur - base
    return out


def _grank_core(su: _GrankSetup, g0: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """GRANK sums (:func:`grank_sums`) for W cumulated event values ``g0 (N, W)`` against
    the estimation SARs.

    An estimation value's rank among ``estimation + event`` is its rank among the
    estimation days plus ``1[e > g] + 0.5 * 1[e == g]``. The counts of estimation values
    below each event value come from a binary search in the sorted rows (all windows at
    once); the per-day sums ``sum_i w_i 1[e_it > g_i]`` are one O(N L) comparison of
    small-integer sort positions per test window (days or CAR windows, never events).
    """
    n_ev, n_days = su.srt.shape
    rows = np.arange(n_ev)
    g_all = g0[su.order]
    fin_all = np.isfinite(g_all)
    le_all = _count_below(su.srt, g_all)  # estimation values <= g
    cand = su.srt[rows[:, None], np.clip(le_all - 1, 0, None)] if n_days else g_all * np.nan
    tie_all = fin_all & (le_all > 0) & (cand == g_all)  # an estimation value equals g (rare)
    grp_end = np.r_[su.starts[1:], n_ev]
    grp_len = grp_end - su.starts
    w_rows = np.repeat(su.w_g, grp_len)  # 1/(t_i+1) per (sorted) event
    acc = np.uint16 if n_ev < 65536 else np.int64
    n_fin = su.t_i - 1.0
    n_w = g0.shape[1]
    n_est = su.fin_e.shape[1]
    out_n_t = np.zeros((n_w, n_est))
    out_u = np.zeros((n_w, n_est))
    out_r = np.zeros(n_w)
    out_n = np.zeros(n_w)
    sums: dict[bytes, tuple[np.ndarray, np.ndarray]] = {}
    for k in range(n_w):
        fin_0 = fin_all[:, k]
        n = float(fin_0.sum())
        if n == 0:
            continue
        g = g_all[:, k]
        key = np.packbits(fin_0).tobytes()
        if key not in sums:
            sums[key] = su.sums(fin_0)
        n_t, base_sum = sums[key]
        w_i = np.where(fin_0, w_rows, 0.0)
        le = le_all[:, k]
        # estimation values above g sit at sorted positions >= le; events not in the
        # test get the threshold n_days (nothing above it)
        thr = np.where(fin_0, le, n_days).astype(su.pos1.dtype)[:, None]
        gt8 = (su.pos1 > thr).view(np.uint8)
        counts = np.stack([np.add.reduce(gt8[a:b], axis=0, dtype=acc)
                           for a, b in zip(su.starts, grp_end, strict=True)]).astype(np.int32)
        shift = su.w_g @ counts
        u_sum = base_sum + shift - 0.5 * n_t
        n_gt = n_fin - le
        if tie_all[:, k].any():
            lt = _count_below(su.srt, g[:, None], strict=True)[:, 0]
            lo = np.where(fin_0, lt, n_days).astype(su.pos1.dtype)[:, None]
            eq = (su.pos1 > lo) & (su.pos1 <= thr)  # sorted positions lt..le-1 equal g
            u_sum = u_sum + 0.5 * (w_i @ eq)
            n_eq = np.where(fin_0, le - lt, 0)
        else:
            n_eq = np.zeros(n_ev)
        # rank of the event value: 1 + #(est < g) + 0.5 #(est == g)
        r0 = 1.0 + (su.t_i - 1.0 - n_gt - n_eq) + 0.5 * n_eq
        out_n_t[k], out_u[k], out_n[k] = n_t, u_sum, n
        out_r[k] = np.sum(np.where(fin_0, r0 * w_i - 0.5, 0.0))
    return out_n_t, out_u, out_r, out_n


# --------------------------------------------------------------------------------------
# batteries
# --------------------------------------------------------------------------------------
_TESTS: dict[str, Callable[..., TestStat]] = {
    "cross_sectional_t": cross_sectional_t,
    "brown_warner_1980": brown_warner_1980,
    "brown_warner_1985": brown_warner_1985,
    "lamb": lamb,
    "patell": patell,
    "patell_kp": patell_kp,
    "bmp": bmp,
    "bmp_kp": bmp_kp,
    "skewness_corrected": skewness_corrected,
    "corrado_rank": corrado_rank,
    "modified_rank": modified_rank,
    "generalized_rank": generalized_rank,
    "sign": sign,
    "generalized_sign": generalized_sign,
    "corrado_sign": corrado_sign,
    "wilcoxon": wilcoxon,
}
DAY_TESTS: tuple[str, ...] = tuple(_TESTS)
WINDOW_TESTS: tuple[str, ...] = tuple(_TESTS)


def _select(tests) -> list[str]:
    if tests is None:
        return list(_TESTS)
    unknown = [t for t in tests if t not in _TESTS]
    if unknown:
        raise SpecificationError(f"unknown test(s) {unknown}; available: {', '.join(_TESTS)}")
    return list(tests)


def _run(inp: BatteryInput, window: Window, convention: str, tests) -> list[TestStat]:
    _check_convention(convention)
    names = _select(tests)
    rbar = None
    if "patell_kp" in names or "bmp_kp" in names:
        rbar = _rbar(inp)
    out = []
    for name in names:  # a fixed list of tests, not events
        fn = _TESTS[name]
        if name in ("patell_kp", "bmp_kp"):
            out.append(fn(inp, window, convention=convention, rbar=rbar))
        else:
            out.append(fn(inp, window, convention=convention))
    return out


def _run_all(inp: BatteryInput, names: list[str], wins: tuple, convention: str) -> tuple[list, list]:
    """Every test on the days and on each window. When the generalized rank test's batch
    (all its windows at once) is still to compute, it runs in a second thread while this
    one runs the other tests (numpy releases the GIL in the heavy steps); the row sort
    both read is computed first. Every test's numbers are the single-threaded ones."""
    if not names:
        return [], [[] for _ in wins]
    g_windows = [(d, d) for d in range(inp.n_days)] + list(wins)
    done = _cached(inp, "grank", dict)
    if "generalized_rank" not in names or all(w in done for w in g_windows):
        return _run(inp, None, convention, names), [_run(inp, w, convention, names) for w in wins]
    _full_sorted(inp)
    others = [n for n in names if n != "generalized_rank"]
    with ThreadPoolExecutor(1) as pool:
        job = pool.submit(_grank_windows, inp, g_windows)
        day = dict(zip(others, _run(inp, None, convention, others), strict=True))
        win = [dict(zip(others, _run(inp, w, convention, others), strict=True)) for w in wins]
        job.result()
    day["generalized_rank"] = generalized_rank(inp, None, convention=convention)
    for w, d in zip(wins, win, strict=True):
        d["generalized_rank"] = generalized_rank(inp, w, convention=convention)
    return [day[n] for n in names], [[d[n] for n in names] for d in win]


@dataclass(frozen=True)
class BatteryResult:
    """The battery on every event day and on a list of CAR windows (see :func:`battery`).

    Attributes
    ----------
    tests, references : names and citations of the K tests, in the order run.
    day_statistic, day_p_value : (K, T) per event day (two-sided p-values).
    windows : the W windows as (start_idx, end_idx) day indices, inclusive.
    window_statistic, window_p_value : (W, K) per window.
    """

    tests: tuple[str, ...]
    references: tuple[str, ...]
    day_statistic: np.ndarray
    day_p_value: np.ndarray
    windows: tuple[tuple[int, int], ...]
    window_statistic: np.ndarray
    window_p_value: np.ndarray


def battery(
    inp: BatteryInput, windows=(), *, convention: str = "textbook", tests=None
) -> BatteryResult:
    """Run the battery on every event day and on each CAR window, as arrays.

    The same numbers as :func:`day_tests` and :func:`window_tests` for each window;
    work shared between days and windows (ranks, the generalized rank test's setup and
    its binary search, the cross-correlation) is done once.

    Parameters
    ----------
    inp : BatteryInput
    windows : sequence of (start_idx, end_idx)
        Inclusive day-index windows (0..T-1).
    convention : {"textbook", "estudy2"}
    tests : sequence of str, optional
        Names from ``DAY_TESTS``; default all. Empty: nothing is computed.
    """
    _check_convention(convention)
    names = _select(tests)
    wins = tuple(_window(inp, w) for w in windows)
    k, t = len(names), inp.n_days
    day, win = _run_all(inp, names, wins, convention)
    return BatteryResult(
        tests=tuple(names),
        references=tuple(r.reference for r in day),
        day_statistic=np.array([r.statistic for r in day], dtype=float).reshape(k, t),
        day_p_value=np.array([r.p_value for r in day], dtype=float).reshape(k, t),
        windows=wins,
        window_statistic=np.array([[r.statistic for r in rw] for rw in win], dtype=float).reshape(len(wins), k),
        window_p_value=np.array([[r.p_value for r in rw] for rw in win], dtype=float).reshape(len(wins), k),
    )


# --------------------------------------------------------------------------------------
# chunks of events: exact combination
# --------------------------------------------------------------------------------------
_NEEDS = {  # the pooled estimation-window pieces each test reads (besides per-event arrays)
    "brown_warner_1985": ("aar_est",), "lamb": ("aar_est",), "generalized_sign": ("p_hat",),
    "patell_kp": ("rbar",), "bmp_kp": ("rbar",), "corrado_rank": ("rank", "corrado_rank"),
    "modified_rank": ("modified_rank",), "corrado_sign": ("corrado_sign",),
}


@dataclass(frozen=True)
class BatteryPart:
    """One chunk of events' share of the battery (:func:`battery_part`); chunks combine
    exactly with :func:`combine_parts`.

    ``events`` holds the per-event arrays of the chunk (``ar``, ``pe``, ``sigma``,
    ``n_est``, ``design_evt``, ``xtx_inv``: O(T) per event); ``pooled`` the sums over the
    chunk's events that the estimation-window statistics need, each of fixed size
    whatever the number of events (O(L + T)): ``aar_est`` (sums and counts per
    estimation day), ``p_hat`` (positive-fraction counts), the rank tests' day sums
    (``rank``, ``corrado_rank``, ``modified_rank``, ``corrado_sign``) and ``rbar`` (the
    Kolari-Pynnönen cross-correlation's sums; the residuals themselves only while the
    events number at most :data:`RBAR_EXACT_MAX`).
    """

    events: dict
    n_params: int
    pooled: dict


def battery_part(inp: BatteryInput, tests=None) -> BatteryPart:
    """The share of the events of ``inp`` in the battery ``tests`` (default all)."""
    need = {k for t in _select(tests) for k in _NEEDS.get(t, ())}
    pooled: dict = {}
    if "aar_est" in need:
        pooled["aar_est"] = _aar_est_parts(inp)
    if "p_hat" in need:
        pooled["p_hat"] = _p_hat_parts(inp)
    if "rbar" in need:
        pooled["rbar"] = _RbarParts.of(_ar_est(inp))
    for name in _RANK_SCORES:
        if name in need:
            pooled[name] = _rank_parts(inp, name)
    events = {"ar": inp.ar, "pe": inp.pe, "sigma": inp.sigma, "n_est": inp.n_est,
              "design_evt": inp.design_evt, "xtx_inv": inp.xtx_inv}
    return BatteryPart(events, inp.n_params, pooled)


def combine_parts(parts) -> BatteryInput:
    """One :class:`BatteryInput` for the events of every part, with the pooled
    estimation-window statistics combined exactly (in the order of ``parts``).

    How each test combines:

    * per-event statistics -- cross-sectional t, skewness-corrected, Brown-Warner 1980,
      Patell, BMP, sign, Wilcoxon and the per-event side of every other test -- read
      the concatenated per-event arrays (AR, prediction-error factors, sigma, the CAR
      design), so they are computed exactly as on all events at once (Wilcoxon's
      cross-event ranks included);
    * Brown-Warner 1985 and Lamb: the estimation-window AAR from per-day sums and counts;
    * generalized sign: ``p_hat`` from summed positive fractions (or pooled counts);
    * Corrado rank, modified rank, Corrado sign: each event's ranks (signs) are its own,
      the tests use their day sums, counts and usable days -- all added;
    * Kolari-Pynnönen ``r_bar``: pairwise on the kept residuals up to
      :data:`RBAR_EXACT_MAX` events, else the O(N L) identity's added sums (as
      :func:`mean_cross_correlation` ``method="auto"``);
    * GRANK needs two passes: :func:`grank_scale` on the combined input, then
      :func:`grank_sums` on each chunk's own input, added and set with :func:`set_grank`.

    The combined input has no estimation residuals (``ar_est`` is (N, 0)); use it for
    :func:`battery` only. Sums differ from the one-shot run only in the order of
    floating-point additions (rank and sign sums are exact).
    """
    parts = list(parts)
    if not parts:
        raise SpecificationError("combine_parts needs at least one part")

    def cat(name):
        arrs = [p.events[name] for p in parts]
        return None if arrs[0] is None else np.concatenate(arrs)

    ar = cat("ar")
    inp = BatteryInput(ar=ar, ar_est=np.empty((ar.shape[0], 0)), sigma=cat("sigma"), pe=cat("pe"),
                       n_est=cat("n_est"), n_params=parts[0].n_params,
                       design_evt=cat("design_evt"), xtx_inv=cat("xtx_inv"))
    pooled = parts[0].pooled
    for key in pooled:
        total = pooled[key]
        for p in parts[1:]:
            other = p.pooled[key]
            total = tuple(a + b for a, b in zip(total, other, strict=True)) if isinstance(total, tuple) \
                else total + other
        if key == "rbar":
            inp._cache["rbar"] = total.rbar()
        else:
            inp._cache[f"parts:{key}"] = total
    return inp


def add_grank_sums(a, b):
    """Element-wise sum of two :func:`grank_sums` results (chunks of events)."""
    return tuple(x + y for x, y in zip(a, b, strict=True))


def day_tests(inp: BatteryInput, *, convention: str = "textbook", tests=None) -> pd.DataFrame:
    """Run the battery on every event day.

    Returns a long frame with columns ``test`` (str), ``day_index`` (0..T-1),
    ``statistic``, ``p_value`` (two-sided) and ``reference``.
    """
    res = _run(inp, None, convention, tests)
    if not res:
        raise SpecificationError("no test selected; pass tests=None for the whole battery")
    t = inp.n_days
    return pd.DataFrame(
        {
            "test": np.repeat([r.name for r in res], t),
            "day_index": np.tile(np.arange(t), len(res)),
            "statistic": np.concatenate([np.asarray(r.statistic, dtype=float) for r in res]),
            "p_value": np.concatenate([np.asarray(r.p_value, dtype=float) for r in res]),
            "reference": np.repeat([r.reference for r in res], t),
        }
    )


def window_tests(
    inp: BatteryInput, start_idx: int, end_idx: int, *, convention: str = "textbook", tests=None
) -> pd.DataFrame:
    """Run the battery on the CAR over day indices ``[start_idx, end_idx]`` (inclusive).

    Returns a long frame with columns ``test``, ``statistic``, ``p_value`` and
    ``reference``.
    """
    res = _run(inp, (start_idx, end_idx), convention, tests)
    return pd.DataFrame(
        {
            "test": [r.name for r in res],
            "statistic": [float(r.statistic) for r in res],
            "p_value": [float(r.p_value) for r in res],
            "reference": [r.reference for r in res],
        }
    )


def single_event_tests(inp: BatteryInput, start_idx: int, end_idx: int) -> pd.DataFrame:
    """Per-event t-test of the CAR over ``[start_idx, end_idx]`` (one row per event).

    ``car_se = sigma_i sqrt(v_i)`` with the exact OLS CAR variance factor ``v_i``
    (:func:`car_variance_factor`; prediction error and its covariance across days
    included); ``t = CAR / car_se`` against t(n_est - max(n_params, 1)). For a one-day
    window this is the AR t-test with ``Var = sigma^2 pe``.
    References: MacKinlay (1997), J. Economic Literature 35, 13-39; Campbell, Lo and
    MacKinlay (1997), ch. 4.

    Returns columns ``car``, ``car_se``, ``t_stat``, ``df``, ``p_value`` and ``n_days``
    (non-missing days in the window).
    """
    a, b = _window(inp, (start_idx, end_idx))
    c = car(inp, a, b)
    v = car_variance_factor(inp, a, b)
    with np.errstate(invalid="ignore", divide="ignore"):
        se = inp.sigma * np.sqrt(v)
        t = c / se
    df = inp.dof.astype(float)
    return pd.DataFrame(
        {
            "car": c,
            "car_se": se,
            "t_stat": t,
            "df": df,
            "p_value": _p_t(t, df),
            "n_days": _count(inp.ar[:, a : b + 1], 1),
        }
    )
