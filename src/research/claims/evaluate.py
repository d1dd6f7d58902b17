"""``evaluate(claim, params, *, article) -> Verdict``: apply a claim's rule to the data.

The claim's rule class (:data:`research.claims.rules.RULES`) decides what is computed:

==================  ======================================================================
basket_car          event studies of the claim's tickers and its equal-weighted basket;
                    the verdict is the basket rule on the primary event(s)
pairs_car           event studies of explicit (event, ticker) pairs; the pairs rule
                    (``members: each`` or "all rose": ``members: all``)
rolling_return      rolling and calendar-month returns (:mod:`research.claims.rally`)
revenue_growth      growth from facts.csv plus an event study of the results day as context
fact_check          the claim's ``fact_check:`` items against facts.csv; its events (if any)
                    are shown as context only
not_testable        opinions and forecasts: "not testable" with the reason; events/tickers,
                    when given, produce descriptive evidence only
==================  ======================================================================

A claim's ``fact_check:`` items are checked for every rule type (a claim can carry a price
verdict and a fact verdict). The parameters are resolved against the article (its as-of
date, market proxy and seed where the parameters leave them None) and the claim's
``spec:`` overrides are applied on top; the verdict records the specification used.
Every verdict carries its evidence table, the rule in words, its headline, the numbers it
rests on, notes (facts the article gets wrong, excluded events, data caveats) and the other
catalogued events inside its event windows.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
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
from research.claims.robustness import SpecificationGrid
from research.claims.gridcache import cached_grid
from research.claims.judge import capped_verdict, event_targets, judge_event_claim, rows_at
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
    Reason,
    ReasonKind,
    Verdict,
    empty_evidence,
)
from research.errors import ClaimError, ParameterError
from research.vocab import basket_id, finite, p_note as fmt_p

__all__ = ["evaluate", "evaluate_all", "FACT_TO_VERDICT"]

#: The verdict of a claim that is only a fact check, from its fact verdict.
FACT_TO_VERDICT: dict[str, str] = {"accurate": SUPPORTED, "partly wrong": PARTLY, "wrong": NOT_SUPPORTED,
                                   "unverified": NOT_TESTABLE}


def _params(params: EvalParams | dict | None) -> EvalParams:
    if params is None:
        return EvalParams()
    if isinstance(params, EvalParams):
        return params
    if isinstance(params, dict):
        return EvalParams.from_mapping(params)
    raise ParameterError(f"params must be an EvalParams or a dict of parameters, got {type(params).__name__}")


def _claim(claim: Claim | str, article: Article) -> Claim:
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
    notes = _reasons(ReasonKind.CLAIM_NOTE, [render_note(n, facts) for n in claim.notes])
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


def _verdict(claim: Claim, params: EvalParams, verdict: str, evidence: pd.DataFrame, key: dict[str, Any],
             notes: list[Reason], conf: pd.DataFrame, data_source: str, figures: FigureData, *,
             headline: str = "", windows: list[tuple[int, int]] | None = None,
             facts: FactCheck | None = None) -> Verdict:
    ev = evidence.reset_index(drop=True)
    extra = [c for c in ev.columns if c not in EVIDENCE_COLUMNS]
    ev = ev.reindex(columns=list(EVIDENCE_COLUMNS) + extra)
    verdict, cap = capped_verdict(claim, verdict, None, params.alpha)
    notes = cap + list(notes)
    text = claim.rule.text
    if claim.rule.type == "not_testable":
        text = f"{claim.rule.text} Reason: {claim.rule.reason}"  # type: ignore[attr-defined]
    if facts is not None:
        notes = list(notes) + [Reason(ReasonKind.FACT_ITEM, f"Fact check ({i.outcome}): {i.statement} {i.reason}")
                               for i in facts.items]
    return Verdict(
        claim_id=claim.id, title=claim.title, verdict=verdict, rule=text, evidence=ev,
        key=KeyNumbers.from_mapping(key), reasons=_unique(notes), confounders=conf.reset_index(drop=True),
        data_source=data_source, as_of=str(params.as_of), parameters=params, kind=claim.kind,
        figures=figures, check=claim.checks, fact_check=facts, headline=headline, direction=claim.direction or "",
        specification=_spec(params, claim, windows or []),
    )


# ---------------------------------------------------------------------------------------
def _eval_event(claim: Claim, params: EvalParams, article: Article, base: EvalParams,
                facts: FactCheck | None) -> Verdict:
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
    if "placebo" in claim.rule.tests and params.placebo_method == "resample" and params.placebo_draws == 0:  # type: ignore[attr-defined]
        notes.append(Reason(ReasonKind.PLACEBO_OFF, "placebo_draws=0: the placebo test was not run; the rule is "
                            "applied to the parametric test only."))
    j = ej.judgement
    conf, sep = _confounders(claim, study, _confounder_targets(claim, study), article)
    notes = (_rule_reasons(j.reasons)
             + _evidence_notes(ej.rows, study.evidence, params.alpha, claim.rule.direction)  # type: ignore[attr-defined]
             + notes + _reasons(ReasonKind.DATA, study.notes) + _reasons(ReasonKind.SEPARATION, sep))
    v = _verdict(claim, params, j.verdict, study.evidence, ej.key_numbers, notes, conf, study.data_source,
                 FigureData(study=study), headline=j.headline,
                 windows=sorted({w for _, _, w in ej.targets}), facts=facts)
    return replace(v, inference=Inference(ej.primary) if ej.primary else None)


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


def _eval_not_testable(claim: Claim, params: EvalParams, article: Article, base: EvalParams,
                       facts: FactCheck | None) -> Verdict:
    notes = _base_notes(claim, base, params, article)
    study, conf, more = _context_study(claim, params, article)
    headline = f"Not testable: {claim.rule.reason}"  # type: ignore[attr-defined]
    if study is None:
        return _verdict(claim, params, NOT_TESTABLE, empty_evidence(), {}, notes, conf, params.source, FigureData(),
                        headline=headline, facts=facts)
    return _verdict(claim, params, NOT_TESTABLE, study.evidence, {}, notes + more, conf, study.data_source,
                    FigureData(study=study), headline=headline, facts=facts)


def _eval_fact(claim: Claim, params: EvalParams, article: Article, base: EvalParams,
               facts: FactCheck | None) -> Verdict:
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


def _eval_rolling(claim: Claim, params: EvalParams, article: Article, base: EvalParams,
                  facts: FactCheck | None) -> Verdict:
    r = claim.rule
    res = _rally.rally(claim.tickers, params.as_of_ts, horizon=r.horizon, lookback_sessions=r.lookback_sessions,  # type: ignore[attr-defined]
                       month=r.month, source=params.source)  # type: ignore[attr-defined]
    j = _rules.judge_rolling(res.table, required=r.required_tickers, threshold=r.threshold,  # type: ignore[attr-defined]
                             lookback_sessions=r.lookback_sessions, horizon=r.horizon,  # type: ignore[attr-defined]
                             direction=r.direction)  # type: ignore[attr-defined]
    h = r.horizon  # type: ignore[attr-defined]
    k_max, k_end, k_month = _rally.key_names(h, r.month)  # type: ignore[attr-defined]
    use_min = r.direction == "down"  # type: ignore[attr-defined]
    key: dict[str, Any] = {}
    rows = []
    for t, row in res.table.iterrows():
        key[t] = {k_max: row["max_return"], k_end: row["max_end"], f"max_rolling_{h}d_start": row["max_start"],
                  f"rolling_{h}d_return_as_of": row["return_as_of"]}
        if r.direction != "up":  # type: ignore[attr-defined]
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
    key["threshold"] = r.threshold  # type: ignore[attr-defined]
    key["lookback_sessions"] = r.lookback_sessions  # type: ignore[attr-defined]
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
            notes.append(Reason(ReasonKind.COMPARISON, f"{t}: computed calendar-month return for {r.month} "  # type: ignore[attr-defined]
                                f"{comp:+.1%} vs {f.value:+.1f}% reported for {f.period} ({fid})."))
    return _verdict(claim, params, j.verdict, evidence, key, notes, _empty_confounders(), params.source,
                    FigureData(rally=res), headline=j.headline, facts=facts)


def _eval_growth(claim: Claim, params: EvalParams, article: Article, base: EvalParams,
                 facts: FactCheck | None) -> Verdict:
    r = claim.rule
    fb = article.facts_by_id()
    ids = [r.current, r.prior, r.reported_growth]  # type: ignore[attr-defined]
    cur, pri, rep = (fb[i].value if i else None for i in ids)
    num = [x if isinstance(x, float) else None for x in (cur, pri, rep)]
    j = _rules.judge_growth(num[0], num[1], num[2], threshold_pct=r.threshold_pct,  # type: ignore[attr-defined]
                            tolerance_pp=r.tolerance_pp)  # type: ignore[attr-defined]
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


#: one evaluator per rule class (the studies it needs, then its judgement)
_EVALUATORS = {
    _rules.BasketCarRule: _eval_event,
    _rules.PairsCarRule: _eval_event,
    _rules.RollingReturnRule: _eval_rolling,
    _rules.RevenueGrowthRule: _eval_growth,
    _rules.FactCheckRule: _eval_fact,
    _rules.NotTestableRule: _eval_not_testable,
}


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
    c = _claim(claim, art)
    p = _params(params)
    v = _evaluate_one(c, p, art)
    if not v.inference:
        return v
    v = _with_family(v, _primary_family(art, p), p.resolve(art).alpha, c)
    return _with_robustness([v], art, p, robustness)[0]


def _evaluate_one(c: Claim, params: EvalParams, art: Article) -> Verdict:
    """One claim's verdict before multiple-testing control."""
    base = params.resolve(art)
    p = base.override(c.spec)
    evaluator = _EVALUATORS.get(type(c.rule))
    if evaluator is None:
        raise ClaimError(f"claim {c.id}: no evaluator for rule type {c.rule.type!r}")
    facts = check_facts(c.fact_check, art.facts_by_id(), {e.event_id: e for e in art.events}) if c.fact_check else None
    return evaluator(c, p, art, base, facts)


