"""Bad input: each case gets a clear research.errors exception or a per-event reason."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from research.data import close_panel, load_prices, returns
from research.errors import (
    DuplicateEventError,
    EventStudyError,
    ResearchError,
    SpecificationError,
    UnknownTickerError,
)
from research.eventstudy import EstimationWindow, EventStudySpec, run_event_study


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    return returns(close_panel(load_prices(["MP", "SPY", "USAR", "LAC"], source="snapshot")))


def _one(ticker="MP", day0="2025-07-10", event_id="e1") -> pd.DataFrame:
    return pd.DataFrame({"event_id": [event_id], "ticker": [ticker], "day0": [pd.Timestamp(day0)]})


def test_event_window_overlapping_estimation_window():
    with pytest.raises(SpecificationError, match="overlaps the estimation window") as ei:
        EventStudySpec(windows=((-20, 0),))
    assert "EstimationWindow(end=-21)" in str(ei.value)  # the message names the fix


def test_reversed_window_bounds():
    with pytest.raises(SpecificationError, match=r"reversed bounds; write it as \(-1, 1\)"):
        EventStudySpec(windows=((1, -1),))


def test_unknown_model_and_factor_model_without_factors():
    with pytest.raises(SpecificationError, match="unknown model"):
        EventStudySpec(model="capm")
    with pytest.raises(SpecificationError, match="needs factors"):
        EventStudySpec(model="factor")
    with pytest.raises(SpecificationError, match="min_obs"):
        EstimationWindow(length=100, min_obs=120)


def test_market_proxy_missing_from_returns_panel(panel):
    with pytest.raises(UnknownTickerError, match="market proxy 'QQQ' is not in the returns data") as ei:
        run_event_study(_one(), EventStudySpec(market="QQQ"), returns=panel)
    assert "market='IWM'" in str(ei.value)
    assert isinstance(ei.value, ResearchError)


def test_market_proxy_missing_from_source():
    with pytest.raises(UnknownTickerError, match="NOSUCHPROXY"):
        run_event_study(_one(), EventStudySpec(market="NOSUCHPROXY"), source="snapshot")


def test_event_before_the_tickers_listing_is_skipped_with_reason():
    ev = pd.DataFrame({"event_id": ["usar24", "mp24"], "ticker": ["USAR", "MP"],
                       "date": ["2024-06-12", "2024-06-12"], "timing": ["pre_open", "pre_open"]})
    res = run_event_study(ev, source="snapshot")
    e = res.events.set_index("event_id")
    assert e.loc["usar24", "status"] == "skipped"
    assert "USAR has no returns before 2025-03" in e.loc["usar24", "reason"]
    assert e.loc["mp24", "status"] == "ok"  # not fatal for the rest
    assert res.car.loc[res.car["event_id"] == "usar24", "car"].isna().all()
    assert res.ar.loc["usar24"].isna().all()


def test_listed_too_recently_for_min_obs(panel):
    res = run_event_study(_one("USAR", "2025-07-10"), returns=panel)
    r = res.events.iloc[0]
    assert r["status"] == "skipped"
    assert "fewer than min_obs=120" in r["reason"] and "not listed" in r["reason"]
    ok = run_event_study(_one("USAR", "2025-07-10"),
                         EventStudySpec(estimation=EstimationWindow(min_obs=50)), returns=panel)
    assert ok.events["status"].iat[0] == "ok"


def test_all_nan_returns(panel):
    p = panel.copy()
    p["DEAD"] = np.nan
    res = run_event_study(pd.concat([_one("DEAD", event_id="dead"), _one("MP", event_id="mp")]),
                          returns=p)
    e = res.events.set_index("event_id")
    assert e.loc["dead", "status"] == "skipped"
    assert "are NaN" in e.loc["dead", "reason"] or "no returns at all" in e.loc["dead", "reason"]
    assert e.loc["mp", "status"] == "ok"


def test_zero_variance_market_returns(panel):
    p = panel.copy()
    p["FLAT"] = 0.0
    res = run_event_study(_one(), EventStudySpec(market="FLAT"), returns=p)
    r = res.events.iloc[0]
    assert r["status"] == "skipped"
    assert "zero variance" in r["reason"] and "market_adjusted" in r["reason"]
    # the market-adjusted model does not need a market variance
    ma = run_event_study(_one(), EventStudySpec(market="FLAT", model="market_adjusted"), returns=p)
    assert ma.events["status"].iat[0] == "ok"


def test_duplicate_event_ids():
    ev = pd.concat([_one(event_id="x"), _one(event_id="x")])
    with pytest.raises(DuplicateEventError, match=r"not unique: \['x'\]"):
        run_event_study(ev, source="snapshot")


def test_missing_columns_and_empty_table():
    with pytest.raises(EventStudyError, match="lacks column"):
        run_event_study(pd.DataFrame({"event_id": ["a"], "ticker": ["MP"]}))
    with pytest.raises(EventStudyError, match="empty"):
        run_event_study(pd.DataFrame(columns=["event_id", "ticker", "day0"]))


def test_day0_after_end_of_data_and_unknown_ticker(panel):
    ev = pd.concat([_one("MP", "2030-01-02", "late"), _one("ZZZZ", "2025-07-10", "zz")])
    res = run_event_study(ev, returns=panel)
    e = res.events.set_index("event_id")
    assert "after the end of the data" in e.loc["late", "reason"]
    assert "ZZZZ is not in the returns data" in e.loc["zz", "reason"]
    assert (res.events["status"] == "skipped").all()
    assert res.tests.empty


def test_intraday_on_a_weekend_is_a_per_event_calendar_reason():
    ev = pd.DataFrame({"event_id": ["sat", "ok"], "ticker": ["MP", "MP"],
                       "date": ["2025-07-12", "2025-07-10"], "timing": ["intraday", "pre_open"]})
    res = run_event_study(ev, source="snapshot")
    e = res.events.set_index("event_id")
    assert e.loc["sat", "status"] == "skipped" and e.loc["sat", "reason"].startswith("calendar:")
    assert e.loc["ok", "status"] == "ok"


def test_non_numeric_or_undated_returns_panel(panel):
    p = panel.copy()
    p["TXT"] = "x"
    with pytest.raises(EventStudyError, match=r"not numeric"):
        run_event_study(_one(), returns=p)
    with pytest.raises(EventStudyError, match="indexed by session dates"):
        run_event_study(_one(), returns=panel.reset_index(drop=True).set_axis(
            [f"row{i}" for i in range(len(panel))], axis=0))


def test_partial_estimation_window_is_flagged_but_estimated(panel):
    res = run_event_study(_one("USAR", "2025-10-03"), returns=panel)  # listed 2025-03
    r = res.events.iloc[0]
    assert r["status"] == "ok" and 120 <= r["n_obs"] < 250
    assert f"estimated on {r['n_obs']} of 250" in r["reason"]
