"""A tiny event study worked out by hand from the textbook formulas.

Three events (A, B, C), six estimation days (C misses the last one), three event days.
Everything below is computed in plain Python (``math``, lists) step by step from the
formulas in the cited papers -- no call into ``research`` except for the values under
test -- and compared with ``research.eventstudy.models`` / ``stats``.

References: market model and prediction errors, Campbell, Lo and MacKinlay (1997) ch. 4;
Brown and Warner (1980, 1985); Patell (1976); Boehmer, Musumeci and Poulsen (1991);
Kolari and Pynnönen (2010, 2011); Lamb (1995); Corrado (1989); Corrado and Zivney (1992);
Campbell and Wasley (1993); Cowan (1992); Wilcoxon (1945); Hall (1992).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as st

from research.eventstudy import models, stats

NAN = float("nan")
M_EST = [0.010, -0.005, 0.002, 0.007, -0.012, 0.004]
M_EVT = [0.015, -0.003, 0.006]
R_EST = {
    "A": [0.012, -0.004, 0.001, 0.011, -0.015, 0.006],
    "B": [0.020, -0.010, 0.005, 0.003, -0.020, 0.010],
    "C": [0.005, 0.002, -0.003, 0.009, -0.006, NAN],  # last estimation day missing
}
R_EVT = {"A": [0.040, 0.002, 0.010], "B": [0.025, -0.012, 0.004], "C": [0.030, 0.001, -0.002]}
FIRMS = ["A", "B", "C"]
L, T = 6, 3


# ---- plain-Python helpers ---------------------------------------------------------------
def mean(v):
    return sum(v) / len(v)


def sd(v):
    m = mean(v)
    return math.sqrt(sum((x - m) ** 2 for x in v) / (len(v) - 1))


def avg_ranks(v):
    """1-based ranks with ties averaged (v has no missing values)."""
    out = []
    for x in v:
        less = sum(1 for y in v if y < x)
        equal = sum(1 for y in v if y == x)
        out.append(less + (equal + 1) / 2)
    return out


def median(v):
    s = sorted(v)
    n = len(s)
    return s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2


def corr(x, y):
    mx, my = mean(x), mean(y)
    num = sum((a - mx) * (b - my) for a, b in zip(x, y, strict=True))
    return num / math.sqrt(sum((a - mx) ** 2 for a in x) * sum((b - my) ** 2 for b in y))


def p_norm(z):
    return 2 * st.norm.sf(abs(z))


def p_t(t, df):
    return 2 * st.t.sf(abs(t), df)


# ---- the hand-worked market model (textbook) ---------------------------------------------
def hand_model():
    out = {}
    for f in FIRMS:
        rows = [(m, r) for m, r in zip(M_EST, R_EST[f], strict=True) if not math.isnan(r)]
        n = len(rows)
        xbar = mean([m for m, _ in rows])
        ybar = mean([r for _, r in rows])
        sxx = sum((m - xbar) ** 2 for m, _ in rows)
        sxy = sum((m - xbar) * (r - ybar) for m, r in rows)
        beta = sxy / sxx
        alpha = ybar - beta * xbar
        resid = [NAN if math.isnan(r) else r - alpha - beta * m for m, r in zip(M_EST, R_EST[f], strict=True)]
        ssr = sum(e * e for e in resid if not math.isnan(e))
        sigma = math.sqrt(ssr / (n - 2))  # textbook: n - 2 degrees of freedom
        ar = [r - alpha - beta * m for m, r in zip(M_EVT, R_EVT[f], strict=True)]
        pe = [1 + 1 / n + (m - xbar) ** 2 / sxx for m in M_EVT]  # CLM (4.4.9)
        out[f] = dict(n=n, xbar=xbar, sxx=sxx, alpha=alpha, beta=beta, resid=resid, sigma=sigma, ar=ar, pe=pe)
    return out


H = hand_model()


@pytest.fixture(scope="module")
def inp():
    y_est = np.array([R_EST[f] for f in FIRMS])
    x_est = np.broadcast_to(np.array(M_EST)[None, :, None], (3, L, 1))
    y_evt = np.array([R_EVT[f] for f in FIRMS])
    x_evt = np.broadcast_to(np.array(M_EVT)[None, :, None], (3, T, 1))
    fit = models.fit(y_est, x_est, "market")
    ar = models.abnormal(y_evt, x_evt, fit)
    pe = models.prediction_factor(x_evt, fit)
    return stats.BatteryInput(ar, fit.resid, fit.sigma, pe, fit.n_obs, fit.n_params, models.design(x_evt, fit), fit.xtx_inv)


def test_model_pieces(inp):
    for i, f in enumerate(FIRMS):
        assert inp.n_est[i] == H[f]["n"]
        assert inp.sigma[i] == pytest.approx(H[f]["sigma"], rel=1e-12)
        np.testing.assert_allclose(inp.ar[i], H[f]["ar"], rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(inp.pe[i], H[f]["pe"], rtol=1e-12)
        np.testing.assert_allclose(inp.ar_est[i], H[f]["resid"], rtol=1e-10, atol=1e-15)


# ---- per-day statistics written out -----------------------------------------------------
def ar_day(t):
    return [H[f]["ar"][t] for f in FIRMS]


def sar_day(t):
    return [H[f]["ar"][t] / (H[f]["sigma"] * math.sqrt(H[f]["pe"][t])) for f in FIRMS]


def aar_est_sd():
    aar = []
    for s in range(L):
        vals = [H[f]["resid"][s] for f in FIRMS if not math.isnan(H[f]["resid"][s])]
        aar.append(mean(vals))
    return sd(aar), len(aar)


def rbar():
    pairs = []
    for a, b in [("A", "B"), ("A", "C"), ("B", "C")]:
        common = [s for s in range(L) if not math.isnan(H[a]["resid"][s]) and not math.isnan(H[b]["resid"][s])]
        pairs.append(corr([H[a]["resid"][s] for s in common], [H[b]["resid"][s] for s in common]))
    return mean(pairs)


def full_series(f):
    """Estimation then event abnormal returns of firm f (missing kept as NaN)."""
    return H[f]["resid"] + H[f]["ar"]


def day_scores(kind):
    """Per-firm scores over the L+T days for the rank and sign tests (NaN = missing)."""
    out = {}
    for f in FIRMS:
        v = full_series(f)
        present = [x for x in v if not math.isnan(x)]
        m = len(present)
        ranks = dict(zip([i for i, x in enumerate(v) if not math.isnan(x)], avg_ranks(present), strict=True))
        if kind == "rank":  # Corrado (1989): K - (M + 1)/2
            out[f] = [ranks[i] - (m + 1) / 2 if i in ranks else NAN for i in range(L + T)]
        elif kind == "mrank":  # Campbell-Wasley (1993): K/(M + 1) - 1/2
            out[f] = [ranks[i] / (m + 1) - 0.5 if i in ranks else NAN for i in range(L + T)]
        else:  # Corrado-Zivney (1992) sign: sign(A - median)
            med = median(present)
            out[f] = [NAN if math.isnan(x) else (x > med) - (x < med) for x in v]
    return out


def day_series(kind):
    """z_t per day and its sd over all L+T days (Corrado: mean; others: sum/sqrt(n_t))."""
    sc = day_scores(kind)
    z = []
    for t in range(L + T):
        vals = [sc[f][t] for f in FIRMS if not math.isnan(sc[f][t])]
        z.append(mean(vals) if kind == "rank" else sum(vals) / math.sqrt(len(vals)))
    s = math.sqrt(sum(x * x for x in z) / (L + T))
    return z, s


def grank(window):
    a, b = window
    scar = []
    for f in FIRMS:
        c = sum(H[f]["ar"][a : b + 1])
        if a == b:
            v = H[f]["pe"][a]
        else:  # exact CAR variance factor (CLM 4.4.14)
            tau = b - a + 1
            v = tau + tau**2 / H[f]["n"] + (sum(M_EVT[a : b + 1]) - tau * H[f]["xbar"]) ** 2 / H[f]["sxx"]
        scar.append(c / (H[f]["sigma"] * math.sqrt(v)))
    s_scar = sd(scar)
    u = {}
    for f, sc in zip(FIRMS, scar, strict=True):
        gsar = [e / H[f]["sigma"] for e in H[f]["resid"]] + [sc / s_scar]
        present = [(i, x) for i, x in enumerate(gsar) if not math.isnan(x)]
        ranks = avg_ranks([x for _, x in present])
        t_i = len(present)
        row = [NAN] * (L + 1)
        for (i, _), r in zip(present, ranks, strict=True):
            row[i] = r / (t_i + 1) - 0.5
        u[f] = row
    n = 3
    ubar, nt = [], []
    for t in range(L + 1):
        vals = [u[f][t] for f in FIRMS if not math.isnan(u[f][t])]
        ubar.append(mean(vals))
        nt.append(len(vals))
    big_t = L + 1
    s2 = sum(nt[t] / n * ubar[t] ** 2 for t in range(big_t)) / big_t
    z = ubar[L] / math.sqrt(s2)
    return z * math.sqrt((big_t - 2) / (big_t - 1 - z * z)), big_t - 2


def expected_day(name, t):
    """(statistic, p-value) of test `name` on event day t, from the formulas."""
    x = ar_day(t)
    n = 3
    if name == "cross_sectional_t":
        s = mean(x) / (sd(x) / math.sqrt(n))
        return s, p_t(s, n - 1)
    if name == "brown_warner_1980":
        s = mean(x) / (math.sqrt(sum(H[f]["sigma"] ** 2 for f in FIRMS)) / n)
        return s, p_t(s, mean([H[f]["n"] for f in FIRMS]) - 1)
    if name == "brown_warner_1985":
        s_aar, d = aar_est_sd()
        s = mean(x) / s_aar
        return s, p_t(s, d - 1)
    if name == "lamb":
        s_aar, _ = aar_est_sd()
        s = mean(x) / (s_aar * math.sqrt(mean([H[f]["pe"][t] for f in FIRMS])))
        return s, p_norm(s)
    if name in ("patell", "patell_kp"):
        z = sum(sar_day(t)) / math.sqrt(sum((H[f]["n"] - 2) / (H[f]["n"] - 4) for f in FIRMS))
        if name == "patell_kp":
            r = rbar()
            z *= math.sqrt((1 - r) / (1 + (n - 1) * r))
        return z, p_norm(z)
    if name in ("bmp", "bmp_kp"):
        sar = sar_day(t)
        s = mean(sar) / (sd(sar) / math.sqrt(n))
        if name == "bmp_kp":
            r = rbar()
            s *= math.sqrt((1 - r) / (1 + (n - 1) * r))
        return s, p_t(s, n - 1)
    if name == "skewness_corrected":
        m, s_ = mean(x), sd(x)
        g = sum((v - m) ** 3 for v in x) / (n * s_**3)
        s = m / s_
        ts = math.sqrt(n) * (s + g * s * s / 3 + g / (6 * n))
        return ts, p_t(ts, n - 1)
    if name in ("corrado_rank", "modified_rank", "corrado_sign"):
        kind = {"corrado_rank": "rank", "modified_rank": "mrank", "corrado_sign": "sign"}[name]
        z, s = day_series(kind)
        return z[L + t] / s, p_norm(z[L + t] / s)
    if name == "generalized_rank":
        g, df = grank((t, t))
        return g, p_t(g, df)
    if name == "sign":
        w = sum(1 for v in x if v > 0)
        z = (w - 0.5 * n) / math.sqrt(0.25 * n)
        return z, p_norm(z)
    if name == "generalized_sign":
        fr = []
        for f in FIRMS:
            e = [v for v in H[f]["resid"] if not math.isnan(v)]
            fr.append(sum(1 for v in e if v > 0) / len(e))
        p = mean(fr)
        w = sum(1 for v in x if v > 0)
        z = (w - n * p) / math.sqrt(n * p * (1 - p))
        return z, p_norm(z)
    if name == "wilcoxon":
        ab = [abs(v) for v in x]
        r = avg_ranks(ab)
        v = sum(rk for rk, val in zip(r, x, strict=True) if val > 0)
        return v, st.wilcoxon(x).pvalue
    raise AssertionError(name)


ALL = list(stats.DAY_TESTS)


def test_battery_lists_every_test():
    assert set(ALL) == {
        "cross_sectional_t", "brown_warner_1980", "brown_warner_1985", "lamb", "patell", "patell_kp",
        "bmp", "bmp_kp", "skewness_corrected", "corrado_rank", "modified_rank", "generalized_rank",
        "sign", "generalized_sign", "corrado_sign", "wilcoxon",
    }  # fmt: skip


@pytest.mark.parametrize("name", ALL)
def test_day_statistic_by_hand(inp, name):
    frame = stats.day_tests(inp, tests=[name])
    assert list(frame["day_index"]) == [0, 1, 2]
    for t in range(T):
        want, p = expected_day(name, t)
        got = frame.loc[frame["day_index"] == t].iloc[0]
        assert got["statistic"] == pytest.approx(want, rel=1e-10, abs=1e-12), (name, t)
        assert got["p_value"] == pytest.approx(p, rel=1e-8, abs=1e-14), (name, t)


# ---- CAR window [0, 2] ---------------------------------------------------------------------
WIN = (0, 2)


def car_of(f):
    return sum(H[f]["ar"][WIN[0] : WIN[1] + 1])


def var_factor(f):
    tau = WIN[1] - WIN[0] + 1
    return tau + tau**2 / H[f]["n"] + (sum(M_EVT[WIN[0] : WIN[1] + 1]) - tau * H[f]["xbar"]) ** 2 / H[f]["sxx"]


def scar_of(f):
    return car_of(f) / (H[f]["sigma"] * math.sqrt(var_factor(f)))


def expected_window(name):
    n, tau = 3, WIN[1] - WIN[0] + 1
    cars = [car_of(f) for f in FIRMS]
    if name == "cross_sectional_t":
        s = mean(cars) / (sd(cars) / math.sqrt(n))
        return s, p_t(s, n - 1)
    if name == "brown_warner_1980":
        s = mean(cars) / (math.sqrt(sum(tau * H[f]["sigma"] ** 2 for f in FIRMS)) / n)
        return s, p_t(s, mean([H[f]["n"] for f in FIRMS]) - 1)
    if name == "brown_warner_1985":
        s_aar, d = aar_est_sd()
        s = sum(mean(ar_day(t)) for t in range(tau)) / (math.sqrt(tau) * s_aar)
        return s, p_t(s, d - 1)
    if name == "lamb":
        z = sum(expected_day("lamb", t)[0] for t in range(tau)) / math.sqrt(tau)
        return z, p_norm(z)
    if name in ("patell", "patell_kp"):
        z = sum(scar_of(f) for f in FIRMS) / math.sqrt(sum((H[f]["n"] - 2) / (H[f]["n"] - 4) for f in FIRMS))
        if name == "patell_kp":
            r = rbar()
            z *= math.sqrt((1 - r) / (1 + (n - 1) * r))
        return z, p_norm(z)
    if name in ("bmp", "bmp_kp"):
        sc = [scar_of(f) for f in FIRMS]
        s = mean(sc) / (sd(sc) / math.sqrt(n))
        if name == "bmp_kp":
            r = rbar()
            s *= math.sqrt((1 - r) / (1 + (n - 1) * r))
        return s, p_t(s, n - 1)
    if name == "skewness_corrected":
        m, s_ = mean(cars), sd(cars)
        g = sum((v - m) ** 3 for v in cars) / (n * s_**3)
        s = m / s_
        ts = math.sqrt(n) * (s + g * s * s / 3 + g / (6 * n))
        return ts, p_t(ts, n - 1)
    if name in ("corrado_rank", "modified_rank", "corrado_sign"):
        kind = {"corrado_rank": "rank", "modified_rank": "mrank", "corrado_sign": "sign"}[name]
        z, s = day_series(kind)
        val = sum(z[L + t] for t in range(tau)) / (math.sqrt(tau) * s)  # Cowan (1992)
        return val, p_norm(val)
    if name == "generalized_rank":
        g, df = grank(WIN)
        return g, p_t(g, df)
    if name == "sign":
        w = sum(1 for v in cars if v > 0)
        z = (w - 0.5 * n) / math.sqrt(0.25 * n)
        return z, p_norm(z)
    if name == "generalized_sign":
        fr = [sum(1 for v in H[f]["resid"] if v > 0) / H[f]["n"] for f in FIRMS]
        p = mean(fr)
        w = sum(1 for v in cars if v > 0)
        z = (w - n * p) / math.sqrt(n * p * (1 - p))
        return z, p_norm(z)
    if name == "wilcoxon":
        r = avg_ranks([abs(v) for v in cars])
        v = sum(rk for rk, val in zip(r, cars, strict=True) if val > 0)
        return v, st.wilcoxon(cars).pvalue
    raise AssertionError(name)


@pytest.mark.parametrize("name", ALL)
def test_window_statistic_by_hand(inp, name):
    frame = stats.window_tests(inp, *WIN, tests=[name])
    want, p = expected_window(name)
    assert frame["statistic"].iloc[0] == pytest.approx(want, rel=1e-10, abs=1e-12)
    assert frame["p_value"].iloc[0] == pytest.approx(p, rel=1e-8, abs=1e-14)


def test_single_event_car_t_by_hand(inp):
    frame = stats.single_event_tests(inp, *WIN)
    for i, f in enumerate(FIRMS):
        se = H[f]["sigma"] * math.sqrt(var_factor(f))
        t = car_of(f) / se
        row = frame.iloc[i]
        assert row["car"] == pytest.approx(car_of(f), rel=1e-12)
        assert row["car_se"] == pytest.approx(se, rel=1e-12)
        assert row["t_stat"] == pytest.approx(t, rel=1e-10)
        assert row["df"] == H[f]["n"] - 2
        assert row["p_value"] == pytest.approx(p_t(t, H[f]["n"] - 2), rel=1e-8)


def test_single_day_window_is_the_ar_t_test(inp):
    frame = stats.single_event_tests(inp, 0, 0)
    for i, f in enumerate(FIRMS):
        t = H[f]["ar"][0] / (H[f]["sigma"] * math.sqrt(H[f]["pe"][0]))
        assert frame["t_stat"].iloc[i] == pytest.approx(t, rel=1e-10)


def test_bhar_by_hand():
    r = [[0.10, -0.05, 0.02], [0.01, NAN, 0.03]]
    e = [[0.01, 0.00, 0.01], [0.00, 0.01, 0.02]]
    got = stats.bhar(np.array(r), np.array(e), 0, 2)
    assert got[0] == pytest.approx(1.10 * 0.95 * 1.02 - 1.01 * 1.00 * 1.01, rel=1e-14)
    assert math.isnan(got[1])  # a buy-and-hold return cannot skip a day
    got2 = stats.bhar(np.array(r), np.array(e), 2, 2)
    assert got2[1] == pytest.approx(0.03 - 0.02, rel=1e-12)


def test_skewness_adjusted_t_by_hand():
    x = [0.30, -0.10, 0.05, 0.80, -0.20, 0.15]
    n, m, s_ = len(x), mean(x), sd(x)
    g = sum((v - m) ** 3 for v in x) / (n * s_**3)
    s = m / s_
    want = math.sqrt(n) * (s + g * s * s / 3 + g / (6 * n))
    res = stats.skewness_adjusted_t(np.array(x))
    assert res.statistic == pytest.approx(want, rel=1e-12)
    assert res.p_value == pytest.approx(p_t(want, n - 1), rel=1e-10)
    assert "Hall" in res.reference