#: (article fingerprint, params) -> claim id -> raw primary p: the family of a single
#: evaluate() call, computed once per article content and parameters in a process
_FAMILIES: dict[tuple[tuple, EvalParams], dict[str, float]] = {}


def _fingerprint(art: Article) -> tuple:
    """The article's directory and the digest of the files it was loaded from: a changed
    article file is a different family."""
    return (str(Path(art.path)), art.fingerprint)


def _primary_family(art: Article, params: EvalParams,
                    verdicts: list[Verdict] | None = None) -> dict[str, float]:
    """Raw primary p-values of every price claim of the article (the multiplicity family)."""
    key = (_fingerprint(art), params)
    if key in _FAMILIES:
        return _FAMILIES[key]
    if verdicts is None:
        verdicts = [_evaluate_one(c, params, art) for c in art.claims if c.rule.type in ("basket_car", "pairs_car")]
    fam = {v.claim_id: float(v.inference.p_value) if finite(v.inference.p_value) else float("nan")
           for v in verdicts if v.inference}
    if len(_FAMILIES) >= 8:
        _FAMILIES.pop(next(iter(_FAMILIES)))
    _FAMILIES[key] = fam
    return fam


def _with_family(v: Verdict, family: dict[str, float], alpha: float, claim: Claim) -> Verdict:
    """The verdict with its Holm/BH-adjusted primary p; 'supported' capped at 'partly
    supported' when only the unadjusted p passes (:func:`~research.claims.judge.capped_verdict`)."""
    adj = adjust_pvalues(family).get(v.claim_id, {"p_holm": float("nan"), "p_bh": float("nan"),
                                                   "family_size": len(family)})
    assert v.inference is not None
    prim = v.inference.primary
    m = Multiplicity(adj["p_holm"], adj["p_bh"], adj["family_size"])
    inf = Inference(prim, m)
    raw = prim.p_value if finite(prim.p_value) else None
    floor = prim.p_floor
    raw_s = (f"<= {fmt_p(floor)} (its floor, n = {prim.n_placebo})"
             if finite(raw) and finite(floor) and abs(float(raw) - float(floor)) < 1e-12 else fmt_p(raw))
    line = Reason(ReasonKind.PRIMARY,
                  f"Primary test: {prim.test} ({prim.description}): p {raw_s}; adjusted across the article's "
                  f"{m.family_size} primary tests: Holm p {fmt_p(m.p_holm)}, Benjamini-Hochberg p {fmt_p(m.p_bh)}.")
    verdict, caps = capped_verdict(claim, v.verdict, inf, alpha)
    headline = v.headline + (f" Holm-adjusted p {fmt_p(m.p_holm)} across {m.family_size} claims."
                             if v.headline else "")
    return replace(v, verdict=verdict, inference=inf, reasons=(line, *caps) + v.reasons, headline=headline)


