"""Portfolio (basket) approach: the basket is one event through the same engine."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from research.data import close_panel, load_prices, returns
from research.errors import EventStudyError, UnknownTickerError
from research.eventstudy import EventStudySpec, portfolio_event_study
from research.eventstudy.portfolio import basket_returns

MEMBERS = ["MP", "USAR", "METC", "UAMY", "UUUU", "CRML"]


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    return returns(close_panel(load_prices(MEMBERS + ["SPY"], source="snapshot")))


def test_basket_is_mean_of_available_members(panel):
    b, n = basket_returns(panel, MEMBERS)
    day = pd.Timestamp("2025-10-13")
    assert b.loc[day] == pytest.approx(panel.loc[day, MEMBERS].mean(), abs=1e-15)
    assert n.loc[day] == 6
    early = pd.Timestamp("2024-06-12")  # USAR not listed yet: mean of the other five
    assert n.loc[early] == 5
    assert b.loc[early] == pytest.approx(panel.loc[early, [m for m in MEMBERS if m != "USAR"]].mean())
    b_all, _ = basket_returns(panel, MEMBERS, require_all=True)
    assert np.isnan(b_all.loc[early]) and b_all.loc[day] == b.loc[day]


def test_basket_event_matches_statsmodels_on_the_basket_series(panel):
    res = portfolio_event_study(MEMBERS, "2025-10-13", "pre_open",
                                EventStudySpec(windows=((0, 0), (-1, 1))), returns=panel)
    assert len(res.events) == 1 and res.events["status"].iat[0] == "ok"
    b, _ = basket_returns(panel, MEMBERS)
    pos = panel.index.get_loc(pd.Timestamp("2025-10-13"))
    e = slice(pos - 260, pos - 10)
    fit = sm.OLS(b.iloc[e].to_numpy(), sm.add_constant(panel["SPY"].iloc[e].to_numpy())).fit()
    assert res.events["beta"].iat[0] == pytest.approx(fit.params[1], abs=1e-10)
    x0 = np.array([1.0, panel["SPY"].iloc[pos]])
    ar0 = b.iloc[pos] - x0 @ fit.params
    car = res.car.set_index("window_start")
    assert car.loc[0, "car"] == pytest.approx(ar0, abs=1e-12)
    assert car.loc[0, "t_stat"] == pytest.approx(
        ar0 / np.sqrt(fit.scale * (1 + x0 @ fit.normalized_cov_params @ x0)), abs=1e-9)
    # the late lister is documented in the notes
    assert any("USAR (first return 2025-03" in n for n in res.notes)


def test_require_all_with_a_late_lister_is_skipped_with_reason(panel):
    res = portfolio_event_study(MEMBERS, "2025-07-10", "pre_open", returns=panel, require_all=True)
    r = res.events.iloc[0]
    assert r["status"] == "skipped" and "min_obs" in r["reason"]


def test_log_returns_basket(panel):
    logp = np.log1p(panel)
    res = portfolio_event_study(["MP", "METC"], "2025-07-10", "pre_open",
                                EventStudySpec(return_type="log", model="market_adjusted",
                                               windows=((0, 0),)), returns=logp)
    pos = panel.index.get_loc(pd.Timestamp("2025-07-10"))
    b = panel[["MP", "METC"]].iloc[pos].mean()
    assert res.car["car"].iat[0] == pytest.approx(np.log1p(b) - np.log1p(panel["SPY"].iloc[pos]), abs=1e-12)


def test_bad_baskets(panel):
    with pytest.raises(UnknownTickerError, match="NOPE"):
        portfolio_event_study(["MP", "NOPE"], "2025-07-10", returns=panel)
    with pytest.raises(EventStudyError, match="not unique"):
        portfolio_event_study(["MP", "MP"], "2025-07-10", returns=panel)
    with pytest.raises(EventStudyError, match="at least one"):
        portfolio_event_study([], "2025-07-10", returns=panel)


def test_from_snapshot_with_placebo():
    res = portfolio_event_study("MP USAR METC UAMY", "2025-07-10", "pre_open",
                                placebo_draws=100, seed=3)
    c = res.car.set_index(["window_start", "window_end"]).loc[(0, 0)]
    assert c["car"] > 0.1 and 0 < c["p_placebo"] <= 1
