"""The scoreboard headline is the same from a Verdict and from its JSON form (the index
page is built from claims.json, whose keys are sorted)."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from research.claims import EvalParams, evaluate_all
from research.claims.scoreboard import headline


@pytest.fixture(scope="module")
def verdicts():
    return evaluate_all(EvalParams(placebo_draws=0))


def test_headline_does_not_depend_on_key_order(verdicts):
    for v in verdicts:
        from_json = json.loads(json.dumps(v.to_dict(), sort_keys=True))["key_numbers"]
        assert headline(SimpleNamespace(key_numbers=from_json)) == headline(v), v.claim_id


def test_rolling_headline_names_the_rule_horizon(verdicts):
    c8 = next(v for v in verdicts if v.claim_id == "C8")
    assert headline(c8).startswith("max 21-session return: ")
    for t in ("IONQ", "QBTS", "QUBT", "RGTI"):
        assert f"{t} {c8.key_numbers[t]['max_rolling_21d_return']:+.0%}" in headline(c8)
