"""``evaluate_article(article, params) -> ArticleEvaluation``: every claim of an article
evaluated once, the multiple-testing family formed from those results, the caps applied
once with everything known, the specification grid, and the reported-vs-computed moves the
overview shows -- cached as a whole (:mod:`research.cache`).

Each claim's rule class evaluates itself (``Rule.evaluate``, :mod:`research.claims.rules`):
it picks the procedure of its kind from the :class:`EvalContext` it is handed, which holds
the claim's resolved parameters, its fact check, and the studies and parts every verdict
shares (evidence table, confounders, notes). The rule classes stay free of the heavy
studies, so reading an article (``research article check``) imports none of them.

The report computes the evaluation in its own process before any page runs and hands its
cache file to each page (the reserved ``evaluation`` parameter); a page only loads it. With
the environment variable :data:`FORBID_ENV` set (the report sets it for page kernels),
:func:`evaluate_article` refuses to compute. With :data:`LOG_ENV` naming a file, each call
appends one line ``pid key computed|loaded`` (tests count evaluations with it).

=================  ========================================================================
basket_car         event studies of the claim's tickers and its equal-weighted basket; the
                   verdict is the basket rule on the primary event(s)
pairs_car          event studies of explicit (event, ticker) pairs; the pairs rule
                   (``members: each`` or "all rose": ``members: all``)
rolling_return     rolling and calendar-month returns (:mod:`research.claims.rally`)
revenue_growth     growth from facts.csv plus an event study of the results day as context
fact_check         the claim's ``fact_check:`` items against facts.csv; its events (if any)
                   are shown as context only
not_testable       opinions and forecasts: "not testable" with the reason; events/tickers,
                   when given, produce descriptive evidence only
=================  ========================================================================
"""

from __future__ import annotations

import os
import pickle
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from research.claims import rally as _rally
from research.claims import rules as _rules
from research.claims.article import Article, load_article
from research.claims.confounding import find_confounders, separation_notes
from research.claims.factcheck import check_facts
from research.claims.notes import render_note
from research.claims.params import EvalParams
from research.claims.registry import Claim
from research.claims.reported import reported_vs_computed
from research.claims.robustness import Robustness, SpecificationGrid
from research.claims.gridcache import cached_grid
from research.claims.judge import capped_verdict, event_targets, judge_event_claim, rows_at
from research.claims.rules import EventCarRule, RevenueGrowthRule, RollingReturnRule
from research.claims.multiplicity import adjust_pvalues
from research.claims.power import power_note
from research.claims.studies import RUNUP_WINDOW, ClaimStudy, day0_table, run_claim_study
from research.claims.verdict import (
    CONFOUNDER_COLUMNS,
    EVIDENCE_COLUMNS,
    NOT_SUPPORTED,
    NOT_TESTABLE,
    PARTLY,
    SUPPORTED,
    EvaluationSpec,
    FactCheck,
    FigureData,
    Inference,
    KeyNumbers,
    Multiplicity,
    PrimaryTest,
    Reason,
    ReasonKind,
    Verdict,
    empty_evidence,
)
from research.cache import (EVALUATION_FORBIDDEN_ENV, EVALUATION_LOG_ENV, ResultCache, code_version, content_key,
                            file_digest)
from research.data import paths
from research.errors import ClaimError, ParameterError
from research.vocab import basket_id, finite, p_note as fmt_p

__all__ = ["ArticleEvaluation", "EvalContext", "evaluate_article", "FACT_TO_VERDICT", "EvaluationForbidden",
           "FORBID_ENV", "LOG_ENV", "RuleOutcome", "as_params", "claim_of"]

#: The verdict of a claim that is only a fact check, from its fact verdict.
FACT_TO_VERDICT: dict[str, str] = {"accurate": SUPPORTED, "partly wrong": PARTLY, "wrong": NOT_SUPPORTED,
                                   "unverified": NOT_TESTABLE}


