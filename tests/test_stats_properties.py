"""Invariances of the models and the test battery (hypothesis), plus input validation."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as hs

from research.errors import SpecificationError
from research.eventstudy import models, stats

SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# tests whose statistic depends on each event only through AR/sigma (per-event scale free)
STANDARDIZED = ["patell", "patell_kp", "bmp", "bmp_kp", "corrado_rank", "modified_rank",
                "generalized_rank", "sign", "generalized_sign", "corrado_sign"]


def _data(seed, n, l_est, t, missing, same_market=True):
    rng = np.random.default_rng(seed)
    if same_market:
        m = rng.normal(0.0, 0.01, l_est + t)
        x = np.broadcast_to(m[None, :, None], (n, l_est + t, 1)).copy()
    else:
        x = rng.normal(0.0, 0.01, (n, l_est + t, 1))
    y = rng.normal(0.0, 0.002, n)[:, None] + rng.uniform(0.3, 2, n)[:, None] * x[:, :, 0]
    y = y + rng.normal(0, 0.02, (n, l_est + t))
    y[rng.random(y.shape) < missing] = np.nan
    return y, x


def _battery(y, x, l_est, model="market", convention="textbook"):
    fit = models.fit(y[:, :l_est], x[:, :l_est], model, convention=convention)
    xe = x[:, l_est:]
    ar = models.abnormal(y[:, l_est:], xe, fit)
    pe = models.prediction_factor(xe, fit)
    return stats.BatteryInput(ar, fit.resid, fit.sigma, pe, fit.n_obs, fit.n_params, models.design(xe, fit), fit.xtx_inv)


cases = hs.tuples(
    hs.integers(0, 2**31 - 1),  # seed
    hs.integers(4, 9),  # events
    hs.integers(15, 40),  # estimation days
    hs.integers(2, 5),  # event days
    hs.sampled_from([0.0, 0.05, 0.15]),  # missing share
)


def _all(inp, convention="textbook", tests=None):
    day = stats.day_tests(inp, convention=convention, tests=tests)
    win = stats.window_tests(inp, 0, inp.n_days - 1, convention=convention, tests=tests)
    return day, win


def _same(a, b, cols=("statistic", "p_value")):
    for c in cols:
        np.testing.assert_allclose(a[c].to_numpy(float), b[c].to_numpy(float), rtol=1e-8, atol=1e-12)


@SETTINGS
@given(cases, hs.randoms(use_true_random=False))
def test_permuting_events_changes_no_aggregate(case, rnd):
    seed, n, l_est, t, missing = case
    y, x = _data(seed, n, l_est, t, missing)
    inp = _battery(y, x, l_est)
    perm = list(range(n))
    rnd.shuffle(perm)
    perm = np.array(perm)
    inp2 = stats.BatteryInput(
        inp.ar[perm], inp.ar_est[perm], inp.sigma[perm], inp.pe[perm], inp.n_est[perm], inp.n_params,
        inp.design_evt[perm], inp.xtx_inv[perm],
    )
    for conv in ("textbook", "estudy2"):
        d1, w1 = _all(inp, conv)
        d2, w2 = _all(inp2, conv)
        _same(d1, d2)
        _same(w1, w2)
    se1 = stats.single_event_tests(inp, 0, t - 1)
    se2 = stats.single_event_tests(inp2, 0, t - 1)
    _same(se1.iloc[perm].reset_index(drop=True), se2, cols=("car", "car_se", "t_stat", "p_value"))


@SETTINGS
@given(cases, hs.floats(0.01, 100.0))
def test_common_rescaling_changes_no_statistic(case, c):
    seed, n, l_est, t, missing = case
    y, x = _data(seed, n, l_est, t, missing)
    inp = _battery(y, x, l_est)
    scaled = stats.BatteryInput(
        inp.ar * c, inp.ar_est * c, inp.sigma * c, inp.pe, inp.n_est, inp.n_params, inp.design_evt, inp.xtx_inv
    )
    for a, b in zip(_all(inp), _all(scaled), strict=True):
        _same(a, b)


@SETTINGS
@given(cases, hs.lists(hs.floats(0.05, 20.0), min_size=9, max_size=9))
def test_per_event_rescaling_leaves_standardized_tests_unchanged(case, cs):
    seed, n, l_est, t, missing = case
    y, x = _data(seed, n, l_est, t, missing)
    inp = _battery(y, x, l_est)
    c = np.array(cs[:n])
    scaled = stats.BatteryInput(
        inp.ar * c[:, None], inp.ar_est * c[:, None], inp.sigma * c, inp.pe, inp.n_est, inp.n_params,
        inp.design_evt, inp.xtx_inv,
    )
    # KP r-bar is a correlation (scale free); every standardized/nonparametric test is unchanged
    for a, b in zip(_all(inp, tests=STANDARDIZED), _all(scaled, tests=STANDARDIZED), strict=True):
        _same(a, b)


@SETTINGS
@given(cases, hs.floats(-0.05, 0.05), hs.sampled_from(["market", "mean_adjusted", "factor"]))
def test_adding_a_constant_to_returns_changes_alpha_only(case, k, model):
    seed, n, l_est, t, missing = case
    y, x = _data(seed, n, l_est, t, missing, same_market=False)
    if model == "factor":
        rng = np.random.default_rng(seed + 1)
        x = np.concatenate([x, rng.normal(0, 0.01, x.shape)], axis=2)
    xx = None if model == "mean_adjusted" else x
    f1 = models.fit(y, xx, model)
    f2 = models.fit(y + k, xx, model)
    np.testing.assert_allclose(f2.alpha, f1.alpha + k, rtol=0, atol=1e-12)
    np.testing.assert_allclose(f2.beta, f1.beta, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(f2.sigma, f1.sigma, rtol=1e-8)
    np.testing.assert_allclose(f2.resid, f1.resid, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(f2.n_obs, f1.n_obs)


@SETTINGS
@given(cases)
def test_stock_equal_to_market_has_zero_abnormal_return(case):
    seed, n, l_est, t, missing = case
    _, x = _data(seed, n, l_est, t, missing, same_market=False)
    mkt = x[:, :, 0]
    fit = models.fit(mkt[:, :l_est], x[:, :l_est], "market_adjusted")
    ar = models.abnormal(mkt[:, l_est:], x[:, l_est:], fit)
    np.testing.assert_array_equal(ar, np.zeros_like(ar))
    # under the market model such a stock has alpha 0, beta 1 and no residual
    f2 = models.fit(mkt[:, :l_est], x[:, :l_est], "market")
    np.testing.assert_allclose(f2.beta[:, 0], 1.0, rtol=1e-10)
    np.testing.assert_allclose(f2.alpha, 0.0, atol=1e-14)


@SETTINGS
@given(cases)
def test_same_firm_twice_is_two_events_with_their_own_windows(case):
    # A firm in several events (MP is in five) is stacked once per event; duplicating an
    # event doubles its weight but never multiplies its standardization.
    seed, n, l_est, t, missing = case
    y, x = _data(seed, n, l_est, t, missing)
    inp = _battery(y, x, l_est)
    y2 = np.concatenate([y, y[:1]])
    x2 = np.concatenate([x, x[:1]])
    inp2 = _battery(y2, x2, l_est)
    np.testing.assert_allclose(inp2.sigma[-1], inp.sigma[0], rtol=1e-12)
    sar1 = inp.ar / (inp.sigma[:, None] * np.sqrt(inp.pe))
    p2 = stats.patell(inp2).statistic
    den2 = np.sqrt(np.nansum(np.where(np.isfinite(inp2.ar), (inp2.dof / (inp2.dof - 2))[:, None], 0), axis=0))
    want = (np.nansum(sar1, axis=0) + np.nan_to_num(sar1[0])) / den2
    np.testing.assert_allclose(p2, want, rtol=1e-10)


# ---- input validation -----------------------------------------------------------------------
def _small():
    y, x = _data(0, 5, 20, 3, 0.0)
    return _battery(y, x, 20)


def test_reversed_window_is_a_clear_error():
    with pytest.raises(SpecificationError, match="after its end"):
        stats.window_tests(_small(), 2, 1)
    with pytest.raises(SpecificationError, match="outside the event days"):
        stats.window_tests(_small(), 0, 3)


def test_shape_mismatch_names_the_array():
    inp = _small()
    with pytest.raises(SpecificationError, match="sigma has shape"):
        stats.BatteryInput(inp.ar, inp.ar_est, inp.sigma[:-1], inp.pe, inp.n_est, 2)
    with pytest.raises(SpecificationError, match="pe has shape"):
        stats.BatteryInput(inp.ar, inp.ar_est, inp.sigma, inp.pe[:, :-1], inp.n_est, 2)
    with pytest.raises(SpecificationError, match="both design_evt and xtx_inv"):
        stats.BatteryInput(inp.ar, inp.ar_est, inp.sigma, inp.pe, inp.n_est, 2, design_evt=inp.design_evt)


def test_unknown_test_and_convention_are_rejected():
    with pytest.raises(SpecificationError, match="unknown test"):
        stats.day_tests(_small(), tests=["patel"])
    with pytest.raises(SpecificationError, match="unknown convention"):
        stats.day_tests(_small(), convention="stata")


def test_failed_fit_events_are_left_out_not_fatal():
    y, x = _data(3, 6, 20, 3, 0.0)
    y[2, :20] = np.nan  # no estimation data: sigma NaN
    inp = _battery(y, x, 20)
    assert not inp.valid[2]
    y_ok = np.delete(y, 2, axis=0)
    x_ok = np.delete(x, 2, axis=0)
    ref = _battery(y_ok, x_ok, 20)
    for a, b in zip(_all(inp), _all(ref), strict=True):
        _same(a, b)


def test_all_nan_event_window_gives_nan_statistics_not_errors():
    inp = _small()
    blank = stats.BatteryInput(np.full_like(inp.ar, np.nan), inp.ar_est, inp.sigma, inp.pe, inp.n_est, 2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "mean of empty slice" noise either
        d = stats.day_tests(blank)
        w = stats.window_tests(blank, 0, 2)
    assert d["statistic"].isna().all() and d["p_value"].isna().all()
    assert w["statistic"].isna().all() and w["p_value"].isna().all()


@pytest.mark.parametrize("convention", ["textbook", "estudy2"])
def test_no_usable_event_gives_nan_everywhere_quietly(convention):
    inp = _small()
    dead = stats.BatteryInput(inp.ar, inp.ar_est, np.full(inp.n_events, np.nan), inp.pe, inp.n_est, 2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        d = stats.day_tests(dead, convention=convention)
        w = stats.window_tests(dead, 0, 1, convention=convention)
        s = stats.single_event_tests(dead, 0, 1)
    assert d["statistic"].isna().all() and w["statistic"].isna().all()
    assert s["t_stat"].isna().all()


def test_input_arrays_are_private_copies():
    inp = _small()
    ar = inp.ar.copy()
    mine = stats.BatteryInput(ar, inp.ar_est, inp.sigma, inp.pe, inp.n_est, 2)
    before = stats.day_tests(mine)
    ar[:] = 1.0  # the caller reuses its buffer
    after = stats.day_tests(mine)
    _same(before, after)
    with pytest.raises(ValueError):
        mine.ar[0, 0] = 0.0
