"""GARCH(1,1)-standardized abnormal returns (opt-in: ``EventStudySpec(standardize="garch")``).

Event dates tend to sit in volatile regimes while most placebo (pseudo-event) dates are
calm, so a statistic scaled by the estimation-window volatility over-rejects in a
placebo comparison. This module scales each day's abnormal return by the stock's
*conditional* volatility from information before that day (Savickas 2003; the GARCH
option of Eventus ARC / eventstudy2).

Procedure, per (event, ticker)
------------------------------
1. Abnormal returns ``e_t`` from the study's expected-return model, estimated on the
   estimation window exactly as the engine does (:mod:`research.eventstudy.pipeline`),
   on every day from the estimation window's first day through the event span's last
   (the days between the two included): one AR series per event.
2. GARCH(1,1) with zero mean and normal errors fitted by maximum likelihood with
   ``arch`` (``arch_model(100 * e, mean="Zero", vol="GARCH", p=1, q=1,
   dist="normal")``, arch's own deterministic starting values) on the finite
   estimation-window ARs only; ``omega`` is converted back to decimal units
   (``/ 100**2``).
3. The conditional variance filtered forward with those parameters (:func:`filter_variance`)::

       sigma2_1 = omega + (alpha + beta) * b          (b: arch's backcast, below)
       sigma2_t = omega + alpha * e_{t-1}^2 + beta * sigma2_{t-1}

   so ``sigma_t`` uses only ARs before day t. ``b`` is arch's backcast: the
   0.94-exponentially weighted mean of the first ``min(75, n)`` squared finite ARs.
   A missing AR contributes its conditional expectation (``e_{t-1}^2 := sigma2_{t-1}``).
   Over the estimation window this is arch's ``conditional_volatility`` (tested to
   1e-8); after it, it is the one-step-ahead forecast from realised ARs, also through
   the event window itself (day 1 is scaled by a volatility that has seen day 0).
4. ``SAR_t = AR_t / sigma_t`` and, per event window of ``L`` days,
   ``SCAR = sum_t SAR_t / sqrt(L)`` -- the standardized CAR of Patell (1976) with the
   GARCH conditional variance in place of the constant one (Savickas 2003, eq. 3-5;
   the prediction-error correction is dropped, it is O(1/L_est)). Under the null it is
   approximately N(0, 1). A window with a missing AR gets NaN.

Fallbacks, recorded per event as ``vol_model``: ``"garch"`` or ``"fallback:<reason>"``.

* ``few_obs`` (fewer than :data:`MIN_OBS` finite estimation ARs), ``no_fit`` (arch
  raised) and ``not_converged``: ``sigma_t`` is the estimation-window residual standard
  deviation (the engine's ``sigma``: the ordinary standardized AR), parameters NaN.
* ``nonstationary`` (``alpha + beta >= 1 - 1e-6``: the fit says the variance is
  integrated, common on 250 days): the one-step filter of the integrated model with
  RiskMetrics' fixed parameters, ``omega = 0, alpha = 0.06, beta = 0.94``
  (:data:`EWMA_LAMBDA`; J.P. Morgan/Reuters 1996) -- still a volatility from returns
  before each day. With the constant sd instead, these events keep the over-rejection
  the standardization removes (35% at 5% in ``tests/test_garch.py``'s simulation,
  against 10% with the EWMA filter).

Placebo pools (:mod:`research.eventstudy.placebo`): a pseudo date's statistic is the
same computation on its own estimation window, its own expected-return fit and its own
AR series, with the GARCH *parameters* of the real event it is compared with (one fit
per event, not per pseudo date): the variance path is filtered only through returns
before each day, but the three parameters come from the real event's estimation
window. An event on the fallback path compares with pseudo dates on the fallback path.

References
----------
Savickas, R. (2003). Event-induced volatility and tests for abnormal performance.
*J. Financial Research* 26(2), 165-178.
Patell, J. M. (1976). Corporate forecasts of earnings per share and stock price
behavior. *J. Accounting Research* 14, 246-276.
J.P. Morgan/Reuters (1996). *RiskMetrics -- Technical Document*, 4th ed.
Bollerslev, T. (1986). Generalized autoregressive conditional heteroskedasticity.
*J. Econometrics* 31, 307-327.
"""

from __future__ import annotations

import dataclasses
import warnings
from dataclasses import dataclass

import numpy as np

from research.eventstudy.pipeline import PanelSums, align_matrices, estimate, screen
from research.eventstudy.spec import STANDARDIZE, EventStudySpec

__all__ = ["GarchFit", "Standardized", "fit_garch", "backcast", "filter_variance", "standardize",
           "standardized_car", "span_spec", "MIN_OBS", "SCALE", "MAX_PERSISTENCE", "STANDARDIZE", "EWMA_LAMBDA"]

