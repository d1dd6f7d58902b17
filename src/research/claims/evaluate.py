"""``evaluate(claim, params, *, article) -> Verdict`` and ``evaluate_all``: views of the
article's one evaluation (:func:`research.claims.evaluation.evaluate_article`) for
notebooks, tests and the README.

Every claim of the article is evaluated once per article content and parameters (and
cached, :mod:`research.cache`); a claim's verdict carries its multiple-testing adjustment
across the article's primary tests and, with ``robustness``, its specification grid. See
:mod:`research.claims.evaluation` for what each rule type computes.
"""

from __future__ import annotations

from research.claims.article import Article, load_article
from research.claims.evaluation import FACT_TO_VERDICT, as_params, claim_of, evaluate_article
from research.claims.params import EvalParams
from research.claims.registry import Claim
from research.claims.robustness import SpecificationGrid
from research.claims.verdict import Verdict

__all__ = ["evaluate", "evaluate_all", "FACT_TO_VERDICT"]


def evaluate(claim: Claim | str, params: EvalParams | dict | None = None, *,
             article: Article | None = None, robustness: bool | SpecificationGrid = False) -> Verdict:
    """Evaluate one claim.

    Parameters
    ----------
    claim : a claim id of the article or a :class:`~research.claims.registry.Claim`.
    params : :class:`EvalParams` (default ``EvalParams()``) or a dict of notebook parameters;
        fields left None (as-of date, market proxy, seed) are taken from the article.
    article : the :class:`~research.claims.article.Article` (default: the shipped article).
    robustness : also judge the claim across the specification grid
        (:mod:`research.claims.robustness`): True for the article's grid, or a
        :class:`~research.claims.robustness.SpecificationGrid`. Price claims then carry
        ``Verdict.robustness`` (share, fragile, every specification) and a note. Default
        False (the grid takes every price claim of the article under ~100 specifications;
        cached per inputs, see :mod:`research.claims.gridcache`).

    Returns
    -------
    Verdict
        Deterministic: the same inputs give byte-identical ``to_dict()`` JSON.

    Raises
    ------
    ClaimError (unknown claim), ParameterError (bad parameters), and the data/event-study
    errors of :mod:`research.errors` (e.g. an unknown market proxy).
    """
    art = article if article is not None else load_article()
    c = claim_of(claim, art)
    return evaluate_article(art, as_params(params), grid=robustness).verdict(c.id)


def evaluate_all(params: EvalParams | dict | None = None, claim_ids: list[str] | None = None, *,
                 article: Article | None = None, robustness: bool | SpecificationGrid = False) -> list[Verdict]:
    """Evaluate every claim of the article (or ``claim_ids``), in file order
    (``robustness``: see :func:`evaluate`)."""
    art = article if article is not None else load_article()
    ids = None if claim_ids is None else [art.claim(c).id for c in claim_ids]
    return evaluate_article(art, as_params(params), grid=robustness).select(ids)
