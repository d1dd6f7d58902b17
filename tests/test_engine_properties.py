"""Property tests (hypothesis) of the engine on the real snapshot."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from research.data import close_panel, events_frame, load_prices, returns
from research.eventstudy import EventStudySpec, run_event_study
from research.eventstudy.engine import expand_tickers

TICKERS = ["MP", "LAC", "CRML", "TMQ", "AMD", "NVDA", "RGTI", "QBTS", "JPM", "SPY"]
SETTINGS = settings(max_examples=12, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def prices() -> pd.DataFrame:
    return load_prices(TICKERS, source="snapshot")


@pytest.fixture(scope="module")
def panel(prices) -> pd.DataFrame:
    return returns(close_panel(prices))


@pytest.fixture(scope="module")
def events() -> pd.DataFrame:
    ev = expand_tickers(events_frame())
    return ev[ev["ticker"].isin(TICKERS) & (ev["ticker"] != "SPY")].reset_index(drop=True)


def _key_tests(res) -> pd.DataFrame:
    t = res.tests.copy()
    t["k"] = (t["test"] + "|" + t["scope"] + "|" + t["day"].astype("str") + "|"
              + t["window_start"].astype("str") + "|" + t["window_end"].astype("str"))
    return t.set_index("k").sort_index()


@SETTINGS
@given(u=st.floats(min_value=0.0, max_value=1.0), log=st.booleans())
def test_stock_equal_to_market_has_zero_ar_market_adjusted(panel, u, log):
    last = panel.index.get_loc(panel["SPY"].last_valid_index())
    pos = int(270 + u * (last - 20 - 270))
    p = panel.copy()
    p["COPY"] = p["SPY"]
    if log:
        p = np.log1p(p)
    ev = pd.DataFrame({"event_id": ["c"], "ticker": ["COPY"], "day0": [p.index[pos]]})
    spec = EventStudySpec(model="market_adjusted", return_type="log" if log else "simple")
    res = run_event_study(ev, spec, returns=p)
    ar = res.ar.iloc[0].dropna().to_numpy()
    assert ar.size > 0
    assert np.abs(ar).max() <= 1e-15
    assert np.abs(res.car["car"].dropna().to_numpy()).max() <= 1e-14


@SETTINGS
@given(perm_seed=st.integers(min_value=0, max_value=2**32 - 1))
def test_permuting_events_leaves_every_aggregate_unchanged(panel, events, perm_seed):
    base = run_event_study(events, returns=panel)
    perm = np.random.default_rng(perm_seed).permutation(len(events))
    res = run_event_study(events.iloc[perm].reset_index(drop=True), returns=panel)
    # per-event rows follow the input order but are the same rows (the reason text may
    # name a different first event among repeats of the same ticker and day 0)
    pd.testing.assert_frame_equal(
        res.events.drop(columns="reason").set_index("event_id").sort_index(),
        base.events.drop(columns="reason").set_index("event_id").sort_index())
    pd.testing.assert_frame_equal(res.ar.sort_index(), base.ar.sort_index(), rtol=0, atol=0)
    # aggregates: AAR/CAAR and every cross-sectional test
    pd.testing.assert_frame_equal(res.aar, base.aar, rtol=1e-12, atol=1e-15)
    a, b = _key_tests(res), _key_tests(base)
    assert list(a.index) == list(b.index) and len(a) > 0
    np.testing.assert_allclose(a["statistic"].to_numpy(float), b["statistic"].to_numpy(float),
                               rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(a["p_value"].to_numpy(float), b["p_value"].to_numpy(float),
                               rtol=1e-9, atol=1e-12)


@SETTINGS
@given(seed=st.integers(min_value=0, max_value=2**32 - 1))
def test_row_order_of_price_data_does_not_matter(prices, events, seed):
    base = run_event_study(events, returns=returns(close_panel(prices)))
    shuffled = prices.sample(frac=1.0, random_state=seed % (2**32 - 1)).reset_index(drop=True)
    res = run_event_study(events, returns=returns(close_panel(shuffled)))
    pd.testing.assert_frame_equal(res.events, base.events)
    pd.testing.assert_frame_equal(res.car, base.car)
    pd.testing.assert_frame_equal(res.aar, base.aar)
    # and a returns panel with shuffled rows
    pnl = returns(close_panel(prices))
    res2 = run_event_study(events, returns=pnl.sample(frac=1.0, random_state=seed % 1000))
    pd.testing.assert_frame_equal(res2.car, base.car)


@SETTINGS
@given(c=st.floats(min_value=-0.02, max_value=0.02, allow_nan=False).filter(lambda v: abs(v) > 1e-6),
       which=st.integers(min_value=0, max_value=5))
def test_adding_a_constant_changes_alpha_only(panel, events, c, which):
    ev = events[events["ticker"] != "SPY"].iloc[[which]].reset_index(drop=True)
    t = ev["ticker"].iat[0]
    base = run_event_study(ev, returns=panel)
    p = panel.copy()
    p[t] = p[t] + c
    res = run_event_study(ev, returns=p)
    b, r = base.events.iloc[0], res.events.iloc[0]
    assert r["alpha"] == pytest.approx(b["alpha"] + c, abs=1e-12)
    for k in ("beta", "sigma", "r2"):
        assert r[k] == pytest.approx(b[k], rel=1e-9, abs=1e-12)
    np.testing.assert_allclose(res.ar.to_numpy(), base.ar.to_numpy(), atol=1e-12)
    np.testing.assert_allclose(res.car["car"], base.car["car"], atol=1e-12)
    np.testing.assert_allclose(res.car["t_stat"], base.car["t_stat"], rtol=1e-8, atol=1e-10)
