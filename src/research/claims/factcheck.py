"""Fact checks: the article's factual statements against ``facts.csv`` (and ``events.csv``).

A claim's ``fact_check:`` list holds one item per statement. An item is either

* **computed**: ``fact`` (a fact id), ``article`` (what the article states) and ``compare``
  (``>``, ``>=``, ``<``, ``<=``, ``=``, ``approx`` with a relative ``tolerance``, default
  0.05): the statement is accurate when ``<fact value> <compare> <article>`` holds. Text
  values (dates) compare with ``=`` as a prefix: article ``2024-10`` against fact
  ``2024-06-03`` is wrong;
* **judged**: ``judged`` (accurate / wrong / unverified), the ids it ``cites`` and the
  ``reason`` -- a reviewed judgement where no number can decide (a place, a description).

An item citing a fact without a source (``unverified`` in facts.csv) or without a value
is *unverified*. The claim's fact verdict: **accurate** when every verified item is
accurate, **wrong** when every verified item is wrong, **partly wrong** when both occur,
**unverified** when no item could be verified.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from research.claims.notes import format_fact
from research.claims.verdict import FactCheck, FactItemResult
from research.data.article import Event, Fact
from research.vocab import FACT_VERDICTS

__all__ = ["FactItem", "FactCheck", "FACT_VERDICTS", "check_facts"]

ACCURATE, PARTLY_WRONG, WRONG, UNVERIFIED = FACT_VERDICTS
_OPS = {">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le, "=": operator.eq}


@dataclass(frozen=True)
class FactItem:
    """One checked statement (see the module docstring for the two forms)."""

    statement: str
    fact: str = ""
    article: float | str | None = None
    compare: str = ""
    tolerance: float = 0.05
    judged: str = ""
    cites: tuple[str, ...] = ()
    reason: str = ""

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any]) -> FactItem:
        """Build from a schema-validated mapping."""
        kw = dict(raw)
        kw["statement"] = " ".join(str(kw["statement"]).split())
        if "reason" in kw:
            kw["reason"] = " ".join(str(kw["reason"]).split())
        if "cites" in kw:
            kw["cites"] = tuple(kw["cites"])
        if "tolerance" in kw:
            kw["tolerance"] = float(kw["tolerance"])
        return cls(**kw)

    @property
    def cited(self) -> tuple[str, ...]:
        """Every fact or event id the item rests on."""
        return tuple(dict.fromkeys(((self.fact,) if self.fact else ()) + self.cites))


def _value_text(f: Fact) -> str:
    return format_fact(f)


def _compare(item: FactItem, fact: Fact) -> tuple[str, str]:
    v, a = fact.value, item.article
    if isinstance(v, str) or isinstance(a, str):
        ok = str(v).startswith(str(a)) if item.compare == "=" else False
        why = (f"{fact.fact_id} is {v}; the article says {a}" if item.compare == "=" else
               f"{fact.fact_id} is text ({v}); only '=' compares text")
        return (ACCURATE if ok else WRONG), why
    fv, av = float(v), float(a)  # type: ignore[arg-type]
    if item.compare == "approx":
        ok = abs(fv - av) <= item.tolerance * max(abs(fv), 1e-12)
        rel = f"within {item.tolerance:.0%} of"
    else:
        ok = _OPS[item.compare](fv, av)
        rel = item.compare
    return (ACCURATE if ok else WRONG), (f"{fact.fact_id} = {_value_text(fact)}; the article's {a:g} "
                                         f"{'holds' if ok else 'fails'} (fact {rel} {a:g})")


def _one(item: FactItem, facts: Mapping[str, Fact], events: Mapping[str, Event]) -> FactItemResult:
    out: dict[str, Any] = {"statement": item.statement, "cites": tuple(item.cited)}
    unverified = [c for c in item.cited if c in facts and not facts[c].verified]
    if item.judged:
        outcome = item.judged if not unverified or item.judged == UNVERIFIED else UNVERIFIED
        why = item.reason + (f" (cited fact(s) {', '.join(unverified)} have no source)" if unverified
                             and outcome == UNVERIFIED and item.judged != UNVERIFIED else "")
        return FactItemResult(**out, outcome=outcome, how="judged", reason=why)
    f = facts[item.fact]
    v = f.value
    if not f.verified or v is None or (isinstance(v, float) and not math.isfinite(v)):
        return FactItemResult(**out, outcome=UNVERIFIED, how="computed",
                              reason=f"{f.fact_id} has no sourced value, so the statement cannot be checked")
    outcome, why = _compare(item, f)
    return FactItemResult(**out, outcome=outcome, how="computed", reason=why, fact_value=v,
                          article_value=item.article, has_values=True)


def check_facts(items: Sequence[FactItem], facts: Mapping[str, Fact],
                events: Mapping[str, Event] | None = None) -> FactCheck:
    """Check every item against the article's facts (ids already validated).

    Returns
    -------
    FactCheck
        ``verdict`` in :data:`FACT_VERDICTS`; ``items`` one :class:`FactItemResult` per
        item (statement, outcome, how, reason, cites).
    """
    rows = tuple(_one(i, facts, events or {}) for i in items)
    outs = [r.outcome for r in rows]
    n_ok, n_bad = outs.count(ACCURATE), outs.count(WRONG)
    if n_ok + n_bad == 0:
        verdict = UNVERIFIED
    elif n_bad == 0:
        verdict = ACCURATE
    elif n_ok == 0:
        verdict = WRONG
    else:
        verdict = PARTLY_WRONG
    wrong = [r.statement.rstrip(".") for r in rows if r.outcome == WRONG]
    headline = (f"fact check: {verdict} -- {n_ok} of {len(rows)} statements accurate"
                + (f", {n_bad} wrong ({'; '.join(wrong)})" if wrong else "")
                + (f", {outs.count(UNVERIFIED)} unverified" if UNVERIFIED in outs else "") + ".")
    return FactCheck(verdict, rows, headline)