def as_params(params: EvalParams | dict | None) -> EvalParams:
    """``params`` as :class:`EvalParams` (None: the defaults; a dict: its parameters)."""
    if params is None:
        return EvalParams()
    if isinstance(params, EvalParams):
        return params
    if isinstance(params, dict):
        return EvalParams.from_mapping(params)
    raise ParameterError(f"params must be an EvalParams or a dict of parameters, got {type(params).__name__}")


def claim_of(claim: Claim | str, article: Article) -> Claim:
    """``claim`` itself, or the article's claim of that id."""
    if isinstance(claim, Claim):
        return claim
    if isinstance(claim, str):
        return article.claim(claim)
    raise ClaimError(f"claim must be a claim id or a Claim, got {type(claim).__name__}")


def _empty_confounders() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="object") for c in CONFOUNDER_COLUMNS})


def _confounders(claim: Claim, study: ClaimStudy, targets: list[tuple[str, str, tuple[int, int]]],
                 article: Article) -> tuple[pd.DataFrame, tuple[str, ...]]:
    if not targets:
        return _empty_confounders(), ()
    all_events = day0_table(article=article)
    tdf = pd.DataFrame([{"event_id": e, "ticker": t, "window_start": w[0], "window_end": w[1]}
                        for e, t, w in targets])
    members = {basket_id(claim.basket): claim.basket_tickers} if claim.basket else {}
    conf = find_confounders(tdf, all_events, members=members, market_tickers=article.market_tickers)
    return conf, separation_notes(conf, all_events)


def _reasons(kind: ReasonKind, texts: Any) -> list[Reason]:
    return [Reason(kind, t) for t in texts]


def _rule_reasons(texts: Any) -> list[Reason]:
    """A rule's reasons as published: ``Rule check: <reason>``."""
    return [Reason(ReasonKind.RULE, f"Rule check: {t}") for t in texts]


def _base_notes(claim: Claim, base: EvalParams, params: EvalParams, article: Article) -> list[Reason]:
    facts = article.facts_by_id()
    notes = [Reason(ReasonKind.CLAIM_NOTE, render_note(n, facts), factual_error=n in claim.error_notes)
             for n in claim.notes]
    if claim.spec:
        notes.append(Reason(ReasonKind.SPEC_OVERRIDE, "specification: the claim overrides " + ", ".join(
            f"{k}={getattr(params, k)!r} (parameter: {getattr(base, k)!r})" for k in claim.spec) + "."))
    return notes


def _confounder_targets(claim: Claim, study: ClaimStudy) -> list[tuple[str, str, tuple[int, int]]]:
    """(event, ticker-or-basket, window) rows to check for confounders: every window shown
    in the evidence, not only the rule's, since a longer CAR can take in other news."""
    ok_events = [e for e in claim.events if e in study.day0.index and e not in dict(study.excluded)]
    shown = sorted({(int(a), int(b)) for a, b in zip(study.evidence["window_start"], study.evidence["window_end"])}
                   if not study.evidence.empty else set())

    rule_windows = {e: w for e, _, w in event_targets(claim, study)}

    def windows(e: str) -> list[tuple[int, int]]:
        rule = rule_windows.get(e, (0, 0))
        return [rule] + [w for w in shown if w != rule]

    if not claim.basket:
        return [(e, t, w) for e, t in claim.event_ticker_pairs() if e in ok_events for w in windows(e)]
    # the basket row covers its members' news; tickers outside the basket are listed one by one
    out = [(e, basket_id(claim.basket), w) for e in ok_events for w in windows(e)]
    out += [(e, t, w) for e, t in claim.event_ticker_pairs()
            if e in ok_events and t not in claim.basket_tickers for w in windows(e)]
    return out


def _spec(params: EvalParams, claim: Claim, windows: list[tuple[int, int]]) -> EvaluationSpec:
    return EvaluationSpec(
        model=params.model, market_proxy=params.market_proxy, estimation_length=params.estimation_length,
        estimation_end=params.estimation_end, min_estimation_obs=params.min_estimation_obs, as_of=params.as_of,
        seed=params.seed, alpha=params.alpha, rule_windows=tuple(tuple(int(x) for x in w) for w in windows),
        overrides=tuple(sorted(claim.spec)))


