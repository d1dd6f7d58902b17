"""An article's claims as data, and their evaluation into verdicts.

Public API (see ``docs/ARTICLES.md`` and ``docs/ARCHITECTURE.md``)::

    load_article(path=None) -> Article          # one article directory (None: the shipped one)
    article.claim(claim_id) -> Claim; article.events / facts / layout / text / claim_prose(id)
    EvalParams(...)                              # validated notebook/report parameters
    evaluate(claim, params, *, article) -> Verdict
    evaluate_all(params, *, article, claim_ids=None) -> list[Verdict]
    scoreboard(verdicts) -> DataFrame            # one row per claim
    reported_vs_computed(as_of=..., article=...) # press moves vs computed day-0 returns
    RULES                                        # registered rule types (research.claims.rules)
"""

from research.claims.article import Article, Layout, Page, inspect_article, load_article
from research.claims.evaluate import evaluate, evaluate_all
from research.claims.params import EvalParams
from research.claims.registry import Claim, get_claim, load_claims
from research.claims.reported import reported_vs_computed
from research.claims.rules import RULES, Judgement, Rule
from research.claims.schema import Problem
from research.claims.scoreboard import evidence_table, scoreboard
from research.claims.verdict import FACT_VERDICTS, VERDICTS, Verdict

__all__ = [
    "Article", "Claim", "EvalParams", "FACT_VERDICTS", "Judgement", "Layout", "Page", "Problem", "RULES", "Rule",
    "VERDICTS", "Verdict", "evaluate", "evaluate_all", "evidence_table", "get_claim", "inspect_article",
    "load_article", "load_claims", "reported_vs_computed", "scoreboard",
]
