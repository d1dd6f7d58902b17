"""The article's claims as data, and their evaluation into verdicts.

Public API (see ``docs/ARCHITECTURE.md``)::

    load_claims() -> list[Claim]             # data/article/claims.yaml
    get_claim("C8") -> Claim
    EvalParams(...)                          # validated notebook/report parameters
    evaluate("C8", params) -> Verdict        # verdict, rule, evidence, key numbers, notes, confounders
    evaluate_all(params) -> list[Verdict]
    scoreboard(verdicts) -> DataFrame        # one row per claim
    reported_vs_computed(as_of=...)          # press moves vs computed day-0 returns
"""

from research.claims.evaluate import evaluate, evaluate_all
from research.claims.params import EvalParams
from research.claims.registry import Claim, Rule, get_claim, load_claims
from research.claims.reported import reported_vs_computed
from research.claims.scoreboard import evidence_table, scoreboard
from research.claims.verdict import VERDICTS, Verdict

__all__ = [
    "Claim", "EvalParams", "Rule", "VERDICTS", "Verdict", "evaluate", "evaluate_all", "get_claim",
    "evidence_table", "load_claims", "reported_vs_computed", "scoreboard",
]
