"""Closed-form, vectorised estimation of expected-return models for stacked events.

Every function works on ``N`` events at once. Each event ``i`` has its own estimation
window of ``L`` aligned rows (trading days, relative to that event's day 0) and its own
event window of ``T`` rows. Missing observations are ``NaN``; each event uses only its
own rows where the asset return *and* every regressor are finite. Nothing loops over
events in Python: the market model is solved with masked sums, the K-factor model with
batched ``numpy.linalg`` on ``(N, K+1, K+1)`` stacks.

Returns are whatever the caller passes (simple or log, per trading day); the models are
linear in them, so the units of ``alpha``/``resid``/``sigma`` are those of the input.

Models
------
``"mean_adjusted"``   E[R_it] = mu_i                         (1 parameter)
``"market_adjusted"`` E[R_it] = R_mt                          (0 parameters)
``"market"``          E[R_it] = alpha_i + beta_i R_mt  (OLS) (2 parameters)
``"factor"``          E[R_it] = alpha_i + x_t' beta_i  (OLS) (K+1 parameters)

Conventions (``convention=``)
-----------------------------
``"textbook"`` (default; Campbell, Lo and MacKinlay 1997, ch. 4; MacKinlay 1997)
    sigma_i^2 = SSR_i / (n_i - p) with ``p`` estimated parameters, except the
    market-adjusted model (no parameter) whose sigma_i is the sample standard
    deviation (ddof=1) of ``R - R_m``. The prediction-error factor uses the
    regressor moments over the firm's *own* non-missing rows, i.e.
    ``1 + x0' (X'X)^-1 x0`` exactly.
``"estudy2"`` (R package estudy2 0.10, market model only)
    sigma_i = sample standard deviation (ddof=1) of the estimation residuals, and the
    market-model prediction-error term uses the market's mean and sum of squares over
    the *whole* estimation window (every row where the market is finite, not only the
    firm's rows): ``1 + 1/n_i + (R_mt - mean)^2 / SS``. This is what reproduces
    estudy2's Patell and BMP statistics to every printed digit.

The prediction-error geometry is stored as ``ModelFit.xtx_inv`` (``V_i``) so that, for
the design row ``x0_t = (1, x_t)`` of an event day, ``Cov(AR_it, AR_is) = sigma_i^2
(delta_ts + x0_t' V_i x0_s)`` (see :func:`design` and :func:`prediction_factor`); the
single-event CAR variance in :mod:`research.eventstudy.stats` uses the same ``V_i``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from research.errors import SpecificationError

CONVENTIONS: tuple[str, ...] = ("textbook", "estudy2")

__all__ = [
    "CONVENTIONS",
    "MODELS",
    "REGISTRY",
    "ExpectedReturnModel",
    "FactorModel",
    "MarketAdjusted",
    "MarketModel",
    "MeanAdjusted",
    "ModelFit",
    "get_model",
    "abnormal",
    "design",
    "fit",
    "n_params",
    "prediction_factor",
    "fill_rows",
    "market_from_sums",
    "market_residuals",
    "quad_form",
    "row_moments",
]


@dataclass(frozen=True)
class ModelFit:
    """Estimated expected-return model for ``N`` stacked events.

    Attributes
    ----------
    model, convention : str
        As passed to :func:`fit`.
    alpha : ndarray (N,)
        Intercept (mean return for ``mean_adjusted``; 0 for ``market_adjusted``).
    beta : ndarray (N, K)
        Slopes (``K = 0`` for the mean- and market-adjusted models).
    sigma : ndarray (N,)
        Residual standard deviation (see the module's conventions).
    r2 : ndarray (N,)
        R-squared of the regression; NaN for the mean- and market-adjusted models.
    n_obs : ndarray (N,) int
        Usable estimation rows of each event (asset and regressors finite).
    n_params : int
        Estimated parameters per event (0, 1, 2 or K+1).
    resid : ndarray (N, L) or None
        Estimation-window abnormal returns; NaN where the row is not usable. None for a
        fit from window sums (:func:`market_from_sums`), which never read the returns.
    xtx_inv : ndarray (N, P, P)
        Prediction-error matrix ``V_i`` for the design row ``x0 = (1, x)`` (``P = K+1``;
        ``P = 1`` with ``V = 1/n`` for ``mean_adjusted``; ``P = 0`` for
        ``market_adjusted``). Textbook: ``(X_i'X_i)^-1``; estudy2: built from the
        whole-window market moments.
    x_mean, x_ss : ndarray (N, K)
        Regressor mean and sum of squared deviations used in the prediction error
        (firm rows for textbook, whole window for estudy2).
    """

    model: str
    convention: str
    alpha: np.ndarray
    beta: np.ndarray
    sigma: np.ndarray
    r2: np.ndarray
    n_obs: np.ndarray
    n_params: int
    resid: np.ndarray | None
    xtx_inv: np.ndarray
    x_mean: np.ndarray
    x_ss: np.ndarray

    @property
    def dof(self) -> np.ndarray:
        """Degrees of freedom of ``sigma``: ``n_obs - max(n_params, 1)`` (N,)."""
        return self.n_obs - max(self.n_params, 1)


def n_params(model: str, k: int = 1) -> int:
    """Number of estimated parameters of ``model`` with ``k`` regressors."""
    return get_model(model).n_params(k)


def _check_convention(convention: str, model: ExpectedReturnModel) -> None:
    if convention not in CONVENTIONS:
        raise SpecificationError(
            f"unknown convention {convention!r}; use one of {', '.join(CONVENTIONS)}"
        )
    if convention == "estudy2" and not model.estudy2:
        raise SpecificationError(
            "the estudy2 convention is defined for the single-index (market) model only; "
            f"use convention='textbook' with model={model.name!r}"
        )


def _as_y(y: np.ndarray, name: str) -> np.ndarray:
    arr = np.asarray(y, dtype=float)
    if arr.ndim != 2:
        raise SpecificationError(f"{name} must be a 2-D (events x days) array, got shape {arr.shape}")
    return arr


def _as_x(x: np.ndarray | None, y: np.ndarray, model: ExpectedReturnModel, name: str) -> np.ndarray | None:
    """Validate regressors; return (N, L, K) float array (None for a model without any)."""
    if model.regressors == "none":
        return None
    if x is None:
        raise SpecificationError(f"model {model.name!r} needs regressors: pass {name} of shape (N, L, K)")
    arr = np.asarray(x, dtype=float)
    if arr.ndim == 2:
        arr = arr[:, :, None]
    if arr.ndim != 3 or arr.shape[:2] != y.shape:
        raise SpecificationError(
            f"{name} must have shape (N, L, K) matching returns {y.shape}, got {np.shape(x)}"
        )
    if model.regressors == "market" and arr.shape[2] != 1:
        raise SpecificationError(
            f"model {model.name!r} takes exactly one regressor (the market), got K={arr.shape[2]}"
        )
    if model.regressors == "factors" and arr.shape[2] < 1:
        raise SpecificationError(f"model {model.name!r} needs at least one factor column")
    return arr


def fit(
    y_est: np.ndarray,
    x_est: np.ndarray | None,
    model: str | ExpectedReturnModel,
    *,
    convention: str = "textbook",
    groups: np.ndarray | None = None,
) -> ModelFit:
    """Estimate the expected-return model of every event in closed form.

    Parameters
    ----------
    y_est : array (N, L)
        Asset returns over each event's estimation window (NaN = missing).
    x_est : array (N, L, K) or (N, L) or None
        Regressors aligned with ``y_est``: the market return (K=1) for ``market`` and
        ``market_adjusted``, K factor returns for ``factor``; ignored (may be None) for
        ``mean_adjusted``.
    model : {"mean_adjusted", "market_adjusted", "market", "factor"} or ExpectedReturnModel
    convention : {"textbook", "estudy2"}, default "textbook"
        See the module docstring.
    groups : array (N,), optional
        Rows with the same group have identical regressor rows ``x_est`` (the pipeline
        passes each event's day-0 row: events on the same day share the market's
        window). The regressor moments are then computed once per group. Default: every
        row on its own. Wrong groups give wrong fits: pass them only when this holds.

    Returns
    -------
    ModelFit
        Parameters are NaN for an event with too few usable rows (``n_obs <= n_params``,
        or fewer than 2 for ``market_adjusted``) or a constant regressor; the caller
        (the engine) turns those into per-event reasons.
    """
    m = get_model(model)
    _check_convention(convention, m)
    y = _as_y(y_est, "y_est")
    x = _as_x(x_est, y, m, "x_est")
    with np.errstate(invalid="ignore", divide="ignore"):
        return m.estimate(y, x, convention, groups)


def masked_counts(y: np.ndarray, x: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(mask (N, L), n (N,), n as float): the rows where the return and every regressor
    are finite."""
    mask = np.isfinite(y)
    if x is not None:
        mask &= np.isfinite(x).all(axis=2)
    n = mask.sum(axis=1)
    return mask, n, n.astype(float)


def row_moments(x: np.ndarray, groups: np.ndarray | None = None) -> tuple[np.ndarray, ...]:
    """Per-row mean, sum of squared deviations (two-pass) and max ``|x|`` of a complete
    (N, L) array, and whether the row is complete (all finite; the moments are NaN
    otherwise). With ``groups`` (rows of a group are equal) each group is computed once.

    Returns
    -------
    (mean (N,), ss (N,), absmax (N,), complete (N,) bool)
    """
    if groups is not None and x.shape[0] > 1:
        _, first, inv = np.unique(np.asarray(groups), return_index=True, return_inverse=True)
        if first.size < x.shape[0]:
            return tuple(a[inv.ravel()] for a in row_moments(x[first]))
    s = x.sum(axis=1)
    mean = s / x.shape[1] if x.shape[1] else np.full(x.shape[0], np.nan)
    d = x - mean[:, None]
    ss = np.einsum("ij,ij->i", d, d)
    big = np.maximum(x.max(axis=1, initial=-np.inf), -x.min(axis=1, initial=np.inf))
    return mean, ss, big, np.isfinite(s)


def market_from_sums(w: dict[str, np.ndarray]) -> tuple[ModelFit, np.ndarray]:
    """Market model (textbook convention) of N events from their estimation-window sums
    over valid days: ``n``, ``x``, ``y``, ``xx``, ``xy``, ``yy`` (N,) each, and ``pxx``,
    ``pyy``: the running sums the window sums were differenced from
    (:meth:`research.eventstudy.pipeline.PanelSums.window`).

    Returns
    -------
    (ModelFit with ``resid=None``, good (N,) bool)
        ``good`` marks the rows whose sums can be trusted: centred sums of squares at
        least 1% of the running sums (so the differences keep all but about
        ``log10(100 D)`` digits), a market that is not constant and a fit that is not
        near-perfect (``SSR > 1e-6 Syy``, where ``Syy - beta Sxy`` would cancel). Other
        rows must be fitted from their returns (:func:`fit`).
    """
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        n = w["n"]
        xbar, ybar = w["x"] / n, w["y"] / n
        sxx = w["xx"] - w["x"] * xbar
        sxy = w["xy"] - w["x"] * ybar
        syy = w["yy"] - w["y"] * ybar
        fit, ssr = _market_moments(n, xbar, ybar, sxx, sxy, syy)
        good = ((n >= 3) & (sxx >= 0.01 * w["pxx"]) & (syy >= 0.01 * w["pyy"]) & (ssr > 1e-6 * syy)
                & (sxx > n * (64.0 * np.finfo(float).eps) ** 2 * w["xx"]))
    return fit, good


def _market_moments(n, xbar, ybar, sxx, sxy, syy, resid=None) -> tuple[ModelFit, np.ndarray]:
    """The market model from centred moments (textbook convention); (fit, SSR)."""
    nf = np.asarray(n, dtype=float)
    beta = sxy / sxx
    ssr = syy - beta * sxy
    v = np.empty((nf.shape[0], 2, 2))
    v[:, 0, 0] = 1.0 / nf + xbar * xbar / sxx
    v[:, 0, 1] = v[:, 1, 0] = -xbar / sxx
    v[:, 1, 1] = 1.0 / sxx
    fit = ModelFit(model="market", convention="textbook", alpha=ybar - beta * xbar, beta=beta[:, None],
                   sigma=np.sqrt(ssr / (nf - 2)), r2=1.0 - ssr / syy,
                   n_obs=np.asarray(n).astype(np.int64), n_params=2, resid=resid, xtx_inv=v,
                   x_mean=xbar[:, None], x_ss=sxx[:, None])
    return fit, ssr


def _fit_market_textbook(y: np.ndarray, x: np.ndarray, groups: np.ndarray | None) -> ModelFit:
    """Market model, textbook convention. Complete rows (every stock and market return
    finite) are solved from row sums -- three passes over the stock's returns, the
    market's moments once per group -- and the others by :func:`_fit_market`'s masked
    two-pass moments, as are rows where the sums could lose digits: a constant market
    or a near-perfect fit (``SSR <= 1e-6 * Syy``, where ``Syy - beta * Sxy`` cancels)."""
    xm = x[:, :, 0]
    n_days = y.shape[1]
    xbar, sxx, xmax, x_full = row_moments(xm, groups)
    sy = y.sum(axis=1)
    ybar = sy / n_days
    sxy = np.einsum("ij,ij->i", y, xm) - n_days * xbar * ybar
    syy = np.einsum("ij,ij->i", y, y) - n_days * ybar * ybar
    fit, ssr = _market_moments(np.full(y.shape[0], n_days), xbar, ybar, sxx, sxy, syy)
    good = (np.isfinite(sy) & x_full & (n_days >= 3) & (sxx > 0)
            & (sxx > n_days * (64.0 * np.finfo(float).eps * xmax) ** 2) & (ssr > 1e-6 * syy))
    bad = np.flatnonzero(~good)
    return fill_rows(dataclasses.replace(fit, resid=market_residuals(y, xm, fit)), bad, y[bad], x[bad])


def market_residuals(y: np.ndarray, x: np.ndarray, fit_: ModelFit) -> np.ndarray:
    """(N, L) market-model residuals ``y - alpha - beta x`` for returns ``y`` and the
    market ``x`` (N, L): NaN where a return is missing or the fit failed (what the
    masked fit gives)."""
    resid = np.multiply(x, fit_.beta)
    np.subtract(y, resid, out=resid)
    resid -= fit_.alpha[:, None]
    return resid


def fill_rows(fit_: ModelFit, idx: np.ndarray, y: np.ndarray, x: np.ndarray) -> ModelFit:
    """``fit_`` (market model, textbook) with the events ``idx`` refitted in place from
    their own returns ``y`` (len(idx), L) and regressors ``x`` (len(idx), L, 1) by
    masked two-pass moments; ``fit_.resid`` may be None (then only the parameters are
    filled). Returns ``fit_``."""
    if not len(idx):
        return fit_
    mask = np.isfinite(y) & np.isfinite(x).all(axis=2)
    n = mask.sum(axis=1)
    sub = _fit_market(y, x, mask, n, n.astype(float), "textbook")
    for key in ("alpha", "beta", "sigma", "r2", "n_obs", "xtx_inv", "x_mean", "x_ss", "resid"):
        arr = getattr(fit_, key)
        if arr is not None:
            arr[idx] = getattr(sub, key)
    return fit_


def _masked_mean(a: np.ndarray, mask: np.ndarray, nf: np.ndarray) -> np.ndarray:
    return np.where(mask, a, 0.0).sum(axis=1) / nf


def _fit_mean(y, mask, n, nf, convention) -> ModelFit:
    mu = _masked_mean(y, mask, nf)
    resid = np.where(mask, y - mu[:, None], np.nan)
    ssr = np.nansum(resid**2, axis=1)
    sigma = np.sqrt(ssr / (nf - 1))
    ok = n >= 2
    sigma = np.where(ok, sigma, np.nan)
    mu = np.where(n >= 1, mu, np.nan)
    n_ev = y.shape[0]
    return ModelFit(
        model="mean_adjusted",
        convention=convention,
        alpha=mu,
        beta=np.zeros((n_ev, 0)),
        sigma=sigma,
        r2=np.full(n_ev, np.nan),
        n_obs=n,
        n_params=1,
        resid=resid,
        xtx_inv=(1.0 / nf)[:, None, None],
        x_mean=np.zeros((n_ev, 0)),
        x_ss=np.zeros((n_ev, 0)),
    )


def _fit_market_adjusted(y, x, mask, n, nf, convention) -> ModelFit:
    n_ev = y.shape[0]
    resid = np.where(mask, y - x[:, :, 0], np.nan)
    rbar = _masked_mean(resid, mask, nf)
    sigma = np.sqrt(np.nansum((resid - rbar[:, None]) ** 2, axis=1) / (nf - 1))
    sigma = np.where(n >= 2, sigma, np.nan)
    return ModelFit(
        model="market_adjusted",
        convention=convention,
        alpha=np.zeros(n_ev),
        beta=np.zeros((n_ev, 0)),
        sigma=sigma,
        r2=np.full(n_ev, np.nan),
        n_obs=n,
        n_params=0,
        resid=resid,
        xtx_inv=np.zeros((n_ev, 0, 0)),
        x_mean=np.zeros((n_ev, 0)),
        x_ss=np.zeros((n_ev, 0)),
    )


def _fit_market(y, x, mask, n, nf, convention) -> ModelFit:
    xm = x[:, :, 0]
    # two-pass centred moments (accurate under shifts), few (N, L) temporaries: masked
    # deviations computed in place, row dot products, residuals as dy - beta * dx
    inv = ~mask
    dy = np.where(mask, y, 0.0)
    dx = np.where(mask, xm, 0.0)
    ybar = dy.sum(axis=1) / nf
    xbar = dx.sum(axis=1) / nf
    xmax = np.maximum(dx.max(axis=1, initial=0.0), -dx.min(axis=1, initial=0.0))  # max |x|
    dy -= ybar[:, None]
    dx -= xbar[:, None]
    np.copyto(dy, 0.0, where=inv)
    np.copyto(dx, 0.0, where=inv)
    sxx = np.einsum("ij,ij->i", dx, dx)
    sxy = np.einsum("ij,ij->i", dx, dy)
    syy = np.einsum("ij,ij->i", dy, dy)
    # a regressor constant up to rounding has no slope: relative tolerance on Sxx
    ok = (n >= 3) & (sxx > nf * (64.0 * np.finfo(float).eps * xmax) ** 2) & (sxx > 0)
    beta = np.where(ok, sxy / sxx, np.nan)
    alpha = np.where(ok, ybar - beta * xbar, np.nan)
    dx *= beta[:, None]
    resid = np.subtract(dy, dx, out=dy)  # y - alpha - beta x on the valid rows, 0 elsewhere
    del dx
    ssr = np.einsum("ij,ij->i", resid, resid)
    np.copyto(resid, np.nan, where=inv)
    resid[~ok] = np.nan
    r2 = np.where(ok & (syy > 0), 1.0 - ssr / syy, np.nan)
    if convention == "textbook":
        sigma = np.sqrt(ssr / (nf - 2))
        m, ss = xbar, sxx
    else:  # estudy2: sd (ddof=1) of residuals; market moments over the whole window
        rbar = _masked_mean(resid, mask, nf)
        sigma = np.sqrt(np.nansum((resid - rbar[:, None]) ** 2, axis=1) / (nf - 1))
        mmask = np.isfinite(xm)
        mn = mmask.sum(axis=1).astype(float)
        m = _masked_mean(xm, mmask, mn)
        ss = (np.where(mmask, xm - m[:, None], 0.0) ** 2).sum(axis=1)
    sigma = np.where(ok, sigma, np.nan)
    # V such that x0' V x0 = 1/n + (x - m)^2 / ss  for x0 = (1, x)
    v = np.empty((y.shape[0], 2, 2))
    v[:, 0, 0] = 1.0 / nf + m * m / ss
    v[:, 0, 1] = v[:, 1, 0] = -m / ss
    v[:, 1, 1] = 1.0 / ss
    v = np.where(ok[:, None, None], v, np.nan)
    return ModelFit(
        model="market",
        convention=convention,
        alpha=alpha,
        beta=beta[:, None],
        sigma=sigma,
        r2=r2,
        n_obs=n,
        n_params=2,
        resid=resid,
        xtx_inv=v,
        x_mean=m[:, None],
        x_ss=ss[:, None],
    )


def _fit_factor(y, x, mask, n, nf, convention) -> ModelFit:
    n_ev, n_days, k = x.shape
    p = k + 1
    xa = np.concatenate([np.ones((n_ev, n_days, 1)), x], axis=2)
    xa = np.where(mask[:, :, None], xa, 0.0)
    yz = np.where(mask, y, 0.0)
    xtx = np.einsum("nlk,nlj->nkj", xa, xa)
    xty = np.einsum("nlk,nl->nk", xa, yz)
    # rank check on the centred regressors (scale-free); singular stacks get NaN
    rank = np.linalg.matrix_rank(xtx)
    ok = (rank == p) & (n > p)
    safe = np.where(ok[:, None, None], xtx, np.eye(p))
    inv = np.linalg.inv(safe)
    coef = np.linalg.solve(safe, xty[:, :, None])[:, :, 0]
    coef = np.where(ok[:, None], coef, np.nan)
    inv = np.where(ok[:, None, None], inv, np.nan)
    fitted = np.einsum("nlk,nk->nl", np.concatenate([np.ones((n_ev, n_days, 1)), x], axis=2), coef)
    resid = np.where(mask, y - fitted, np.nan)
    ssr = np.nansum(resid**2, axis=1)
    ybar = _masked_mean(y, mask, nf)
    syy = (np.where(mask, y - ybar[:, None], 0.0) ** 2).sum(axis=1)
    sigma = np.where(ok, np.sqrt(ssr / (nf - p)), np.nan)
    r2 = np.where(ok & (syy > 0), 1.0 - ssr / syy, np.nan)
    xbar = np.where(mask[:, :, None], x, 0.0).sum(axis=1) / nf[:, None]
    xss = (np.where(mask[:, :, None], x - xbar[:, None, :], 0.0) ** 2).sum(axis=1)
    return ModelFit(
        model="factor",
        convention=convention,
        alpha=coef[:, 0],
        beta=coef[:, 1:],
        sigma=sigma,
        r2=r2,
        n_obs=n,
        n_params=p,
        resid=resid,
        xtx_inv=inv,
        x_mean=xbar,
        x_ss=xss,
    )


def _check_fit_args(fit_: ModelFit, model: str | ExpectedReturnModel | None, convention: str | None) -> None:
    if model is not None and get_model(model).name != fit_.model:
        raise SpecificationError(f"model {model!r} does not match the fitted model {fit_.model!r}")
    if convention is not None and convention != fit_.convention:
        raise SpecificationError(
            f"convention {convention!r} does not match the fit's convention {fit_.convention!r}"
        )


def abnormal(
    y_evt: np.ndarray,
    x_evt: np.ndarray | None,
    fit: ModelFit,
    model: str | ExpectedReturnModel | None = None,
) -> np.ndarray:
    """Abnormal returns ``AR = R - E[R]`` over the event window.

    Parameters
    ----------
    y_evt : array (N, T)
        Asset returns in each event's window (same units as the estimation returns).
    x_evt : array (N, T, K) or (N, T) or None
        Regressors on the same rows (None for ``mean_adjusted``).
    fit : ModelFit
        From :func:`fit` on the same events.
    model : str, optional
        If given, must equal ``fit.model`` (kept for call-site readability).

    Returns
    -------
    ndarray (N, T); NaN where the return or a regressor is missing.
    """
    _check_fit_args(fit, model, None)
    y = _as_y(y_evt, "y_evt")
    if y.shape[0] != fit.alpha.shape[0]:
        raise SpecificationError(
            f"y_evt has {y.shape[0]} events but the fit has {fit.alpha.shape[0]}"
        )
    m = get_model(fit.model)
    return m.abnormal(y, _as_x(x_evt, y, m, "x_evt"), fit)


def design(x_evt: np.ndarray | None, fit: ModelFit) -> np.ndarray:
    """Design rows ``x0_t`` (N, T, P) matching ``fit.xtx_inv``.

    ``(1, x_t)`` for the market and factor models, ``(1,)`` for ``mean_adjusted`` and an
    empty ``P = 0`` axis for ``market_adjusted``. For ``mean_adjusted`` only the shape of
    ``x_evt`` is used (any (N, T[, K]) array, e.g. the event returns).
    Together with ``fit.xtx_inv`` this gives ``Cov(AR_t, AR_s) = sigma^2 x0_t' V x0_s``.
    """
    return get_model(fit.model).design(x_evt, fit)


def prediction_factor(
    x_evt: np.ndarray | None,
    fit: ModelFit,
    model: str | ExpectedReturnModel | None = None,
    convention: str | None = None,
    *,
    n_days: int | None = None,
) -> np.ndarray:
    """Variance inflation ``pe_it`` with ``Var(AR_it) = sigma_i^2 * pe_it``.

    * market model: ``1 + 1/n_i + (R_mt - mean)^2 / SS`` (moments per the convention);
    * factor model: ``1 + x0_t' (X_i'X_i)^-1 x0_t`` with ``x0_t = (1, x_t)``;
    * mean-adjusted: ``1 + 1/n_i``;
    * market-adjusted: ``1`` (nothing estimated).

    Reference: Campbell, Lo and MacKinlay (1997), eq. (4.4.8)-(4.4.9); MacKinlay (1997).

    Parameters
    ----------
    x_evt : array (N, T, K) or (N, T) or None
        Event-window regressors; None allowed for ``mean_adjusted`` if ``n_days`` given.
    fit : ModelFit
    model, convention : str, optional
        If given, must match the fit (the convention is fixed at fit time).
    n_days : int, optional
        T for ``mean_adjusted`` when ``x_evt`` is None.

    Returns
    -------
    ndarray (N, T); NaN where a regressor is missing or the fit failed.
    """
    _check_fit_args(fit, model, convention)
    return get_model(fit.model).prediction_factor(x_evt, fit, n_days)


def quad_form(s: np.ndarray | list[np.ndarray], v: np.ndarray) -> np.ndarray:
    """(N, W) ``s_nw' V_n s_nw`` for ``s`` (N, W, P) -- or its P (N, W) slices as a list --
    and ``V`` (N, P, P): P^2 element-wise products of (N, W) slices (P is 1 to a few
    parameters; no 3-operand einsum, which is several times slower)."""
    if isinstance(s, list):
        cols, shape = [np.ascontiguousarray(c) for c in s], s[0].shape
    else:
        cols, shape = [np.ascontiguousarray(s[:, :, p]) for p in range(s.shape[2])], s.shape[:2]
    out = np.zeros(shape)
    tmp = np.empty(shape)
    for p, sp in enumerate(cols):  # a few parameters, not events
        for q, sq in enumerate(cols):
            np.multiply(sp, np.ascontiguousarray(v[:, p, q])[:, None], out=tmp)
            tmp *= sq
            out += tmp
    return out


# ----------------------------------------------------------------------------------------
# the expected-return models as objects: each carries its own behaviour
# ----------------------------------------------------------------------------------------
class ExpectedReturnModel:
    """An expected-return model: what it regresses on, how it is estimated and how it
    predicts. One instance per model lives in :data:`REGISTRY`; specs name a model by
    :attr:`name` (the string users write, and how it is serialised) and callers ask the
    object (:func:`get_model`) instead of comparing names.

    Attributes
    ----------
    name : str
        The model's name in specs, parameters and JSON.
    regressors : {"none", "market", "factors"}
        What it regresses on: nothing, the market proxy's return, or the factor columns.
    slopes : bool
        Whether it estimates slopes on its regressors (a constant regressor then has no
        slope and the event cannot be estimated).
    estudy2 : bool
        Whether the estudy2 convention is defined for it.
    from_sums : bool
        Whether the textbook fit can be taken from running window sums
        (:func:`market_from_sums`).
    estimation_term : bool
        Whether the prediction error has an estimation term ``x0' V x0`` (False when
        nothing is estimated: the abnormal-return variance is ``sigma^2`` alone).
    description : str
        The model in words.
    """

    name: ClassVar[str]
    regressors: ClassVar[str]
    slopes: ClassVar[bool] = False
    estudy2: ClassVar[bool] = True
    from_sums: ClassVar[bool] = False
    estimation_term: ClassVar[bool] = True
    description: ClassVar[str]

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    def __str__(self) -> str:
        return self.name

    @property
    def uses_market(self) -> bool:
        """Whether the model needs the market proxy's returns."""
        return self.regressors == "market"

    @property
    def uses_factors(self) -> bool:
        """Whether the model regresses on factor columns."""
        return self.regressors == "factors"

    def n_params(self, k: int = 1) -> int:
        """Parameters estimated per event with ``k`` regressors."""
        raise NotImplementedError

    def dof_params(self, k: int = 1) -> int:
        """Parameters subtracted from the estimation rows for the degrees of freedom of
        ``sigma`` (at least 1: the sample variance of a model without parameters)."""
        return max(self.n_params(k), 1)

    def estimate(self, y: np.ndarray, x: np.ndarray | None, convention: str,
                 groups: np.ndarray | None) -> ModelFit:
        """The closed-form fit of validated (N, L) returns and (N, L, K) regressors
        (see :func:`fit`)."""
        raise NotImplementedError

    def abnormal(self, y: np.ndarray, x: np.ndarray | None, fit_: ModelFit) -> np.ndarray:
        """(N, T) abnormal returns of validated returns and regressors."""
        if x is None or x.shape[2] != fit_.beta.shape[1]:
            raise SpecificationError(
                f"x_evt has K={None if x is None else x.shape[2]} regressors but the fit has {fit_.beta.shape[1]}"
            )
        return y - fit_.alpha[:, None] - np.einsum("ntk,nk->nt", x, fit_.beta)

    def design(self, x_evt: np.ndarray | None, fit_: ModelFit) -> np.ndarray:
        """Design rows ``x0_t`` (N, T, P) matching ``fit_.xtx_inv`` (see :func:`design`)."""
        x = np.asarray(x_evt, dtype=float)
        if x.ndim == 2:
            x = x[:, :, None]
        return np.concatenate([np.ones(x.shape[:2] + (1,)), x], axis=2)

    def prediction_factor(self, x_evt: np.ndarray | None, fit_: ModelFit,
                          n_days: int | None = None) -> np.ndarray:
        """(N, T) variance inflation ``pe_it`` (see :func:`prediction_factor`)."""
        return 1.0 + quad_form(self.design(x_evt, fit_), fit_.xtx_inv)

    def car_design(self, design_evt: np.ndarray | None) -> np.ndarray | None:
        """The design rows the CAR variance uses (None without an estimation term)."""
        return design_evt if self.estimation_term else None

    def regressor_phrase(self, market: str) -> str:
        """What has zero variance when the model cannot be estimated, for the reason."""
        return "a factor "


class MeanAdjusted(ExpectedReturnModel):
    """``E[R_it] = mu_i``: the event's own mean estimation-window return (1 parameter)."""

    name = "mean_adjusted"
    regressors = "none"
    description = "constant-mean-adjusted"

    def n_params(self, k: int = 1) -> int:
        return 1

    def estimate(self, y, x, convention, groups) -> ModelFit:
        mask, n, nf = masked_counts(y, x)
        return _fit_mean(y, mask, n, nf, convention)

    def abnormal(self, y, x, fit_) -> np.ndarray:
        return y - fit_.alpha[:, None]

    def design(self, x_evt, fit_) -> np.ndarray:
        if x_evt is None:
            raise SpecificationError("design() needs x_evt (or any (N, T) array) to know T")
        return np.ones((fit_.alpha.shape[0], np.shape(x_evt)[1], 1))

    def prediction_factor(self, x_evt, fit_, n_days=None) -> np.ndarray:
        if x_evt is not None:
            return super().prediction_factor(x_evt, fit_, n_days)
        if n_days is None:
            raise SpecificationError("prediction_factor for mean_adjusted needs x_evt or n_days")
        n_ev = fit_.alpha.shape[0]
        return np.broadcast_to(1.0 + fit_.xtx_inv[:, 0, 0][:, None], (n_ev, n_days)).copy()


class MarketAdjusted(ExpectedReturnModel):
    """``E[R_it] = R_mt``: the market proxy's return (nothing estimated)."""

    name = "market_adjusted"
    regressors = "market"
    estimation_term = False
    description = "market-adjusted (AR = R - R_m)"

    def n_params(self, k: int = 1) -> int:
        return 0

    def estimate(self, y, x, convention, groups) -> ModelFit:
        mask, n, nf = masked_counts(y, x)
        return _fit_market_adjusted(y, x, mask, n, nf, convention)

    def abnormal(self, y, x, fit_) -> np.ndarray:
        assert x is not None
        return y - x[:, :, 0]

    def design(self, x_evt, fit_) -> np.ndarray:
        return np.zeros((fit_.alpha.shape[0], np.shape(x_evt)[1], 0))

    def prediction_factor(self, x_evt, fit_, n_days=None) -> np.ndarray:
        x = np.asarray(x_evt, dtype=float)
        x = x[:, :, None] if x.ndim == 2 else x
        return np.where(np.isfinite(x).all(axis=2), 1.0, np.nan)


class MarketModel(ExpectedReturnModel):
    """``E[R_it] = alpha_i + beta_i R_mt`` by OLS on the market proxy (2 parameters)."""

    name = "market"
    regressors = "market"
    slopes = True
    from_sums = True
    description = "OLS market model"

    def n_params(self, k: int = 1) -> int:
        return 2

    def estimate(self, y, x, convention, groups) -> ModelFit:
        assert x is not None
        if convention == "textbook":
            return _fit_market_textbook(y, x, groups)
        mask, n, nf = masked_counts(y, x)
        return _fit_market(y, x, mask, n, nf, convention)

    def regressor_phrase(self, market: str) -> str:
        return f"market proxy {market} "


class FactorModel(ExpectedReturnModel):
    """``E[R_it] = alpha_i + x_t' beta_i`` by OLS on K factor columns (K+1 parameters)."""

    name = "factor"
    regressors = "factors"
    slopes = True
    estudy2 = False
    description = "multi-factor OLS model"

    def n_params(self, k: int = 1) -> int:
        return k + 1

    def estimate(self, y, x, convention, groups) -> ModelFit:
        mask, n, nf = masked_counts(y, x)
        return _fit_factor(y, x, mask, n, nf, convention)


#: name -> model, in the order the names are listed in messages
REGISTRY: dict[str, ExpectedReturnModel] = {
    m.name: m for m in (MeanAdjusted(), MarketAdjusted(), MarketModel(), FactorModel())
}
MODELS: tuple[str, ...] = tuple(REGISTRY)


def get_model(model: str | ExpectedReturnModel, what: str = "expected-return model") -> ExpectedReturnModel:
    """The registered model named ``model`` (a model object is returned as is).

    Raises
    ------
    SpecificationError
        ``model`` is not a registered name; the message lists the valid ones.
    """
    if isinstance(model, ExpectedReturnModel):
        return model
    found = REGISTRY.get(model) if isinstance(model, str) else None
    if found is None:
        raise SpecificationError(f"unknown {what} {model!r}; use one of {', '.join(MODELS)}")
    return found
