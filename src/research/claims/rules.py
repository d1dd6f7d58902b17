"""Verdict rules: typed, registered rule classes and the pure functions that judge evidence.

A claim's ``rule:`` in ``claims.yaml`` is parsed into one of the registered classes of
:data:`RULES` (``basket_car``, ``pairs_car``, ``rolling_return``, ``revenue_growth``,
``fact_check``, ``not_testable``). Each class declares its parameters (the dataclass
fields, validated by the rule's JSON Schema in ``schemas/claims.schema.json``), the checks
it makes (``price`` and/or ``fact``) and the studies it needs. The ``judge_*`` functions
take the rows a rule looks at and return a :class:`Judgement`: the verdict, a one-sentence
headline with the key number and its p-value, the key numbers and the reasons in words.

Every price rule has a ``direction`` (``up``, ``down``, ``any``): a CAR "in the claimed
direction" is positive, negative, or either. A test "rejects" when its p-value is below
``alpha``; a test whose p-value is NaN is *unavailable* for that row and the remaining tests
decide (named in the reasons). A row whose CAR itself is missing is *unavailable evidence*:
it never counts as "not significant". With no available row the claim is not testable; with
some rows missing, "supported" is capped at "partly supported" and the reasons name them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pandas as pd

from research.claims.verdict import NOT_SUPPORTED, NOT_TESTABLE, PARTLY, SUPPORTED, PrimaryTest, empty_evidence
from research.vocab import basket_id, engine_id, finite as _finite, p_note as _p, parse_series

if TYPE_CHECKING:  # types only: a rule evaluates itself through the context it is handed
    from research.claims.evaluation import EvalContext, RuleOutcome
    from research.claims.params import EvalParams
    from research.claims.registry import Claim
    from research.claims.studies import ClaimStudy

Target = tuple[str, str, tuple[int, int]]

__all__ = [
    "Judgement", "Rule", "PriceRule", "BasketCarRule", "PairsCarRule", "RollingReturnRule",
    "RevenueGrowthRule", "FactCheckRule", "NotTestableRule", "RULES", "register", "DIRECTIONS",
    "row_significance", "in_direction", "judge_basket", "judge_pairs", "judge_pairs_all",
    "judge_rolling", "judge_growth", "joint_z", "TEST_COLUMNS", "EventCarRule", "rows_at",
]

#: Evidence column holding each test's p-value.
TEST_COLUMNS: dict[str, str] = {"parametric": "p_value", "placebo": "p_placebo"}
DIRECTIONS: tuple[str, ...] = ("up", "down", "any")
_WORD = {"up": "rose", "down": "fell", "any": "moved"}


# ---------------------------------------------------------------------------------------
# rule classes
@dataclass(frozen=True)
class Rule:
    """Base of every rule type: the rule in words and the cap on its verdict.

    Class attributes
    ----------------
    type : the ``rule.type`` name in claims.yaml.
    checks : the kinds of check the rule makes (``"price"``, ``"fact"``; empty for none).
    studies : what must be computed before judging (``"event_study"``, ``"rolling"``,
        ``"facts"``).
    """

    type: ClassVar[str] = ""
    checks: ClassVar[tuple[str, ...]] = ()
    studies: ClassVar[tuple[str, ...]] = ()
    #: True for a rule with a primary test in the article's multiple-testing family
    in_family: ClassVar[bool] = False

    text: str
    max_verdict: str = ""
    max_verdict_reason: str = ""

    @property
    def direction(self) -> str | None:
        """The claimed direction of a price rule (None for other rules)."""
        return None

    def rule_text(self) -> str:
        """The rule in words, as the verdict states it."""
        return self.text

    def how_judged(self) -> str:
        """How this rule type reaches its verdict, in words (its class description)."""
        return " ".join((type(self).__doc__ or "").split())

    def evaluate(self, claim: Claim, ctx: EvalContext) -> RuleOutcome:
        """The rule's outcome on the claim before the multiple-testing family and the caps
        (the studies the rule needs, its judgement, its reasons, its primary test); ``ctx``
        supplies the studies and the verdict's common parts
        (:class:`research.claims.evaluation.EvalContext`)."""
        raise NotImplementedError(f"rule type {self.type!r} does not evaluate itself")

    def primary_test(self, rows: pd.DataFrame, window: tuple[int, int]) -> PrimaryTest | None:
        """The primary test on the rows the rule judged (None: not in the family)."""
        return None

    def rule_window(self) -> tuple[int, int] | None:
        """The rule's own CAR window (None: "auto", or a rule without one)."""
        return None

    def auto_window(self, study: ClaimStudy, event_id: str) -> tuple[int, int]:
        """The rule's window on one event: its own, else (0,0) or the uncertain day 0's."""
        w = self.rule_window()
        if w is not None:
            return w
        uw = study.day0.loc[event_id, "uncertain_window"]
        return tuple(uw) if uw is not None else (0, 0)

    def targets(self, claim: Claim, study: ClaimStudy, window: tuple[int, int] | None = None) -> list[Target]:
        """(event, ticker-or-basket, window) rows the rule reads (or shows as context):
        every (event, ticker) pair of the claim whose event was studied."""
        ok = _ok_events(claim, study)
        return [(e, t, window or self.auto_window(study, e)) for e, t in claim.event_ticker_pairs() if e in ok]

    @classmethod
    def claim_problems(cls, rec: Mapping[str, Any]) -> list[str]:
        """What a claim using this rule type lacks (one sentence each, with the fix), from
        its schema-valid ``claims.yaml`` record."""
        return []

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any]) -> Rule:
        """Build from a schema-validated ``rule:`` mapping (lists become tuples, ``"auto"``
        windows None, texts whitespace-normalised)."""
        names = {f.name for f in fields(cls)}
        kw: dict[str, Any] = {}
        for k, v in raw.items():
            if k == "type" or k not in names:
                continue
            if k == "window":
                v = None if v == "auto" else (int(v[0]), int(v[1]))
            elif isinstance(v, list):
                v = tuple(v)
            elif isinstance(v, str) and k in ("text", "reason", "max_verdict_reason"):
                v = " ".join(v.split())
            elif k in ("threshold", "threshold_pct", "tolerance_pp"):
                v = float(v)
            kw[k] = v
        return cls(**kw)

    def to_dict(self) -> dict[str, Any]:
        """The rule's parameters (JSON-ready; ``text`` left out: it is the verdict's ``rule``)."""
        d: dict[str, Any] = {"type": self.type}
        for f in fields(self):
            v = getattr(self, f.name)
            if f.name == "text" or (f.name.startswith("max_verdict") and not v):
                continue
            if f.name == "window":
                v = list(v) if v is not None else "auto"
            d[f.name] = list(v) if isinstance(v, tuple) else v
        return d