def _unique(reasons: list[Reason]) -> tuple[Reason, ...]:
    """Reasons with a repeated sentence kept once (first)."""
    return tuple({r.text: r for r in reversed(reasons)}[t] for t in dict.fromkeys(r.text for r in reasons))


@dataclass(frozen=True, eq=False)
class RuleOutcome:
    """What a rule's evaluation of one claim yields (``Rule.evaluate``): the rule's verdict
    before the caps, its evidence, key numbers and reasons, and its primary test; the
    article's evaluation turns it into the claim's :class:`Verdict` once, with the family
    and the grid known."""

    claim: Claim
    params: EvalParams
    verdict: str
    evidence: pd.DataFrame
    key: KeyNumbers
    reasons: tuple[Reason, ...]
    confounders: pd.DataFrame
    data_source: str
    figures: FigureData
    headline: str
    windows: tuple[tuple[int, int], ...]
    facts: FactCheck | None
    primary: PrimaryTest | None = None

    @property
    def claim_id(self) -> str:
        return self.claim.id


def _verdict(claim: Claim, params: EvalParams, verdict: str, evidence: pd.DataFrame, key: dict[str, Any],
             notes: list[Reason], conf: pd.DataFrame, data_source: str, figures: FigureData, *,
             headline: str = "", windows: list[tuple[int, int]] | None = None,
             facts: FactCheck | None = None, primary: PrimaryTest | None = None) -> RuleOutcome:
    ev = evidence.reset_index(drop=True)
    extra = [c for c in ev.columns if c not in EVIDENCE_COLUMNS]
    ev = ev.reindex(columns=list(EVIDENCE_COLUMNS) + extra)
    if facts is not None:
        notes = list(notes) + [Reason(ReasonKind.FACT_ITEM, f"Fact check ({i.outcome}): {i.statement} {i.reason}",
                                      factual_error=i.outcome != "accurate") for i in facts.items]
    return RuleOutcome(claim=claim, params=params, verdict=verdict, evidence=ev, key=KeyNumbers.from_mapping(key),
                       reasons=_unique(notes), confounders=conf.reset_index(drop=True), data_source=data_source,
                       figures=figures, headline=headline, windows=tuple(windows or ()), facts=facts,
                       primary=primary)


