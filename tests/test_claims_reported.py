"""The reported-move parser on the real events.csv strings, and the comparison table."""

from __future__ import annotations

import math

import pytest

from research.claims.reported import (
    DISAGREEMENT_RULE,
    disagreement_threshold,
    parse_reported_move,
    reported_vs_computed,
)
from research.claims import load_article

ARTICLE = load_article()
EVENTS = {e.event_id: e for e in ARTICLE.events}


def parse(eid, ticker, day0):
    e = EVENTS[eid]
    p = parse_reported_move(e.reported_move, ticker, e.tickers, day0, ARTICLE.press_aliases)
    return None if p is None else p.pct


@pytest.mark.parametrize("eid, ticker, day0, expected", [
    ("ev01_dod_mp_partnership", "MP", "2025-07-10", 51.0),        # not the premarket +48%
    ("ev01_dod_mp_partnership", "USAR", "2025-07-10", None),      # "double-digit gains": no figure
    ("ev02_exim_loi_tanbreez", "CRML", "2025-06-16", 49.26),
    ("ev03_lac_stake_report", "LAC", "2025-09-24", 95.0),         # not the after-hours +81%
    ("ev03_lac_stake_report", "GM", "2025-09-24", 2.0),
    ("ev04_doe_lac_stake", "LAC", "2025-10-01", 23.0),            # 09-30 and after-hours skipped
    ("ev05_usar_whitehouse_talks", "USAR", "2025-10-03", 18.0),   # not the prior day's 23% nor premarket
    ("ev05_usar_whitehouse_talks", "MP", "2025-10-03", 4.0),
    ("ev06_crml_stake_report", "CRML", "2025-10-06", 45.24),      # not +75% premarket nor +109% intraday high
    ("ev07_openai_amd", "AMD", "2025-10-06", 23.71),
    ("ev07_openai_amd", "NVDA", "2025-10-06", None),              # "~-1% premarket"
    ("ev08_dow_trilogy_stake", "TMQ", "2025-10-07", 212.0),
    ("ev11_mofcom_rare_earth", "MP", "2025-10-09", 2.4),
    ("ev11_mofcom_rare_earth", "UUUU", "2025-10-09", None),       # CNBC intraday only
    ("ev12_trump_hostile_post", "SPY", "2025-10-10", -2.7),       # "S&P 500 -2.7%"
    ("ev12_trump_hostile_post", "IWM", "2025-10-10", -3.0),       # "Russell 2000 -3%"
    ("ev12_trump_hostile_post", "QQQ", "2025-10-10", None),       # Nasdaq Composite is not QQQ
    ("ev12_trump_hostile_post", "NVDA", "2025-10-10", -5.0),
    ("ev12_trump_hostile_post", "MP", "2025-10-10", 8.7),         # not the intraday +13-15%
    ("ev14_dla_1bn_stockpile", "UAMY", "2025-10-13", None),       # intraday (GMTEight)
    ("ev16_jpm_security_resiliency", "RGTI", "2025-10-13", 25.0),
    ("ev16_jpm_security_resiliency", "QBTS", "2025-10-13", None),  # Benzinga intraday
    ("ev17_openai_broadcom", "AVGO", "2025-10-13", 9.88),
    ("ev18_nvidia_openai", "NVDA", "2025-09-22", 3.97),
    ("ev18_nvidia_openai", "ORCL", "2025-09-22", 5.0),            # "gained nearly 5%"
    ("ev19_oracle_rpo_openai", "ORCL", "2025-09-10", 36.0),       # not "as much as 43% intraday"
    ("ev20_dwave_q1_2025", "QBTS", "2025-05-08", 50.0),
    ("ev22_rigetti_novera_orders", "QBTS", "2025-10-01", None),   # "+58% in calendar September"
])
def test_parser_on_real_strings(eid, ticker, day0, expected):
    assert parse(eid, ticker, day0) == expected