#: rule type name -> class (see :func:`register`).
RULES: dict[str, type[Rule]] = {}


def register(cls: type[Rule]) -> type[Rule]:
    """Class decorator: make ``cls`` available as ``rule.type: <cls.type>`` in claims.yaml."""
    if not cls.type or cls.type in RULES:
        raise ValueError(f"rule type {cls.type!r} is empty or registered twice")
    RULES[cls.type] = cls
    return cls


@dataclass(frozen=True)
class PriceRule(Rule):
    """A rule about prices: it states the claimed ``direction`` (up, down, any)."""

    checks: ClassVar[tuple[str, ...]] = ("price",)
    direction: str = "up"  # type: ignore[assignment]

    def __post_init__(self) -> None:
        if self.direction not in DIRECTIONS:
            raise ValueError(f"direction {self.direction!r} is not one of {DIRECTIONS}")


@dataclass(frozen=True)
class EventCarRule(PriceRule):
    """A rule on event-study CARs at ``window`` (None = "auto": (0,0) when the timing is
    known, the uncertain day 0's window when not), where ``tests`` must reject; its primary
    test is in the article's multiple-testing family."""

    studies: ClassVar[tuple[str, ...]] = ("event_study",)
    in_family: ClassVar[bool] = True
    window: tuple[int, int] | None = None
    tests: tuple[str, ...] = ("parametric", "placebo")

    def rule_window(self) -> tuple[int, int] | None:
        return self.window

    #: what the specification grid's estimate is, for one row
    statistic: ClassVar[str] = "the pair's CAR"

    def judge(self, claim: Claim, study: ClaimStudy, params: EvalParams, rows: pd.DataFrame,
              targets: list[Target]) -> tuple[Judgement, dict[str, Any]]:
        """The rule's judgement on its rows and the key numbers."""
        raise NotImplementedError

    def judged_series(self, claim: Claim) -> frozenset[str]:
        """Tickers whose returns the verdict rests on (a market proxy among them would be
        tested against itself)."""
        return frozenset(t for _, t in claim.event_ticker_pairs())

    def judged_rows(self, claim: Claim, events: pd.DataFrame) -> pd.Series:
        """Which rows of a study's event table (engine ids ``event|series``) the rule judges."""
        return events["event_id"].isin({engine_id(e, t) for e, t in claim.event_ticker_pairs()})

    @classmethod
    def claim_problems(cls, rec: Mapping[str, Any]) -> list[str]:
        return [] if rec.get("events") else [f"a {cls.type} rule needs events: list the claim's event ids"]

    def evaluate(self, claim: Claim, ctx: EvalContext) -> RuleOutcome:
        return ctx.event_verdict(claim, self)


def _ok_events(claim: Claim, study: ClaimStudy) -> list[str]:
    return [e for e in claim.events if e in study.day0.index and e not in dict(study.excluded)]


