"""Nonparametric tests: Corrado rank, modified rank, Corrado sign, sign, generalized sign,
Wilcoxon signed rank and the generalized rank test (GRANK)."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from scipy import special as _sp_special
from scipy import stats as _st

from research.eventstudy.models import quad_form
from research.eventstudy.stats.inputs import (
    BatteryInput, cached, check_convention, count_finite, nanstd, p_norm, test_stat, TestStat, valid_ar,
    valid_ar_est, Window, window_bounds,
)
from research.eventstudy.stats.parallel import (
    avg_ranks_sorted, flat_index, scatter_rows, sort_rows, two_sided_t_p,
)
from research.eventstudy.stats.car import car, moments, standardized_car

__all__ = [
    "corrado_rank",
    "corrado_sign",
    "full_sorted",
    "generalized_rank",
    "generalized_sign",
    "grank_scale",
    "grank_sums",
    "grank_windows",
    "modified_rank",
    "p_hat_parts",
    "rank_parts",
    "RANK_SCORES",
    "set_grank",
    "sign",
    "wilcoxon",
    "window_from_days",
]


# --------------------------------------------------------------------------------------
# nonparametric tests
# --------------------------------------------------------------------------------------
def _full(inp: BatteryInput) -> np.ndarray:
    """(N, L+T) estimation then event abnormal returns."""
    return cached(inp, "full", lambda: np.concatenate([valid_ar_est(inp), valid_ar(inp)], axis=1))


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


def window_from_days(z_evt: np.ndarray, sd: float, w, name: str, ref: str, *,
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
    return test_stat(name, stat, (p_value or p_norm)(stat), ref, w is not None)


def _m_i(inp: BatteryInput) -> np.ndarray:
    """(N,) usable estimation + event days per event."""
    return cached(inp, "m_i", lambda: count_finite(_full(inp), 1).astype(float))


def full_sorted(inp: BatteryInput) -> tuple[np.ndarray, np.ndarray]:
    """Row-wise argsort (flat indices) and sorted rows of :func:`_full` (one sort shared by
    the rank tests, the sign test's medians and the generalized rank test's setup)."""
    return cached(inp, "full_sorted", lambda: sort_rows(_full(inp)))


def _ranks(inp: BatteryInput) -> np.ndarray:
    """(N, L+T) average ranks of each event's ARs over its estimation + event days (not
    memoised: :func:`_rank_base` keeps what the rank tests need)."""
    order, srt = full_sorted(inp)
    return scatter_rows(avg_ranks_sorted(srt)[0], order)


def _row_median_sorted(srt: np.ndarray) -> np.ndarray:
    """Median of each sorted row's finite values (NaN for an empty row)."""
    n_fin = count_finite(srt, 1)
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

    return cached(inp, "rank_base", make)


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
        return _DayParts.of(np.sign(full - _row_median_sorted(full_sorted(inp)[1])[:, None]))
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
RANK_SCORES: tuple[str, ...] = ("rank", "corrado_rank", "modified_rank", "corrado_sign")


def rank_parts(inp: BatteryInput, name: str) -> _DayParts:
    """Day sums of the rank scores ``name`` (:data:`RANK_SCORES`), memoised."""
    return cached(inp, f"parts:{name}", lambda: _rank_score_parts(inp, name))


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
    check_convention(convention)
    w = window_bounds(inp, window)
    t_len = inp.n_days
    ref = "Corrado (1989); Cowan (1992) for windows; N(0,1)"
    if convention == "estudy2" and w is not None:
        # estudy2 car_rank_test: common centring by the mean expected rank
        p = rank_parts(inp, "rank")
        if p.m_cnt == 0:
            return test_stat("corrado_rank", np.nan, np.nan, ref, True)
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
        return test_stat("corrado_rank", stat, p_norm(stat), ref, True)
    z, sd = cached(inp, f"corrado_rank:{convention}",
                    lambda: _series_from(rank_parts(inp, "corrado_rank"), convention, mean=True))
    return window_from_days(z[z.size - t_len:], sd, w, "corrado_rank", ref)