@dataclass(frozen=True, eq=False)
class EvalContext:
    """What a rule evaluating one claim is handed: the article, the resolved parameters
    (``base``) and the claim's own (``params``: ``base`` with its ``spec:`` overrides), the
    claim's fact check, and the procedures that build a verdict of each kind."""

    article: Article
    base: EvalParams
    params: EvalParams
    facts: FactCheck | None

    def event_verdict(self, claim: Claim, rule: EventCarRule) -> RuleOutcome:
        """An event-study rule (:class:`~research.claims.rules.EventCarRule`): the claim's
        studies, the rule's judgement, power and run-up notes, confounders."""
        params, article, base, facts = self.params, self.article, self.base, self.facts
        study = run_claim_study(claim, params, article=article)
        notes = _base_notes(claim, base, params, article)
        ej = judge_event_claim(claim, study, params)
        if ej is None:
            why = (f"none of the claim's events ({', '.join(claim.events)}) has its day 0 on or before the "
                   f"as-of date {params.as_of}; the claim cannot be tested as of that date")
            notes = _rule_reasons([f"{why}."]) + notes + _reasons(ReasonKind.DATA, study.notes)
            return _verdict(claim, params, NOT_TESTABLE, study.evidence, {}, notes, _empty_confounders(),
                            study.data_source, FigureData(study=study), headline=why[0].upper() + why[1:] + ".",
                            facts=facts)
        if "placebo" in rule.tests and params.placebo_method == "resample" and params.placebo_draws == 0:
            notes.append(Reason(ReasonKind.PLACEBO_OFF, "placebo_draws=0: the placebo test was not run; the rule is "
                                "applied to the parametric test only."))
        j = ej.judgement
        conf, sep = _confounders(claim, study, _confounder_targets(claim, study), article)
        notes = (_rule_reasons(j.reasons)
                 + _evidence_notes(ej.rows, study.evidence, params.alpha, rule.direction)
                 + notes + _reasons(ReasonKind.DATA, study.notes) + _reasons(ReasonKind.SEPARATION, sep))
        return _verdict(claim, params, j.verdict, study.evidence, ej.key_numbers, notes, conf, study.data_source,
                        FigureData(study=study), headline=j.headline,
                        windows=sorted({w for _, _, w in ej.targets}), facts=facts, primary=ej.primary)

    def not_testable_verdict(self, claim: Claim, headline: str) -> RuleOutcome:
        """Not testable with price data (``headline`` says why); the claim's events, when
        given, as descriptive evidence."""
        params, article, base, facts = self.params, self.article, self.base, self.facts
        notes = _base_notes(claim, base, params, article)
        study, conf, more = _context_study(claim, params, article)
        if study is None:
            return _verdict(claim, params, NOT_TESTABLE, empty_evidence(), {}, notes, conf, params.source, FigureData(),
                            headline=headline, facts=facts)
        return _verdict(claim, params, NOT_TESTABLE, study.evidence, {}, notes + more, conf, study.data_source,
                        FigureData(study=study), headline=headline, facts=facts)

    def fact_verdict(self, claim: Claim) -> RuleOutcome:
        """A statement of fact: the verdict of its fact check; its events as context."""
        params, article, base, facts = self.params, self.article, self.base, self.facts
        if facts is None:  # the loader requires fact_check items for this rule
            raise ClaimError(f"claim {claim.id}: a fact_check rule needs fact_check items")
        notes = _base_notes(claim, base, params, article)
        study, conf, more = _context_study(claim, params, article)
        verdict = FACT_TO_VERDICT[facts.verdict]
        if study is None:
            return _verdict(claim, params, verdict, empty_evidence(), {}, notes, conf, params.source, FigureData(),
                            headline=facts.headline, facts=facts)
        more = [Reason(ReasonKind.CONTEXT, "The price reaction in the evidence is context only: the article makes no "
                       "claim about it.")] + more
        return _verdict(claim, params, verdict, study.evidence, {}, notes + more, conf, study.data_source,
                        FigureData(study=study), headline=facts.headline, facts=facts)

    def rolling_verdict(self, claim: Claim, r: RollingReturnRule) -> RuleOutcome:
        """Rolling and calendar-month returns against the rule's threshold."""
        params, article, base, facts = self.params, self.article, self.base, self.facts
        res = _rally.rally(claim.tickers, params.as_of_ts, horizon=r.horizon, lookback_sessions=r.lookback_sessions,
                           month=r.month, source=params.source)
        j = _rules.judge_rolling(res.table, required=r.required_tickers, threshold=r.threshold,
                                 lookback_sessions=r.lookback_sessions, horizon=r.horizon,
                                 direction=r.direction)
        h = r.horizon
        k_max, k_end, k_month = _rally.key_names(h, r.month)
        use_min = r.direction == "down"
        key: dict[str, Any] = {}
        rows = []
        for t, row in res.table.iterrows():
            key[t] = {k_max: row["max_return"], k_end: row["max_end"], f"max_rolling_{h}d_start": row["max_start"],
                      f"rolling_{h}d_return_as_of": row["return_as_of"]}
            if r.direction != "up":
                key[t].update({f"min_rolling_{h}d_return": row["min_return"], f"min_rolling_{h}d_end": row["min_end"]})
            if k_month:
                key[t][k_month] = row["month_return"]
            pre = "min" if use_min else "max"
            ev_row = {"event_id": f"rolling_{h}d_{pre}", "ticker": t, "day0": row[f"{pre}_end"],
                      "window_start": -(h - 1), "window_end": 0, "status": "ok",
                      "return": row[f"{pre}_return"], "base_date": row[f"{pre}_start"]}
            if k_month:
                ev_row["calendar_month_return"] = row["month_return"]
            rows.append(ev_row)
        key.update(j.key_numbers)
        key["threshold"] = r.threshold
        key["lookback_sessions"] = r.lookback_sessions
        evidence = pd.DataFrame(rows)
        for c in EVIDENCE_COLUMNS:
            if c not in evidence.columns:
                evidence[c] = float("nan")
        notes = _rule_reasons(j.reasons) + _base_notes(claim, base, params, article)
        # press figures of calendar-month returns (facts with metric calendar_month_price_return),
        # matched to tickers by the "(TICKER)" in the fact's entity
        fb = article.facts_by_id()
        for fid in claim.facts:
            f = fb.get(fid)
            if not k_month or f is None or f.metric != "calendar_month_price_return" or not isinstance(f.value, float):
                continue
            m = re.search(r"\(([A-Z.]+)\)", f.entity)
            t = m.group(1) if m else None
            if t in res.table.index:
                comp = res.table.loc[t, "month_return"]
                notes.append(Reason(ReasonKind.COMPARISON, f"{t}: computed calendar-month return for {r.month} "
                                    f"{comp:+.1%} vs {f.value:+.1f}% reported for {f.period} ({fid})."))
        return _verdict(claim, params, j.verdict, evidence, key, notes, _empty_confounders(), params.source,
                        FigureData(rally=res, judged=tuple(r.required_tickers)), headline=j.headline, facts=facts)

    def growth_verdict(self, claim: Claim, r: RevenueGrowthRule) -> RuleOutcome:
        """Growth from facts.csv against the threshold, the results day's event study as context."""
        params, article, base, facts = self.params, self.article, self.base, self.facts
        fb = article.facts_by_id()
        ids = [r.current, r.prior, r.reported_growth]
        cur, pri, rep = (fb[i].value if i else None for i in ids)
        num = [x if isinstance(x, float) else None for x in (cur, pri, rep)]
        j = _rules.judge_growth(num[0], num[1], num[2], threshold_pct=r.threshold_pct,
                                tolerance_pp=r.tolerance_pp)
        key = dict(j.key_numbers)
        notes = _rule_reasons(j.reasons)
        comp = key.get("growth_pct_from_revenues")
        if comp is not None and num[2] is not None:
            notes.append(Reason(
                ReasonKind.COMPARISON,
                f"({num[0]:g} - {num[1]:g}) / {num[1]:g} = {comp:.1f}% from the published figures ({ids[0]}, {ids[1]}); "
                f"the reported growth is {num[2]:g}% ({ids[2]}). A difference between the two comes from the "
                "rounding of the published figures."
            ))
        study = run_claim_study(claim, params, article=article)
        rows = rows_at(study.evidence, event_targets(claim, study))
        for rr in rows.to_dict(orient="records"):
            key[f"{rr['ticker']}@{rr['event_id']}"] = {
                "window": [rr["window_start"], rr["window_end"]], "car": rr["car"], "t_stat": rr["t_stat"],
                "p_value": rr["p_value"], "p_placebo": rr["p_placebo"]}
        conf, sep = _confounders(claim, study, _confounder_targets(claim, study), article)
        notes += (_base_notes(claim, base, params, article) + _reasons(ReasonKind.DATA, study.notes)
                  + _reasons(ReasonKind.SEPARATION, sep))
        return _verdict(claim, params, j.verdict, study.evidence, key, notes, conf, study.data_source,
                        FigureData(study=study), headline=j.headline, facts=facts,
                        windows=sorted({w for _, _, w in event_targets(claim, study)}))