@register
@dataclass(frozen=True)
class BasketCarRule(EventCarRule):
    """The equal-weighted basket's CAR over ``window`` on the primary event(s).

    Parameters: ``direction``; ``window`` ([a, b] trading days, or None = "auto": (0,0) when
    the timing is known, (-1,+1) when not); ``tests`` that must reject for "supported";
    ``primary_events`` (default: all the claim's events); ``confounded_events`` (their
    significant move can make the verdict at most "partly"); ``market_must_fall`` (the market
    proxy's day-0 return must be negative: "rose while the market fell").
    """

    type: ClassVar[str] = "basket_car"
    statistic: ClassVar[str] = "the basket CAR"
    primary_events: tuple[str, ...] = ()
    confounded_events: tuple[str, ...] = ()
    market_must_fall: bool = False

    def targets(self, claim: Claim, study: ClaimStudy, window: tuple[int, int] | None = None) -> list[Target]:
        """The basket's row on each primary event (default: every event of the claim)."""
        ok = _ok_events(claim, study)
        label = basket_id(claim.basket)
        return [(e, label, window or self.auto_window(study, e)) for e in (self.primary_events or claim.events)
                if e in ok]

    def judge(self, claim: Claim, study: ClaimStudy, params: EvalParams, rows: pd.DataFrame,
              targets: list[Target]) -> tuple[Judgement, dict[str, Any]]:
        mret: dict[str, float] = {}
        if self.market_must_fall and params.market_proxy in study.returns.columns:
            for e, _, _ in targets:
                d0 = study.day0.loc[e, "day0"]
                mret[e] = float(study.returns[params.market_proxy].get(d0, float("nan")))
        window = targets[0][2]
        label = basket_id(claim.basket)
        ok = set(study.day0.index) - set(dict(study.excluded))
        conf_rows = rows_at(study.evidence, [(e, label, window) for e in self.confounded_events if e in ok])
        j = judge_basket(rows, alpha=params.alpha, tests=self.tests, window=window, market_returns=mret,
                         market_must_fall=self.market_must_fall, confounded=conf_rows, direction=self.direction)
        members = rows_at(study.evidence, [(e, t, w) for e, _, w in targets
                                           for t in claim.tickers if t in claim.basket_tickers])
        sig = [row_significance(r, params.alpha, self.tests, self.direction) for r in members.to_dict(orient="records")]
        key = dict(j.key_numbers)
        key["basket"] = claim.basket
        key["basket_members"] = list(claim.basket_tickers)
        key["window"] = list(window)
        key["members_estimated"] = len(members)
        key["members_positive_significant_all_tests"] = sum(s["all_reject"] for s in sig)
        return j, key

    @classmethod
    def claim_problems(cls, rec: Mapping[str, Any]) -> list[str]:
        need = [] if rec.get("basket") else [f"a {cls.type} rule needs the claim's basket: add basket: <name>"]
        return need + super().claim_problems(rec)

    def judged_series(self, claim: Claim) -> frozenset[str]:
        return frozenset(claim.basket_tickers)

    def judged_rows(self, claim: Claim, events: pd.DataFrame) -> pd.Series:
        return events["ticker"] == basket_id(claim.basket)

    def primary_test(self, rows: pd.DataFrame, window: tuple[int, int]) -> PrimaryTest | None:
        """The exact placebo p of the basket CAR; with several primary events the largest
        (every event must pass: an intersection-union test)."""
        return _worst_row_test(rows, window, "basket")


@register
@dataclass(frozen=True)
class PairsCarRule(EventCarRule):
    """One CAR per (event, ticker) pair, each on its own day 0.

    ``members: each`` (default): supported if every pair moved in the claimed direction and
    is significant under every test. ``members: all`` ("all rose"): supported if every pair
    moved in the claimed direction and a joint test of the pairs (standardised CARs
    combined) is significant under every test; an insignificant member is a power note.
    """

    type: ClassVar[str] = "pairs_car"
    members: str = "each"

    @classmethod
    def claim_problems(cls, rec: Mapping[str, Any]) -> list[str]:
        need = [] if (rec.get("pairs") or rec.get("tickers")) else [
            f"a {cls.type} rule needs pairs (or tickers): add pairs: [[event_id, TICKER], ...]"]
        return super().claim_problems(rec) + need

    def judge(self, claim: Claim, study: ClaimStudy, params: EvalParams, rows: pd.DataFrame,
              targets: list[Target]) -> tuple[Judgement, dict[str, Any]]:
        judge = judge_pairs_all if self.members == "all" else judge_pairs
        j = judge(rows, alpha=params.alpha, tests=self.tests, direction=self.direction)
        return j, dict(j.key_numbers)

    def primary_test(self, rows: pd.DataFrame, window: tuple[int, int]) -> PrimaryTest | None:
        """``each``: the largest exact placebo p of the pairs (every pair must pass);
        ``all``: the joint placebo test of the pairs (Stouffer)."""
        return _joint_test(rows, window) if self.members == "all" else _worst_row_test(rows, window, "pair")


@register
@dataclass(frozen=True)
class RollingReturnRule(PriceRule):
    """Rolling ``horizon``-session simple returns ending in the last ``lookback_sessions``
    sessions up to the as-of date: each required ticker's extreme in the claimed direction
    must pass ``threshold`` (a simple return magnitude: 1.0 = 100%). ``month`` (YYYY-MM,
    optional) adds that calendar month's return for comparison with the press."""

    type: ClassVar[str] = "rolling_return"
    studies: ClassVar[tuple[str, ...]] = ("rolling",)
    required_tickers: tuple[str, ...] = ()
    horizon: int = 21
    threshold: float = 1.0
    lookback_sessions: int = 30
    month: str = ""

    @classmethod
    def claim_problems(cls, rec: Mapping[str, Any]) -> list[str]:
        missing = [t for t in (rec.get("rule") or {}).get("required_tickers", []) if t not in rec.get("tickers", [])]
        return [f"rule.required_tickers {missing} must also be listed under tickers"] if missing else []

    def evaluate(self, claim: Claim, ctx: EvalContext) -> RuleOutcome:
        return ctx.rolling_verdict(claim, self)


