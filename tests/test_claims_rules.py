"""Verdict rules on constructed evidence tables: both sides of every threshold."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from research.claims.rules import judge_basket, judge_growth, judge_pairs, judge_rolling, row_significance

NAN = float("nan")


def rows(*specs, window=(0, 0)):
    """specs: (event, ticker, car, p_value, p_placebo)."""
    return pd.DataFrame([{"event_id": e, "ticker": t, "car": c, "t_stat": 1.0, "p_value": p, "p_placebo": q,
                          "window_start": window[0], "window_end": window[1]} for e, t, c, p, q in specs])


@pytest.mark.parametrize("car, p, q, expected", [
    (0.05, 0.049, 0.049, "supported"),
    (0.05, 0.051, 0.049, "partly supported"),
    (0.05, 0.049, 0.051, "partly supported"),
    (0.05, 0.051, 0.051, "not supported"),
    (-0.05, 0.001, 0.001, "not supported"),
    (0.0, 0.001, 0.001, "not supported"),
])
def test_basket_rule_thresholds(car, p, q, expected):
    j = judge_basket(rows(("ev", "basket:x", car, p, q)), alpha=0.05, window=(0, 0))
    assert j.verdict == expected
    assert j.key_numbers["ev.basket_car"] == car


def test_basket_rule_alpha_is_the_threshold():
    r = rows(("ev", "b", 0.05, 0.02, 0.02))
    assert judge_basket(r, alpha=0.05, window=(0, 0)).verdict == "supported"
    assert judge_basket(r, alpha=0.01, window=(0, 0)).verdict == "not supported"


def test_basket_rule_market_must_fall():
    r = rows(("ev", "b", 0.05, 0.01, 0.01))
    fell = judge_basket(r, alpha=0.05, window=(0, 0), market_returns={"ev": -0.027}, market_must_fall=True)
    rose = judge_basket(r, alpha=0.05, window=(0, 0), market_returns={"ev": 0.001}, market_must_fall=True)
    assert fell.verdict == "supported" and fell.key_numbers["ev.market_return_day0"] == -0.027
    assert rose.verdict == "partly supported"
    assert any("did not fall" in x for x in rose.reasons)


def test_basket_rule_unavailable_placebo_is_decided_on_the_other_test():
    j = judge_basket(rows(("ev", "b", 0.05, 0.01, NAN)), alpha=0.05, window=(0, 0))
    assert j.verdict == "supported"
    assert any("placebo test unavailable" in x for x in j.reasons)
    assert judge_basket(rows(("ev", "b", 0.05, NAN, NAN)), alpha=0.05, window=(0, 0)).verdict == "not supported"


def test_basket_rule_without_rows_is_not_testable():
    assert judge_basket(rows(), alpha=0.05, window=(0, 0)).verdict == "not testable with price data"


def test_missing_car_is_missing_evidence_not_a_failed_test():
    good = ("ev1", "AAA", 0.05, 0.01, 0.01)
    lost = ("ev2", "BBB", NAN, NAN, NAN)  # the pair could not be estimated
    alone = judge_pairs(rows(good), alpha=0.05)
    both = judge_pairs(rows(good, lost), alpha=0.05)
    only_lost = judge_pairs(rows(lost), alpha=0.05)
    assert alone.verdict == "supported"
    assert both.verdict == "partly supported"  # capped: half the evidence is missing
    assert any("1 of 2 rows could not be estimated (BBB on ev2)" in r for r in both.reasons)
    assert both.key_numbers["pairs_not_estimated"] == 1 and both.key_numbers["pairs"] == 1
    assert only_lost.verdict == "not testable with price data"
    bad = ("ev2", "BBB", -0.05, 0.01, 0.01)  # estimated, and against the claim
    assert judge_pairs(rows(good, bad), alpha=0.05).verdict == "partly supported"
    assert judge_basket(rows(lost), alpha=0.05, window=(0, 0)).verdict == "not testable with price data"


def test_no_test_available_is_said_plainly():
    j = judge_pairs(rows(("ev", "AAA", 0.05, NAN, NAN)), alpha=0.05)
    assert j.verdict == "not supported"
    assert any("no test available" in r for r in j.reasons)


def test_pairs_rule_all_some_none():
    good = ("e1", "A", 0.2, 0.001, 0.001)
    one_test = ("e2", "B", 0.03, 0.04, 0.2)
    bad = ("e3", "C", 0.01, 0.6, 0.7)
    neg = ("e4", "D", -0.1, 0.001, 0.001)
    assert judge_pairs(rows(good, good), alpha=0.05).verdict == "supported"
    j = judge_pairs(rows(good, one_test, bad, neg), alpha=0.05)
    assert j.verdict == "partly supported"
    assert (j.key_numbers["pairs_significant_all_tests"], j.key_numbers["pairs_significant_any_test"]) == (1, 2)
    assert judge_pairs(rows(one_test), alpha=0.05).verdict == "partly supported"
    assert judge_pairs(rows(bad, neg), alpha=0.05).verdict == "not supported"


def test_row_significance():
    s = row_significance({"car": 0.1, "p_value": 0.01, "p_placebo": 0.2}, 0.05, ("parametric", "placebo"))
    assert s["positive"] and s["rejected"] == ["parametric"] and s["any_reject"] and not s["all_reject"]


@pytest.mark.parametrize("rgti, qbts, expected", [
    (1.01, 1.01, "supported"),
    (1.01, 0.99, "partly supported"),
    (0.99, 1.01, "partly supported"),
    (1.0, 1.0, "not supported"),  # "more than 100%": exactly +100% does not count
    (0.5, np.nan, "not supported"),
])
def test_rolling_rule(rgti, qbts, expected):
    t = pd.DataFrame({"max_return": [rgti, qbts], "max_end": pd.to_datetime(["2025-10-14", "2025-10-15"])},
                     index=["RGTI", "QBTS"])
    j = judge_rolling(t, required=["RGTI", "QBTS"], threshold=1.0, lookback_sessions=30, horizon=21)
    assert j.verdict == expected


def test_growth_rule_c9_numbers():
    j = judge_growth(15.0, 2.5, 509.0, threshold_pct=500)
    assert j.verdict == "supported"
    assert j.key_numbers["growth_pct_from_revenues"] == pytest.approx((15.0 - 2.5) / 2.5 * 100)
    assert j.key_numbers["growth_pct_from_revenues"] == pytest.approx(500.0)


@pytest.mark.parametrize("cur, prior, reported, expected", [
    (15.0, 2.5, 499.0, "not supported"),
    (15.0, 2.5, None, "not supported"),   # exactly 500% from rounded figures is not "more than 500%"
    (15.1, 2.5, None, "supported"),
    (15.0, 2.5, 560.0, "partly supported"),  # reported and computed growth disagree by > 10 pp
    (15.0, 0.0, 509.0, "not testable with price data"),    # unusable figures: not testable
    (float("nan"), 2.5, 509.0, "not testable with price data"),
    (None, 2.5, None, "not testable with price data"),
])
def test_growth_rule_thresholds(cur, prior, reported, expected):
    assert judge_growth(cur, prior, reported, threshold_pct=500).verdict == expected


def test_basket_rule_confounded_event_gives_at_most_partly():
    primary = rows(("ev12", "b", 0.03, 0.4, 0.3))
    surge = rows(("ev14", "b", 0.18, 0.001, 0.001))
    weak = rows(("ev14", "b", 0.18, 0.001, 0.2))
    j = judge_basket(primary, alpha=0.05, window=(0, 0), confounded=surge)
    assert j.verdict == "partly supported" and j.key_numbers["ev14.basket_car"] == 0.18
    assert any("cannot be attributed" in r for r in j.reasons)
    assert judge_basket(primary, alpha=0.05, window=(0, 0), confounded=weak).verdict == "not supported"
    # a primary success is not upgraded beyond "supported" nor downgraded by the confounded day
    ok = rows(("ev12", "b", 0.05, 0.01, 0.01))
    assert judge_basket(ok, alpha=0.05, window=(0, 0), confounded=weak).verdict == "supported"
