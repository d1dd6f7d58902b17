"""Judge a price claim on its event studies: the rows its rule reads, the rule's verdict,
its primary test, and the caps on "supported".

Shared by :func:`research.claims.evaluate` (the headline specification) and
:mod:`research.claims.robustness` (every specification of the grid), so a verdict under
any specification is reached by exactly the same steps:

1. :func:`event_targets`: the (event, ticker-or-basket, window) rows the rule looks at;
   the window is the rule's (``auto``: (0,0), or the window of an uncertain day 0), or one
   window forced for every row (the grid's window alternatives).
2. :func:`judge_event_claim`: the rule's judgement on those rows and the claim's primary
   test (the rule class's ``judge`` and ``primary_test``).
3. :func:`capped_verdict`: once, with everything known: the multiplicity cap ("supported"
   needs the Holm-adjusted primary p below alpha), the cap of a verdict resting on the
   plain t-test alone, then the rule's own cap (``max_verdict``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from research.claims import rules as _rules
from research.claims.rules import EventCarRule, Target, rows_at
from research.claims.params import EvalParams
from research.claims.registry import Claim
from research.claims.studies import ClaimStudy
from research.claims.verdict import PARTLY, SUPPORTED, Inference, PrimaryTest, Reason, ReasonKind
from research.vocab import finite, p_note as fmt_p

__all__ = ["EventJudgement", "event_targets", "rows_at", "judge_event_claim", "capped_verdict"]


def event_targets(claim: Claim, study: ClaimStudy, window: tuple[int, int] | None = None) -> list[Target]:
    """(event, ticker-or-basket, window) rows the claim's rule looks at
    (:meth:`research.claims.rules.EventCarRule.targets`).

    Parameters
    ----------
    window : one CAR window (trading days) for every row; default the rule's window per
        event (``auto``: (0,0), or (0,+1) / (-1,+1) where day 0 is uncertain).
    """
    return claim.rule.targets(claim, study, window)


def _event_rule(claim: Claim) -> EventCarRule:
    if not isinstance(claim.rule, EventCarRule):
        raise TypeError(f"claim {claim.id}: rule {claim.rule.type!r} is not an event-study rule")
    return claim.rule


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
    """Apply the claim's event-study rule to a study (None when no event of the claim is on
    or before the as-of date). ``window`` forces one CAR window (see
    :func:`event_targets`); the study must hold it."""
    rule = _event_rule(claim)
    targets = rule.targets(claim, study, window)
    if not targets:
        return None
    rows = rows_at(study.evidence, targets, estimated_only=False)
    j, key = rule.judge(claim, study, params, rows, targets)
    return EventJudgement(j, rows, tuple(targets), rule.primary_test(rows, targets[0][2]), key)


def capped_verdict(claim: Claim, verdict: str, inference: Inference | None,
                   alpha: float) -> tuple[str, list[Reason]]:
    """The verdict after the caps on "supported", with a reason for each cap applied, in
    one pass with everything known:

    1. the primary test must stay below ``alpha`` after Holm adjustment across the
       article's primary tests;
    2. a primary test that fell back to the plain t-test (placebo unavailable) cannot give
       "supported": the plain t over-rejects for these stocks;
    3. the rule's ``max_verdict`` (e.g. the article misstates the facts around the event):
       only a verdict the data alone support is capped by it, and says so.

    ``inference`` is the primary test with its multiplicity adjustment; None (or no
    adjustment) skips caps 1-2.
    """
    notes: list[Reason] = []
    if verdict == SUPPORTED and inference is not None and inference.multiplicity is not None:
        holm, size = inference.multiplicity.p_holm, inference.multiplicity.family_size
        if not (finite(holm) and float(holm) < alpha):
            notes.append(Reason(ReasonKind.CAP, f"Rule check: the primary test passes unadjusted (p "
                                f"{fmt_p(inference.p_value)}) but not after Holm adjustment across {size} claims "
                                f"(p {fmt_p(holm)} >= alpha {alpha:g}): 'supported' is capped at 'partly supported'."))
            verdict = PARTLY
        elif inference.primary.test == "parametric t":
            notes.append(Reason(ReasonKind.CAP, "Rule check: the placebo test was unavailable, and the plain t-test "
                                "alone over-rejects for these stocks: 'supported' is capped at 'partly supported'."))
            verdict = PARTLY
    rule = claim.rule
    if rule.max_verdict and verdict == SUPPORTED:
        verdict = rule.max_verdict
        notes.append(Reason(ReasonKind.CAP, f"Rule check: the data alone would support the claim, but the verdict "
                                            f"is capped at '{rule.max_verdict}': {rule.max_verdict_reason}."))
    return verdict, notes