@register
@dataclass(frozen=True)
class RevenueGrowthRule(Rule):
    """Year-over-year growth from facts ``current`` over ``prior`` (and the ``reported_growth``
    fact), against ``threshold_pct``; an event study of the claim's events at ``window`` is
    shown as context."""

    type: ClassVar[str] = "revenue_growth"
    checks: ClassVar[tuple[str, ...]] = ("fact",)
    studies: ClassVar[tuple[str, ...]] = ("facts", "event_study")
    current: str = ""
    prior: str = ""
    reported_growth: str = ""
    threshold_pct: float = 0.0
    tolerance_pp: float = 10.0
    window: tuple[int, int] | None = None

    def rule_window(self) -> tuple[int, int] | None:
        return self.window

    def evaluate(self, claim: Claim, ctx: EvalContext) -> RuleOutcome:
        return ctx.growth_verdict(claim, self)


@register
@dataclass(frozen=True)
class FactCheckRule(Rule):
    """The claim is a statement of fact: its verdict is the fact check of its
    ``fact_check:`` items (the claim's events, if any, are shown as context only)."""

    type: ClassVar[str] = "fact_check"
    checks: ClassVar[tuple[str, ...]] = ("fact",)
    studies: ClassVar[tuple[str, ...]] = ("facts",)

    @classmethod
    def claim_problems(cls, rec: Mapping[str, Any]) -> list[str]:
        return [] if rec.get("fact_check") else [
            f"a {cls.type} rule needs the claim's fact_check: items (see docs/ARTICLES.md)"]

    def evaluate(self, claim: Claim, ctx: EvalContext) -> RuleOutcome:
        return ctx.fact_verdict(claim)


@register
@dataclass(frozen=True)
class NotTestableRule(Rule):
    """Opinions and forecasts: neither prices nor facts can settle them (``reason`` says why)."""

    type: ClassVar[str] = "not_testable"
    reason: str = ""

    def rule_text(self) -> str:
        return f"{self.text} Reason: {self.reason}"

    def evaluate(self, claim: Claim, ctx: EvalContext) -> RuleOutcome:
        return ctx.not_testable_verdict(claim, f"Not testable: {self.reason}")


# ---------------------------------------------------------------------------------------
# judgements
@dataclass(frozen=True)
class Judgement:
    """Outcome of a verdict rule.

    Attributes
    ----------
    verdict : one of the verdicts of :mod:`research.claims.verdict`.
    key_numbers : the numbers the verdict rests on.
    reasons : the rule applied, in words.
    headline : one sentence with the key number and its p-value (shown by the reports).
    """

    verdict: str
    key_numbers: dict[str, Any] = field(default_factory=dict)
    reasons: tuple[str, ...] = ()
    headline: str = ""


def in_direction(value: Any, direction: str) -> bool:
    """True when ``value`` is finite and has the claimed sign (``any``: any finite value)."""
    if not _finite(value):
        return False
    v = float(value)
    return v > 0 if direction == "up" else v < 0 if direction == "down" else True


def row_significance(row: pd.Series | dict, alpha: float, tests: Sequence[str],
                     direction: str = "up") -> dict[str, Any]:
    """Classify one evidence row.

    Returns a dict: ``positive`` (CAR in the claimed ``direction``; the name is historical),
    ``available`` (tests with a finite p-value), ``rejected`` (available tests with
    p < alpha), ``all_reject`` (in direction, at least one test available and every
    available test rejects), ``any_reject`` (in direction and at least one test rejects).
    """
    ok = in_direction(row["car"], direction)
    avail = [t for t in tests if _finite(row[TEST_COLUMNS[t]])]
    rej = [t for t in avail if float(row[TEST_COLUMNS[t]]) < alpha]
    return {
        "positive": ok, "available": avail, "rejected": rej,
        "all_reject": ok and bool(avail) and len(rej) == len(avail),
        "any_reject": ok and bool(rej),
    }


def _describe(label: str, row: pd.Series | dict, window: tuple[int, int]) -> str:
    car = row["car"]
    car_s = f"{float(car):+.2%}" if _finite(car) else "n/a"
    ps = ", ".join(f"{t} p={_p(row[TEST_COLUMNS[t]])}" for t in TEST_COLUMNS)
    return f"{label}: CAR({window[0]:+d},{window[1]:+d}) = {car_s} ({ps})"


def _short(row: pd.Series | dict, tests: Sequence[str]) -> str:
    """``+8.12% (t 3.10, p 0.0040; placebo p 0.0120)``."""
    car = f"{float(row['car']):+.2%}" if _finite(row["car"]) else "n/a"
    parts = []
    if _finite(row.get("t_stat")):
        parts.append(f"t {float(row['t_stat']):.2f}")
    for t in tests:
        parts.append(("p " if t == "parametric" else "placebo p ") + _p(row[TEST_COLUMNS[t]]))
    return f"{car} ({', '.join(parts)})"


def _unavailable_note(sigs: list[dict[str, Any]], tests: Sequence[str], labels: list[str]) -> list[str]:
    out = []
    for lab, s in zip(labels, sigs, strict=True):
        miss = [t for t in tests if t not in s["available"]]
        if miss and s["available"]:
            out.append(f"{lab}: {' and '.join(miss)} test unavailable (no p-value); decided on the other test(s).")
        elif miss:
            out.append(f"{lab}: no test available (no p-value); this row cannot count as significant.")
    return out