#: Fewest finite estimation-window ARs for a GARCH fit (else ``fallback:few_obs``).
MIN_OBS = 100
#: ARs are fitted in percent (arch's optimiser is tuned for that scale).
SCALE = 100.0
#: A fit with ``alpha + beta`` at or above this is on the stationarity boundary.
MAX_PERSISTENCE = 1.0 - 1e-6
#: RiskMetrics' daily decay: the variance filter of a non-stationary fit (IGARCH(1,1)
#: with ``omega = 0, alpha = 1 - lambda, beta = lambda``; J.P. Morgan/Reuters 1996).
EWMA_LAMBDA = 0.94
_BACKCAST_N, _BACKCAST_DECAY = 75, 0.94


@dataclass(frozen=True)
class GarchFit:
    """One GARCH(1,1) fit: parameters in decimal-return units (NaN on the fallback)."""

    omega: float
    alpha: float
    beta: float
    vol_model: str  #: "garch" or "fallback:<reason>"

    @property
    def params(self) -> np.ndarray:
        """``[omega, alpha, beta]`` (NaN when the fit fell back)."""
        return np.array([self.omega, self.alpha, self.beta], dtype=float)


def _fallback(reason: str) -> GarchFit:
    return GarchFit(np.nan, np.nan, np.nan, f"fallback:{reason}")


def fit_garch(resid: np.ndarray) -> GarchFit:
    """GARCH(1,1), zero mean, normal errors, fitted with ``arch`` on the finite values of
    ``resid`` (decimal returns, fitted as percent); see the module docstring for the
    fallbacks. Deterministic (arch's starting values are a fixed grid)."""
    r = np.asarray(resid, dtype=float)
    r = r[np.isfinite(r)]
    if r.size < MIN_OBS:
        return _fallback("few_obs")
    from arch import arch_model  # heavy import, only when asked for

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = arch_model(r * SCALE, mean="Zero", vol="GARCH", p=1, q=1, dist="normal",
                             rescale=False).fit(disp="off", show_warning=False)
    except (ValueError, np.linalg.LinAlgError, RuntimeError):
        return _fallback("no_fit")
    omega, alpha, beta = (float(res.params[k]) for k in ("omega", "alpha[1]", "beta[1]"))
    if res.convergence_flag != 0 or not np.isfinite([omega, alpha, beta]).all():
        return _fallback("not_converged")
    if alpha + beta >= MAX_PERSISTENCE:  # integrated variance: RiskMetrics' IGARCH
        return GarchFit(0.0, 1.0 - EWMA_LAMBDA, EWMA_LAMBDA, "fallback:nonstationary")
    return GarchFit(omega / SCALE**2, alpha, beta, "garch")


