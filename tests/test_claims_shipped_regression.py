"""The shipped article's numbers are unchanged by the Article refactor, except where issue 8
changes them on purpose: the claims.json evidence rows, verdicts and key numbers of every
claim are compared with those captured from main before the refactor
(tests/fixtures/shipped/claims_before.json)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from research.claims import EvalParams, evaluate_all

BEFORE = json.loads((Path(__file__).parent / "fixtures" / "shipped" / "claims_before.json").read_text(encoding="utf-8"))
#: Verdicts issue 8 changes on purpose (before -> after):
#: C11 is a statement of fact (claims.md): a fact check instead of a test of a price claim
#: the article never made; C13 "all partner stocks rose": every CAR positive and a joint
#: test significant ("all rose"), not every partner significant on its own.
CHANGED = {"C11": ("not supported", "partly supported"), "C13": ("partly supported", "supported")}


@pytest.fixture(scope="module")
def after():
    return {v.claim_id: json.loads(v.to_json()) for v in evaluate_all(EvalParams())}


def test_the_fixture_holds_the_fifteen_claims():
    assert [c["claim_id"] for c in BEFORE["claims"]] == [f"C{i}" for i in range(1, 16)]
    assert sum(len(c["evidence"]) for c in BEFORE["claims"]) > 300


@pytest.mark.parametrize("old", BEFORE["claims"], ids=lambda c: c["claim_id"])
def test_evidence_rows_are_identical(after, old):
    assert after[old["claim_id"]]["evidence"] == old["evidence"]


@pytest.mark.parametrize("old", BEFORE["claims"], ids=lambda c: c["claim_id"])
def test_verdicts_change_only_where_the_issue_changes_them(after, old):
    cid = old["claim_id"]
    new = after[cid]
    if cid in CHANGED:
        assert (old["verdict"], new["verdict"]) == CHANGED[cid]
    else:
        assert new["verdict"] == old["verdict"]
        assert new["key_numbers"] == old["key_numbers"]


def test_c11_is_a_fact_check_with_the_price_reaction_as_context(after):
    c11 = after["C11"]
    assert c11["check"] == ["fact"] and c11["fact_verdict"] == "partly wrong"
    assert c11["key_numbers"] == {} and c11["direction"] is None
    outcomes = sorted(i["outcome"] for i in c11["fact_check"])
    assert outcomes == ["accurate", "accurate", "wrong"]
    assert any("context only" in n for n in c11["notes"])


def test_c13_all_rose_keeps_the_per_partner_numbers(after):
    old = next(c for c in BEFORE["claims"] if c["claim_id"] == "C13")["key_numbers"]
    new = after["C13"]["key_numbers"]
    pairs = [k for k in old if "@" in k]
    assert len(pairs) == 4 and all(new[k] == old[k] for k in pairs)
    assert all(old[k]["car"] > 0 for k in pairs)
    assert new["pairs_in_direction"] == 4 and new["joint_parametric_p"] < 0.05
    assert after["C13"]["check"] == ["price", "fact"] and after["C13"]["fact_verdict"] == "partly wrong"
