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

from __future__ import annotations

import sys
import types
from typing import Any

__all__ = [
    "Article", "Claim", "EvalParams", "FACT_VERDICTS", "Judgement", "Layout", "Page", "Problem", "RULES", "Rule",
    "VERDICTS", "Verdict", "evaluate", "evaluate_all", "evidence_table", "get_claim", "inspect_article",
    "load_article", "load_claims", "reported_vs_computed", "scoreboard",
]

# the names above load their module on first use (PEP 562), so importing this package
# (or one of its light modules, e.g. for `research article check`) does not import pandas
_LAZY = {
    "Article": "research.claims.article",
    "Layout": "research.claims.article",
    "Page": "research.claims.article",
    "inspect_article": "research.claims.article",
    "load_article": "research.claims.article",
    "evaluate": "research.claims.evaluate",
    "evaluate_all": "research.claims.evaluate",
    "EvalParams": "research.claims.params",
    "Claim": "research.claims.registry",
    "get_claim": "research.claims.article",
    "load_claims": "research.claims.article",
    "reported_vs_computed": "research.claims.reported",
    "RULES": "research.claims.rules",
    "Judgement": "research.claims.rules",
    "Rule": "research.claims.rules",
    "Problem": "research.claims.schema",
    "evidence_table": "research.claims.scoreboard",
    "scoreboard": "research.claims.scoreboard",
    "FACT_VERDICTS": "research.claims.verdict",
    "VERDICTS": "research.claims.verdict",
    "Verdict": "research.claims.verdict",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'research.claims' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


#: public names that are also submodules (``evaluate``, ``scoreboard``): importing the submodule
#: binds it on the package; the package keeps the function, as an eager import did
_SHADOWED = frozenset(n for n, m in _LAZY.items() if m.rpartition(".")[2] == n)


class _Package(types.ModuleType):
    def __setattr__(self, name: str, value: Any) -> None:
        if name in _SHADOWED and isinstance(value, types.ModuleType):
            value = getattr(value, name)
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
