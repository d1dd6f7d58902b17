"""evaluate(): verdict schema, JSON round trip, determinism, notes on the article's facts."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from research.claims import VERDICTS, EvalParams, Verdict, evaluate
from research.claims.verdict import EVIDENCE_COLUMNS
from research.errors import ClaimError, ParameterError

FAST = EvalParams(placebo_draws=100)
REQUIRED = {"claim_id", "verdict", "rule", "data_source", "as_of", "parameters", "evidence", "key_numbers",
            "title", "notes", "confounders"}
ROW = {"event_id", "ticker", "day0", "window", "car", "bhar", "t_stat", "p_value", "p_placebo"}


@pytest.fixture(scope="module")
def c2():
    return evaluate("C2", FAST)


def test_verdict_schema_and_json_round_trip(c2):
    assert isinstance(c2, Verdict) and c2.verdict in VERDICTS
    d = c2.to_dict()
    assert REQUIRED <= set(d)
    text = json.dumps(d, allow_nan=False)
    assert json.loads(text) == d
    for row in d["evidence"]:
        assert ROW <= set(row)
        assert isinstance(row["window"], list) and len(row["window"]) == 2
        assert isinstance(row["day0"], str) and len(row["day0"]) == 10
    assert d["parameters"]["event_windows"] == [[0, 0], [0, 1], [-1, 1], [0, 5]]
    assert d["as_of"] == "2025-10-15"
    assert list(c2.evidence.columns[: len(EVIDENCE_COLUMNS)]) == list(EVIDENCE_COLUMNS)


def test_floats_are_rounded_to_six_decimals(c2):
    for row in c2.to_dict()["evidence"]:
        for k in ("car", "bhar", "t_stat", "p_value"):
            v = row[k]
            if v is not None:
                assert round(v, 6) == v


def test_evaluate_twice_gives_identical_json():
    a = json.dumps(evaluate("C13", EvalParams()).to_dict(), sort_keys=True)
    b = json.dumps(evaluate("C13", EvalParams()).to_dict(), sort_keys=True)
    assert a == b


def test_basket_verdict_follows_its_rule_from_the_evidence(c2):
    row = c2.evidence[(c2.evidence["ticker"] == "basket:rare_earth") & (c2.evidence["window_start"] == 0)
                      & (c2.evidence["window_end"] == 0)].iloc[0]
    both = row.car > 0 and row.p_value < FAST.alpha and row.p_placebo < FAST.alpha
    one = row.car > 0 and (row.p_value < FAST.alpha or row.p_placebo < FAST.alpha)
    assert c2.verdict == ("supported" if both else "partly supported" if one else "not supported")
    assert c2.key_numbers["ev11_mofcom_rare_earth.basket_car"] == row.car


def test_basket_car_is_the_mean_of_member_returns_minus_expected():
    """The basket is one security whose return is the members' mean return: its day-0 raw return
    equals the mean of the members' day-0 returns (checked from the snapshot file)."""
    from pathlib import Path

    v = evaluate("C11", EvalParams(placebo_draws=0))
    st = v.figures.study
    raw = pd.read_parquet(Path(__file__).resolve().parents[1] / "data" / "snapshot" / "prices.parquet")
    px = raw[raw["ticker"].isin(["RGTI", "QBTS", "IONQ", "QUBT"])].pivot(index="date", columns="ticker", values="close")
    r = px.pct_change(fill_method=None).loc["2025-10-07"]
    assert st.returns.loc["2025-10-07", "basket:quantum"] == pytest.approx(r.mean(), rel=1e-12)


def test_context_claims_are_not_testable_with_reason():
    for cid in ("C4", "C10", "C12", "C14", "C15"):
        v = evaluate(cid, FAST)
        assert v.verdict == "not testable with price data"
        assert "Reason:" in v.rule
        assert v.to_dict()["evidence"] == []


