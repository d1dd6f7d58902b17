"""Hall's skewness-corrected t on the BHAR cross-section, zero-variance events kept out of
the aggregates, and bad placebo settings (issue 3)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import research.data as d
from research.errors import SpecificationError
from research.eventstudy import EventStudySpec, expand_tickers, run_event_study


@pytest.fixture(scope="module")
def article_result():
    return run_event_study(expand_tickers(d.events_frame()), EventStudySpec())


def _hall_by_hand(x: np.ndarray) -> float:
    """Hall (1992) as in Lyon, Barber and Tsai (1999), eq. (5), written out."""
    x = x[np.isfinite(x)]
    n = len(x)
    mean = sum(x) / n
    sd = (sum((v - mean) ** 2 for v in x) / (n - 1)) ** 0.5
    s = mean / sd
    gamma = sum((v - mean) ** 3 for v in x) / (n * sd**3)
    return n**0.5 * (s + gamma * s * s / 3 + gamma / (6 * n))


def _aggregated(res):
    ev = res.events.set_index("event_id")
    counted = (ev["status"] == "ok") & ~ev["reason"].fillna("").str.contains("left out|counted once")
    return counted[counted].index


@pytest.mark.parametrize("window", [(0, 5), (-5, 5), (0, 20)])
def test_bhar_skewness_matches_hand_computation(article_result, window):
    res = article_result
    car = res.car[(res.car["window_start"] == window[0]) & (res.car["window_end"] == window[1])]
    bhar = car.set_index("event_id").loc[_aggregated(res), "bhar"].to_numpy()
    t = res.tests
    row = t[(t["test"] == "skewness_corrected_bhar") & (t["window_start"] == window[0])
            & (t["window_end"] == window[1])]
    assert len(row) == 1
    assert row["statistic"].iloc[0] == pytest.approx(_hall_by_hand(bhar), rel=1e-10)


def test_one_day_bhar_equals_car_so_both_hall_tests_agree(article_result):
    t = article_result.tests
    w = t[(t["scope"] == "window") & (t["window_start"] == 0) & (t["window_end"] == 0)].set_index("test")
    assert w.loc["skewness_corrected_bhar", "statistic"] == pytest.approx(w.loc["skewness_corrected", "statistic"],
                                                                         rel=1e-12)


def test_market_proxy_against_itself_is_left_out_of_aggregates(article_result):
    ev = article_result.events
    spy = ev[ev["ticker"] == "SPY"]
    assert len(spy) > 0 and (spy["sigma"] == 0).all()
    assert spy["reason"].str.contains("left out of the cross-sectional aggregates").all()
    n_aggregated = len(_aggregated(article_result))
    assert int(article_result.aar.loc[0, "n"]) == n_aggregated


@pytest.mark.parametrize("draws", [-5, 2.5, "100", True])
def test_bad_placebo_draws_is_a_specification_error(draws):
    ev = pd.DataFrame({"event_id": ["mp"], "ticker": ["MP"], "date": ["2025-07-10"], "timing": ["pre_open"]})
    with pytest.raises(SpecificationError, match="placebo_draws"):
        run_event_study(ev, placebo_draws=draws)


def test_impossible_date_is_a_reason_without_a_pandas_warning():
    ev = pd.DataFrame({"event_id": ["bad", "ok"], "ticker": ["MP", "MP"],
                       "date": ["2025-02-30", "2025-07-10"], "timing": ["pre_open", "pre_open"]})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = run_event_study(ev)
    reasons = res.events.set_index("event_id")["reason"]
    assert "not a date" in reasons["bad"]


def test_car_path_is_the_cumulated_ar_with_the_window_standard_error(article_result):
    res = article_result
    tmin, tmax = res.spec.event_span
    car_path, se_path = res.car_path["car"], res.car_path["car_se"]
    ok = res.events.loc[res.events["status"] == "ok", "event_id"]
    # CAR path = running sum of the event's ARs (NaN from a missing day on)
    for eid in ok[:20]:
        ar = res.ar.loc[eid].sort_index()
        by_hand = ar.cumsum().where(ar.notna().cumprod().astype(bool))
        np.testing.assert_allclose(car_path.loc[eid].to_numpy(), by_hand.to_numpy(), rtol=1e-12)
    # and its standard error is the one the window t-test uses for windows starting at tmin
    car = res.car[res.car["window_start"] == tmin]
    assert not car.empty
    for r in car.itertuples(index=False):
        if np.isfinite(r.car):
            assert car_path.loc[r.event_id, r.window_end] == pytest.approx(r.car, rel=1e-12)
            assert se_path.loc[r.event_id, r.window_end] == pytest.approx(r.car_se, rel=1e-12)
    assert car_path.shape == (len(res.events), tmax - tmin + 1)
