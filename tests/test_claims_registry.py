"""The shipped article's claims load into complete Claim records that quote the article
verbatim; malformed article directories are rejected with every problem named (file,
line, claim, allowed keys / fix)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml

from research.claims import Claim, get_claim, load_article, load_claims
from research.claims.registry import KINDS, RULE_TYPES
from research.data import paths
from research.errors import ClaimError

SHIPPED = paths.default_article_dir()


@pytest.fixture(scope="module")
def article():
    return load_article()


def test_registry_has_the_fifteen_claims_in_order(article):
    assert [c.id for c in article.claims] == [f"C{i}" for i in range(1, 16)]
    assert all(isinstance(c, Claim) for c in article.claims)
    assert [c.id for c in load_claims()] == [c.id for c in article.claims]


@pytest.mark.parametrize("cid", [f"C{i}" for i in range(1, 16)])
def test_every_claim_is_complete(article, cid):
    c = article.claim(cid)
    assert c.title and c.summary
    assert c.kind in KINDS
    assert c.rule.type in RULE_TYPES and len(c.rule.text) > 40
    assert c.quote and c.quote_language == "ja"
    for sentence in c.quote:
        assert re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", sentence), "not Japanese"
        assert sentence in article.text, f"{cid}: not a verbatim quote: {sentence[:40]}"
    if c.rule.type == "not_testable":
        assert c.rule.reason
    elif "price" in c.checks:
        assert c.direction == "up"
        assert c.events or c.rule.type == "rolling_return"
    assert set(c.events) <= {e.event_id for e in article.events}
    assert set(c.facts) <= {f.fact_id for f in article.facts}


def test_quotes_are_also_verbatim_in_the_shared_original(article, shared_article):
    original = (shared_article / "source-article-ja.txt").read_text(encoding="utf-8")
    for c in article.claims:
        for s in c.quote:
            assert s in original


def test_rule_types_and_checks_of_the_shipped_claims(article):
    by = {c.id: c for c in article.claims}
    for cid in ("C4", "C10", "C12", "C14"):
        assert by[cid].kind == "context" and by[cid].rule.type == "not_testable" and by[cid].checks == ()
    for cid in ("C1", "C2", "C3"):
        assert by[cid].rule.type == "basket_car" and by[cid].basket_tickers and by[cid].checks == ("price",)
    # C11 is a statement of fact (claims.md), C13 'event + fact' with the "all rose" rule
    assert by["C11"].rule.type == "fact_check" and by["C11"].checks == ("fact",) and by["C11"].direction is None
    assert by["C13"].checks == ("price", "fact") and by["C13"].rule.members == "all"
    assert by["C13"].pairs == (("ev19_oracle_rpo_openai", "ORCL"), ("ev18_nvidia_openai", "NVDA"),
                               ("ev07_openai_amd", "AMD"), ("ev17_openai_broadcom", "AVGO"))
    assert by["C8"].rule.required_tickers == ("RGTI", "QBTS") and by["C8"].rule.horizon == 21
    assert by["C9"].rule.current == "f40" and by["C9"].rule.prior == "f41" and by["C9"].checks == ("fact",)


def test_get_claim_is_case_insensitive_and_rejects_unknown():
    assert get_claim("c8").id == "C8"
    with pytest.raises(ClaimError, match="unknown claim 'C99'.*C1, C2"):
        get_claim("C99")


# ---- malformed copies ---------------------------------------------------------------
def _copy(tmp_path: Path) -> Path:
    d = tmp_path / "art"
    shutil.copytree(SHIPPED, d)
    return d


def _doc(d: Path, name: str = "claims.yaml"):
    return yaml.safe_load((d / name).read_text(encoding="utf-8"))


def _put(d: Path, doc, name: str = "claims.yaml") -> None:
    text = doc if isinstance(doc, str) else yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)
    (d / name).write_text(text, encoding="utf-8")


def test_invalid_yaml_names_file_and_line(tmp_path):
    d = _copy(tmp_path)
    _put(d, "version: 2\nclaims: [\n  - id: C1\n   bad indent")
    with pytest.raises(ClaimError, match=r"claims\.yaml:\d+: error: not valid YAML"):
        load_article(d)


def test_missing_directory_and_file(tmp_path):
    with pytest.raises(ClaimError, match="does not exist.*research article new"):
        load_article(tmp_path / "nope")
    d = _copy(tmp_path)
    (d / "claims.yaml").unlink()
    with pytest.raises(ClaimError, match="claims.yaml is missing"):
        load_article(d)


@pytest.mark.parametrize("mutate, message", [
    (lambda d: d["claims"][0].pop("quote"), r"claim C1: error: claims/0: 'quote' is a required property"),
    (lambda d: d["claims"][0].update(kind="opinion"), r"claim C1: .*'opinion' is not allowed; use one of"),
    (lambda d: d["claims"][0]["rule"].update(type="vibes"), r"claim C1: .*'vibes' is not allowed"),
    (lambda d: d["claims"][0]["rule"].update(window=[1, 0]), r"claim C1: .*reversed"),
    (lambda d: d["claims"][0].update(events=["ev99_nothing"]), r"claim C1: .*not event ids of events.csv"),
    (lambda d: d["claims"][0].update(facts=["f999"]), r"claim C1: .*\['f999'\] are not in facts.csv"),
    (lambda d: d["claims"][0].update(basket="nope"), r"claim C1: .*basket 'nope' is not defined in article.yaml"),
    (lambda d: d["claims"][1].update(id="C1"), r"duplicate claim id"),
    (lambda d: d["claims"][0].update(tickers=["mp"]), r"'mp' is not upper case \(did you mean 'MP'\?\)"),
    (lambda d: d["claims"][7]["rule"].update(threshold="lots"), r"claim C8: .*rule/threshold"),
    (lambda d: d["claims"][0]["rule"].pop("direction"), r"claim C1: .*'direction' is a required property"),
    (lambda d: d["claims"][0]["rule"].update(direction="sideways"), r"claim C1: .*'sideways' is not allowed"),
    (lambda d: d["claims"][2]["rule"].update(confounded_events=["ev12_trump_hostile_post"]), "confounded_events"),
    (lambda d: d["claims"][0].update(quote=["not in the article"]), r"claim C1: .*not a verbatim passage"),
])
def test_malformed_claims_name_the_claim_and_the_fix(tmp_path, mutate, message):
    d = _copy(tmp_path)
    doc = _doc(d)
    mutate(doc)
    _put(d, doc)
    with pytest.raises(ClaimError, match=message):
        load_article(d)


@pytest.mark.parametrize("where, key", [
    (lambda d: d["claims"][0], "japanese"),          # the old field: renamed quote
    (lambda d: d["claims"][0], "as_of"),
    (lambda d: d["claims"][0]["rule"], "directionn"),
    (lambda d: d, "as_of"),
])
def test_unknown_keys_are_errors_naming_file_claim_and_allowed_keys(tmp_path, where, key):
    d = _copy(tmp_path)
    doc = _doc(d)
    where(doc)[key] = "x"
    _put(d, doc)
    with pytest.raises(ClaimError) as exc:
        load_article(d)
    msg = str(exc.value)
    assert re.search(rf"claims\.yaml:\d+:.* unknown key\(s\) \['{key}'\].*allowed keys: \[", msg), msg
    if where(doc) is not doc:
        assert "claim C1:" in msg
    allowed = re.search(r"allowed keys: (\[[^\]]*\])", msg).group(1)
    assert "'title'" in allowed or "'direction'" in allowed or "'claims'" in allowed


def test_unknown_key_in_article_yaml_and_layout(tmp_path):
    d = _copy(tmp_path)
    meta = _doc(d, "article.yaml")
    meta["asof"] = "2025-10-15"
    _put(d, meta, "article.yaml")
    lay = _doc(d, "layout.yaml")
    lay["pages"][0]["claimz"] = ["C4"]
    _put(d, lay, "layout.yaml")
    with pytest.raises(ClaimError) as exc:
        load_article(d)
    msg = str(exc.value)
    assert re.search(r"article\.yaml:\d+: error: unknown key\(s\) \['asof'\].*'as_of'", msg), msg
    assert re.search(r"layout\.yaml:\d+: error: unknown key\(s\) \['claimz'\] at pages/0", msg), msg


def test_unknown_key_line_number_points_at_the_key(tmp_path):
    d = _copy(tmp_path)
    text = (d / "claims.yaml").read_text(encoding="utf-8")
    text = text.replace("      type: pairs_car\n      direction: up\n      members: all\n",
                        "      type: pairs_car\n      direction: up\n      members: all\n      colour: red\n")
    (d / "claims.yaml").write_text(text, encoding="utf-8")
    line = text.splitlines().index("      colour: red") + 1
    with pytest.raises(ClaimError, match=rf"claims\.yaml:{line}: claim C13: error: unknown key\(s\) \['colour'\]"):
        load_article(d)


def test_layout_must_own_every_claim_exactly_once(tmp_path):
    d = _copy(tmp_path)
    lay = _doc(d, "layout.yaml")
    lay["pages"][1]["claims"].append("C1")      # C1 also on page 03
    lay["pages"][4]["claims"] = []               # C13 on no page
    lay["pages"][0]["claims"].append("C99")
    _put(d, lay, "layout.yaml")
    with pytest.raises(ClaimError) as exc:
        load_article(d)
    msg = str(exc.value)
    assert "claim C1: error: claim is on two pages" in msg
    assert "claim C13: error: claim is on no page" in msg
    assert "claim C99: error: page '00_overview' lists claim 'C99'" in msg


def test_unknown_ticker_in_events_csv_names_row_and_nearest(tmp_path):
    d = _copy(tmp_path)
    text = (d / "events.csv").read_text(encoding="utf-8")
    text = text.replace(",MP USAR METC UAMY,", ",MP USAR METC UAMYY,", 1)
    (d / "events.csv").write_text(text, encoding="utf-8", newline="")
    with pytest.raises(ClaimError, match=r"events\.csv:2: error: event ev01_dod_mp_partnership: ticker 'UAMYY' "
                                         r"is not in the price data \(nearest available: UAMY"):
        load_article(d)


@pytest.mark.parametrize("bad", ["nan", "inf", "-inf"])
def test_non_finite_fact_values_are_rejected(tmp_path, bad):
    d = _copy(tmp_path)
    text = (d / "facts.csv").read_text(encoding="utf-8")
    text = text.replace(",1500,USD bn,", f",{bad},USD bn,", 1)
    (d / "facts.csv").write_text(text, encoding="utf-8", newline="")
    with pytest.raises(ClaimError, match=r"facts\.csv:2: error: .*f01.*not a finite number"):
        load_article(d)


def test_events_csv_claim_ids_must_be_claims(tmp_path):
    d = _copy(tmp_path)
    text = (d / "events.csv").read_text(encoding="utf-8")
    text = text.replace(",MP USAR METC UAMY,C6 C7,", ",MP USAR METC UAMY,C6 C77,", 1)
    (d / "events.csv").write_text(text, encoding="utf-8", newline="")
    with pytest.raises(ClaimError, match=r"events\.csv:2: error: event ev01_dod_mp_partnership: claim ids \['C77'\]"):
        load_article(d)


def test_a_valid_copy_loads_identically(tmp_path):
    d = _copy(tmp_path)
    a, b = load_article(d), load_article()
    assert [c for c in a.claims] == [c for c in b.claims]
    assert a.path != b.path and a.id == b.id