def backcast(r: np.ndarray) -> np.ndarray:
    """arch's starting variance per row of ``r`` (N, L): the weighted mean of the first
    ``min(75, n)`` squared finite values, weights ``0.94**k`` normalised (NaN skipped)."""
    r = np.atleast_2d(np.asarray(r, dtype=float))
    fin = np.isfinite(r)
    k = np.cumsum(fin, axis=1) - 1
    w = np.where(fin & (k < _BACKCAST_N), _BACKCAST_DECAY ** np.maximum(k, 0), 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (w * np.where(fin, r, 0.0) ** 2).sum(axis=1) / w.sum(axis=1)


def filter_variance(r: np.ndarray, omega: np.ndarray, alpha: np.ndarray, beta: np.ndarray,
                    start: np.ndarray) -> np.ndarray:
    """(N, T) one-step-ahead GARCH(1,1) variances of N series ``r`` (N, T), vectorised
    over the series (a loop over time): ``sigma2_0 = omega + (alpha+beta) * start``,
    ``sigma2_t = omega + alpha * r_{t-1}^2 + beta * sigma2_{t-1}``; a NaN ``r_{t-1}``
    counts as its expectation ``sigma2_{t-1}``."""
    r = np.atleast_2d(np.asarray(r, dtype=float))
    om, al, be = (np.asarray(v, dtype=float).reshape(-1) for v in (omega, alpha, beta))
    out = np.empty_like(r)
    out[:, 0] = om + (al + be) * np.asarray(start, dtype=float).reshape(-1)
    for t in range(1, r.shape[1]):
        prev = out[:, t - 1]
        r2 = r[:, t - 1] ** 2
        out[:, t] = om + al * np.where(np.isfinite(r2), r2, prev) + be * prev
    return out


def standardized_car(sar: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """(N, W) ``SCAR = sum_{t=a..b} SAR_t / sqrt(b - a + 1)`` from standardized ARs
    ``sar`` (N, T) over event-span columns ``[a, b]`` (column indices, inclusive); NaN
    when a day of the window is missing."""
    sar = np.atleast_2d(sar)
    out = np.full((sar.shape[0], len(starts)), np.nan)
    for j, (a, b) in enumerate(zip(starts, ends, strict=True)):
        out[:, j] = sar[:, a:b + 1].sum(axis=1) / np.sqrt(b - a + 1)  # NaN propagates
    return out


def span_spec(spec: EventStudySpec) -> EventStudySpec:
    """The spec with one window from the day after the estimation window to the event
    span's end: the pipeline then gives ARs on every day the variance filter needs,
    with the same expected-return fit (the estimation window is unchanged)."""
    return dataclasses.replace(spec, windows=((spec.estimation.end + 1, spec.event_span[1]),))


@dataclass(frozen=True)
class Standardized:
    """GARCH-standardized statistics of N events (:func:`standardize`).

    ``ok`` (N,) estimated; ``scar`` (N, W) per window of the spec; ``sigma`` (N, T)
    conditional volatility on the event-span days and ``sigma_est`` (N, L) on the
    estimation window's (the constant ``sigma`` on the fallback); ``params`` (N, 3) ``omega, alpha,
    beta`` (NaN on the fallback); ``vol_model`` (N,) ``"garch"`` / ``"fallback:..."``
    (``""`` where not estimated)."""

    ok: np.ndarray
    scar: np.ndarray
    sigma: np.ndarray
    sigma_est: np.ndarray
    params: np.ndarray
    vol_model: np.ndarray


def standardize(y_panel: np.ndarray, x_panel: np.ndarray | None, col: np.ndarray, pos0: np.ndarray,
                spec: EventStudySpec, rf: np.ndarray | None = None, *, sums: PanelSums | None = None,
                params: np.ndarray | None = None) -> Standardized:
    """GARCH-standardized CARs of N events (ticker column ``col``, day-0 row ``pos0``).

    Parameters
    ----------
    y_panel, x_panel, rf, sums : the study's panel (as :func:`~research.eventstudy.pipeline.align_matrices`).
    spec : the study's spec (model, estimation window, windows).
    params : (N, 3) ``omega, alpha, beta`` to use instead of fitting (the placebo's
        pseudo dates take their real event's); a row of NaN takes the fallback
        (``vol_model="fallback:given"``). None: fit each event (:func:`fit_garch`).
    """
    n, w = len(pos0), len(spec.windows)
    tmin, tmax = spec.event_span
    span = tmax - tmin + 1
    out_scar, out_sig = np.full((n, w), np.nan), np.full((n, span), np.nan)
    out_sig_est = np.full((n, spec.estimation.length), np.nan)
    out_par, vm = np.full((n, 3), np.nan), np.full(n, "", dtype=object)
    full = span_spec(spec)
    al = align_matrices(y_panel, x_panel, col, pos0, full, rf, sums)
    good, _ = screen(al, full)
    gi = np.flatnonzero(good)
    if not gi.size:
        return Standardized(good, out_scar, out_sig, out_sig_est, out_par, vm)
    est = estimate(al.take(gi), full)
    r = np.concatenate([est.ar_est, est.ar], axis=1)  # est.start .. tmax, contiguous
    n_est = est.ar_est.shape[1]
    if params is None:
        fits = [fit_garch(row) for row in est.ar_est]
        par = np.array([f.params for f in fits]).reshape(-1, 3)
        vm[gi] = [f.vol_model for f in fits]
    else:
        par = np.asarray(params, dtype=float).reshape(-1, 3)[gi]
        vm[gi] = np.where(np.isfinite(par).all(axis=1), "garch", "fallback:given")
    garch = np.isfinite(par).all(axis=1)
    sig = np.broadcast_to(est.sigma[:, None], r.shape).copy()
    if garch.any():
        g = np.flatnonzero(garch)
        s2 = filter_variance(r[g], par[g, 0], par[g, 1], par[g, 2], backcast(est.ar_est[g]))
        sig[g] = np.sqrt(s2)
    first = n_est + (tmin - (spec.estimation.end + 1))  # column of relative day tmin
    sar = r[:, first:first + span] / sig[:, first:first + span]
    starts = np.array([a - tmin for a, _ in spec.windows])
    ends = np.array([b - tmin for _, b in spec.windows])
    out_scar[gi] = standardized_car(sar, starts, ends)
    out_sig[gi] = sig[:, first:first + span]
    out_sig_est[gi] = sig[:, :n_est]
    out_par[gi] = par
    return Standardized(good, out_scar, out_sig, out_sig_est, out_par, vm)
