"""Abnormal log volume (Campbell-Wasley 1996 style), checked by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from research.data import close_panel, load_prices
from research.eventstudy import EventStudySpec, aggregate_volume, run_event_study


@pytest.fixture(scope="module")
def prices() -> pd.DataFrame:
    return load_prices(["MP", "UAMY", "LAC", "SPY"], source="snapshot")


def test_abnormal_log_volume_by_hand(prices):
    ev = pd.DataFrame({"event_id": ["mp", "lac"], "ticker": ["MP", "LAC"],
                       "date": ["2025-07-10", "2025-09-23"], "timing": ["pre_open", "after_close"]})
    res = run_event_study(ev, source="snapshot")
    vol = close_panel(prices, field="volume")
    for eid, t, d0 in [("mp", "MP", "2025-07-10"), ("lac", "LAC", "2025-09-24")]:
        pos = vol.index.get_loc(pd.Timestamp(d0))
        v = np.log(1.0 + vol[t])
        est = v.iloc[pos - 260: pos - 10]
        m, s = est.mean(), est.std(ddof=1)
        rows = res.volume[res.volume["event_id"] == eid].set_index("day")
        for day in (-1, 0, 1, 5):
            expected = v.iloc[pos + day] - m
            assert rows.loc[day, "abnormal_log_volume"] == pytest.approx(expected, abs=1e-12)
            assert rows.loc[day, "sav"] == pytest.approx(expected / s, abs=1e-12)
            assert rows.loc[day, "volume"] == pytest.approx(vol[t].iloc[pos + day], rel=1e-12)
        assert rows.loc[0, "sav"] > 3


def test_close_only_ticker_reports_no_volume():
    ev = pd.DataFrame({"event_id": ["u"], "ticker": ["UAMY"], "date": ["2025-07-10"],
                       "timing": ["pre_open"]})
    res = run_event_study(ev, source="snapshot")
    assert res.events["status"].iat[0] == "ok"  # returns are fine
    v = res.volume
    assert (v["status"] == "skipped").all() and (v["reason"] == "no volume").all()
    assert v["sav"].isna().all()


def test_aggregate_volume_is_cross_sectional_t():
    ev = pd.DataFrame({"event_id": ["a", "b", "c"], "ticker": ["MP", "LAC", "UAMY"],
                       "date": ["2025-07-10", "2025-09-23", "2025-07-10"],
                       "timing": ["pre_open", "after_close", "pre_open"]})
    res = run_event_study(ev, EventStudySpec(windows=((0, 1),)), source="snapshot")
    agg = aggregate_volume(res.volume)
    ok = res.volume[res.volume["status"] == "ok"]
    x = ok[ok["day"] == 0]["sav"].to_numpy()
    assert agg.loc[0, "n"] == 2 == len(x)
    assert agg.loc[0, "t_stat"] == pytest.approx(x.mean() / (x.std(ddof=1) / np.sqrt(2)))


def test_volume_can_be_switched_off_or_passed_in(prices):
    ev = pd.DataFrame({"event_id": ["mp"], "ticker": ["MP"], "day0": [pd.Timestamp("2025-07-10")]})
    assert run_event_study(ev, volume=False).volume is None
    from research.data import returns
    rets = returns(close_panel(prices))
    assert run_event_study(ev, returns=rets).volume is None
    r = run_event_study(ev, returns=rets, volume=close_panel(prices, field="volume"))
    assert r.volume is not None and (r.volume["status"] == "ok").all()
