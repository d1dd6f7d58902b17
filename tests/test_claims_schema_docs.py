"""The JSON Schemas, the registered rule classes and docs/ARTICLES.md say the same thing:
every rule class's parameters are its schema's properties, every schema field is
documented, and every rule example in the docs validates."""

from __future__ import annotations

import dataclasses
import re

import jsonschema
import pytest
import yaml

from research.claims.rules import RULES, PriceRule
from research.claims.schema import load_schema
from research.data import paths

DOC = (paths.REPO_ROOT / "docs" / "ARTICLES.md").read_text(encoding="utf-8")
CLAIMS = load_schema("claims")


@pytest.mark.parametrize("name", sorted(RULES))
def test_rule_class_parameters_are_its_schema_properties(name):
    cls = RULES[name]
    fields = {f.name for f in dataclasses.fields(cls)}
    props = set(CLAIMS["$defs"]["rules"][name]["properties"]) - {"type"}
    assert fields - {"max_verdict", "max_verdict_reason"} <= props | {"max_verdict", "max_verdict_reason"}
    assert props <= fields, props - fields
    if issubclass(cls, PriceRule):   # every price rule states its direction, required
        assert "direction" in CLAIMS["$defs"]["rules"][name]["required"]
    assert CLAIMS["$defs"]["rules"][name]["additionalProperties"] is False


def test_rule_type_enum_lists_the_registered_rules():
    assert set(CLAIMS["$defs"]["claim"]["properties"]["rule"]["properties"]["type"]["enum"]) == set(RULES)


def _documented(key: str) -> bool:
    return bool(re.search(rf"`{re.escape(key)}`|^\s*(- )?{re.escape(key)}:|\| `?{re.escape(key)}`? \|", DOC, re.M))


@pytest.mark.parametrize("schema, where", [
    ("article", ("properties",)),
    ("layout", ("properties",)),
    ("layout", ("properties", "pages", "items", "properties")),
    ("claims", ("$defs", "claim", "properties")),
    ("claims", ("$defs", "spec", "properties")),
    ("claims", ("$defs", "fact_item", "properties")),
] + [("claims", ("$defs", "rules", r, "properties")) for r in sorted(RULES)])
def test_every_schema_field_is_documented(schema, where):
    node = load_schema(schema)
    for k in where:
        node = node[k]
    missing = [k for k in node if not _documented(k)]
    assert not missing, f"{schema} {'/'.join(where)}: {missing} not in docs/ARTICLES.md"


def test_every_rule_type_has_a_section_and_a_valid_example():
    blocks = re.findall(r"```yaml\n(.*?)```", DOC, re.S)
    seen = set()
    for b in blocks:
        doc = yaml.safe_load(b)
        if not isinstance(doc, dict) or "rule" not in doc or not isinstance(doc["rule"], dict):
            continue
        rule = doc["rule"]
        sub = dict(CLAIMS["$defs"]["rules"][rule["type"]])
        sub["$defs"] = CLAIMS["$defs"]
        jsonschema.validate(rule, sub)
        for item in doc.get("fact_check", []):
            fi = dict(CLAIMS["$defs"]["fact_item"])
            fi["$defs"] = CLAIMS["$defs"]
            jsonschema.validate(item, fi)
        seen.add(rule["type"])
        assert f"### {rule['type']}" in DOC
    assert seen == set(RULES)


def test_the_docs_claim_example_validates():
    block = next(b for b in re.findall(r"```yaml\n(.*?)```", DOC, re.S) if b.startswith("version: 2"))
    doc = yaml.safe_load(block)
    doc["claims"][0]["rule"] = {"type": "not_testable", "text": "t", "reason": "r"}
    jsonschema.validate(doc, CLAIMS)


# ---- the worked examples run on the test article -------------------------------------------
_MARK = "# a claim of tests/fixtures/articles/chips-and-tariffs/claims.yaml"


def _worked_examples():
    """(claim block, csv blocks that follow it before the next claim block) of the docs."""
    out = []
    for kind, body in re.findall(r"```(yaml|csv)\n(.*?)```", DOC, re.S):
        if kind == "yaml" and body.startswith(_MARK):
            out.append([body, []])
        elif kind == "csv" and out and "## Worked examples" in DOC.split(body)[0]:
            out[-1][1].append(body)
    return out


def test_the_worked_examples_cover_every_rule_type_and_pass_check_on_the_test_article(tmp_path):
    import shutil

    from research.claims.authoring import check_article

    fixture = paths.REPO_ROOT / "tests" / "fixtures" / "articles" / "chips-and-tariffs"
    examples = _worked_examples()
    seen = set()
    for i, (block, csvs) in enumerate(examples):
        d = tmp_path / f"ex{i}"
        shutil.copytree(fixture, d)
        claim = yaml.safe_load(block)
        doc = yaml.safe_load((d / "claims.yaml").read_text(encoding="utf-8"))
        ids = [c["id"] for c in doc["claims"]]
        if claim["id"] in ids:
            doc["claims"][ids.index(claim["id"])] = claim
        else:
            doc["claims"].append(claim)
            lay = yaml.safe_load((d / "layout.yaml").read_text(encoding="utf-8"))
            lay["pages"][0]["claims"].append(claim["id"])
            (d / "layout.yaml").write_text(yaml.safe_dump(lay, sort_keys=False), encoding="utf-8")
        (d / "claims.yaml").write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True), encoding="utf-8")
        for body in csvs:
            header, *rows = body.strip("\n").splitlines()
            name = "facts.csv" if header.startswith("fact_id") else "events.csv"
            with open(d / name, "a", encoding="utf-8") as fh:
                fh.write("".join(r + "\n" for r in rows))
        rep = check_article(d)
        assert rep.ok, f"example {claim['id']}:\n" + "\n".join(map(str, rep.errors))
        seen.add(claim["rule"]["type"])
    assert seen == set(RULES)


def test_the_context_event_example_passes_check(tmp_path):
    import shutil

    from research.claims import load_article

    fixture = paths.REPO_ROOT / "tests" / "fixtures" / "articles" / "chips-and-tariffs"
    body = next(b for b in re.findall(r"```csv\n(.*?)```", DOC, re.S) if b.startswith("event_id") and ",," in b)
    d = tmp_path / "ctx"
    shutil.copytree(fixture, d)
    with open(d / "events.csv", "a", encoding="utf-8") as fh:
        fh.write(body.strip("\n").splitlines()[1] + "\n")
    art = load_article(d)
    assert [e.claim_ids for e in art.events if e.event_id == "ev-cpi-jan"] == [()]