def test_c9_growth_and_notes():
    v = evaluate("C9", FAST)
    assert v.key_numbers["growth_pct_from_revenues"] == pytest.approx((15.0 - 2.5) / 2.5 * 100)
    assert v.key_numbers["growth_pct_reported"] == 509.0
    assert v.verdict == "supported"
    text = " ".join(v.notes)
    assert "509" in text and "rounding" in text and "$3.1m" in text
    rows = v.evidence[(v.evidence["window_start"] == -1) & (v.evidence["window_end"] == 1)]
    assert list(rows["ticker"]) == ["QBTS"]  # timing unknown -> widened to (-1, +1)


def test_fact_notes_flag_the_article_errors():
    notes = {cid: " ".join(evaluate(cid, FAST).notes) for cid in ("C3", "C5", "C13", "C14")}
    assert "Defense Logistics Agency" in notes["C3"]
    assert "Nevada" in notes["C5"] and "2025-06-16" in notes["C5"]
    assert "30.5 GW" in notes["C13"] and "does not include Oracle" in notes["C13"]
    assert "unverified" in notes["C14"]


def test_c5_is_capped_by_the_fact_errors():
    v = evaluate("C5", FAST)
    assert v.verdict in ("partly supported", "not supported")
    if v.key_numbers["pairs_significant_all_tests"] == v.key_numbers["pairs"]:
        assert any("capped" in n for n in v.notes)


def test_post_article_event_is_excluded(tmp_path):
    from research.claims import load_article
    from research.claims.registry import Claim
    from research.claims.rules import PairsCarRule
    from research.claims.studies import run_claim_study

    art = load_article()
    c = Claim(id="C99", title="t", summary="s", quote=("x",), quote_language="en", kind="event",
              events=("ev23_us_australia_framework", "ev01_dod_mp_partnership"), tickers=("MP",), pairs=(),
              basket="", basket_tickers=(), windows=((0, 0),), spec={}, facts=(),
              rule=PairsCarRule(text="t", window=(0, 0)), notes=())
    st = run_claim_study(c, EvalParams(placebo_draws=0).resolve(art), article=art)
    assert [e for e, _ in st.excluded] == ["ev23_us_australia_framework"]
    assert set(st.evidence["event_id"]) == {"ev01_dod_mp_partnership"}
    assert any("ev23_us_australia_framework excluded" in n for n in st.notes)


def test_parameters_change_the_numbers_and_are_recorded():
    a = evaluate("C6", EvalParams(placebo_draws=0, model="market_adjusted"))
    b = evaluate("C6", EvalParams(placebo_draws=0, placebo_method="resample"))
    car_a = a.evidence.query("window_start == 0 and window_end == 0")["car"].iloc[0]
    car_b = b.evidence.query("window_start == 0 and window_end == 0")["car"].iloc[0]
    assert not np.isclose(car_a, car_b)
    assert a.parameters.model == "market_adjusted" and a.specification.model == "market_adjusted"
    assert a.specification.overrides == ()
    assert any("placebo test was not run" in n for n in b.notes)  # resampling with no draws
    assert b.evidence["p_placebo"].isna().all() and a.evidence["p_placebo"].notna().any()  # exact: always run


def test_bad_inputs():
    with pytest.raises(ClaimError):
        evaluate("C42", FAST)
    with pytest.raises(ParameterError):
        evaluate("C6", {"alpha": 2})
    # offline, an unknown proxy is caught when the parameters are built, before any study
    with pytest.raises(ParameterError, match="NOPE is not in the snapshot"):
        evaluate("C6", EvalParams(placebo_draws=0, market_proxy="NOPE"))


def test_summary_and_html_render_everything(c2):
    s = c2.summary()
    assert "Verdict:" in s and "Rule:" in s and "Evidence:" in s and "basket:rare_earth" in s
    h = c2._repr_html_()
    assert c2.verdict in h and "<table" in h and "Notes" in h


def test_event_claim_before_its_event_is_not_testable():
    v = evaluate("C1", EvalParams(placebo_draws=0, as_of="2025-10-10"))
    assert v.verdict == "not testable with price data"
    assert any("cannot be tested as of that date" in n for n in v.notes)
    assert any("ev16_jpm_security_resiliency excluded" in n for n in v.notes)