# ---------------------------------------------------------------------------------------
def _evidence_notes(rows: pd.DataFrame, evidence: pd.DataFrame, alpha: float, direction: str) -> list[Reason]:
    """Power notes for the rule's rows that are not significant, and run-up flags: a
    significant CAR over :data:`RUNUP_WINDOW` before a rule row's day 0."""
    out: list[Reason] = []
    for r in rows.to_dict(orient="records"):
        p = r.get("p_placebo") if finite(r.get("p_placebo")) else r.get("p_value")
        if finite(r.get("car")) and not (finite(p) and float(p) < alpha):
            note = power_note(r, alpha)
            if note:
                out.append(Reason(ReasonKind.POWER, note[0].upper() + note[1:]))
    a, b = RUNUP_WINDOW
    pre = evidence[(evidence["window_start"] == a) & (evidence["window_end"] == b)]
    seen = set()
    for r in rows.to_dict(orient="records"):
        k = (r["event_id"], r["ticker"])
        hit = pre[(pre["event_id"] == k[0]) & (pre["ticker"] == k[1])]
        if k in seen or hit.empty:
            continue
        seen.add(k)
        h = hit.iloc[0]
        p = h["p_placebo"] if finite(h["p_placebo"]) else h["p_value"]
        if finite(h["car"]) and finite(p) and float(p) < alpha:
            out.append(Reason(ReasonKind.RUNUP, f"Run-up: {k[1]} moved {float(h['car']):+.1%} over CAR({a:+d},{b:+d}) "
                              f"before {k[0]} (p {float(p):.4f}): the move started before day 0 (a leak or earlier "
                              "news)."))
    return out