def _split_estimated(rows: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Rows with a finite CAR, and labels of the rows without one (not estimated)."""
    if rows.empty:
        return rows, []
    has = np.array([_finite(c) for c in rows["car"]], dtype=bool)
    missing = [f"{t} on {e}" for t, e in zip(rows.loc[~has, "ticker"], rows.loc[~has, "event_id"], strict=True)]
    return rows[has], missing


def _nothing_estimated(what: str, missing: list[str]) -> Judgement:
    """The judgement when no row of the rule has an estimate: not testable, and why."""
    why = f"no {what} could be estimated ({', '.join(missing)})" if missing else f"no {what} to judge"
    return Judgement(NOT_TESTABLE, {}, (why,), why[0].upper() + why[1:] + ".")


def _cap_for_missing(verdict: str, missing: list[str], n_total: int, reasons: list[str]) -> str:
    """Cap 'supported' at 'partly supported' when part of the evidence could not be estimated."""
    if not missing:
        return verdict
    reasons.append(f"{len(missing)} of {n_total} rows could not be estimated ({', '.join(missing)}): "
                   "the verdict rests on the others" + ("; 'supported' is capped at 'partly supported'"
                                                         if verdict == SUPPORTED else ""))
    return PARTLY if verdict == SUPPORTED else verdict


def _day(row: Mapping[str, Any]) -> str:
    d = row.get("day0")
    return pd.Timestamp(d).strftime("%Y-%m-%d") if d is not None and not pd.isna(d) else str(row["event_id"])


def judge_basket(
    rows: pd.DataFrame,
    *,
    alpha: float,
    tests: Sequence[str] = ("parametric", "placebo"),
    window: tuple[int, int],
    market_returns: dict[str, float] | None = None,
    market_must_fall: bool = False,
    confounded: pd.DataFrame | None = None,
    direction: str = "up",
) -> Judgement:
    """The basket rule on the basket's rows (one per primary event, for ``window``).

    Supported: for every primary event the basket CAR is in the claimed ``direction`` and
    every available test rejects at ``alpha`` (and, with ``market_must_fall``, the market's
    day-0 return is negative). Partly supported: at least one event's basket CAR is in
    direction and at least one test rejects (or all reject but the market did not fall), or
    -- when the primary events fail -- a ``confounded`` event's basket CAR (rows of events
    whose day 0 is shared with other news) is in direction and every available test rejects.
    Otherwise not supported.
    """
    n_total = len(rows)
    rows, missing = _split_estimated(rows)
    if rows.empty:
        return _nothing_estimated("basket CAR", missing)
    key: dict[str, Any] = {}
    reasons: list[str] = []
    sigs, labels = [], []
    market_ok = True
    recs = rows.to_dict(orient="records")
    for r in recs:
        s = row_significance(r, alpha, tests, direction)
        sigs.append(s)
        ev = r["event_id"]
        labels.append(f"{r['ticker']} on {ev}")
        reasons.append(_describe(f"{r['ticker']} on {ev}", r, window))
        key[f"{ev}.basket_car"] = r["car"]
        key[f"{ev}.basket_t_stat"] = r["t_stat"]
        key[f"{ev}.basket_p_value"] = r["p_value"]
        key[f"{ev}.basket_p_placebo"] = r["p_placebo"]
        if market_must_fall:
            m = (market_returns or {}).get(ev, float("nan"))
            key[f"{ev}.market_return_day0"] = m
            fell = _finite(m) and m < 0
            reasons.append(f"market proxy day-0 return on {ev}: {m:+.2%}" if _finite(m)
                           else f"market proxy day-0 return on {ev}: n/a")
            market_ok = market_ok and fell
    reasons += _unavailable_note(sigs, tests, labels)
    if all(s["all_reject"] for s in sigs) and market_ok:
        verdict = SUPPORTED
    elif any(s["any_reject"] for s in sigs):
        verdict = PARTLY
        if all(s["all_reject"] for s in sigs) and not market_ok:
            reasons.append("the basket moved significantly but the market proxy did not fall on day 0")
    else:
        verdict = NOT_SUPPORTED
    verdict = _cap_for_missing(verdict, missing, n_total, reasons)
    r0 = recs[0]
    headline = (f"{parse_series(r0['ticker'])[0]} basket CAR({window[0]:+d},{window[1]:+d}) "
                f"on {_day(r0)}: {_short(r0, tests)}; claimed: {_WORD[direction]}")
    if confounded is not None and not confounded.empty:
        for r in confounded.to_dict(orient="records"):
            s = row_significance(r, alpha, tests, direction)
            ev = r["event_id"]
            key[f"{ev}.basket_car"] = r["car"]
            key[f"{ev}.basket_p_value"] = r["p_value"]
            key[f"{ev}.basket_p_placebo"] = r["p_placebo"]
            reasons.append(_describe(f"{r['ticker']} on {ev} (day 0 shared with other news)", r, window))
            if verdict == NOT_SUPPORTED and s["all_reject"]:
                verdict = PARTLY
                reasons.append(f"partly supported only through {ev}, whose day 0 is shared with other news: "
                               "the move is real but cannot be attributed to the claim's news alone")
                headline += f"; on {_day(r)} (shared with other news): {_short(r, tests)}"
    return Judgement(verdict, key, tuple(reasons), headline + ".")


def _pair_rows(rows: pd.DataFrame, alpha: float, tests: Sequence[str], direction: str
               ) -> tuple[dict[str, Any], list[str], list[dict[str, Any]], list[dict[str, Any]]]:
    key: dict[str, Any] = {}
    reasons, sigs, recs = [], [], rows.to_dict(orient="records")
    for r in recs:
        s = row_significance(r, alpha, tests, direction)
        sigs.append(s)
        w = (int(r["window_start"]), int(r["window_end"]))
        reasons.append(_describe(f"{r['ticker']} on {r['event_id']}", r, w))
        key[f"{r['ticker']}@{r['event_id']}"] = {
            "window": list(w), "car": r["car"], "t_stat": r["t_stat"], "p_value": r["p_value"],
            "p_placebo": r["p_placebo"], "significant_all_tests": s["all_reject"]}
    labels = [f"{r['ticker']} on {r['event_id']}" for r in recs]
    reasons += _unavailable_note(sigs, tests, labels)
    return key, reasons, sigs, recs


def judge_pairs(rows: pd.DataFrame, *, alpha: float, tests: Sequence[str] = ("parametric", "placebo"),
                direction: str = "up") -> Judgement:
    """The pairs rule (``members: each``) on one row per (event, ticker) pair (each at its
    own window, given by the row's ``window_start``/``window_end``).

    Supported: every pair's CAR is in the claimed direction and every available test
    rejects. Partly supported: at least one pair is in direction with at least one test
    rejecting. Otherwise not supported.
    """
    n_total = len(rows)
    rows, missing = _split_estimated(rows)
    if rows.empty:
        return _nothing_estimated("(event, ticker) pair", missing)
    key, reasons, sigs, recs = _pair_rows(rows, alpha, tests, direction)
    n_all = sum(s["all_reject"] for s in sigs)
    n_any = sum(s["any_reject"] for s in sigs)
    key["pairs_significant_all_tests"] = n_all
    key["pairs_significant_any_test"] = n_any
    key["pairs"] = len(sigs)
    key["pairs_not_estimated"] = len(missing)
    if n_all == len(sigs):
        verdict = SUPPORTED
    elif n_any >= 1:
        verdict = PARTLY
    else:
        verdict = NOT_SUPPORTED
    verdict = _cap_for_missing(verdict, missing, n_total, reasons)
    if len(recs) == 1:
        r0 = recs[0]
        headline = (f"{r0['ticker']} CAR({int(r0['window_start']):+d},{int(r0['window_end']):+d}) from "
                    f"{_day(r0)}: {_short(r0, tests)}; claimed: {_WORD[direction]}.")
    else:
        best = min(recs, key=lambda r: float(r["p_value"]) if _finite(r["p_value"]) else 2.0)
        headline = (f"{n_all} of {len(sigs)} (event, ticker) pairs {_WORD[direction]} significantly under "
                    f"every test; smallest p: {best['ticker']} {_short(best, tests)}.")
    return Judgement(verdict, key, tuple(reasons), headline)


def joint_z(recs: Sequence[Mapping[str, Any]], test: str) -> tuple[float, float, int]:
    """Joint test of several (event, ticker) CARs on different days: Stouffer's combination.

    ``parametric``: z = sum(t_i) / sqrt(n) (the standardised CARs added up; each t_i is
    N(0, 1) under the null and the events are on different days, so independent).
    ``placebo``: each placebo p-value is turned into a signed normal score
    z_i = sign(CAR_i) * Phi^-1(1 - p_i / 2) and combined the same way.

    Returns (z, two-sided p, n used); NaN when no row has the statistic.
    """
    zs = []
    from scipy import stats  # here, not at import: `research article check` needs no scipy

    for r in recs:
        if test == "parametric":
            if _finite(r.get("t_stat")):
                zs.append(float(r["t_stat"]))
        else:
            p = r.get(TEST_COLUMNS[test])
            if _finite(p) and _finite(r.get("car")):
                p = min(max(float(p), 1e-12), 1.0)
                zs.append(math.copysign(float(stats.norm.isf(p / 2.0)), float(r["car"])))
    if not zs:
        return float("nan"), float("nan"), 0
    z = float(np.sum(zs) / math.sqrt(len(zs)))
    return z, float(2.0 * stats.norm.sf(abs(z))), len(zs)


def judge_pairs_all(rows: pd.DataFrame, *, alpha: float, tests: Sequence[str] = ("parametric", "placebo"),
                    direction: str = "up") -> Judgement:
    """The "all rose" pairs rule (``members: all``).

    Supported: every pair's CAR is in the claimed direction and the joint test
    (:func:`joint_z`) rejects at ``alpha`` in that direction under every available test.
    Partly supported: every CAR in direction and the joint test rejects under one test, or
    the joint test rejects while some pair moved the other way. Otherwise not supported.
    A pair in direction that is not significant on its own is named as a power note.
    """
    n_total = len(rows)
    rows, missing = _split_estimated(rows)
    if rows.empty:
        return _nothing_estimated("(event, ticker) pair", missing)
    key, reasons, sigs, recs = _pair_rows(rows, alpha, tests, direction)
    n_dir = sum(s["positive"] for s in sigs)
    joint: dict[str, tuple[float, float, int]] = {t: joint_z(recs, t) for t in tests}
    avail = [t for t in tests if _finite(joint[t][1])]
    rej = [t for t in avail if joint[t][1] < alpha and in_direction(joint[t][0], direction)]
    for t in tests:
        z, p, n = joint[t]
        key[f"joint_{t}_z"] = z
        key[f"joint_{t}_p"] = p
        reasons.append(f"joint {t} test of the {n} pairs (Stouffer): z = {z:+.2f}, p = {_p(p)}")
    key["pairs"] = len(sigs)
    key["pairs_in_direction"] = n_dir
    key["pairs_significant_all_tests"] = sum(s["all_reject"] for s in sigs)
    key["pairs_not_estimated"] = len(missing)
    for r, s in zip(recs, sigs, strict=True):
        if s["positive"] and not s["any_reject"]:
            reasons.append(f"{r['ticker']} {_WORD[direction]} ({float(r['car']):+.2%}) but not significantly on "
                           f"its own (p {_p(r['p_value'])}): one stock on one day has little power; this is "
                           "not a refutation")
    if n_dir == len(sigs) and avail and len(rej) == len(avail):
        verdict = SUPPORTED
    elif rej:
        verdict = PARTLY
    else:
        verdict = NOT_SUPPORTED
    verdict = _cap_for_missing(verdict, missing, n_total, reasons)
    t0 = avail[0] if avail else tests[0]
    headline = (f"{n_dir} of {len(sigs)} {_WORD[direction]} ("
                + ", ".join(f"{r['ticker']} {float(r['car']):+.1%}" for r in recs)
                + f"); joint test z {joint[t0][0]:+.2f}, p {_p(joint[t0][1])}"
                + "".join(f", {t} joint p {_p(joint[t][1])}" for t in avail if t != t0) + ".")
    return Judgement(verdict, key, tuple(reasons), headline)


def judge_rolling(table: pd.DataFrame, *, required: Sequence[str], threshold: float,
                  lookback_sessions: int, horizon: int, direction: str = "up") -> Judgement:
    """Rolling-return rule on a per-ticker table with ``max_return``/``max_end`` (and
    ``min_return``/``min_end`` for ``down``).

    The extreme in the claimed direction (largest rise for ``up``, deepest fall for
    ``down``, largest absolute move for ``any``) must pass ``threshold`` (a magnitude).
    Supported if every required ticker's does; partly if some do; not supported if none (or
    a required ticker has no data).
    """
    hits, reasons, parts = [], [], []
    for t in required:
        col = "min" if direction == "down" else "max"
        if direction == "any" and t in table.index and _finite(table.loc[t, "min_return"]) \
                and (not _finite(table.loc[t, "max_return"])
                     or abs(float(table.loc[t, "min_return"])) > abs(float(table.loc[t, "max_return"]))):
            col = "min"
        if t not in table.index or not _finite(table.loc[t, f"{col}_return"]):
            reasons.append(f"{t}: no {horizon}-session return in the last {lookback_sessions} sessions")
            hits.append(False)
            parts.append(f"{t} n/a")
            continue
        x = float(table.loc[t, f"{col}_return"])
        end = table.loc[t, f"{col}_end"]
        ok = abs(x) > threshold and in_direction(x, direction)
        hits.append(ok)
        bound = f"{-threshold:+.0%}" if col == "min" else f"{threshold:+.0%}"
        reasons.append(f"{t}: {'max' if col == 'max' else 'min'} {horizon}-session return {x:+.1%} ending "
                       f"{pd.Timestamp(end).date()} ({'beyond' if ok else 'not beyond'} {bound})")
        parts.append(f"{t} {x:+.0%} (to {pd.Timestamp(end).date()})")
    if all(hits):
        verdict = SUPPORTED
    elif any(hits):
        verdict = PARTLY
    else:
        verdict = NOT_SUPPORTED
    word = {"up": "largest rise", "down": "deepest fall", "any": "largest move"}[direction]
    headline = (f"{word} over {horizon} sessions in the last {lookback_sessions}: " + ", ".join(parts)
                + f"; threshold {threshold:.0%}; {int(np.sum(hits))} of {len(hits)} beyond it "
                "(a price path, no p-value).")
    return Judgement(verdict, {"tickers_above_threshold": int(np.sum(hits)), "required": len(hits)},
                     tuple(reasons), headline)


def judge_growth(current: float | None, prior: float | None, reported_pct: float | None, *,
                 threshold_pct: float, tolerance_pp: float = 10.0) -> Judgement:
    """Year-over-year growth ``(current - prior) / prior`` in percent against a threshold.

    The decision uses the reported growth (computed from unrounded figures) when given,
    else the growth from the (possibly rounded) figures. Supported if it exceeds
    ``threshold_pct`` and the two agree within ``tolerance_pp`` percentage points; partly
    supported if it exceeds the threshold but they disagree by more; not supported if it
    does not exceed the threshold. Unusable figures (missing, non-finite, prior <= 0):
    not testable.
    """
    if not (_finite(current) and _finite(prior)) or float(prior) <= 0:  # type: ignore[arg-type]
        why = f"revenue figures unusable (current={current}, prior={prior}): growth cannot be computed"
        return Judgement(NOT_TESTABLE, {}, (why,), why[0].upper() + why[1:] + ".")
    computed = (float(current) - float(prior)) / float(prior) * 100.0  # type: ignore[arg-type]
    decisive = float(reported_pct) if _finite(reported_pct) else computed  # type: ignore[arg-type]
    key: dict[str, Any] = {"revenue_current": float(current), "revenue_prior": float(prior),  # type: ignore[arg-type]
                           "growth_pct_from_revenues": computed,
                           "growth_pct_reported": float(reported_pct) if _finite(reported_pct) else None,  # type: ignore[arg-type]
                           "threshold_pct": threshold_pct}
    reasons = [f"growth from the revenue figures: {computed:.1f}%",
               f"reported growth: {float(reported_pct):.1f}%" if _finite(reported_pct) else "no reported growth"]  # type: ignore[arg-type]
    agree = abs(decisive - computed) <= tolerance_pp
    if decisive > threshold_pct and agree:
        verdict = SUPPORTED
    elif decisive > threshold_pct:
        verdict = PARTLY
        reasons.append(f"reported and computed growth differ by more than {tolerance_pp:g} percentage points")
    else:
        verdict = NOT_SUPPORTED
    rep = f"reported {float(reported_pct):.0f}%, " if _finite(reported_pct) else ""  # type: ignore[arg-type]
    headline = (f"year-over-year growth {rep}{computed:.0f}% from the figures, against the claimed "
                f"more than {threshold_pct:g}% (a reported figure, no p-value).")
    return Judgement(verdict, key, tuple(reasons), headline)


# ---------------------------------------------------------------------------------------
# the rows a rule reads, and the primary tests
def rows_at(evidence: pd.DataFrame, pairs: list[Target], *, estimated_only: bool = True) -> pd.DataFrame:
    """Evidence rows for (event_id, ticker, window) triples, in the given order.

    ``estimated_only=False`` keeps every requested triple: one that was skipped or has no
    evidence row at all comes back with a NaN CAR, so a rule sees it as missing evidence
    instead of never hearing of it.
    """
    if not pairs or (evidence.empty and estimated_only):
        return evidence.iloc[0:0].reset_index(drop=True)
    if evidence.empty:
        evidence = empty_evidence()
    keys = [(e, t, int(w[0]), int(w[1])) for e, t, w in pairs]
    pos = {k: i for i, k in enumerate(zip(evidence["event_id"], evidence["ticker"],
                                          evidence["window_start"].astype(int), evidence["window_end"].astype(int)))}
    hit = [pos.get(k, -1) for k in keys]
    if estimated_only:
        status = evidence["status"].to_numpy()
        hit = [i for i in hit if i >= 0 and status[i] == "ok"]
        return evidence.iloc[hit].reset_index(drop=True)
    out = (evidence.iloc[[max(i, 0) for i in hit]].reset_index(drop=True).copy() if len(evidence)
           else evidence.reindex(range(len(keys))))
    missing = [j for j, i in enumerate(hit) if i < 0]
    if missing:
        out.loc[missing, :] = np.nan
        for col, vals in zip(["event_id", "ticker", "window_start", "window_end"], zip(*keys), strict=True):
            out[col] = list(vals)
    return out


def _estimated(rows: pd.DataFrame) -> pd.DataFrame:
    return rows[[_finite(c) for c in rows["car"]]] if not rows.empty else rows


def _joint_test(rows: pd.DataFrame, window: tuple[int, int]) -> PrimaryTest | None:
    """The joint placebo test of the pairs (Stouffer), or the joint t where some pair has no
    placebo p."""
    rows = _estimated(rows)
    if rows.empty:
        return None
    what = f"CAR({window[0]:+d},{window[1]:+d})"
    recs = rows.to_dict(orient="records")
    _, p, n = joint_z(recs, "placebo")
    if n == len(recs):
        return PrimaryTest("joint placebo (Stouffer)", f"joint test of the {n} pairs' {what} against "
                           "each stock's own non-event dates", window, p)
    _, p, _ = joint_z(recs, "parametric")
    return PrimaryTest("parametric t", f"joint test of the {len(recs)} pairs' {what}, placebo unavailable "
                       "for some pair (too little history)", window, p)


def _worst_row_test(rows: pd.DataFrame, window: tuple[int, int], which: str) -> PrimaryTest | None:
    """The largest row p (placebo where available, else the t-test's): every row must pass."""
    rows = _estimated(rows)
    if rows.empty:
        return None
    what = f"CAR({window[0]:+d},{window[1]:+d})"
    use_placebo = [_finite(p) for p in rows["p_placebo"]]
    p_row = np.where(use_placebo, rows["p_placebo"].astype(float), rows["p_value"].astype(float))
    j = int(np.nanargmax(p_row)) if np.isfinite(p_row).any() else 0
    worst = rows.iloc[j]
    if not use_placebo[j]:
        return PrimaryTest("parametric t", f"{which} {worst['ticker']} on {worst['event_id']}: {what}, "
                           "placebo unavailable (too little history)", window, float(p_row[j]))
    n = worst.get("p_placebo_n")
    fl = worst.get("p_placebo_floor")
    desc = (f"exact placebo of the {which} {what}" + (f", largest of {len(rows)} (every one must pass)"
                                                       if len(rows) > 1 else ""))
    return PrimaryTest("exact placebo", desc, window, float(p_row[j]),
                       int(n) if _finite(n) else None, float(fl) if _finite(fl) else None)
