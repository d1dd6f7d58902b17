"""Expected-return models vs statsmodels OLS, per event, on real snapshot returns.

Every event's estimation window is cut from the embedded snapshot (``research.data``),
fitted with ``statsmodels.OLS`` one event at a time (dropping that event's missing
rows), and compared with the vectorised closed form in ``research.eventstudy.models``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from research.data import close_panel, load_prices, returns
from research.errors import SpecificationError
from research.eventstudy import models, stats

TICKERS = ["MP", "RGTI", "QBTS", "USAR", "SPY", "IWM", "QQQ"]
# (ticker, day-0 date): USAR listed in March 2025, so its window is mostly missing.
EVENTS = [
    ("MP", "2025-07-10"),
    ("MP", "2024-11-05"),
    ("RGTI", "2025-03-20"),
    ("QBTS", "2025-10-14"),
    ("USAR", "2025-10-14"),
    ("USAR", "2025-06-02"),
]
L, GAP, T = 250, 10, 6  # estimation rows [-260, -11], event rows [0, 5]


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    prices = load_prices(TICKERS, source="snapshot")
    return returns(close_panel(prices))


def _rows(panel: pd.DataFrame, day0: str) -> tuple[np.ndarray, np.ndarray]:
    pos = panel.index.get_indexer([pd.Timestamp(day0)])[0]
    assert pos >= 0, f"{day0} is not a session in the snapshot"
    est = np.arange(pos - GAP - L, pos - GAP)
    evt = np.arange(pos, pos + T)
    return est, evt


@pytest.fixture(scope="module")
def stacked(panel):
    ys, xs, fs, yev, xev, fev = [], [], [], [], [], []
    for tic, day0 in EVENTS:
        est, evt = _rows(panel, day0)
        ys.append(panel[tic].to_numpy()[est])
        xs.append(panel["SPY"].to_numpy()[est])
        fs.append(panel[["SPY", "IWM", "QQQ"]].to_numpy()[est])
        yev.append(panel[tic].to_numpy()[evt])
        xev.append(panel["SPY"].to_numpy()[evt])
        fev.append(panel[["SPY", "IWM", "QQQ"]].to_numpy()[evt])
    return {
        "y": np.array(ys),
        "x": np.array(xs)[:, :, None],
        "f": np.array(fs),
        "y_evt": np.array(yev),
        "x_evt": np.array(xev)[:, :, None],
        "f_evt": np.array(fev),
    }


def _ols(y, x):
    ok = np.isfinite(y) & np.isfinite(x).all(axis=1)
    res = sm.OLS(y[ok], sm.add_constant(x[ok], has_constant="add")).fit()
    return res, ok


def test_late_lister_really_has_missing_estimation_rows(stacked):
    fit = models.fit(stacked["y"], stacked["x"], "market")
    n = fit.n_obs
    assert n[0] == L and n[2] == L  # MP and RGTI: full windows
    assert 0 < n[5] < 120  # USAR 2025-06: listed 2025-03-14
    assert n[4] < L


@pytest.mark.parametrize("convention", ["textbook", "estudy2"])
def test_market_model_matches_statsmodels(stacked, convention):
    fit = models.fit(stacked["y"], stacked["x"], "market", convention=convention)
    for i in range(len(EVENTS)):
        res, ok = _ols(stacked["y"][i], stacked["x"][i])
        assert fit.n_obs[i] == ok.sum() == res.nobs
        np.testing.assert_allclose(fit.alpha[i], res.params[0], rtol=0, atol=1e-10)
        np.testing.assert_allclose(fit.beta[i, 0], res.params[1], rtol=1e-10, atol=1e-10)
        np.testing.assert_allclose(fit.resid[i, ok], res.resid, rtol=0, atol=1e-10)
        assert np.isnan(fit.resid[i, ~ok]).all()
        np.testing.assert_allclose(fit.r2[i], res.rsquared, rtol=1e-10)
        if convention == "textbook":
            np.testing.assert_allclose(fit.sigma[i], np.sqrt(res.scale), rtol=1e-10)
        else:  # estudy2: sd (ddof=1) of the residuals
            np.testing.assert_allclose(fit.sigma[i], np.std(res.resid, ddof=1), rtol=1e-10)


def test_factor_model_matches_statsmodels(stacked):
    fit = models.fit(stacked["y"], stacked["f"], "factor")
    assert fit.n_params == 4 and fit.beta.shape == (len(EVENTS), 3)
    for i in range(len(EVENTS)):
        res, ok = _ols(stacked["y"][i], stacked["f"][i])
        np.testing.assert_allclose(fit.alpha[i], res.params[0], rtol=0, atol=1e-10)
        np.testing.assert_allclose(fit.beta[i], res.params[1:], rtol=1e-9, atol=1e-10)
        np.testing.assert_allclose(fit.resid[i, ok], res.resid, rtol=0, atol=1e-10)
        np.testing.assert_allclose(fit.sigma[i], np.sqrt(res.scale), rtol=1e-10)
        np.testing.assert_allclose(fit.r2[i], res.rsquared, rtol=1e-10)


@pytest.mark.parametrize(("model", "key", "evt_key"), [("market", "x", "x_evt"), ("factor", "f", "f_evt")])
def test_abnormal_and_prediction_factor_match_statsmodels_prediction(stacked, model, key, evt_key):
    fit = models.fit(stacked["y"], stacked[key], model)
    ar = models.abnormal(stacked["y_evt"], stacked[evt_key], fit)
    pe = models.prediction_factor(stacked[evt_key], fit)
    for i in range(len(EVENTS)):
        res, _ = _ols(stacked["y"][i], stacked[key][i])
        xe = stacked[evt_key][i]
        pred = res.get_prediction(sm.add_constant(xe, has_constant="add"))
        np.testing.assert_allclose(ar[i], stacked["y_evt"][i] - pred.predicted_mean, rtol=0, atol=1e-10)
        # Var(AR) = sigma^2 pe  <=>  se_obs^2 = scale * pe and se_mean^2 = scale * (pe - 1)
        np.testing.assert_allclose(pred.se_obs**2, res.scale * pe[i], rtol=1e-9)
        np.testing.assert_allclose(pred.se_mean**2, res.scale * (pe[i] - 1.0), rtol=1e-8)


def test_car_variance_includes_covariance_like_statsmodels(stacked):
    fit = models.fit(stacked["y"], stacked["x"], "market")
    ar = models.abnormal(stacked["y_evt"], stacked["x_evt"], fit)
    pe = models.prediction_factor(stacked["x_evt"], fit)
    inp = stats.BatteryInput(
        ar, fit.resid, fit.sigma, pe, fit.n_obs, fit.n_params, models.design(stacked["x_evt"], fit), fit.xtx_inv
    )
    v = stats.car_variance_factor(inp, 0, T - 1)
    for i in range(len(EVENTS)):
        res, _ = _ols(stacked["y"][i], stacked["x"][i])
        x0 = sm.add_constant(stacked["x_evt"][i], has_constant="add")
        cov_mean = x0 @ res.cov_params() @ x0.T  # covariance of the fitted values
        var_car = T * res.scale + cov_mean.sum()
        np.testing.assert_allclose(fit.sigma[i] ** 2 * v[i], var_car, rtol=1e-9)
        # closed form of the docstring: tau + tau^2/L + (sum Rm - tau*mean)^2/SS
        xm = stacked["x"][i, :, 0][np.isfinite(stacked["y"][i])]
        closed = T + T**2 / xm.size + (stacked["x_evt"][i, :, 0].sum() - T * xm.mean()) ** 2 / np.sum(
            (xm - xm.mean()) ** 2
        )
        np.testing.assert_allclose(v[i], closed, rtol=1e-10)


def test_estudy2_prediction_factor_uses_whole_window_market_moments(stacked):
    fit = models.fit(stacked["y"], stacked["x"], "market", convention="estudy2")
    pe = models.prediction_factor(stacked["x_evt"], fit)
    m_all = stacked["x"][:, :, 0]
    for i in range(len(EVENTS)):
        mm = m_all[i][np.isfinite(m_all[i])]  # every market row, not only the firm's
        expected = 1 + 1 / fit.n_obs[i] + (stacked["x_evt"][i, :, 0] - mm.mean()) ** 2 / np.sum((mm - mm.mean()) ** 2)
        np.testing.assert_allclose(pe[i], expected, rtol=1e-12)
    # differs from the textbook factor for the late lister, not for a complete window
    pe_tb = models.prediction_factor(stacked["x_evt"], models.fit(stacked["y"], stacked["x"], "market"))
    np.testing.assert_allclose(pe[0], pe_tb[0], rtol=1e-12)
    assert np.abs(pe[5] - pe_tb[5]).max() > 1e-6


def test_mean_adjusted_matches_intercept_only_ols(stacked):
    fit = models.fit(stacked["y"], None, "mean_adjusted")
    pe = models.prediction_factor(None, fit, n_days=T)
    ar = models.abnormal(stacked["y_evt"], None, fit)
    for i in range(len(EVENTS)):
        y = stacked["y"][i]
        ok = np.isfinite(y)
        res = sm.OLS(y[ok], np.ones(ok.sum())).fit()
        np.testing.assert_allclose(fit.alpha[i], res.params[0], atol=1e-12)
        np.testing.assert_allclose(fit.sigma[i], np.sqrt(res.scale), rtol=1e-10)
        pred = res.get_prediction(np.ones((T, 1)))
        np.testing.assert_allclose(pred.se_obs**2, res.scale * pe[i], rtol=1e-10)
        np.testing.assert_allclose(ar[i], stacked["y_evt"][i] - res.params[0], atol=1e-12)


def test_market_adjusted_is_return_minus_market(stacked):
    fit = models.fit(stacked["y"], stacked["x"], "market_adjusted")
    ar = models.abnormal(stacked["y_evt"], stacked["x_evt"], fit)
    np.testing.assert_allclose(ar, stacked["y_evt"] - stacked["x_evt"][:, :, 0], atol=0)
    diff = stacked["y"] - stacked["x"][:, :, 0]
    for i in range(len(EVENTS)):
        d = diff[i][np.isfinite(diff[i])]
        np.testing.assert_allclose(fit.sigma[i], np.std(d, ddof=1), rtol=1e-12)
    assert fit.n_params == 0
    np.testing.assert_array_equal(models.prediction_factor(stacked["x_evt"], fit), np.ones((len(EVENTS), T)))


def test_stock_equal_to_market_has_zero_abnormal_return_under_market_adjusted(stacked):
    x = stacked["x"]
    fit = models.fit(x[:, :, 0], x, "market_adjusted")
    ar = models.abnormal(stacked["x_evt"][:, :, 0], stacked["x_evt"], fit)
    assert np.nanmax(np.abs(ar)) == 0.0


def test_degenerate_windows_give_nan_not_garbage():
    rng = np.random.default_rng(0)
    y = rng.normal(0, 0.02, (3, 30))
    x = rng.normal(0, 0.01, (3, 30, 1))
    x[1] = 0.001  # constant market: beta undefined
    y[2, 2:] = np.nan  # two observations only
    fit = models.fit(y, x, "market")
    assert np.isfinite(fit.beta[0, 0])
    assert np.isnan(fit.beta[1, 0]) and np.isnan(fit.sigma[1])
    assert np.isnan(fit.alpha[2]) and fit.n_obs[2] == 2
    ffit = models.fit(y, np.concatenate([x, x], axis=2), "factor")  # collinear factors
    assert np.isnan(ffit.beta).all()


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"model": "capm"}, "unknown expected-return model"),
        ({"model": "factor", "convention": "estudy2"}, "estudy2 convention"),
        ({"model": "market", "convention": "eviews"}, "unknown convention"),
    ],
)
def test_bad_model_arguments_raise_clear_errors(stacked, kwargs, match):
    with pytest.raises(SpecificationError, match=match):
        models.fit(stacked["y"], stacked["f"] if kwargs["model"] == "factor" else stacked["x"], **kwargs)


def test_shape_errors_name_the_problem(stacked):
    with pytest.raises(SpecificationError, match="x_est must have shape"):
        models.fit(stacked["y"], stacked["x"][:, :-1], "market")
    with pytest.raises(SpecificationError, match="exactly one regressor"):
        models.fit(stacked["y"], stacked["f"], "market")
    with pytest.raises(SpecificationError, match="needs regressors"):
        models.fit(stacked["y"], None, "market")
    fit = models.fit(stacked["y"], stacked["x"], "market")
    with pytest.raises(SpecificationError, match="does not match"):
        models.prediction_factor(stacked["x_evt"], fit, "factor")
