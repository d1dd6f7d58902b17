"""The scoreboard headline is the same from a Verdict and from its JSON form (the index
page is built from claims.json, whose keys are sorted)."""

from __future__ import annotations

import json

import pytest

from research.claims.verdict import VerdictRecord
from research.claims import EvalParams, evaluate_all
from research.claims.scoreboard import headline


@pytest.fixture(scope="module")
def verdicts():
    return evaluate_all(EvalParams(placebo_draws=0))


def test_verdict_headline_is_a_sentence_that_survives_json_and_leads_the_scoreboard(verdicts):
    from research.claims import scoreboard

    sb = scoreboard(verdicts).set_index("claim_id")
    for v in verdicts:
        d = json.loads(json.dumps(v.to_dict(), sort_keys=True))
        assert v.headline and d["headline"] == v.headline == sb.loc[v.claim_id, "headline"], v.claim_id
        assert sb.loc[v.claim_id, "fact_check"] == v.fact_verdict


def test_headline_does_not_depend_on_key_order(verdicts):
    for v in verdicts:
        from_json = json.loads(json.dumps(v.to_dict(), sort_keys=True))["key_numbers"]
        assert headline(VerdictRecord.from_dict({**v.to_dict(), "key_numbers": from_json})) == headline(v), v.claim_id


def test_rolling_headline_names_the_rule_horizon(verdicts):
    c8 = next(v for v in verdicts if v.claim_id == "C8")
    assert headline(c8).startswith("max 21-session return: ")
    assert c8.headline.startswith("largest rise over 21 sessions")
    for t in ("IONQ", "QBTS", "QUBT", "RGTI"):
        assert f"{t} {c8.key_numbers[t]['max_rolling_21d_return']:+.0%}" in headline(c8)
    for t in ("QBTS", "RGTI"):
        assert f"{t} {c8.key_numbers[t]['max_rolling_21d_return']:+.0%}" in c8.headline


def test_price_headlines_carry_a_p_value(verdicts):
    for v in verdicts:
        if v.check == ("price",) and v.key_numbers and v.claim_id != "C8":
            assert " p " in v.headline or "p <" in v.headline, v.headline
