"""Engine vs an independent per-event computation on the real snapshot.

The independent side builds returns with plain pandas from ``load_prices`` (pivot +
``pct_change``), locates windows by counting session rows, fits each event with
``statsmodels.OLS`` and writes AR, CAR, BHAR and the CAR t-test out from the textbook
formulas (Campbell, Lo and MacKinlay 1997, ch. 4):

    AR_t   = R_t - (a + b Rm_t)
    CAR    = sum_t AR_t
    Var(CAR) = s^2 * 1' (I + X0 (X'X)^-1 X0') 1        (prediction-error covariance)
    BHAR   = prod(1 + R_t) - prod(1 + a + b Rm_t)
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats as sps

from research.data import events_frame, load_prices
from research.eventstudy import EstimationWindow, EventStudySpec, run_event_study
from research.errors import SpecificationError
from research.eventstudy.engine import expand_tickers
from research.eventstudy.result import AAR_COLUMNS, CAR_COLUMNS, EVENT_COLUMNS, TEST_COLUMNS

TICKERS = ["MP", "LAC", "GM", "AMD", "NVDA", "CRML", "TMQ", "RGTI", "SPY", "IWM"]


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    prices = load_prices(TICKERS, source="snapshot")
    wide = prices.pivot_table(index="date", columns="ticker", values="close", aggfunc="first")
    return wide.sort_index().pct_change(fill_method=None)


@pytest.fixture(scope="module")
def article_events() -> pd.DataFrame:
    ev = expand_tickers(events_frame())
    return ev[ev["ticker"].isin(TICKERS)].reset_index(drop=True)


def _independent(panel: pd.DataFrame, ticker: str, day0: pd.Timestamp, market: str,
                 windows, est=EstimationWindow()):
    pos = panel.index.get_loc(day0)
    est_rows = panel.iloc[pos + est.start: pos + est.end + 1]
    y = est_rows[ticker]
    x = est_rows[market]
    keep = y.notna() & x.notna()
    X = sm.add_constant(x[keep].to_numpy())
    res = sm.OLS(y[keep].to_numpy(), X).fit()
    a, b = res.params
    out = []
    for ws, we in windows:
        ev_rows = panel.iloc[pos + ws: pos + we + 1]
        r = ev_rows[ticker].to_numpy()
        rm = ev_rows[market].to_numpy()
        ar = r - (a + b * rm)
        car = ar.sum()
        x0 = np.column_stack([np.ones(len(rm)), rm])
        cov = res.scale * (np.eye(len(rm)) + x0 @ res.normalized_cov_params @ x0.T)
        se = np.sqrt(cov.sum())
        t = car / se
        p = 2 * sps.t.sf(abs(t), res.df_resid)
        bhar = np.prod(1 + r) - np.prod(1 + a + b * rm)
        out.append(dict(window_start=ws, window_end=we, car=car, car_se=se, t_stat=t,
                        p_value=p, bhar=bhar, ar=ar))
    return res, out


@pytest.mark.parametrize("market", ["SPY", "IWM"])
def test_engine_matches_statsmodels_per_event(panel, article_events, market):
    spec = EventStudySpec(market=market)
    res = run_event_study(article_events, spec, source="snapshot", volume=False)
    ok = res.events[(res.events["status"] == "ok") & (res.events["ticker"] != market)]
    assert len(ok) >= 15
    for row in ok.itertuples():
        fit, wins = _independent(panel, row.ticker, row.day0, market, spec.windows)
        assert row.alpha == pytest.approx(fit.params[0], abs=1e-10)
        assert row.beta == pytest.approx(fit.params[1], abs=1e-10)
        assert row.sigma == pytest.approx(np.sqrt(fit.scale), abs=1e-10)
        assert row.r2 == pytest.approx(fit.rsquared, abs=1e-10)
        assert row.n_obs == fit.nobs
        car = res.car[res.car["event_id"] == row.event_id]
        for w in wins:
            got = car[(car["window_start"] == w["window_start"]) & (car["window_end"] == w["window_end"])]
            assert len(got) == 1
            g = got.iloc[0]
            for k in ("car", "car_se", "t_stat", "bhar"):
                assert g[k] == pytest.approx(w[k], abs=1e-10), (row.event_id, w["window_start"], k)
            assert g["p_value"] == pytest.approx(w["p_value"], rel=1e-8, abs=1e-14)
            ar_row = res.ar.loc[row.event_id, w["window_start"]: w["window_end"]].to_numpy()
            np.testing.assert_allclose(ar_row, w["ar"], atol=1e-10, rtol=0)


def test_aar_is_the_mean_of_ok_event_ars(article_events):
    res = run_event_study(article_events, source="snapshot", volume=False)
    # events with zero residual variance (SPY against itself) cannot be standardised and
    # are left out of every aggregate
    ok = res.events[(res.events["status"] == "ok") & (res.events["sigma"] > 0)]
    # each (ticker, day 0) counts once: ev13/ev14/ev16 share MP on 2025-10-13, etc.
    ok_ids = ok.drop_duplicates(["ticker", "day0"])["event_id"]
    assert len(ok_ids) < len(ok)
    ar = res.ar.loc[ok_ids]
    np.testing.assert_allclose(res.aar["aar"].to_numpy(), ar.mean(axis=0).to_numpy(), atol=1e-14)
    np.testing.assert_allclose(res.aar["caar"].to_numpy(), ar.mean(axis=0).cumsum().to_numpy(),
                               atol=1e-14)
    assert (res.aar["n"].to_numpy() == ar.notna().sum(axis=0).to_numpy()).all()


def test_market_adjusted_and_mean_adjusted_by_hand(panel):
    day0 = pd.Timestamp("2025-07-10")
    ev = pd.DataFrame({"event_id": ["mp"], "ticker": ["MP"], "day0": [day0]})
    pos = panel.index.get_loc(day0)
    est = panel.iloc[pos - 260: pos - 10]
    r0 = panel["MP"].iloc[pos]
    rm0 = panel["SPY"].iloc[pos]
    ma = run_event_study(ev, EventStudySpec(model="market_adjusted", windows=((0, 0),)),
                         volume=False)
    assert ma.car["car"].iat[0] == pytest.approx(r0 - rm0, abs=1e-12)
    d = (est["MP"] - est["SPY"]).dropna()
    assert ma.events["sigma"].iat[0] == pytest.approx(d.std(ddof=1), abs=1e-12)
    me = run_event_study(ev, EventStudySpec(model="mean_adjusted", windows=((0, 0),)),
                         volume=False)
    mu = est["MP"].mean()
    s = est["MP"].std(ddof=1)
    n = est["MP"].count()
    assert me.car["car"].iat[0] == pytest.approx(r0 - mu, abs=1e-12)
    assert me.car["t_stat"].iat[0] == pytest.approx((r0 - mu) / (s * np.sqrt(1 + 1 / n)), abs=1e-9)


def test_factor_model_matches_statsmodels(panel):
    """Two 'factors' (SPY and IWM returns) plus an RF column: OLS of excess returns."""
    rf = pd.Series(0.0001, index=panel.index)
    factors = pd.DataFrame({"MKT": panel["SPY"] - rf, "SIZE": panel["IWM"] - panel["SPY"], "RF": rf})
    spec = EventStudySpec(model="factor", factors=factors, windows=((0, 0), (0, 5)))
    day0 = pd.Timestamp("2025-10-06")
    ev = pd.DataFrame({"event_id": ["amd"], "ticker": ["AMD"], "day0": [day0]})
    res = run_event_study(ev, spec, volume=False)
    pos = panel.index.get_loc(day0)
    est = slice(pos - 260, pos - 10)
    y = (panel["AMD"] - rf).iloc[est]
    X = sm.add_constant(factors[["MKT", "SIZE"]].iloc[est].to_numpy())
    fit = sm.OLS(y.to_numpy(), X).fit()
    assert res.events["alpha"].iat[0] == pytest.approx(fit.params[0], abs=1e-10)
    assert res.events["beta_SIZE"].iat[0] == pytest.approx(fit.params[2], abs=1e-10)
    assert tuple(res.events.columns) == EVENT_COLUMNS + ("beta_MKT", "beta_SIZE")
    x0 = np.column_stack([np.ones(6), factors[["MKT", "SIZE"]].iloc[pos: pos + 6].to_numpy()])
    ar = (panel["AMD"] - rf).iloc[pos: pos + 6].to_numpy() - x0 @ fit.params
    got = res.car.set_index("window_end")
    assert got.loc[5, "car"] == pytest.approx(ar.sum(), abs=1e-10)
    se = np.sqrt(fit.scale * (np.eye(6) + x0 @ fit.normalized_cov_params @ x0.T).sum())
    assert got.loc[5, "t_stat"] == pytest.approx(ar.sum() / se, abs=1e-9)


def test_log_returns_use_log_prices(panel):
    day0 = pd.Timestamp("2025-07-10")
    ev = pd.DataFrame({"event_id": ["mp"], "ticker": ["MP"], "day0": [day0]})
    res = run_event_study(ev, EventStudySpec(model="market_adjusted", return_type="log",
                                             windows=((0, 1),)), volume=False)
    pos = panel.index.get_loc(day0)
    r = np.log1p(panel["MP"].iloc[pos: pos + 2].to_numpy())
    rm = np.log1p(panel["SPY"].iloc[pos: pos + 2].to_numpy())
    assert res.car["car"].iat[0] == pytest.approx((r - rm).sum(), abs=1e-12)
    assert res.car["bhar"].iat[0] == pytest.approx(np.exp(r.sum()) - np.exp(rm.sum()), abs=1e-12)


def test_result_tables_shape_and_summary(article_events):
    res = run_event_study(article_events, source="snapshot", volume=False)
    n, w = len(article_events), len(res.spec.windows)
    assert list(res.events["event_id"]) == list(article_events["event_id"])
    assert len(res.car) == n * w
    assert len(res.to_frame()) == n * w
    assert res.ar.shape == (n, 26)
    # the tables' columns are the documented contract, in order
    assert tuple(res.events.columns) == EVENT_COLUMNS
    assert tuple(res.car.columns) == CAR_COLUMNS
    assert tuple(res.aar.columns) == AAR_COLUMNS and tuple(res.tests.columns) == TEST_COLUMNS
    text = str(res.summary())
    assert "Event study results" in text and "ev01_dod_mp_partnership:MP" in text
    assert "<table" in res.summary()._repr_html_()
    # CAAR in the header is the mean CAR of the estimated events for the shown window
    ok_ids = res.events.loc[res.events["status"] == "ok", "event_id"]
    w01 = res.car[(res.car["window_start"] == 0) & (res.car["window_end"] == 1)
                  & res.car["event_id"].isin(ok_ids)]
    assert f"{w01['car'].mean():.4f}" in str(res.summary(window=(0, 1)))
    with pytest.raises(SpecificationError, match="was not computed"):
        res.summary(window=(0, 3))


def test_repeated_firm_is_handled_per_event(panel):
    """MP is in several article events (ev01, ev05, ev11, ev12, ev13, ev14, ev16, ev23).

    Pins the repeated-firm bug of sipemu/EventStudy issue 7 (GitHub), where joining
    per-firm estimation results onto events by firm multiplied rows and inflated
    BMP/Patell/KP by about sqrt(events per firm): here every MP event has its own
    estimation window, sigma and standardisation, N rows in give N rows out, and the
    aggregate Patell and BMP statistics equal the ones computed by hand from the
    per-event inputs (independent statsmodels fits), each distinct (MP, day 0) once.
    """
    ev = expand_tickers(events_frame())
    mp = ev[ev["ticker"] == "MP"].reset_index(drop=True)
    n = len(mp)
    assert n >= 5
    res = run_event_study(mp, source="snapshot", volume=False)
    w = len(res.spec.windows)
    assert len(res.events) == n and len(res.ar) == n
    assert len(res.car) == n * w and len(res.to_frame()) == n * w
    assert res.events["event_id"].is_unique
    ok = res.events[res.events["status"] == "ok"].reset_index(drop=True)
    assert len(ok) >= 5
    # own sigma per distinct day 0 (events sharing a day 0 share the same window)
    by_day = ok.groupby("day0")["sigma"].agg(["nunique", "first"])
    assert (by_day["nunique"] == 1).all()
    assert by_day["first"].nunique() == len(by_day) >= 4
    # each event's fit equals the fit of that event run alone
    for row in ok.itertuples():
        alone = run_event_study(mp[mp["event_id"] == row.event_id], returns=panel,
                                volume=False).events.iloc[0]
        assert alone["sigma"] == row.sigma and alone["alpha"] == row.alpha
        assert alone["n_obs"] == row.n_obs
    # events repeating an earlier (ticker, day 0) keep their rows but count once in the
    # aggregates (otherwise MP on 2025-10-13, in ev13, ev14 and ev16, would count 3 times)
    dups = ok[ok.duplicated(["ticker", "day0"])]
    assert len(dups) >= 2
    assert dups["reason"].str.contains("counted once in the cross-sectional aggregates").all()
    # Patell and BMP on day 0 and on (-1, 1), by hand from per-event statsmodels inputs
    sar0, scar, dfs = [], [], []
    for row in ok.drop_duplicates(["ticker", "day0"]).itertuples():
        fit, wins = _independent(panel, row.ticker, row.day0, "SPY", [(0, 0), (-1, 1)])
        pos = panel.index.get_loc(row.day0)
        x0 = np.array([1.0, panel["SPY"].iloc[pos]])
        pe0 = 1.0 + x0 @ fit.normalized_cov_params @ x0
        sar0.append(wins[0]["car"] / np.sqrt(fit.scale * pe0))
        scar.append(wins[1]["car"] / wins[1]["car_se"])
        dfs.append(fit.df_resid)
    sar0, scar, dfs = map(np.asarray, (sar0, scar, dfs))
    den = np.sqrt(np.sum(dfs / (dfs - 2)))
    patell0, patell_w = sar0.sum() / den, scar.sum() / den
    bmp0 = sar0.mean() / (sar0.std(ddof=1) / np.sqrt(len(sar0)))
    bmp_w = scar.mean() / (scar.std(ddof=1) / np.sqrt(len(scar)))
    t = res.tests
    day0 = t[(t["scope"] == "day") & (t["day"] == 0)].set_index("test")["statistic"]
    win = t[(t["scope"] == "window") & (t["window_start"] == -1) & (t["window_end"] == 1)]
    win = win.set_index("test")["statistic"]
    assert day0["patell"] == pytest.approx(patell0, rel=1e-9)
    assert day0["bmp"] == pytest.approx(bmp0, rel=1e-9)
    assert win["patell"] == pytest.approx(patell_w, rel=1e-9)
    assert win["bmp"] == pytest.approx(bmp_w, rel=1e-9)


def test_vectorised_alignment_equals_align_event():
    """align_days (one searchsorted) gives exactly align_event's day 0 for every timing."""
    from research.data import align_event
    from research.data.calendar import TIMINGS
    from research.errors import CalendarError
    from research.eventstudy.engine import align_days

    days = pd.date_range("2023-11-20", "2024-01-10", freq="D").append(
        pd.date_range("2025-06-25", "2025-07-10", freq="D"))
    dates = [d for d in days for _ in TIMINGS] + ["2025-07-04", "not a date", "2025-07-10"]
    timings = [t for _ in days for t in TIMINGS] + ["intraday", "pre_open", "lunchtime"]
    day0, unc, err = align_days(pd.Series(dates, dtype=object), pd.Series(timings))
    for i, (d, t) in enumerate(zip(dates, timings, strict=True)):
        try:
            a = align_event(d, t)
        except CalendarError as exc:
            assert pd.isna(day0[i]) and err[i] == f"calendar: {exc}"
            continue
        assert day0[i] == a.day0 and unc[i] == a.uncertain and err[i] == ""
    assert err[-1].startswith("calendar:") and err[-2].startswith("calendar:")


