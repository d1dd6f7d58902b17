"""What an article's report run needs, checked before anything runs.

``research report`` on an article (its pages rendered by the templates in ``notebooks/``)
refuses, with exit 2 and one line per problem, what would only fail once a page runs:

* an article that fails ``research article check`` (:func:`research.claims.authoring.check_article`,
  called as it is: the same checks, e.g. an event dated after the calendar's end);
* a parameter the robustness grid cannot hold: every price claim is judged under every
  specification of the grid (``article.yaml`` ``robustness:``; by default estimation
  lengths of 120, 250 and 500 sessions, four models, three proxies and three windows), so
  each (model, proxy, estimation length) and window of the grid must fit the data with the
  page's parameters -- e.g. ``-p as_of 2025-01-02`` leaves fewer than 500 sessions of the
  market proxy before it;
* a parameter that would change nothing: ``placebo_draws`` counts the draws of the
  *resampled* placebo, and the pages use the exact placebo (every admissible date) unless a
  claim's ``spec:`` sets ``placebo_method: resample``. Setting it anyway is refused rather
  than recorded in ``claims.json`` as if it had been used.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from functools import lru_cache
from pathlib import Path
from typing import Any

from research.errors import ParameterError, ResearchError

__all__ = ["article_problems", "grid_problems", "run_problems", "unused_parameter_problems"]


@lru_cache(maxsize=8)
def article_problems(article_dir: str) -> tuple[str, ...]:
    """The errors ``research article check`` reports for the article (one line each)."""
    from research.claims.authoring import check_article

    rep = check_article(Path(article_dir))
    return tuple(f"the article fails `research article check {article_dir}`: {p}" for p in rep.errors)


def grid_problems(article: Any, params: Any) -> list[str]:
    """Parameters the robustness grid cannot hold: each (model, proxy, estimation length) of
    every price claim's grid, and each of its windows, must be valid
    :class:`~research.claims.EvalParams` with ``params`` (resolved against ``article``)."""
    from research.claims.robustness import SpecificationGrid, price_claims

    try:
        grid = SpecificationGrid.from_mapping(article.robustness)
    except ResearchError as exc:
        return [f"article.yaml robustness: {exc}"]
    failed: dict[int, tuple[str, str, int]] = {}  # estimation length -> (error, first spec, count)
    tried: set[Any] = set()
    claim_problems: list[str] = []
    for claim in price_claims(article.claims):
        try:
            base = params.override(claim.spec)
        except ResearchError as exc:
            claim_problems.append(f"claim {claim.id} (its spec: in claims.yaml): {exc}")
            continue
        for spec in grid.specifications(claim, base):
            key = (spec.model, spec.market_proxy, spec.estimation_length, spec.window, base)
            if key in tried:
                continue
            tried.add(key)
            try:
                p = spec.params(base)
                if spec.window is not None:
                    replace(p, event_windows=(*p.event_windows, spec.window))
            except ParameterError as exc:
                n = spec.estimation_length
                msg, label, count = failed.get(n, (str(exc), spec.label(), 0))
                failed[n] = (msg, label, count + 1)
    out = list(dict.fromkeys(claim_problems))
    for n, (msg, label, count) in failed.items():
        more = f" and {count - 1} other specification(s)" if count > 1 else ""
        out.append(f"{msg} -- in the robustness grid every price claim is also judged under, at its "
                   f"estimation length {n} (e.g. {label}{more}); choose values that fit {n} sessions, or "
                   "change robustness.estimation_lengths in article.yaml")
    return out


def unused_parameter_problems(article: Any, params: Any, given: Iterable[str]) -> list[str]:
    """Parameters given on the command line that change nothing under the chosen method."""
    given = set(given)
    out = []
    if "placebo_draws" in given and params.placebo_method != "resample" and not any(
            c.spec.get("placebo_method") == "resample" for c in article.claims):
        out.append("parameter 'placebo_draws' only applies to the resampled placebo, and every claim of this "
                   "article uses the exact placebo (all admissible dates, no draws): drop -p placebo_draws "
                   "(to resample, give a claim spec: {placebo_method: resample} in claims.yaml)")
    return out


def run_problems(pages: Mapping[str, tuple[Mapping[str, Any], Any]], given: Iterable[str]) -> list[str]:
    """Every problem of an article run: ``pages`` maps a page to (its full parameter values,
    the :class:`~research.claims.EvalParams` its validator resolved); ``given`` are the
    names set with ``-p``."""
    from research.claims import load_article

    given = tuple(given)
    problems: dict[str, None] = {}
    articles: dict[str, Any] = {}
    grids: set[tuple[str, Any]] = set()
    for values, params in pages.values():
        where = str(values.get("article") or "")
        if where not in articles:
            articles[where] = load_article(Path(where) if where else None)
            problems.update(dict.fromkeys(article_problems(str(articles[where].path))))
        if "event_windows" in values and (where, params) not in grids:  # an evaluation page
            grids.add((where, params))
            problems.update(dict.fromkeys(grid_problems(articles[where], params)))
        problems.update(dict.fromkeys(unused_parameter_problems(articles[where], params, given)))
    return list(problems)