def modified_rank(inp: BatteryInput, window: Window = None, *, convention: str = "textbook") -> TestStat:
    """Campbell-Wasley (1993) modified rank test (standardized ranks; handles missing).

    ``U_it = K_it / (M_i + 1)``; ``z_t = sum_i (U_it - 1/2) / sqrt(n_t)``;
    ``S_U = sqrt(sum_t z_t^2 / D)``; day ``z_t / S_U``; window
    ``sum_{t in W} z_t / (sqrt(tau) S_U)``. N(0, 1).
    References: Corrado and Zivney (1992), JFQA 27(3), 465-478; Campbell and Wasley
    (1993), J. Financial Economics 33, 73-92.
    """
    check_convention(convention)
    w = window_bounds(inp, window)
    z, sd = cached(inp, f"modified_rank:{convention}",
                    lambda: _series_from(rank_parts(inp, "modified_rank"), convention, mean=False))
    return window_from_days(z[z.size - inp.n_days:], sd, w, "modified_rank",
                             "Campbell & Wasley (1993); N(0,1)")


def corrado_sign(inp: BatteryInput, window: Window = None, *, convention: str = "textbook") -> TestStat:
    """Corrado-Zivney (1992) sign test.

    ``G_it = sign(AR_it - median_i)`` with each event's median over its estimation +
    event days; ``z_t = sum_i G_it / sqrt(n_t)``; ``S_G = sqrt(sum_t z_t^2 / D)``; day
    ``z_t / S_G``; window ``sum_{t in W} z_t / (sqrt(tau) S_G)``. N(0, 1).
    Reference: Corrado and Zivney (1992), JFQA 27(3), 465-478.
    """
    check_convention(convention)
    w = window_bounds(inp, window)
    z, sd = cached(inp, f"corrado_sign:{convention}",
                    lambda: _series_from(rank_parts(inp, "corrado_sign"), convention, mean=False))
    return window_from_days(z[z.size - inp.n_days:], sd, w, "corrado_sign", "Corrado & Zivney (1992); N(0,1)")


def sign(inp: BatteryInput, window: Window = None, *, convention: str = "textbook") -> TestStat:
    """Simple sign test: ``(w - n/2) / sqrt(n/4)`` with ``w`` positive ARs (CARs). N(0, 1).

    Reference: Boehmer, Musumeci and Poulsen (1991); estudy2 ``sign_test``.
    """
    check_convention(convention)
    w = window_bounds(inp, window)
    x, n, _, _ = moments(inp, w)
    n = n.astype(float)
    pos = (x > 0).sum(axis=0)  # NaN > 0 is False
    with np.errstate(invalid="ignore", divide="ignore"):
        z = np.where(n > 0, (pos - 0.5 * n) / np.sqrt(0.25 * n), np.nan)
    return test_stat("sign", z, p_norm(z), "binomial sign test; N(0,1)", w is not None)


def generalized_sign(inp: BatteryInput, window: Window = None, *, convention: str = "textbook") -> TestStat:
    """Cowan (1992) generalized sign test.

    ``z = (w - n p) / sqrt(n p (1 - p))`` with ``w`` positive ARs (CARs) and ``p`` the
    expected fraction of positive ARs from the estimation window: the mean over events of
    each event's fraction (Cowan 1992), or pooled over all estimation observations
    (estudy2). N(0, 1).
    Reference: Cowan (1992), Review of Quantitative Finance and Accounting 2, 343-358.
    """
    check_convention(convention)
    w = window_bounds(inp, window)
    p = cached(inp, f"p_hat:{convention}", lambda: _p_hat(inp, convention))
    x, n, _, _ = moments(inp, w)
    n = n.astype(float)
    pos = (x > 0).sum(axis=0)  # NaN > 0 is False
    with np.errstate(invalid="ignore", divide="ignore"):
        z = np.where(n > 0, (pos - n * p) / np.sqrt(n * p * (1.0 - p)), np.nan)
    return test_stat("generalized_sign", z, p_norm(z), "Cowan (1992); N(0,1)", w is not None)


def _p_hat(inp: BatteryInput, convention: str) -> float:
    """Expected fraction of positive abnormal returns from the estimation window."""
    return _p_hat_from(p_hat_parts(inp), convention)


def p_hat_parts(inp: BatteryInput) -> np.ndarray:
    """[sum of events' positive fractions, events with data, positive ARs, ARs] of the
    estimation window (they add across chunks)."""
    def make():
        est = valid_ar_est(inp)
        fin = np.isfinite(est)
        posest = est > 0  # NaN > 0 is False
        cnt = fin.sum(axis=1)
        frac = posest.sum(axis=1)[cnt > 0] / cnt[cnt > 0]
        return np.array([frac.sum(), frac.size, posest.sum(), fin.sum()], dtype=float)

    return cached(inp, "parts:p_hat", make)


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
    check_convention(convention)
    w = window_bounds(inp, window)
    x = valid_ar(inp) if w is None else car(inp, *w)[:, None]
    v, p = _wilcoxon_columns(x)
    return test_stat("wilcoxon", v, p, "Wilcoxon (1945) signed rank; V statistic", w is not None)


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
        flat, srt = sort_rows(ax)
        avg, ties = avg_ranks_sorted(srt)
        r = scatter_rows(avg, flat)
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
    check_convention(convention)
    w = window_bounds(inp, window)
    windows = [(t, t) for t in range(inp.n_days)] if w is None else [w]
    stat, df = grank_windows(inp, windows)
    p = two_sided_t_p(stat, df)
    return test_stat("generalized_rank", stat, p, "Kolari & Pynnönen (2011) GRANK; t(T-2)", w is not None)