def test_parser_negative_words_and_empty():
    assert parse_reported_move("XYZ fell 4.5% on the day", "XYZ", ["XYZ"]).pct == -4.5
    assert parse_reported_move("", "XYZ", ["XYZ"]) is None
    assert parse_reported_move("XYZ 4.5%", "XYZ", ["XYZ"]) is None  # no sign, no verb


@pytest.fixture(scope="module")
def table():
    return reported_vs_computed(as_of="2025-10-15")


def test_table_excludes_post_article_events(table):
    assert "ev23_us_australia_framework" not in set(table["event_id"])


def test_table_flags_large_disagreements(table):
    assert table.attrs["disagreement_rule"] == DISAGREEMENT_RULE
    for r in table.itertuples():
        if math.isfinite(r.reported_pct) and math.isfinite(r.computed_pct):
            assert r.diff_pp == pytest.approx(r.computed_pct - r.reported_pct)
            # the documented rule, written out: max(1.5 pp, 25% of the reported move)
            bound = max(1.5, 0.25 * abs(r.reported_pct))
            assert r.threshold_pp == pytest.approx(bound)
            assert r.status == ("DISAGREES" if abs(r.diff_pp) > bound else "agrees")
    # well-documented closes agree with the data
    row = table[(table["event_id"] == "ev07_openai_amd") & (table["ticker"] == "AMD")].iloc[0]
    assert row.status == "agrees" and abs(row.diff_pp) < 0.1


def test_table_computed_return_is_close_to_close(table):
    from pathlib import Path

    import pandas as pd
    raw = pd.read_parquet(Path(__file__).resolve().parents[1] / "data" / "snapshot" / "prices.parquet")
    mp = raw[raw["ticker"] == "MP"].set_index("date")["close"]
    expected = (mp.loc["2025-07-10"] / mp.loc["2025-07-09"] - 1) * 100
    row = table[(table["event_id"] == "ev01_dod_mp_partnership") & (table["ticker"] == "MP")].iloc[0]
    assert row.computed_pct == pytest.approx(expected, rel=1e-12)


def test_disagreement_hint_points_at_a_neighbouring_day(table):
    import pandas as pd
    from pathlib import Path

    row = table[(table["event_id"] == "ev22_rigetti_novera_orders") & (table["ticker"] == "RGTI")].iloc[0]
    assert row.status == "DISAGREES"
    raw = pd.read_parquet(Path(__file__).resolve().parents[1] / "data" / "snapshot" / "prices.parquet")
    rg = raw[raw["ticker"] == "RGTI"].set_index("date")["close"]
    next_day = (rg.loc["2025-10-02"] / rg.loc["2025-10-01"] - 1) * 100
    if abs(next_day - row.reported_pct) <= row.threshold_pp:
        assert row.hint.startswith("matches the day +1 return")
    else:
        assert "no nearby day" in row.hint
    assert (table.loc[table["status"] != "DISAGREES", "hint"] == "").all()


@pytest.mark.parametrize(("reported", "bound"), [(4.0, 1.5), (0.0, 1.5), (6.0, 1.5), (-8.0, 2.0), (51.0, 12.75)])
def test_disagreement_threshold_is_relative_with_a_floor(reported, bound):
    assert disagreement_threshold(reported) == pytest.approx(bound)


def test_small_press_move_far_from_the_data_disagrees(table):
    """A small reported move that the data contradict is flagged, however small the gap in
    points: under the old flat 5-point rule +4% reported vs +0.8% computed 'agreed'."""
    small = table[(table["reported_pct"].abs() < 6) & table["computed_pct"].notna()]
    assert not small.empty
    for r in small.itertuples():
        assert (r.status == "DISAGREES") == (abs(r.computed_pct - r.reported_pct) > 1.5)


def test_table_of_an_article_with_no_event_before_its_as_of_date_is_empty():
    """An article whose catalogued events all come after the evaluation date has nothing to
    compare: an empty table with the usual columns, not a crash (as_of before every event
    of the shipped article)."""
    from research.claims import reported_vs_computed

    out = reported_vs_computed(as_of="2024-01-02")
    assert out.empty
    assert {"event_id", "ticker", "reported_pct", "computed_pct", "status"} <= set(out.columns)
