"""Parametric tests: cross-sectional t, Brown-Warner 1980/1985, Lamb, Patell, BMP, their
Kolari-Pynnönen adjustments (mean cross-correlation) and the skewness-corrected t."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from research.errors import SpecificationError
from research.eventstudy.stats.inputs import (
    BatteryInput, cached, check_convention, count_finite, nanmean, nanstd, p_norm, test_stat, TestStat,
    valid_ar, valid_ar_est, Window, window_bounds,
)
from research.eventstudy.stats.parallel import two_sided_t_p
from research.eventstudy.stats.car import aar_est_sd, car, moments, standardized_ar, standardized_car
from research.eventstudy.stats.rank import window_from_days

__all__ = [
    "bmp",
    "bmp_kp",
    "brown_warner_1980",
    "brown_warner_1985",
    "cross_sectional_t",
    "lamb",
    "mean_cross_correlation",
    "patell",
    "patell_kp",
    "RBAR_EXACT_MAX",
    "rbar_of",
    "RbarParts",
    "skewness_adjusted_t",
    "skewness_corrected",
]


# --------------------------------------------------------------------------------------
# parametric tests
# --------------------------------------------------------------------------------------
def cross_sectional_t(inp: BatteryInput, window: Window = None, *, convention: str = "textbook") -> TestStat:
    """Cross-sectional t of AAR (per day) or CAAR (window).

    ``t = mean(X) / (sd(X) / sqrt(n))`` over the events' ARs (CARs); t(n-1).
    Reference: Brown and Warner (1985); Boehmer, Musumeci and Poulsen (1991) "ordinary
    cross-sectional test"; estudy2 ``t_test``.
    """
    check_convention(convention)
    w = window_bounds(inp, window)
    _, n, m, sd = moments(inp, w)
    with np.errstate(invalid="ignore", divide="ignore"):
        t = m / (sd / np.sqrt(n))
    return test_stat("cross_sectional_t", t, two_sided_t_p(t, n - 1), "Brown & Warner (1985); t(n-1)", w is not None)


def brown_warner_1980(inp: BatteryInput, window: Window = None, *, convention: str = "textbook") -> TestStat:
    """Brown-Warner (1980) test assuming cross-sectional independence.

    ``t = AAR_t / (sqrt(sum_i sigma_i^2) / n_t)``; for a window
    ``CAAR / (sqrt(sum_i tau_i sigma_i^2) / n)``. The sum runs over the events present.
    Distribution t(mean(n_est) - 1) as in estudy2's ``brown_warner_1980``.
    Reference: Brown and Warner (1980), J. Financial Economics 8, 205-258.
    """
    check_convention(convention)
    w = window_bounds(inp, window)
    ar = valid_ar(inp)
    s2 = inp.sigma**2
    df = float(nanmean(np.where(inp.valid, inp.n_est, np.nan), 0)) - 1.0
    with np.errstate(invalid="ignore", divide="ignore"):
        if w is None:
            present = np.isfinite(ar)
            n = present.sum(axis=0)
            den = np.sqrt(np.where(present, s2[:, None], 0.0).sum(axis=0)) / n
            t = nanmean(ar, 0) / den
        else:
            c = car(inp, *w)
            tau = count_finite(ar[:, w[0] : w[1] + 1], 1)
            ok = np.isfinite(c)
            n = ok.sum()
            t = nanmean(c, 0) / (np.sqrt(np.sum(np.where(ok, tau * s2, 0.0))) / n)
    return test_stat("brown_warner_1980", t, two_sided_t_p(t, df), "Brown & Warner (1980); t(mean L - 1)",
                     w is not None)


def brown_warner_1985(inp: BatteryInput, window: Window = None, *, convention: str = "textbook") -> TestStat:
    """Brown-Warner (1985) test with the crude dependence adjustment.

    ``t = AAR_t / S(AAR_est)`` with ``S`` the time-series sd (ddof=1) of the
    estimation-window average abnormal return; window: ``CAAR / (sqrt(tau) S)`` with
    ``CAAR = sum_t AAR_t``. t(D - 1), D = estimation days with data.
    Reference: Brown and Warner (1985), J. Financial Economics 14, 3-31.
    """
    check_convention(convention)
    w = window_bounds(inp, window)
    s, d = aar_est_sd(inp)
    aar = moments(inp, None)[2]
    return window_from_days(aar, s, w, "brown_warner_1985", "Brown & Warner (1985); t(D-1)",
                             p_value=lambda t: two_sided_t_p(t, d - 1))


def lamb(inp: BatteryInput, window: Window = None, *, convention: str = "textbook") -> TestStat:
    """Lamb (1995) portfolio test: Brown-Warner 1985 with a prediction-error correction.

    ``z_t = AAR_t / (S(AAR_est) sqrt(pe_bar_t))`` with ``pe_bar_t`` the mean prediction
    error factor of the events present (estudy2: ``1 + 1/mean(n_est) + (R_mt - mean)^2/SS``).
    Window (as estudy2's ``car_lamb``): ``sum_t z_t / sqrt(tau)``. N(0, 1).
    Reference: Lamb (1995), J. Risk and Insurance 62(1), 111-123.
    """
    check_convention(convention)
    w = window_bounds(inp, window)
    z = cached(inp, f"lamb:{convention}", lambda: _lamb_days(inp, convention))
    if w is not None:
        seg = z[w[0] : w[1] + 1]
        seg = seg[np.isfinite(seg)]
        z = seg.sum() / np.sqrt(seg.size) if seg.size else np.nan
    return test_stat("lamb", z, p_norm(z), "Lamb (1995); N(0,1)", w is not None)


def _lamb_days(inp: BatteryInput, convention: str) -> np.ndarray:
    """(T,) Lamb's day statistics ``z_t`` (see :func:`lamb`); its windows sum them."""
    ar = valid_ar(inp)
    s, _ = aar_est_sd(inp)
    present = np.isfinite(ar)
    pe = np.where(present, inp.pe, np.nan)
    pe_bar = nanmean(pe, 0)
    if convention == "estudy2":
        inv_n = np.where(present, 1.0 / inp.n_est[:, None], np.nan)
        n_mean = nanmean(np.where(inp.valid, inp.n_est, np.nan), 0)
        pe_bar = 1.0 + 1.0 / n_mean + (pe_bar - 1.0 - nanmean(inv_n, 0))
    with np.errstate(invalid="ignore", divide="ignore"):
        return nanmean(ar, 0) / (s * np.sqrt(pe_bar))


def _std_moments(inp: BatteryInput, w) -> tuple[np.ndarray, ...]:
    """``x`` -- the standardized ARs (N, T) for ``w=None``, else the window's standardized
    CARs (N,) -- with its presence, count, mean and sd (ddof=1) over the events, memoised
    (Patell, BMP and their Kolari-Pynnönen versions read them)."""
    def make():
        x = standardized_ar(inp) if w is None else standardized_car(inp, *w)
        return x, np.isfinite(x), count_finite(x, 0), nanmean(x, 0), nanstd(x, 0)

    return cached(inp, f"std_moments:{w}", make)


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
    check_convention(convention)
    w = window_bounds(inp, window)
    x, present, *_ = _std_moments(inp, w)
    with np.errstate(invalid="ignore", divide="ignore"):
        z = np.where(present, x, 0.0).sum(axis=0) / _patell_den(inp, present)
    return test_stat("patell", z, p_norm(z), "Patell (1976); N(0,1)", w is not None)


def bmp(inp: BatteryInput, window: Window = None, *, convention: str = "textbook") -> TestStat:
    """Boehmer, Musumeci and Poulsen (1991) standardized cross-sectional test.

    ``t = mean(SAR) / (sd(SAR) / sqrt(n))`` (window: on ``SCAR``); t(n-1).
    Reference: Boehmer, Musumeci and Poulsen (1991), J. Financial Economics 30, 253-272.
    """
    check_convention(convention)
    w = window_bounds(inp, window)
    _, _, n, m, sd = _std_moments(inp, w)
    with np.errstate(invalid="ignore", divide="ignore"):
        t = m / (sd / np.sqrt(n))
    return test_stat("bmp", t, two_sided_t_p(t, n - 1), "Boehmer, Musumeci & Poulsen (1991); t(n-1)", w is not None)


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
    keep = count_finite(x, 1) >= min_overlap
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
    # each row's mean and sd (ddof=1) over its finite values, as nanmean / nanstd; the
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
class RbarParts:
    """What ``mean_cross_correlation(method="auto")`` needs from a chunk of events' estimation
    residuals; chunks add. ``rows`` keeps the residuals themselves while the events number at
    most :data:`RBAR_EXACT_MAX` (the exact pairwise computation), then is dropped."""

    n: int  # events with >= 3 usable rows
    first: np.ndarray | None  # usable-row pattern of the first of them
    same_rows: bool  # all of them share that pattern
    fast: tuple[np.ndarray, float, int, int]  # _corr_fast_sums
    rows: np.ndarray | None

    @staticmethod
    def of(ar_est: np.ndarray, min_overlap: int = 3) -> RbarParts:
        x = ar_est[count_finite(ar_est, 1) >= min_overlap]
        fin = np.isfinite(x)
        first = fin[0] if len(x) else None
        same = bool((fin == fin[:1]).all()) if len(x) else True
        return RbarParts(len(x), first, same, _corr_fast_sums(x),
                          x if len(x) <= RBAR_EXACT_MAX else None)

    def __add__(self, o: RbarParts) -> RbarParts:
        n = self.n + o.n
        same = self.same_rows and o.same_rows and (
            self.n == 0 or o.n == 0 or bool(np.array_equal(self.first, o.first)))
        keep = n <= RBAR_EXACT_MAX and self.rows is not None and o.rows is not None
        fast = (self.fast[0] + o.fast[0], self.fast[1] + o.fast[1], self.fast[2] + o.fast[2],
                self.fast[3] + o.fast[3])
        return RbarParts(n, self.first if self.n else o.first, same, fast,
                          np.concatenate([self.rows, o.rows]) if keep else None)

    def rbar(self) -> float:
        """``mean_cross_correlation(all rows)`` (``method="auto"``)."""
        if self.n < 2:
            return np.nan
        if self.same_rows or self.n > RBAR_EXACT_MAX:
            return _corr_fast_finish(*self.fast)
        return mean_cross_correlation(self.rows, method="exact")


def rbar_of(inp: BatteryInput) -> float:
    return cached(inp, "rbar", lambda: mean_cross_correlation(valid_ar_est(inp)))


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
    w = window_bounds(inp, window)
    z = patell(inp, window, convention=convention).statistic
    r = rbar_of(inp) if rbar is None else rbar
    za = np.asarray(z) * _kp_factor(r, _std_moments(inp, w)[2])
    return test_stat("patell_kp", za, p_norm(za), "Kolari & Pynnönen (2010) adjusted Patell; N(0,1)", w is not None)


def bmp_kp(
    inp: BatteryInput, window: Window = None, *, convention: str = "textbook", rbar: float | None = None
) -> TestStat:
    """Kolari-Pynnönen (2010) cross-correlation adjusted BMP t.

    ``t_adj = t_BMP sqrt((1 - r) / (1 + (n - 1) r))``; t(n-1).
    Reference: Kolari and Pynnönen (2010), Review of Financial Studies 23(11), 3996-4025.
    """
    w = window_bounds(inp, window)
    t = bmp(inp, window, convention=convention).statistic
    r = rbar_of(inp) if rbar is None else rbar
    n = _std_moments(inp, w)[2]
    ta = np.asarray(t) * _kp_factor(r, n)
    return test_stat("bmp_kp", ta, two_sided_t_p(ta, n - 1), "Kolari & Pynnönen (2010) adjusted BMP; t(n-1)",
                     w is not None)


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
    return TestStat("skewness_corrected", float(t), float(two_sided_t_p(t, n - 1)),
                    "Hall (1992); Lyon, Barber & Tsai (1999); t(n-1)")


def skewness_corrected(inp: BatteryInput, window: Window = None, *, convention: str = "textbook") -> TestStat:
    """Hall (1992) skewness-corrected t of the AR (per day) or CAR (window) cross-section.

    Vectorised over days; see :func:`skewness_adjusted_t` for the formula. t(n-1).
    """
    check_convention(convention)
    w = window_bounds(inp, window)
    x, n, m, sd = moments(inp, w)
    n = n.astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        g = np.where(np.isfinite(x), (x - m) ** 3, 0.0).sum(axis=0) / (n * sd**3)
        s = m / sd
        t = np.where(n >= 3, np.sqrt(n) * (s + g * s * s / 3.0 + g / (6.0 * n)), np.nan)
    return test_stat(
        "skewness_corrected", t, two_sided_t_p(t, n - 1), "Hall (1992); Lyon, Barber & Tsai (1999); t(n-1)",
        w is not None
    )