def _context_study(claim: Claim, params: EvalParams, article: Article
                   ) -> tuple[ClaimStudy | None, pd.DataFrame, list[Reason]]:
    """Descriptive event studies of a claim whose verdict is not about prices."""
    if not (claim.events and (claim.tickers or claim.pairs or claim.basket)):
        return None, _empty_confounders(), []
    study = run_claim_study(claim, params, article=article)
    conf, sep = _confounders(claim, study, _confounder_targets(claim, study), article)
    return study, conf, _reasons(ReasonKind.DATA, study.notes) + _reasons(ReasonKind.SEPARATION, sep)


# ---------------------------------------------------------------------------------------
# the article, evaluated once
FORBID_ENV = EVALUATION_FORBIDDEN_ENV
LOG_ENV = EVALUATION_LOG_ENV
_MEMORY: dict[str, ArticleEvaluation] = {}


class EvaluationForbidden(ClaimError):
    """An evaluation was asked for where the report forbids it (a page kernel)."""


@dataclass(frozen=True, eq=False)
class ArticleEvaluation:
    """Every claim of an article evaluated once under one set of parameters.

    Attributes
    ----------
    key : the cache key (:func:`evaluation_key`): article content, parameters, grid, price
        snapshot, code version.
    params : the parameters as given (resolved against the article per claim).
    verdicts : every claim's :class:`~research.claims.verdict.Verdict`, in article order.
    family : claim id -> raw primary p of every claim in the multiple-testing family.
    grid : claim id -> :class:`~research.claims.robustness.Robustness` (empty without a grid).
    reported : the press's reported day-0 moves against the computed ones
        (:func:`research.claims.reported.reported_vs_computed`; empty without events).
    """

    key: str
    params: EvalParams
    verdicts: tuple[Verdict, ...]
    family: tuple[tuple[str, float], ...]
    grid: tuple[tuple[str, Robustness], ...]
    reported: pd.DataFrame

    def verdict(self, claim_id: str) -> Verdict:
        """The verdict of ``claim_id`` (ClaimError naming the claims when it is not one)."""
        for v in self.verdicts:
            if v.claim_id == claim_id:
                return v
        raise ClaimError(f"no claim {claim_id!r} in this evaluation; its claims: "
                         + ", ".join(v.claim_id for v in self.verdicts))

    def select(self, claim_ids: list[str] | tuple[str, ...] | None) -> list[Verdict]:
        """The verdicts of ``claim_ids`` in article order (all when None)."""
        if claim_ids is None:
            return list(self.verdicts)
        wanted = set(claim_ids)
        return [v for v in self.verdicts if v.claim_id in wanted]

    def to_json(self) -> list[dict[str, Any]]:
        """The claims.json elements of every verdict."""
        return [v.to_dict() for v in self.verdicts]


def evaluation_key(article: Article, params: EvalParams, grid: SpecificationGrid | None) -> str:
    """The one cache key of an article's evaluation (:func:`research.cache.content_key`):
    the article's content, the parameters resolved against it (so the article's defaults
    given explicitly are the same evaluation), the grid, the snapshot, the code."""
    return content_key("evaluation", str(article.fingerprint), params.resolve(article).to_dict(),
                       repr(grid) if grid is not None else None,
                       file_digest(paths.snapshot_dir() / paths.MANIFEST_FILE), code_version())