@pytest.mark.parametrize("convention", ["textbook", "estudy2"])
def test_single_event_t_agrees_with_stats_module(article_events, convention):
    """The engine's CAR t (complete windows) equals stats.single_event_tests on the same inputs."""
    from research.eventstudy import models, stats
    from research.eventstudy.engine import align_matrices, load_return_panel, screen

    spec = EventStudySpec(convention=convention)
    res = run_event_study(article_events, spec, source="snapshot", volume=False)
    rets, _, _ = load_return_panel(list(article_events["ticker"]) + ["SPY"])
    col = pd.Index(rets.columns).get_indexer(article_events["ticker"])
    pos0 = rets.index.get_indexer(pd.DatetimeIndex(res.events["day0"]))
    al = align_matrices(rets.to_numpy(), rets[["SPY"]].to_numpy(), col, pos0, spec)
    ok, _ = screen(al, spec)
    fit = models.fit(al.y_est[ok], al.x_est[ok], "market", convention=convention)
    ar = models.abnormal(al.y_evt[ok], al.x_evt[ok], fit)
    inp = stats.BatteryInput(ar=ar, ar_est=fit.resid, sigma=fit.sigma,
                             pe=models.prediction_factor(al.x_evt[ok], fit), n_est=fit.n_obs,
                             n_params=fit.n_params, design_evt=models.design(al.x_evt[ok], fit),
                             xtx_inv=fit.xtx_inv)
    ids = res.events.loc[ok, "event_id"].to_numpy()
    tmin = spec.event_span[0]
    for a, b in spec.windows:
        ref = stats.single_event_tests(inp, a - tmin, b - tmin)
        got = res.car[(res.car["window_start"] == a) & (res.car["window_end"] == b)].set_index("event_id").loc[ids]
        complete = (ref["n_days"].to_numpy() == b - a + 1) & (fit.sigma > 0)  # SPY on SPY: sigma 0
        for k in ("car", "car_se", "t_stat", "p_value"):
            np.testing.assert_allclose(got[k].to_numpy()[complete], ref[k].to_numpy()[complete],
                                       rtol=1e-10, atol=1e-13)


