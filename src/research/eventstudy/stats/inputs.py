"""The input of the battery and its memoised derived arrays: :class:`BatteryInput`, :class:`TestStat`,
the cache every test shares, and small NaN-aware moments."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from scipy import special as _sp_special

from research.errors import SpecificationError

__all__ = [
    "BatteryInput",
    "cached",
    "check_convention",
    "CONVENTIONS",
    "count_finite",
    "nanmean",
    "nanstd",
    "p_norm",
    "test_stat",
    "TestStat",
    "valid_ar",
    "valid_ar_est",
    "Window",
    "window_bounds",
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
def check_convention(convention: str) -> None:
    if convention not in CONVENTIONS:
        raise SpecificationError(
            f"unknown convention {convention!r}; use one of {', '.join(CONVENTIONS)}"
        )


def window_bounds(inp: BatteryInput, window: Window) -> tuple[int, int] | None:
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


def p_norm(z):
    # = 2 * scipy.stats.norm.sf(|z|) (the same special function, without its argument checks)
    return 2.0 * _sp_special.ndtr(-np.abs(z))


def test_stat(name: str, stat, p, ref: str, scalar: bool) -> TestStat:
    stat = np.asarray(stat, dtype=float)
    p = np.asarray(p, dtype=float)
    if scalar:
        return TestStat(name, float(stat.reshape(-1)[0]), float(p.reshape(-1)[0]), ref)
    return TestStat(name, stat, p, ref)


def cached(inp: BatteryInput, key: str, make: Callable[[], object]):
    """Memoise a derived array on the (frozen) input; inputs are never mutated."""
    if key not in inp._cache:
        inp._cache[key] = make()
    return inp._cache[key]


def valid_ar(inp: BatteryInput) -> np.ndarray:
    """Event ARs with failed-fit events blanked."""
    return cached(inp, "ar", lambda: np.where(inp.valid[:, None], inp.ar, np.nan))


def valid_ar_est(inp: BatteryInput) -> np.ndarray:
    return cached(inp, "ar_est", lambda: np.where(inp.valid[:, None], inp.ar_est, np.nan))


def count_finite(x: np.ndarray, axis: int = 0) -> np.ndarray:
    return np.isfinite(x).sum(axis=axis)


def nanmean(x: np.ndarray, axis: int = 0) -> np.ndarray:
    n = count_finite(x, axis)
    s = np.where(np.isfinite(x), x, 0.0).sum(axis=axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, s / np.maximum(n, 1), np.nan)


def nanstd(x: np.ndarray, axis: int = 0) -> np.ndarray:
    """Sample standard deviation (ddof=1) ignoring NaN; NaN if fewer than 2 values."""
    n = count_finite(x, axis)
    m = nanmean(x, axis)
    d = np.where(np.isfinite(x), x - np.expand_dims(m, axis), 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 1, np.sqrt((d * d).sum(axis=axis) / np.maximum(n - 1, 1)), np.nan)