def _forbidden() -> bool:
    return os.environ.get(FORBID_ENV, "").strip() not in ("", "0")


def _log(key: str, what: str) -> None:
    target = os.environ.get(LOG_ENV, "").strip()
    if target:
        with open(target, "a", encoding="utf-8") as fh:  # one short line: appends do not interleave
            fh.write(f"{os.getpid()} {key} {what}\n")


def evaluate_article(article: Article | None = None, params: EvalParams | dict | None = None, *,
                     grid: bool | SpecificationGrid = True) -> ArticleEvaluation:
    """Every claim of ``article`` evaluated once under ``params`` (see the module docstring).

    Parameters
    ----------
    article : the :class:`~research.claims.article.Article` (default: the shipped article).
    params : :class:`EvalParams` or a dict of them (default ``EvalParams()``).
    grid : judge the price claims across the article's specification grid (True), a given
        :class:`~research.claims.robustness.SpecificationGrid`, or not (False).

    Raises
    ------
    EvaluationForbidden : in a process where :data:`FORBID_ENV` is set.
    """
    art = article if article is not None else load_article()
    p = as_params(params)
    g = grid if isinstance(grid, SpecificationGrid) else (
        SpecificationGrid.from_mapping(art.robustness) if grid else None)
    key = evaluation_key(art, p, g)
    if key in _MEMORY:
        _log(key, "memory")
        return _MEMORY[key]
    cache = ResultCache(paths.results_cache_dir(), "evaluation", suffix=".pkl", enabled=p.source == "snapshot")
    if _forbidden():  # load only: the report computed it before this page
        raw = cache.read(key)
        if raw is None:
            raise EvaluationForbidden(
                f"this process may not evaluate claims ({FORBID_ENV} is set) and the report computed no evaluation "
                "for these parameters: a report page only loads the evaluation computed before it")
        _log(key, "loaded")
        return _remember(_decode(raw))
    ev, computed = cache.get_or_compute(key, lambda: _compute(art, p, g, key), encode=_encode, decode=_decode)
    _log(key, "computed" if computed else "loaded")
    return _remember(ev)


def _remember(ev: ArticleEvaluation) -> ArticleEvaluation:
    if len(_MEMORY) >= 8:
        _MEMORY.pop(next(iter(_MEMORY)))
    _MEMORY[ev.key] = ev
    return ev


def _encode(ev: ArticleEvaluation) -> bytes:
    return pickle.dumps(ev, protocol=5)


def _decode(raw: bytes) -> ArticleEvaluation:
    # the entry is authenticated (HMAC with the user's private key) before it is unpickled
    ev = pickle.loads(raw)  # noqa: S301
    if not isinstance(ev, ArticleEvaluation):
        raise ValueError("not an article evaluation")
    return ev


def cache_path(ev: ArticleEvaluation) -> str:
    """The file an evaluation is stored in (what the report hands its pages)."""
    return str(ResultCache(paths.results_cache_dir(), "evaluation", suffix=".pkl").path(ev.key))


def load_evaluation(path: str) -> ArticleEvaluation:
    """The evaluation the report stored at ``path`` (authenticated; never computes)."""
    from pathlib import Path

    f = Path(path)
    key = f.name.removesuffix(".pkl")
    if key in _MEMORY:
        return _MEMORY[key]
    raw = ResultCache(f.parent.parent, f.parent.name, suffix=".pkl").read(key)
    if raw is None:
        raise ClaimError(f"no valid evaluation at {path}: run `research report` again")
    _log(key, "loaded")
    return _remember(_decode(raw))


def _evaluate_one(c: Claim, params: EvalParams, art: Article) -> RuleOutcome:
    """One claim's rule outcome (before the multiple-testing family and the caps)."""
    base = params.resolve(art)
    facts = check_facts(c.fact_check, art.facts_by_id(), {e.event_id: e for e in art.events}) if c.fact_check else None
    return c.rule.evaluate(c, EvalContext(art, base, base.override(c.spec), facts))