@pytest.mark.reference
def test_engine_reproduces_estudy2_vignette_end_to_end(estudy2_reference):
    """The whole pipeline (day-0 rows, aligned matrices, convention switch, battery
    mapping of day indices to relative days) reproduces R estudy2's printed vignette
    values (``../shared/reference/estudy2/README.md``; GPL inputs read from there, never
    copied). R call: ``apply_market_model(rates, rates_indx, same_regressor_for_all=TRUE,
    market_model="sim", estimation_method="ols", estimation_start=2019-04-01,
    estimation_end=2020-03-13)`` then ``parametric_tests`` / ``nonparametric_tests`` on
    2020-03-16 .. 2020-03-20 and ``car_parametric_tests`` on the same window.
    """
    d = estudy2_reference
    rates = pd.read_csv(d / "rates.csv", index_col=0, parse_dates=True)
    indx = pd.read_csv(d / "rates_indx.csv", index_col=0, parse_dates=True).iloc[:, 0]
    panel = rates.assign(GSPC=indx)
    day0 = pd.Timestamp("2020-03-16")
    n_est = int(((panel.index >= "2019-04-01") & (panel.index <= "2020-03-13")).sum())
    spec = EventStudySpec(estimation=EstimationWindow(length=n_est, end=-1, min_obs=100),
                          windows=((0, 4),) + tuple((k, k) for k in range(5)), model="market",
                          market="GSPC", return_type="log", convention="estudy2")
    firms = list(rates.columns)
    ev = pd.DataFrame({"event_id": firms, "ticker": firms, "day0": [day0] * len(firms)})
    res = run_event_study(ev, spec, returns=panel)
    assert (res.events["status"] == "ok").all()
    expected = {
        "brown_warner_1980": ([2.486449, -3.370281, -1.726675, 8.188085, 6.233409], 6),
        "cross_sectional_t": ([1.3941497, -1.2769075, -0.4023135, 1.7958275, 5.1233281], 7),
        "patell": ([2.5507399, -2.9495613, 0.3283654, 8.4216222, 6.3196352], 7),
        "bmp": ([1.20471169, -1.17531339, 0.07606284, 2.16657728, 8.65212561], 8),
        "lamb": ([1.620049, -2.435456, -1.254626, 6.105794, 4.565195], 6),
        "corrado_rank": ([0.7962064, -0.1857202, 1.0205417, 2.1127972, 2.9255529], 7),
        "wilcoxon": ([23, 10, 15, 27, 28], 0),
    }
    days = res.tests[res.tests["scope"] == "day"]
    for name, (vals, dec) in expected.items():
        got = days[days["test"] == name].sort_values("day")
        assert list(got["day"]) == [0, 1, 2, 3, 4]
        np.testing.assert_allclose(got["statistic"].to_numpy(float), vals, atol=0.6 * 10**-dec, rtol=0)
    np.testing.assert_allclose(res.aar["aar"].to_numpy(),
                               [0.02329740, -0.03157867, -0.01617850, 0.07672027, 0.05840545],
                               atol=0.6e-8)
    win = res.tests[(res.tests["scope"] == "window") & (res.tests["window_end"] == 4)
                    & (res.tests["window_start"] == 0)].set_index("test")["statistic"]
    assert win["lamb"] == pytest.approx(3.846464, abs=0.6e-6)
    assert win["brown_warner_1985"] == pytest.approx(3.948093, abs=0.6e-6)