def evaluate_all(params: EvalParams | dict | None = None, claim_ids: list[str] | None = None, *,
                 article: Article | None = None, robustness: bool | SpecificationGrid = False) -> list[Verdict]:
    """Evaluate every claim of the article (or ``claim_ids``), in file order
    (``robustness``: see :func:`evaluate`)."""
    art = article if article is not None else load_article()
    p = _params(params)
    claims = list(art.claims)
    if claim_ids is not None:
        wanted = [art.claim(c).id for c in claim_ids]
        claims = [c for c in claims if c.id in wanted]
    raw = [_evaluate_one(c, p, art) for c in claims]
    priced = [v for v in raw if v.inference]
    if not priced:
        return raw
    missing = [c for c in art.claims if c.rule.type in ("basket_car", "pairs_car") and c.id not in {v.claim_id for v in raw}]
    family = _primary_family(art, p, priced + [_evaluate_one(c, p, art) for c in missing])
    alpha = p.resolve(art).alpha
    out = [_with_family(v, family, alpha, art.claim(v.claim_id)) if v.inference else v for v in raw]
    return _with_robustness(out, art, p, robustness)


def _with_robustness(verdicts: list[Verdict], art: Article, params: EvalParams,
                     robustness: bool | SpecificationGrid) -> list[Verdict]:
    """Attach each price verdict's specification grid and a note saying how far it holds."""
    if robustness is False or not any(v.inference for v in verdicts):
        return verdicts
    grid = robustness if isinstance(robustness, SpecificationGrid) else None
    results = cached_grid(art, params, grid)
    out = []
    for v in verdicts:
        r = results.get(v.claim_id)
        if r is None or not v.inference:
            out.append(v)
            continue
        if r.headline_verdict != v.verdict:  # one path to every verdict: a mismatch is a bug
            raise ClaimError(f"claim {v.claim_id}: the grid's headline verdict {r.headline_verdict!r} differs "
                             f"from the verdict {v.verdict!r}")
        note = Reason(ReasonKind.ROBUSTNESS,
                      f"Robustness: '{v.verdict}' holds in {r.share:.0%} of {r.n_specs} specifications (market "
                      f"proxy x model x estimation length x window)" + (
                          f"; FRAGILE: below {r.threshold:.0%}." if r.fragile
                          else f", at or above the {r.threshold:.0%} threshold."))
        at = 1 if v.reasons and v.reasons[0].kind is ReasonKind.PRIMARY else 0  # beside the primary test
        out.append(replace(v, robustness=r, reasons=v.reasons[:at] + (note,) + v.reasons[at:]))
    return out
