"""The claim registry (data/article/claims.yaml) loads into complete Claim records, quotes
the article verbatim, and rejects malformed records with ClaimError."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from research.claims import Claim, get_claim, load_claims
from research.claims.registry import KINDS, RULE_TYPES, claims_path
from research.data import load_events, load_facts
from research.errors import ClaimError

ROOT = Path(__file__).resolve().parents[1]
ARTICLE = (ROOT / "data" / "article" / "source-article-ja.txt").read_text(encoding="utf-8")


def test_registry_has_the_fifteen_claims_in_order():
    claims = load_claims()
    assert [c.id for c in claims] == [f"C{i}" for i in range(1, 16)]
    assert all(isinstance(c, Claim) for c in claims)


@pytest.mark.parametrize("cid", [f"C{i}" for i in range(1, 16)])
def test_every_claim_is_complete(cid):
    c = get_claim(cid)
    assert c.title and c.summary
    assert c.kind in KINDS
    assert c.rule.type in RULE_TYPES and len(c.rule.text) > 40
    assert c.japanese
    for sentence in c.japanese:
        assert re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", sentence), "not Japanese"
        assert sentence in ARTICLE, f"{cid}: not a verbatim quote: {sentence[:40]}"
    if c.rule.type == "not_testable":
        assert c.rule.reason
    else:
        assert c.events or c.rule.type == "rolling_return"
    event_ids = {e.event_id for e in load_events()}
    fact_ids = {f.fact_id for f in load_facts()}
    assert set(c.events) <= event_ids
    assert set(c.facts) <= fact_ids


def test_quotes_are_also_verbatim_in_the_shared_original(shared_article):
    original = (shared_article / "source-article-ja.txt").read_text(encoding="utf-8")
    for c in load_claims():
        for s in c.japanese:
            assert s in original


def test_context_claims_are_not_testable_and_event_claims_are():
    by = {c.id: c for c in load_claims()}
    for cid in ("C4", "C10", "C12", "C14"):
        assert by[cid].kind == "context" and by[cid].rule.type == "not_testable"
    for cid in ("C1", "C2", "C3", "C11"):
        assert by[cid].rule.type == "basket_car" and by[cid].basket_tickers
    assert by["C13"].pairs == (("ev19_oracle_rpo_openai", "ORCL"), ("ev18_nvidia_openai", "NVDA"),
                               ("ev07_openai_amd", "AMD"), ("ev17_openai_broadcom", "AVGO"))
    assert by["C8"].rule.required_tickers == ("RGTI", "QBTS") and by["C8"].rule.horizon == 21
    assert by["C9"].rule.current == "f40" and by["C9"].rule.prior == "f41"


def test_get_claim_accepts_variants_and_rejects_unknown():
    assert get_claim("c8").id == "C8"
    assert get_claim(8).id == "C8"
    with pytest.raises(ClaimError, match="unknown claim 'C99'.*C1, C2"):
        get_claim("C99")


def _write(tmp_path, doc) -> Path:
    p = tmp_path / "claims.yaml"
    p.write_text(doc if isinstance(doc, str) else yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return p


def _doc():
    return yaml.safe_load(claims_path().read_text(encoding="utf-8"))


def test_invalid_yaml_is_a_claim_error(tmp_path):
    with pytest.raises(ClaimError, match="not valid YAML"):
        load_claims(_write(tmp_path, "claims: [\n  - id: C1\n   bad indent"))


def test_missing_file_is_a_claim_error(tmp_path):
    with pytest.raises(ClaimError, match="not found"):
        load_claims(tmp_path / "nope.yaml")


@pytest.mark.parametrize("mutate, message", [
    (lambda d: d["claims"][0].pop("japanese"), "field 'japanese'"),
    (lambda d: d["claims"][0].update(kind="opinion"), "field 'kind'"),
    (lambda d: d["claims"][0]["rule"].update(type="vibes"), "rule.type"),
    (lambda d: d["claims"][0]["rule"].update(window=[1, 0]), "reversed"),
    (lambda d: d["claims"][0].update(events=["ev99_nothing"]), "not event ids"),
    (lambda d: d["claims"][0].update(facts=["f999"]), "not fact ids"),
    (lambda d: d["claims"][0].update(basket="nope"), "field 'basket'"),
    (lambda d: d["claims"][1].update(id="C1"), "duplicate claim id"),
    (lambda d: d["claims"][0].update(tickers=["mp"]), "not a ticker"),
    (lambda d: d["claims"][7]["rule"].update(threshold="lots"), "rule.threshold"),
])
def test_malformed_records_are_claim_errors(tmp_path, mutate, message):
    doc = _doc()
    mutate(doc)
    with pytest.raises(ClaimError, match=message):
        load_claims(_write(tmp_path, doc))


def test_a_valid_copy_loads_identically(tmp_path):
    copy = load_claims(_write(tmp_path, _doc()))
    assert [c.id for c in copy] == [c.id for c in load_claims()]
    assert copy[7].rule == load_claims()[7].rule


def test_confounded_events_must_be_non_primary_claim_events(tmp_path):
    doc = _doc()
    doc["claims"][2]["rule"]["confounded_events"] = ["ev12_trump_hostile_post"]
    with pytest.raises(ClaimError, match="confounded_events"):
        load_claims(_write(tmp_path, doc))
