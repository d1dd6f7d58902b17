"""Judge a price claim on its event studies: the rows its rule reads, the rule's verdict,
its primary test, and the caps on "supported".

Shared by :func:`research.claims.evaluate` (the headline specification) and
:mod:`research.claims.robustness` (every specification of the grid), so a verdict under
any specification is reached by exactly the same steps:

1. :func:`event_targets`: the (event, ticker-or-basket, window) rows the rule looks at;
   the window is the rule's (``auto``: (0,0), or the window of an uncertain day 0), or one
   window forced for every row (the grid's window alternatives).
2. :func:`judge_event_claim`: the rule's judgement on those rows and the claim's primary
   test (:func:`research.claims.multiplicity.primary_test`).
3. :func:`capped_verdict`: the rule's own cap (``max_verdict``), then the multiplicity cap
   ("supported" needs the Holm-adjusted primary p below alpha) and the cap of a verdict
   resting on the plain t-test alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from research.claims import rules as _rules
from research.claims.multiplicity import primary_test
from research.claims.params import EvalParams
from research.claims.registry import Claim
from research.claims.studies import ClaimStudy
from research.claims.verdict import PARTLY, SUPPORTED, Inference, PrimaryTest, Reason, ReasonKind, empty_evidence
from research.vocab import basket_id, finite, p_note as fmt_p

__all__ = ["EventJudgement", "event_targets", "rows_at", "judge_event_claim", "capped_verdict"]

Target = tuple[str, str, tuple[int, int]]


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


def _auto_window(claim: Claim, study: ClaimStudy, event_id: str) -> tuple[int, int]:
    w = getattr(claim.rule, "window", None)
    if w is not None:
        return w
    uw = study.day0.loc[event_id, "uncertain_window"]
    return tuple(uw) if uw is not None else (0, 0)


def event_targets(claim: Claim, study: ClaimStudy, window: tuple[int, int] | None = None) -> list[Target]:
    """(event, ticker-or-basket, window) rows the rule looks at.

    Parameters
    ----------
    window : one CAR window (trading days) for every row; default the rule's window per
        event (``auto``: (0,0), or (0,+1) / (-1,+1) where day 0 is uncertain).
    """
    ok_events = [e for e in claim.events if e in study.day0.index and e not in dict(study.excluded)]
    win = (lambda e: window) if window is not None else (lambda e: _auto_window(claim, study, e))
    if claim.rule.type == "basket_car":
        label = basket_id(claim.basket)
        prim = [e for e in (claim.rule.primary_events or claim.events) if e in ok_events]  # type: ignore[attr-defined]
        return [(e, label, win(e)) for e in prim]
    return [(e, t, win(e)) for e, t in claim.event_ticker_pairs() if e in ok_events]


@dataclass(frozen=True)
class EventJudgement:
    """A price rule applied to one study.

    Attributes
    ----------
    judgement : the rule's :class:`~research.claims.rules.Judgement` (before any cap).
    rows : the evidence rows the rule read (one per target; NaN CAR where not estimated).
    targets : the (event, ticker-or-basket, window) triples of ``rows``.
    primary : the claim's primary test on ``rows`` (None when nothing could be tested).
    key_numbers : the judgement's key numbers plus the basket's member counts.
    """

    judgement: _rules.Judgement
    rows: pd.DataFrame
    targets: tuple[Target, ...]
    primary: PrimaryTest | None
    key_numbers: dict[str, Any]


def judge_event_claim(claim: Claim, study: ClaimStudy, params: EvalParams,
                      window: tuple[int, int] | None = None) -> EventJudgement | None:
    """Apply a ``basket_car`` / ``pairs_car`` rule to a study (None when no event of the
    claim is on or before the as-of date). ``window`` forces one CAR window (see
    :func:`event_targets`); the study must hold it."""
    rule = claim.rule
    targets = event_targets(claim, study, window)
    if not targets:
        return None
    rows = rows_at(study.evidence, targets, estimated_only=False)
    tests, direction = rule.tests, rule.direction  # type: ignore[attr-defined]
    w0 = targets[0][2]
    if rule.type == "basket_car":
        j, key = _judge_basket(claim, study, params, rows, targets)
    elif rule.members == "all":  # type: ignore[attr-defined]
        j = _rules.judge_pairs_all(rows, alpha=params.alpha, tests=tests, direction=direction)
        key = dict(j.key_numbers)
    else:
        j = _rules.judge_pairs(rows, alpha=params.alpha, tests=tests, direction=direction)
        key = dict(j.key_numbers)
    prim = primary_test(rule.type, getattr(rule, "members", "each"), rows, w0)
    return EventJudgement(j, rows, tuple(targets), prim, key)


def _judge_basket(claim: Claim, study: ClaimStudy, params: EvalParams, rows: pd.DataFrame,
                  targets: list[Target]) -> tuple[_rules.Judgement, dict[str, Any]]:
    rule = claim.rule
    tests, direction = rule.tests, rule.direction  # type: ignore[attr-defined]
    mret: dict[str, float] = {}
    if rule.market_must_fall and params.market_proxy in study.returns.columns:  # type: ignore[attr-defined]
        for e, _, _ in targets:
            d0 = study.day0.loc[e, "day0"]
            mret[e] = float(study.returns[params.market_proxy].get(d0, float("nan")))
    window = targets[0][2]
    label = basket_id(claim.basket)
    ok_events = set(study.day0.index) - set(dict(study.excluded))
    conf_rows = rows_at(study.evidence, [(e, label, window) for e in rule.confounded_events  # type: ignore[attr-defined]
                                         if e in ok_events])
    j = _rules.judge_basket(rows, alpha=params.alpha, tests=tests, window=window, market_returns=mret,
                            market_must_fall=rule.market_must_fall, confounded=conf_rows,  # type: ignore[attr-defined]
                            direction=direction)
    members = rows_at(study.evidence, [(e, t, w) for e, _, w in targets
                                       for t in claim.tickers if t in claim.basket_tickers])
    sig = [_rules.row_significance(r, params.alpha, tests, direction) for r in members.to_dict(orient="records")]
    key = dict(j.key_numbers)
    key["basket"] = claim.basket
    key["basket_members"] = list(claim.basket_tickers)
    key["window"] = list(window)
    key["members_estimated"] = len(members)
    key["members_positive_significant_all_tests"] = sum(s["all_reject"] for s in sig)
    return j, key


def capped_verdict(claim: Claim, verdict: str, inference: Inference | None,
                   alpha: float) -> tuple[str, list[Reason]]:
    """The verdict after the caps on "supported", with a note for each cap applied.

    1. the rule's ``max_verdict`` (e.g. the article misstates the facts around the event);
    2. the primary test must stay below ``alpha`` after Holm adjustment across the
       article's primary tests (``adjusted["p_holm"]``);
    3. a primary test that fell back to the plain t-test (placebo unavailable) cannot give
       "supported": the plain t over-rejects for these stocks.

    ``inference`` is the primary test with its multiplicity adjustment; None (or no
    adjustment yet) skips caps 2-3.
    """
    notes: list[Reason] = []
    rule = claim.rule
    if rule.max_verdict and verdict == SUPPORTED:
        verdict = rule.max_verdict
        notes.append(Reason(ReasonKind.CAP, f"Rule check: the data alone would support the claim, but the verdict "
                                            f"is capped at '{rule.max_verdict}': {rule.max_verdict_reason}."))
    if verdict != SUPPORTED or inference is None or inference.multiplicity is None:
        return verdict, notes
    holm, size = inference.multiplicity.p_holm, inference.multiplicity.family_size
    if not (finite(holm) and float(holm) < alpha):
        notes.append(Reason(ReasonKind.CAP, f"Rule check: the primary test passes unadjusted (p "
                            f"{fmt_p(inference.p_value)}) but not after Holm adjustment across {size} claims (p "
                            f"{fmt_p(holm)} >= alpha {alpha:g}): 'supported' is capped at 'partly supported'."))
        return PARTLY, notes
    if inference.primary.test == "parametric t":
        notes.append(Reason(ReasonKind.CAP, "Rule check: the placebo test was unavailable, and the plain t-test "
                            "alone over-rejects for these stocks: 'supported' is capped at 'partly supported'."))
        return PARTLY, notes
    return verdict, notes
