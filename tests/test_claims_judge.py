"""Direct tests of judging a price claim (:mod:`research.claims.judge`) on hand-made
evidence rows: the rows a rule reads, its verdict, its primary test and the caps on
"supported".

Every expectation is worked out by hand from the rows written here (the rule texts of
docs/METHODS.md: "supported" needs the CAR in the claimed direction and every available test
below alpha; the primary test is the largest placebo p of the rule rows; Holm decides
"supported"), not read back from the code under test.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

from research.claims.judge import capped_verdict, event_targets, judge_event_claim, rows_at
from research.claims.params import EvalParams
from research.claims.registry import Claim
from research.claims.rules import BasketCarRule, PairsCarRule
from research.claims.studies import ClaimStudy
from research.claims.verdict import (EVIDENCE_COLUMNS, NOT_SUPPORTED, NOT_TESTABLE, PARTLY, SUPPORTED, Inference,
                                     Multiplicity, PrimaryTest, ReasonKind)

ALPHA = 0.05
PARAMS = EvalParams(alpha=ALPHA, market_proxy="SPY", as_of="2025-10-15", seed=1)


def _claim(rule, *, events=("e1",), tickers=("AAA", "BBB"), basket="", basket_tickers=(), pairs=()):
    return Claim(id="X1", title="t", summary="s", quote=(), quote_language="en", kind="event",
                 events=tuple(events), tickers=tuple(tickers), pairs=tuple(pairs), basket=basket,
                 basket_tickers=tuple(basket_tickers), windows=(), spec={}, facts=(), rule=rule)


def _row(event, ticker, car, p, p_placebo, *, window=(0, 0), t=2.5, status="ok", n=400):
    r = {c: float("nan") for c in EVIDENCE_COLUMNS}
    r.update(event_id=event, ticker=ticker, day0=pd.Timestamp("2025-07-10"), window_start=window[0],
             window_end=window[1], car=car, t_stat=t, p_value=p, p_placebo=p_placebo, status=status,
             p_placebo_n=n, p_placebo_floor=1.0 / (1 + n))
    return r


def _study(rows, events=("e1",), uncertain=None, market=None):
    day0 = pd.DataFrame({"day0": [pd.Timestamp("2025-07-10")] * len(events),
                         "uncertain_window": [uncertain] * len(events)}, index=list(events))
    returns = pd.DataFrame({"SPY": [market if market is not None else 0.0]},
                           index=[pd.Timestamp("2025-07-10")])
    return ClaimStudy(result=None, evidence=pd.DataFrame(rows), returns=returns, closes=pd.DataFrame(),
                      day0=day0, excluded=(), notes=(), data_source="snapshot")


# ---- rows the rule reads -----------------------------------------------------------------
def test_targets_of_a_pairs_rule_are_every_event_ticker_pair_at_the_rule_window():
    c = _claim(PairsCarRule(text="r", window=(0, 1)), events=("e1", "e2"))
    s = _study([], events=("e1", "e2"))
    assert event_targets(c, s) == [("e1", "AAA", (0, 1)), ("e1", "BBB", (0, 1)),
                                   ("e2", "AAA", (0, 1)), ("e2", "BBB", (0, 1))]


def test_auto_window_is_day_zero_or_the_uncertain_window():
    c = _claim(PairsCarRule(text="r"), tickers=("AAA",))
    assert event_targets(c, _study([])) == [("e1", "AAA", (0, 0))]
    assert event_targets(c, _study([], uncertain=(0, 1))) == [("e1", "AAA", (0, 1))]
    assert event_targets(c, _study([]), window=(-1, 1)) == [("e1", "AAA", (-1, 1))]


def test_a_basket_rule_reads_the_basket_row_of_its_primary_events_only():
    c = _claim(BasketCarRule(text="r", primary_events=("e2",)), events=("e1", "e2"),
               basket="metals", basket_tickers=("AAA", "BBB"))
    assert event_targets(c, _study([], events=("e1", "e2"))) == [("e2", "basket:metals", (0, 0))]


def test_rows_at_keeps_a_missing_target_as_a_nan_row_when_asked():
    ev = pd.DataFrame([_row("e1", "AAA", 0.03, 0.01, 0.02)])
    got = rows_at(ev, [("e1", "AAA", (0, 0)), ("e1", "BBB", (0, 0))], estimated_only=False)
    assert list(got["ticker"]) == ["AAA", "BBB"]
    assert got.loc[0, "car"] == 0.03 and math.isnan(got.loc[1, "car"])
    assert list(rows_at(ev, [("e1", "BBB", (0, 0))])["ticker"]) == []


def test_rows_at_drops_rows_not_estimated():
    ev = pd.DataFrame([_row("e1", "AAA", 0.03, 0.01, 0.02, status="skipped")])
    assert rows_at(ev, [("e1", "AAA", (0, 0))]).empty


# ---- verdicts ----------------------------------------------------------------------------
@pytest.mark.parametrize("car,p,pp,expected", [
    (0.08, 0.001, 0.010, SUPPORTED),       # up, both tests below 0.05
    (0.08, 0.001, 0.200, PARTLY),          # up, only the t-test rejects
    (0.08, 0.300, 0.400, NOT_SUPPORTED),   # up, nothing rejects
    (-0.08, 0.001, 0.010, NOT_SUPPORTED),  # significant, but down when "up" was claimed
])
def test_basket_verdicts(car, p, pp, expected):
    c = _claim(BasketCarRule(text="r"), basket="metals", basket_tickers=("AAA", "BBB"))
    s = _study([_row("e1", "basket:metals", car, p, pp), _row("e1", "AAA", car, p, pp), _row("e1", "BBB", car, p, pp)])
    ej = judge_event_claim(c, s, PARAMS)
    assert ej.judgement.verdict == expected
    assert ej.key_numbers["e1.basket_car"] == car
    assert ej.key_numbers["members_estimated"] == 2
    assert ej.key_numbers["members_positive_significant_all_tests"] == (2 if expected == SUPPORTED else 0)


def test_basket_needs_the_market_to_fall_when_the_rule_says_so():
    c = _claim(BasketCarRule(text="r", market_must_fall=True), basket="m", basket_tickers=("AAA",), tickers=("AAA",))
    rows = [_row("e1", "basket:m", 0.05, 0.001, 0.01)]
    assert judge_event_claim(c, _study(rows, market=-0.02), PARAMS).judgement.verdict == SUPPORTED
    up = judge_event_claim(c, _study(rows, market=0.01), PARAMS)
    assert up.judgement.verdict == PARTLY
    assert up.key_numbers["e1.market_return_day0"] == 0.01


def test_pairs_each_needs_every_pair_significant():
    c = _claim(PairsCarRule(text="r"))
    s = _study([_row("e1", "AAA", 0.05, 0.001, 0.01), _row("e1", "BBB", 0.04, 0.002, 0.30)])
    ej = judge_event_claim(c, s, PARAMS)
    assert ej.judgement.verdict == PARTLY
    assert ej.key_numbers["pairs_significant_all_tests"] == 1
    assert ej.key_numbers["pairs_significant_any_test"] == 2
    assert ej.key_numbers["AAA@e1"]["significant_all_tests"] is True
    # primary test: the larger of the two placebo p-values (every pair must pass)
    assert ej.primary.test == "exact placebo" and ej.primary.p_value == 0.30
    assert ej.primary.n_placebo == 400 and ej.primary.p_floor == pytest.approx(1 / 401)


def test_a_missing_pair_caps_supported_and_is_named():
    c = _claim(PairsCarRule(text="r"))
    s = _study([_row("e1", "AAA", 0.05, 0.001, 0.01)])  # BBB has no row
    ej = judge_event_claim(c, s, PARAMS)
    assert ej.judgement.verdict == PARTLY
    assert ej.key_numbers["pairs_not_estimated"] == 1
    assert any("BBB on e1" in r for r in ej.judgement.reasons)


def test_no_estimated_row_is_not_testable_and_no_event_is_none():
    c = _claim(PairsCarRule(text="r"))
    s = _study([_row("e1", "AAA", float("nan"), float("nan"), float("nan"))])
    ej = judge_event_claim(c, s, PARAMS)
    assert ej.judgement.verdict == NOT_TESTABLE and ej.primary is None
    late = _claim(PairsCarRule(text="r"), events=("e9",))
    assert judge_event_claim(late, s, PARAMS) is None


def test_pairs_all_uses_the_stouffer_joint_placebo_as_primary_test():
    c = _claim(PairsCarRule(text="r", members="all"))
    # two pairs, each placebo p = 0.10, both up: z_i = Phi^-1(1 - 0.05) = 1.6449,
    # joint z = 2 * 1.6449 / sqrt(2) = 2.3262, two-sided p = 0.0200
    s = _study([_row("e1", "AAA", 0.03, 0.10, 0.10, t=1.6449), _row("e1", "BBB", 0.02, 0.10, 0.10, t=1.6449)])
    ej = judge_event_claim(c, s, PARAMS)
    assert ej.primary.test == "joint placebo (Stouffer)"
    assert ej.primary.p_value == pytest.approx(0.0200, abs=2e-4)
    assert ej.key_numbers["joint_placebo_z"] == pytest.approx(2.3262, abs=1e-3)
    assert ej.judgement.verdict == SUPPORTED


# ---- caps --------------------------------------------------------------------------------
def _inference(test="exact placebo", p=0.01, holm=None, size=6):
    prim = PrimaryTest(test, "hand-made", (0, 0), p)
    return Inference(prim, None if holm is None else Multiplicity(holm, holm, size))


def test_the_rule_cap_applies_first_and_says_so():
    c = _claim(BasketCarRule(text="r", max_verdict=PARTLY, max_verdict_reason="the facts are misstated"))
    v, notes = capped_verdict(c, SUPPORTED, None, ALPHA)
    assert v == PARTLY and len(notes) == 1 and "the facts are misstated" in notes[0].text
    assert notes[0].kind is ReasonKind.CAP
    assert capped_verdict(c, NOT_SUPPORTED, None, ALPHA) == (NOT_SUPPORTED, [])


def test_holm_decides_supported():
    c = _claim(PairsCarRule(text="r"))
    assert capped_verdict(c, SUPPORTED, _inference(holm=0.04), ALPHA) == (SUPPORTED, [])
    v, notes = capped_verdict(c, SUPPORTED, _inference(holm=0.06), ALPHA)
    assert v == PARTLY and "Holm" in notes[0].text and "6 claims" in notes[0].text and "0.0600" in notes[0].text


def test_a_verdict_on_the_plain_t_alone_is_capped():
    c = _claim(PairsCarRule(text="r"))
    v, notes = capped_verdict(c, SUPPORTED, _inference("parametric t", holm=0.01, size=2), ALPHA)
    assert v == PARTLY and "plain t-test" in notes[0].text


def test_a_rule_cap_never_claims_support_that_holm_denies():
    """Caps are applied once with the family known: when Holm fails, the Holm cap speaks and
    the rule's cap ("the data alone would support the claim") does not."""
    c = _claim(BasketCarRule(text="r", max_verdict=PARTLY, max_verdict_reason="the facts are misstated"))
    v, notes = capped_verdict(c, SUPPORTED, _inference(holm=0.2), ALPHA)
    assert v == PARTLY and len(notes) == 1
    assert notes[0].text.startswith("Rule check: the primary test passes unadjusted (p 0.0100)")
    v, notes = capped_verdict(c, SUPPORTED, _inference(holm=0.01), ALPHA)
    assert v == PARTLY and len(notes) == 1 and "data alone would support" in notes[0].text