def grank_windows(inp: BatteryInput, windows: list[tuple[int, int]]) -> tuple[np.ndarray, np.ndarray]:
    """GRANK (statistic, df) for validated windows; the ones not computed yet for this
    input are computed together (one batched search) and memoised per window."""
    done: dict[tuple[int, int], tuple[float, float]] = cached(inp, "grank", dict)
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
    cols = [(_scar_days(inp)[:, a] if a == b else standardized_car(inp, a, b)) for a, b in windows]
    return np.stack(cols, axis=1) if cols else np.empty((inp.n_events, 0))


def grank_scale(inp: BatteryInput, windows: list[tuple[int, int]]) -> np.ndarray:
    """(W,) cross-sectional sd of each window's standardized CAR (GRANK's re-standardization,
    :func:`generalized_rank`): the first of GRANK's two passes over the events."""
    return nanstd(_grank_columns(inp, windows), 0)


def grank_sums(inp: BatteryInput, windows: list[tuple[int, int]],
               scale: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """GRANK's second pass on the events of ``inp``: per window, the sums that add across
    chunks of events -- ``n_t`` (W, L) events per estimation day, ``u_sum`` (W, L) their
    weighted centred ranks, ``r_sum`` (W,) the event day's and ``n`` (W,) its events.
    ``scale`` is :func:`grank_scale` over *all* events (of every chunk)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        g0 = _grank_columns(inp, windows) / scale[None, :]  # re-standardized by the cross-sectional sd
    return _grank_core(cached(inp, "grank_setup", lambda: _GrankSetup.make(inp)), g0)


def set_grank(inp: BatteryInput, windows: list[tuple[int, int]],
              sums: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]) -> None:
    """Memoise GRANK on ``inp`` from :func:`grank_sums` added over every chunk of events
    (the combined input of :func:`combine_parts` has no estimation residuals)."""
    stat, df = _grank_finish(*sums)
    done = cached(inp, "grank", dict)
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
    """(N, T) one-day standardized CARs, ``standardized_car(inp, t, t)`` for every day at once."""

    def make():
        ar = valid_ar(inp)
        present = np.isfinite(ar)
        if inp.design_evt is None:
            v = np.where(present, inp.pe, 0.0)
        else:
            d = np.where(present[:, :, None], inp.design_evt, 0.0)
            v = present + quad_form(d, inp.xtx_inv)
        v = np.where(present, v, np.nan)
        with np.errstate(invalid="ignore", divide="ignore"):
            return ar / (inp.sigma[:, None] * np.sqrt(v))

    return cached(inp, "scar_days", make)


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
        est = valid_ar_est(inp)
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
        flat_full, _ = full_sorted(inp)
        n_full = flat_full.shape[1]
        small = np.int16 if n_full < 2**15 else np.int64
        col = (flat_full - (np.arange(n_ev, dtype=np.int64) * n_full)[:, None]).astype(small)
        o_est = col[col < n_days].reshape(n_ev, n_days)[order]
        flat = flat_index(o_est)
        sar_o = sar[order]
        fin_o = fin[order]
        pad = (1 << n_days.bit_length()) - 1 - n_days  # NaN columns: a fixed-step binary search
        srt_pad = np.full((n_ev, n_days + pad), np.nan)
        srt = srt_pad[:, :n_days]
        srt[...] = sar_o.ravel().take(flat)
        fin_s = np.isfinite(srt)
        avg, _ = avg_ranks_sorted(srt)  # ties are found among the SARs themselves
        base0 = scatter_rows(np.where(fin_s, avg, 0.0), flat)
        pos_dtype = np.uint8 if n_days < 255 else np.uint16 if n_days < 65535 else np.int64
        q1 = np.arange(1, n_days + 1, dtype=pos_dtype)
        pos1 = scatter_rows(np.where(fin_s, q1, pos_dtype(0)), flat)
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
