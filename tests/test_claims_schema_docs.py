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
