"""Confounders: other catalogued events inside an event window (2025-10-13 cluster)."""

from __future__ import annotations

import pandas as pd

from research.claims import EvalParams, evaluate
from research.claims.confounding import find_confounders, separation_notes
from research.claims.studies import day0_table


#: the shipped article's market-wide tickers (article.yaml market_tickers)
MARKET = ("SPY", "QQQ", "IWM")


def test_market_tickers_come_from_the_article():
    from research.claims import load_article

    assert load_article().market_tickers == MARKET


def _targets(*rows):
    return pd.DataFrame([{"event_id": e, "ticker": t, "window_start": a, "window_end": b} for e, t, a, b in rows])


def test_2025_10_13_cluster_for_the_jpm_event_and_mp():
    ev = day0_table()
    conf = find_confounders(_targets(("ev16_jpm_security_resiliency", "MP", 0, 0)), ev, market_tickers=MARKET)
    assert set(conf["other_event_id"]) == {"ev13_trump_100pct_tariff", "ev14_dla_1bn_stockpile",
                                           "ev15_trump_sunday_softening"}
    assert conf["same_day0"].all()
    assert (conf["other_day0"] == pd.Timestamp("2025-10-13")).all()
    scope = dict(zip(conf["other_event_id"], conf["scope"], strict=True))
    assert scope["ev14_dla_1bn_stockpile"] == "same ticker"
    assert scope["ev15_trump_sunday_softening"] == "market-wide"
    notes = separation_notes(conf, ev)
    assert len(notes) == 1 and "cannot separate" in notes[0] and "2025-10-13" in notes[0]


def test_avgo_on_2025_10_13_is_confounded_by_market_wide_news_only():
    conf = find_confounders(_targets(("ev17_openai_broadcom", "AVGO", 0, 0)), day0_table(), market_tickers=MARKET)
    assert find_confounders(_targets(("ev17_openai_broadcom", "AVGO", 0, 0)), day0_table()).empty
    assert set(conf["other_event_id"]) == {"ev13_trump_100pct_tariff", "ev15_trump_sunday_softening"}
    assert set(conf["scope"]) == {"market-wide"}


def test_basket_members_and_longer_windows():
    ev = day0_table()
    conf = find_confounders(_targets(("ev11_mofcom_rare_earth", "basket:x", 0, 1)), ev,
                            members={"basket:x": ("MP", "USAR")})
    # day +1 is 2025-10-10: Trump's post (ev12) names MP and the market
    assert list(conf["other_event_id"]) == ["ev12_trump_hostile_post"]
    assert not conf["same_day0"].any()
    assert "fall inside the longer event windows" in separation_notes(conf, ev)[0]


def test_an_isolated_event_has_no_confounders():
    conf = find_confounders(_targets(("ev01_dod_mp_partnership", "MP", 0, 0)), day0_table())
    assert conf.empty


def test_c1_verdict_lists_and_explains_the_cluster():
    v = evaluate("C1", EvalParams(placebo_draws=0))
    basket = v.confounders[v.confounders["ticker"] == "basket:security"]
    assert {"ev13_trump_100pct_tariff", "ev14_dla_1bn_stockpile", "ev15_trump_sunday_softening"} <= set(
        basket["other_event_id"])
    assert any("cannot separate" in n for n in v.notes)
    # the registry caps a verdict resting on the shared day 0 at "partly supported"
    assert v.verdict in ("partly supported", "not supported")
