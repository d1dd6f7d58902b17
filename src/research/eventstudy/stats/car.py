"""Cumulative abnormal returns: :func:`car_moments` (the one CAR variance), standardized ARs
and CARs, the cross-sectional moments the parametric tests share, and BHAR."""

from __future__ import annotations

import numpy as np

from research.errors import SpecificationError
from research.eventstudy.models import quad_form
from research.eventstudy.stats.inputs import (
    BatteryInput, cached, count_finite, nanmean, nanstd, valid_ar, valid_ar_est, window_bounds,
)

__all__ = [
    "aar_est_parts",
    "aar_est_sd",
    "bhar",
    "bhar_windows",
    "car",
    "car_moments",
    "car_variance_factor",
    "moments",
    "standardized_ar",
    "standardized_car",
    "window_matrix",
]


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
    a, b = window_bounds(inp, (start_idx, end_idx))

    def make():
        sl = slice(a, b + 1)  # the window's days only: cost in proportion to its length
        c, v, _ = car_moments(valid_ar(inp)[:, sl], np.array([0]), np.array([b - a]),
                              design=None if inp.design_evt is None else inp.design_evt[:, sl],
                              xtx_inv=inp.xtx_inv, pe=inp.pe[:, sl])
        return c[:, 0], v[:, 0]

    return cached(inp, f"car_v:{a}:{b}", make)


def standardized_ar(inp: BatteryInput) -> np.ndarray:
    """(N, T) standardized abnormal returns AR / (sigma sqrt(pe)) (Patell 1976)."""

    def make():
        with np.errstate(invalid="ignore", divide="ignore"):
            return valid_ar(inp) / (inp.sigma[:, None] * np.sqrt(inp.pe))

    return cached(inp, "sar", make)


def standardized_car(inp: BatteryInput, a: int, b: int) -> np.ndarray:
    """(N,) standardized CAR, CAR / (sigma sqrt(v)) (Mikkelson-Partch 1988 variance)."""
    def make():
        with np.errstate(invalid="ignore", divide="ignore"):
            return car(inp, a, b) / (inp.sigma * np.sqrt(car_variance_factor(inp, a, b)))

    return cached(inp, f"scar:{a}:{b}", make)


def moments(inp: BatteryInput, w) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``x`` -- the ARs (N, T) for ``w=None``, else the window's CARs (N, 1) -- and its
    cross-sectional count, mean and sd (ddof=1) per column, memoised (several tests
    read them)."""
    def make():
        x = valid_ar(inp) if w is None else car(inp, *w)[:, None]
        return x, count_finite(x, 0), nanmean(x, 0), nanstd(x, 0)

    return cached(inp, f"moments:{w}", make)


def aar_est_sd(inp: BatteryInput) -> tuple[float, int]:
    """Time-series sd (ddof=1) of the estimation-window AAR and its number of days."""
    return cached(inp, "aar_est_sd", lambda: _aar_est_sd_from(*aar_est_parts(inp)))


def aar_est_parts(inp: BatteryInput) -> tuple[np.ndarray, np.ndarray]:
    """(L,) sums and counts of the estimation-window ARs per day (they add across chunks)."""
    def make():
        est = valid_ar_est(inp)
        fin = np.isfinite(est)
        return np.where(fin, est, 0.0).sum(axis=0), fin.sum(axis=0)

    return cached(inp, "parts:aar_est", make)


def _aar_est_sd_from(s: np.ndarray, n: np.ndarray) -> tuple[float, int]:
    with np.errstate(invalid="ignore", divide="ignore"):
        aar_est = np.where(n > 0, s / np.maximum(n, 1), np.nan)
    aar_est = aar_est[np.isfinite(aar_est)]
    if aar_est.size < 2:
        return np.nan, int(aar_est.size)
    return float(np.std(aar_est, ddof=1)), int(aar_est.size)


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
