"""The battery: every test per day and per window at once, and exact combination of
chunks of events (:func:`battery_part`, :func:`combine_parts`)."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pandas as pd

from research.errors import SpecificationError
from research.eventstudy.stats.inputs import (
    BatteryInput, cached, check_convention, count_finite, TestStat, valid_ar_est, Window, window_bounds,
)
from research.eventstudy.stats.parallel import two_sided_t_p
from research.eventstudy.stats.car import aar_est_parts, car, car_variance_factor
from research.eventstudy.stats.rank import (
    corrado_rank, corrado_sign, full_sorted, generalized_rank, generalized_sign, grank_windows,
    modified_rank, p_hat_parts, rank_parts, RANK_SCORES, sign, wilcoxon,
)
from research.eventstudy.stats.parametric import (
    bmp, bmp_kp, brown_warner_1980, brown_warner_1985, cross_sectional_t, lamb, patell, patell_kp, rbar_of,
    RbarParts, skewness_corrected,
)

__all__ = [
    "add_grank_sums",
    "battery",
    "battery_part",
    "BatteryPart",
    "BatteryResult",
    "combine_parts",
    "DAY_TESTS",
    "day_tests",
    "single_event_tests",
    "WINDOW_TESTS",
    "window_tests",
]


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
    check_convention(convention)
    names = _select(tests)
    rbar = None
    if "patell_kp" in names or "bmp_kp" in names:
        rbar = rbar_of(inp)
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
    done = cached(inp, "grank", dict)
    if "generalized_rank" not in names or all(w in done for w in g_windows):
        return _run(inp, None, convention, names), [_run(inp, w, convention, names) for w in wins]
    full_sorted(inp)
    others = [n for n in names if n != "generalized_rank"]
    with ThreadPoolExecutor(1) as pool:
        job = pool.submit(grank_windows, inp, g_windows)
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
    check_convention(convention)
    names = _select(tests)
    wins = tuple(window_bounds(inp, w) for w in windows)
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
        pooled["aar_est"] = aar_est_parts(inp)
    if "p_hat" in need:
        pooled["p_hat"] = p_hat_parts(inp)
    if "rbar" in need:
        pooled["rbar"] = RbarParts.of(valid_ar_est(inp))
    for name in RANK_SCORES:
        if name in need:
            pooled[name] = rank_parts(inp, name)
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
    a, b = window_bounds(inp, (start_idx, end_idx))
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
            "p_value": two_sided_t_p(t, df),
            "n_days": count_finite(inp.ar[:, a : b + 1], 1),
        }
    )
