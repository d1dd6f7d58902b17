"""claims.json against its JSON Schema (``research/claims/schemas/verdict.schema.json``), and
the typed Verdict: frozen records all the way down, dicts only at the JSON boundary."""

from __future__ import annotations

import copy
import dataclasses
import json
from importlib import resources
from pathlib import Path

import jsonschema
import pandas as pd
import pytest

from research.claims import EvalParams, evaluate_all, load_article
from research.claims.verdict import KeyNumbers, Reason, ReasonKind, Verdict

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "fixtures" / "golden"
CHIPS = ROOT / "tests" / "fixtures" / "articles" / "chips-and-tariffs"


@pytest.fixture(scope="module")
def validator():
    schema = json.loads(resources.files("research.claims").joinpath("schemas/verdict.schema.json").read_text("utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


@pytest.fixture(scope="module")
def fresh():
    return evaluate_all(EvalParams(placebo_draws=0), article=load_article(CHIPS), robustness=True)


def _errors(validator, rec):
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(rec)]


@pytest.mark.parametrize("name", ["shipped-claims.json", "chips-claims.json"])
def test_the_golden_claims_json_is_valid(validator, name):
    recs = json.loads((GOLDEN / name).read_text(encoding="utf-8"))
    assert recs and all(not _errors(validator, r) for r in recs), [_errors(validator, r) for r in recs]


def test_a_fresh_evaluation_is_valid(validator, fresh):
    for v in fresh:
        assert not _errors(validator, json.loads(v.to_json())), v.claim_id


@pytest.mark.parametrize("break_it", [
    lambda r: r.update(verdict="probably"),
    lambda r: r.pop("notes"),
    lambda r: r.update(extra=1),
    lambda r: r["inference"].update(p_holm=1.5) if r["inference"] else r.update(check=["vibes"]),
    lambda r: r.update(as_of="15/10/2025"),
])
def test_the_schema_refuses_a_broken_element(validator, break_it):
    rec = copy.deepcopy(json.loads((GOLDEN / "shipped-claims.json").read_text(encoding="utf-8"))[0])
    break_it(rec)
    assert _errors(validator, rec)


# ---- typed, frozen, never mutated ---------------------------------------------------------
_TABLES = (pd.DataFrame,)


def _walk(obj, path, seen):
    """Every dataclass reachable from ``obj``: frozen, and holding no dict, list or set."""
    if id(obj) in seen:
        return
    seen.add(id(obj))
    if dataclasses.is_dataclass(obj):
        assert obj.__dataclass_params__.frozen, path
        for f in dataclasses.fields(obj):
            _walk(getattr(obj, f.name), f"{path}.{f.name}", seen)
    elif isinstance(obj, (dict, list, set)):
        raise AssertionError(f"{path} is a mutable {type(obj).__name__}")
    elif isinstance(obj, tuple):
        for i, x in enumerate(obj):
            _walk(x, f"{path}[{i}]", seen)


def test_a_verdict_is_frozen_records_all_the_way_down(fresh):
    for v in fresh:
        _walk(v, v.claim_id, set())
        with pytest.raises(dataclasses.FrozenInstanceError):
            v.verdict = "supported"  # type: ignore[misc]


def test_reasons_carry_their_kind(fresh):
    kinds = {r.kind for v in fresh for r in v.reasons}
    assert {ReasonKind.PRIMARY, ReasonKind.RULE, ReasonKind.ROBUSTNESS, ReasonKind.FACT_ITEM} <= kinds
    for v in fresh:
        assert v.notes == tuple(r.text for r in v.reasons)
        for r in v.reasons:
            assert r.kind is not ReasonKind.RULE or r.text.startswith("Rule check: ")
            assert (r.kind is ReasonKind.PRIMARY) == r.text.startswith("Primary test: ")


def test_key_numbers_are_one_record_per_target(fresh):
    by = {v.claim_id: v for v in fresh}
    basket = by["deepseek-selloff"].key
    assert [(t.event_id, t.name, t.basket) for t in basket.targets] == [("ev-deepseek", "chips", True)]
    pairs = by["results-pops"].key
    assert all(not t.basket and t.window is not None for t in pairs.targets) and len(pairs.targets) == 4
    rolling = by["chip-slump"].key
    assert {r.ticker for r in rolling.rolling} == {"NVDA", "AVGO"} and rolling.get("required") == 2
    for v in fresh:  # the typed record and the published key numbers are one thing
        assert KeyNumbers.from_mapping(v.key.to_json()) == v.key


def test_a_reason_is_frozen():
    r = Reason(ReasonKind.CAP, "Rule check: capped.")
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.text = "x"  # type: ignore[misc]
    assert isinstance(Verdict.__dataclass_params__.frozen, bool)