def _compute(art: Article, params: EvalParams, grid: SpecificationGrid | None, key: str) -> ArticleEvaluation:
    outcomes = [_evaluate_one(c, params, art) for c in art.claims]  # each claim once
    family = {o.claim_id: float(o.primary.p_value) if finite(o.primary.p_value) else float("nan")
              for o in outcomes if o.primary is not None}
    adjusted = adjust_pvalues(family)
    alpha = params.resolve(art).alpha
    results = cached_grid(art, params, grid) if grid is not None and family else {}
    verdicts = [_verdict_of(o, adjusted, len(family), alpha, results.get(o.claim_id)) for o in outcomes]
    return ArticleEvaluation(key=key, params=params, verdicts=tuple(verdicts), family=tuple(family.items()),
                             grid=tuple(results.items()), reported=_reported(art, params))


def _reported(art: Article, params: EvalParams) -> pd.DataFrame:

    if not art.events:
        return pd.DataFrame()
    return reported_vs_computed(as_of=params.as_of, source=params.source, article=art)


def _verdict_of(o: RuleOutcome, adjusted: Mapping[str, Mapping[str, Any]], size: int, alpha: float,
                robustness: Robustness | None) -> Verdict:
    """The claim's :class:`Verdict`, built once: its primary test adjusted across the family,
    every cap applied once with everything known, and its specification grid."""
    claim, inf, lead, headline = o.claim, None, (), o.headline
    if o.primary is not None:
        prim = o.primary
        adj = adjusted.get(o.claim_id, {"p_holm": float("nan"), "p_bh": float("nan"), "family_size": size})
        m = Multiplicity(adj["p_holm"], adj["p_bh"], adj["family_size"])
        inf = Inference(prim, m)
        raw = prim.p_value if finite(prim.p_value) else None
        floor = prim.p_floor
        raw_s = (f"<= {fmt_p(floor)} (its floor, n = {prim.n_placebo})"
                 if finite(raw) and finite(floor) and abs(float(raw) - float(floor)) < 1e-12 else fmt_p(raw))
        lead = (Reason(ReasonKind.PRIMARY,
                       f"Primary test: {prim.test} ({prim.description}): p {raw_s}; adjusted across the article's "
                       f"{m.family_size} primary tests: Holm p {fmt_p(m.p_holm)}, Benjamini-Hochberg p "
                       f"{fmt_p(m.p_bh)}."),)
        headline = o.headline + (f" Holm-adjusted p {fmt_p(m.p_holm)} across {m.family_size} claims."
                                 if o.headline else "")
    verdict, caps = capped_verdict(claim, o.verdict, inf, alpha)
    reasons = lead + _unique(list(caps) + list(o.reasons))
    if robustness is not None and inf is not None:
        r = robustness
        if r.headline_verdict != verdict:  # one path to every verdict: a mismatch is a bug
            raise ClaimError(f"claim {o.claim_id}: the grid's headline verdict {r.headline_verdict!r} differs "
                             f"from the verdict {verdict!r}")
        note = Reason(ReasonKind.ROBUSTNESS,
                      f"Robustness: '{verdict}' holds in {r.share:.0%} of {r.n_specs} specifications (market "
                      f"proxy x model x estimation length x window)" + (
                          f"; FRAGILE: below {r.threshold:.0%}." if r.fragile
                          else f", at or above the {r.threshold:.0%} threshold."))
        reasons = reasons[:1] + (note,) + reasons[1:]
    else:
        robustness = None
    p = o.params
    return Verdict(
        claim_id=claim.id, title=claim.title, verdict=verdict, rule=claim.rule.rule_text(), evidence=o.evidence,
        key=o.key, reasons=reasons, confounders=o.confounders, data_source=o.data_source, as_of=str(p.as_of),
        parameters=p, kind=claim.kind, figures=o.figures, check=claim.checks, fact_check=o.facts,
        headline=headline, direction=claim.direction or "", specification=_spec(p, claim, list(o.windows)),
        inference=inf, robustness=robustness,
    )
