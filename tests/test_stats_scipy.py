"""The battery against scipy.stats / pandas where those implement the same thing."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats as st

from research.errors import SpecificationError
from research.eventstudy import models, stats


def _input(seed: int, n: int = 12, l_est: int = 60, t: int = 5, missing: float = 0.05):
    rng = np.random.default_rng(seed)
    m = rng.normal(0.0005, 0.01, l_est + t)
    x = np.broadcast_to(m[None, :, None], (n, l_est + t, 1)).copy()
    beta = rng.uniform(0.5, 1.8, n)
    eps = rng.standard_t(4, (n, l_est + t)) * rng.uniform(0.01, 0.04, n)[:, None]
    y = 0.0003 + beta[:, None] * x[:, :, 0] + eps
    y[:, l_est:] += rng.normal(0.01, 0.02, (n, 1))  # an event effect
    y[rng.random(y.shape) < missing] = np.nan
    fit = models.fit(y[:, :l_est], x[:, :l_est], "market")
    ar = models.abnormal(y[:, l_est:], x[:, l_est:], fit)
    pe = models.prediction_factor(x[:, l_est:], fit)
    return stats.BatteryInput(
        ar, fit.resid, fit.sigma, pe, fit.n_obs, fit.n_params, models.design(x[:, l_est:], fit), fit.xtx_inv
    )


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_cross_sectional_t_is_scipy_ttest_1samp(seed):
    inp = _input(seed)
    res = stats.cross_sectional_t(inp)
    for t in range(inp.n_days):
        col = inp.ar[:, t]
        ref = st.ttest_1samp(col[np.isfinite(col)], 0.0)
        assert res.statistic[t] == pytest.approx(ref.statistic, rel=1e-12)
        assert res.p_value[t] == pytest.approx(ref.pvalue, rel=1e-10)
    w = stats.cross_sectional_t(inp, (1, 3))
    c = stats.car(inp, 1, 3)
    ref = st.ttest_1samp(c[np.isfinite(c)], 0.0)
    assert w.statistic == pytest.approx(ref.statistic, rel=1e-12)
    assert w.p_value == pytest.approx(ref.pvalue, rel=1e-10)


@pytest.mark.parametrize("seed", [4, 5])
def test_bmp_is_ttest_of_standardized_abnormal_returns(seed):
    inp = _input(seed)
    res = stats.bmp(inp)
    sar = inp.ar / (inp.sigma[:, None] * np.sqrt(inp.pe))
    for t in range(inp.n_days):
        col = sar[:, t][np.isfinite(sar[:, t])]
        ref = st.ttest_1samp(col, 0.0)
        assert res.statistic[t] == pytest.approx(ref.statistic, rel=1e-12)
        assert res.p_value[t] == pytest.approx(ref.pvalue, rel=1e-10)


@pytest.mark.parametrize("seed", [6, 7, 8])
def test_wilcoxon_matches_scipy(seed):
    inp = _input(seed, n=15)
    res = stats.wilcoxon(inp)
    for t in range(inp.n_days):
        col = inp.ar[:, t][np.isfinite(inp.ar[:, t])]
        greater = st.wilcoxon(col, alternative="greater")  # statistic = sum of positive ranks
        two = st.wilcoxon(col)
        assert res.statistic[t] == pytest.approx(greater.statistic, abs=1e-12)
        assert res.p_value[t] == pytest.approx(two.pvalue, rel=1e-12)


def test_wilcoxon_with_ties_and_zeros_matches_scipy():
    ar = np.array([[0.01, 0.0], [0.02, 0.01], [-0.01, -0.01], [0.02, 0.03], [0.03, 0.0], [-0.02, 0.02]])
    inp = stats.BatteryInput(ar, np.ones((6, 4)) * np.array([1, -1, 1, -1]), np.ones(6), np.ones((6, 2)), np.full(6, 4), 2)
    res = stats.wilcoxon(inp)
    for t in range(2):
        col = ar[:, t]
        nz = col[col != 0]
        assert res.statistic[t] == pytest.approx(st.wilcoxon(nz, alternative="greater").statistic)
        assert res.p_value[t] == pytest.approx(st.wilcoxon(col, zero_method="wilcox").pvalue, rel=1e-12)


@pytest.mark.parametrize("name", ["patell", "patell_kp", "lamb", "corrado_rank", "modified_rank",
                                  "corrado_sign", "sign", "generalized_sign"])
def test_normal_tests_p_values_are_two_sided_normal(name):
    inp = _input(9)
    res = stats.day_tests(inp, tests=[name])
    np.testing.assert_allclose(res["p_value"], 2 * st.norm.sf(np.abs(res["statistic"])), rtol=1e-12)


def test_t_tests_p_values_use_their_degrees_of_freedom():
    inp = _input(10, n=9, missing=0.0)
    d = stats.day_tests(inp, tests=["bmp", "bmp_kp", "cross_sectional_t", "skewness_corrected"])
    np.testing.assert_allclose(d["p_value"], 2 * st.t.sf(np.abs(d["statistic"]), 8), rtol=1e-12)
    bw = stats.day_tests(inp, tests=["brown_warner_1985"])
    np.testing.assert_allclose(bw["p_value"], 2 * st.t.sf(np.abs(bw["statistic"]), 60 - 1), rtol=1e-12)
    bw80 = stats.day_tests(inp, tests=["brown_warner_1980"])
    np.testing.assert_allclose(bw80["p_value"], 2 * st.t.sf(np.abs(bw80["statistic"]), 60 - 1), rtol=1e-12)


def test_skewness_term_matches_scipy_skew():
    rng = np.random.default_rng(11)
    x = rng.lognormal(0, 0.7, 40) - 1.0
    n = x.size
    g = st.skew(x, bias=True) * (np.std(x, ddof=0) / np.std(x, ddof=1)) ** 3
    s = x.mean() / x.std(ddof=1)
    want = np.sqrt(n) * (s + g * s * s / 3 + g / (6 * n))
    assert stats.skewness_adjusted_t(x).statistic == pytest.approx(want, rel=1e-12)


def test_rank_rows_matches_scipy_rankdata():
    rng = np.random.default_rng(12)
    a = np.round(rng.normal(size=(40, 30)), 1)  # many ties
    a[rng.random(a.shape) < 0.2] = np.nan
    a[5] = np.nan
    np.testing.assert_array_equal(stats.rank_rows(a), st.rankdata(a, axis=1, nan_policy="omit"))


def test_mean_cross_correlation_matches_pandas_pairwise():
    rng = np.random.default_rng(13)
    common = rng.normal(size=80)
    x = 0.4 * common[None, :] + rng.normal(size=(7, 80))
    x[rng.random(x.shape) < 0.15] = np.nan
    c = pd.DataFrame(x.T).corr(min_periods=3).to_numpy()
    want = c[np.triu_indices(7, 1)].mean()
    assert stats.mean_cross_correlation(x, method="exact") == pytest.approx(want, rel=1e-10)
    full = 0.4 * common[None, :] + rng.normal(size=(7, 80))
    cf = pd.DataFrame(full.T).corr().to_numpy()[np.triu_indices(7, 1)].mean()
    assert stats.mean_cross_correlation(full, method="fast") == pytest.approx(cf, rel=1e-10)
    assert stats.mean_cross_correlation(full, method="exact") == pytest.approx(cf, rel=1e-10)


def test_mean_cross_correlation_auto_is_exact_when_events_share_rows():
    rng = np.random.default_rng(14)
    x = rng.normal(size=(6, 50)) + 0.5 * rng.normal(size=50)[None, :]
    x[:, [3, 17, 40]] = np.nan  # same missing days for every event (e.g. a market holiday)
    c = pd.DataFrame(x.T).corr().to_numpy()[np.triu_indices(6, 1)].mean()
    assert stats.mean_cross_correlation(x) == pytest.approx(c, rel=1e-10)
    assert stats.mean_cross_correlation(x, method="exact") == pytest.approx(c, rel=1e-10)
    with pytest.raises(SpecificationError, match="unknown method"):
        stats.mean_cross_correlation(x, method="slow")
