"""GARCH(1,1)-standardized event statistics (``EventStudySpec(standardize="garch")``).

Every expected number here is derived independently of ``research.eventstudy.garch``:
from ``arch`` fitted in the test, from the GARCH recursion written out below, or by
hand; the size study simulates GARCH returns with numpy.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from arch import arch_model
from scipy import stats

from research.errors import SpecificationError
from research.eventstudy import EstimationWindow, EventStudySpec, run_event_study
from research.eventstudy.garch import fit_garch, standardize, standardized_car

DATES = pd.bdate_range("2015-01-02", periods=1200)


def _garch_path(rng: np.random.Generator, n: int, d: int, omega: float, alpha: float, beta: float):
    """(d, n) GARCH(1,1) returns and their true conditional sd (numpy, from the stationary variance)."""
    s2 = np.full(n, omega / (1 - alpha - beta))
    r, sd = np.empty((d, n)), np.empty((d, n))
    for t in range(d):
        sd[t] = np.sqrt(s2)
        r[t] = sd[t] * rng.standard_normal(n)
        s2 = omega + alpha * r[t] ** 2 + beta * s2
    return r, sd


def _panel(seed: int = 3, n: int = 1, d: int = 800):
    rng = np.random.default_rng(seed)
    m = rng.normal(0.0003, 0.009, d)
    e, _ = _garch_path(rng, n, d, 4e-6, 0.12, 0.83)
    cols = {"SPY": m, **{f"S{k}": 0.0001 + 0.9 * m + e[:, k] for k in range(n)}}
    return pd.DataFrame(cols, index=DATES[:d])


def _arch(resid: np.ndarray):
    return arch_model(resid * 100, mean="Zero", vol="GARCH", p=1, q=1, dist="normal",
                      rescale=False).fit(disp="off", show_warning=False)


# --------------------------------------------------------------------------- (a) by hand
def test_conditional_volatility_equals_arch_and_the_forward_recursion():
    ret = _panel()
    spec = EventStudySpec(model="market_adjusted", windows=((0, 0), (-1, 1), (0, 5)), standardize="garch")
    p0 = 600
    std = standardize(ret.to_numpy(), ret[["SPY"]].to_numpy(), np.array([1]), np.array([p0]), spec)
    assert std.vol_model[0] == "garch"
    ar = (ret["S0"] - ret["SPY"]).to_numpy()  # the market-adjusted AR, by hand
    est = ar[p0 - 260: p0 - 10]  # relative days -260 .. -11
    res = _arch(est)
    cv = np.asarray(res.conditional_volatility) / 100
    np.testing.assert_allclose(std.sigma_est[0], cv, rtol=1e-8, atol=0)
    om, al, be = res.params["omega"] / 1e4, res.params["alpha[1]"], res.params["beta[1]"]
    np.testing.assert_allclose(std.params[0], [om, al, be], rtol=1e-10)
    # forward from the last estimation day, only returns before each day
    s2 = cv[-1] ** 2
    sig = {}
    for t in range(p0 - 10, p0 + 6):  # relative days -10 .. 5
        s2 = om + al * ar[t - 1] ** 2 + be * s2
        sig[t - p0] = np.sqrt(s2)
    want = np.array([sig[k] for k in range(-1, 6)])  # the event span is -1 .. 5
    np.testing.assert_allclose(std.sigma[0], want, rtol=1e-8, atol=0)
    sar = {k: ar[p0 + k] / sig[k] for k in range(-1, 6)}
    np.testing.assert_allclose(std.scar[0], [sar[0], (sar[-1] + sar[0] + sar[1]) / np.sqrt(3),
                                             sum(sar[k] for k in range(6)) / np.sqrt(6)], rtol=1e-10)


# --------------------------------------------------------------------------- (b) hand-worked
def test_standardized_car_hand_worked():
    sar = np.array([[1.0, 2.0, -1.0, 0.5], [0.0, np.nan, 1.0, 1.0]])
    got = standardized_car(sar, np.array([0, 0, 1, 2]), np.array([0, 2, 3, 3]))
    s3 = np.sqrt(3.0)
    want = np.array([[1.0, 2.0 / s3, 1.5 / s3, -0.5 / np.sqrt(2)],
                     [0.0, np.nan, np.nan, 2.0 / np.sqrt(2)]])
    np.testing.assert_allclose(got, want, rtol=1e-15)


# --------------------------------------------------------------------------- (c) fallbacks
def _fallback_panel(kind: str) -> pd.DataFrame:
    rng = np.random.default_rng(11)
    d = 400
    m = rng.normal(0, 0.01, d)
    if kind == "nonstationary":  # the variance trends up over the window: no stationary GARCH
        e = rng.standard_normal(d) * np.exp(np.linspace(np.log(0.002), np.log(0.05), d))
    else:
        e = rng.normal(0, 0.01, d)
    return pd.DataFrame({"SPY": m, "S0": m + e}, index=DATES[:d])


def _one_event(kind: str, estimation: EstimationWindow):
    ret = _fallback_panel(kind)
    spec = EventStudySpec(model="market_adjusted", estimation=estimation, windows=((0, 0), (0, 2)),
                          standardize="garch")
    ev = pd.DataFrame({"event_id": ["e"], "ticker": ["S0"], "day0": [ret.index[330]]})
    return run_event_study(ev, spec, returns=ret, volume=False), (ret["S0"] - ret["SPY"]).to_numpy()


def _check_recorded(res, reason: str) -> None:
    assert res.events["vol_model"].tolist() == [reason]
    assert res.car["vol_model"].tolist() == [reason] * 2


def test_few_observations_fall_back_to_the_ordinary_standardized_ar():
    est = EstimationWindow(length=80, end=-11, min_obs=60)  # 80 < the 100 a GARCH fit needs
    res, ar = _one_event("few", est)
    _check_recorded(res, "fallback:few_obs")
    assert res.events[["garch_omega", "garch_alpha", "garch_beta"]].isna().all(axis=None)
    sd = ar[330 + est.start: 330 + est.end + 1].std(ddof=1)  # estimation-window sd
    np.testing.assert_allclose(res.car["scar"], [ar[330] / sd, ar[330:333].sum() / sd / np.sqrt(3)], rtol=1e-10)


def test_nonstationary_fit_falls_back_to_riskmetrics_ewma():
    res, ar = _one_event("nonstationary", EstimationWindow())
    _check_recorded(res, "fallback:nonstationary")
    np.testing.assert_allclose(res.events[["garch_omega", "garch_alpha", "garch_beta"]].iloc[0], [0, 0.06, 0.94])
    est = ar[330 - 260: 330 - 10]
    w = 0.94 ** np.arange(75)
    s2 = float(np.sum(w * est[:75] ** 2) / w.sum())  # arch's backcast, by hand
    s2 = 0.06 * s2 + 0.94 * s2  # the first estimation day
    sig = {}
    for t in range(330 - 259, 333):  # relative days -259 .. 2
        s2 = 0.06 * ar[t - 1] ** 2 + 0.94 * s2
        sig[t - 330] = np.sqrt(s2)
    sar = [ar[330 + k] / sig[k] for k in range(3)]
    np.testing.assert_allclose(res.car["scar"], [sar[0], sum(sar) / np.sqrt(3)], rtol=1e-10)


def test_fit_reports_its_fallbacks_directly():
    assert fit_garch(np.full(50, 0.01)).vol_model == "fallback:few_obs"
    assert fit_garch(np.r_[np.full(200, np.nan), np.ones(99)]).vol_model == "fallback:few_obs"
    e = np.random.default_rng(11).standard_normal(250) * np.exp(np.linspace(-6, -3, 250))
    assert fit_garch(e).vol_model == "fallback:nonstationary"
    np.testing.assert_allclose(fit_garch(e).params, [0.0, 0.06, 0.94], rtol=1e-12)


def test_default_spec_unchanged_and_bad_value_named():
    spec = EventStudySpec()
    assert spec.standardize is None and "standardize" not in spec.describe()
    assert EventStudySpec(standardize="garch").describe()["standardize"] == "garch"
    with pytest.raises(SpecificationError, match="standardize"):
        EventStudySpec(standardize="egarch")
    ret = _panel()
    ev = pd.DataFrame({"event_id": ["e"], "ticker": ["S0"], "day0": [ret.index[600]]})
    plain = run_event_study(ev, spec, returns=ret, volume=False, placebo_method="exact")
    assert "scar" not in plain.car and "statistic" not in plain.placebo
    g = run_event_study(ev, EventStudySpec(standardize="garch"), returns=ret, volume=False,
                        placebo_method="exact")
    pd.testing.assert_frame_equal(g.car[plain.car.columns], plain.car.assign(p_placebo=g.car["p_placebo"]))
    assert (g.placebo["statistic"] == "garch_scar").all()
    np.testing.assert_array_equal(g.placebo["t_actual"], g.car["scar"])


# --------------------------------------------------------------------------- (d) size
N_STOCKS, D, EVENT_FROM, JUMP = 200, 1000, 400, 1.8


def _size_study():
    """200 stocks of GARCH(1,1) abnormal returns (alpha .08, beta .90) on a market factor,
    no mean effect. Each stock's event is the first date after row EVENT_FROM whose true
    conditional sd is JUMP times the median over its estimation window [-260, -11]: a
    volatility jump known before the date (a stopping time: choosing the date by a
    volatility that later returns feed into, e.g. the sample's most volatile date, would
    select small event-day shocks). Stocks without such a date are not used."""
    rng = np.random.default_rng(20240611)
    n = 2 * N_STOCKS
    m = rng.normal(0.0003, 0.009, D)
    e, sd = _garch_path(rng, n, D, 2e-6, 0.08, 0.90)
    rows = np.arange(EVENT_FROM, D - 5)
    base = np.stack([np.median(sd[t - 260: t - 10], axis=0) for t in rows])  # (rows, n)
    hit = sd[rows] >= JUMP * base
    use = np.flatnonzero(hit.any(axis=0))[:N_STOCKS]
    assert use.size == N_STOCKS
    p0 = rows[np.argmax(hit[:, use], axis=0)]
    jump = sd[p0, use] / base[p0 - EVENT_FROM, use]
    ret = pd.DataFrame(0.0002 + 1.0 * m[:, None] + e[:, use], index=DATES[:D],
                       columns=[f"S{k:03d}" for k in range(N_STOCKS)])
    ret["SPY"] = m
    ev = pd.DataFrame({"event_id": [f"e{k}" for k in range(N_STOCKS)], "ticker": ret.columns[:N_STOCKS],
                       "day0": ret.index[p0]})
    return ret, ev, jump


def test_size_under_event_day_volatility_jump():
    ret, ev, jump = _size_study()
    assert np.median(jump) >= JUMP  # the events sit in volatile regimes (the issue: 1.9x)
    lo, hi = stats.binom.ppf([0.025, 0.975], N_STOCKS, 0.05) / N_STOCKS  # 95% band of a 5% test
    kw = dict(returns=ret, volume=False, placebo_method="exact")
    windows = ((0, 0),)
    plain = run_event_study(ev, EventStudySpec(windows=windows), **kw)
    garch = run_event_study(ev, EventStudySpec(windows=windows, standardize="garch"), **kw)
    rej_plain = float((plain.car["p_placebo"] <= 0.05).mean())
    rej_garch = float((garch.car["p_placebo"] <= 0.05).mean())
    share_garch = float((garch.events["vol_model"] == "garch").mean())
    print(f"size at 5%: plain {rej_plain:.3f}, garch {rej_garch:.3f}, band [{lo:.3f}, {hi:.3f}], "
          f"garch fits {share_garch:.2f}, median vol jump {np.median(jump):.2f}")
    assert rej_plain > hi + 0.05  # the unscaled placebo over-rejects well above the band
    assert lo <= rej_garch <= hi
