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
from typing import Any

import pandas as pd

from research.claims import rally as _rally
from research.claims import rules as _rules
from research.claims.article import Article, load_article
from research.claims.confounding import find_confounders, separation_notes
from research.claims.factcheck import FactCheckResult, check_facts
from research.claims.notes import render_note
from research.claims.params import EvalParams
from research.claims.registry import Claim
from research.claims.studies import ClaimStudy, basket_label, day0_table, run_claim_study
from research.claims.verdict import (
    CONFOUNDER_COLUMNS,
    EVIDENCE_COLUMNS,
    NOT_SUPPORTED,
    NOT_TESTABLE,
    PARTLY,
    SUPPORTED,
    Verdict,
    empty_evidence,
)
from research.errors import ClaimError, ParameterError

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


def _rows_at(evidence: pd.DataFrame, pairs: list[tuple[str, str, tuple[int, int]]], *,
             estimated_only: bool = True) -> pd.DataFrame:
    """Evidence rows for (event_id, ticker, window) triples, in the given order.

    ``estimated_only=False`` keeps every requested triple: one that was skipped or has no
    evidence row at all comes back with a NaN CAR, so a rule sees it as missing evidence
    instead of never hearing of it.
    """
    if not pairs:
        return evidence.iloc[0:0]
    key = pd.DataFrame(pairs, columns=["event_id", "ticker", "w"])
    key["window_start"] = [w[0] for w in key["w"]]
    key["window_end"] = [w[1] for w in key["w"]]
    on = ["event_id", "ticker", "window_start", "window_end"]
    if evidence.empty:
        if estimated_only:
            return evidence.iloc[0:0]
        evidence = empty_evidence()
    out = key.drop(columns="w").merge(evidence, on=on, how="inner" if estimated_only else "left")
    if estimated_only:
        out = out[out["status"] == "ok"]
    return out.reset_index(drop=True)


def _auto_window(claim: Claim, study: ClaimStudy, event_id: str) -> tuple[int, int]:
    w = getattr(claim.rule, "window", None)
    if w is not None:
        return w
    return (-1, 1) if bool(study.day0.loc[event_id, "uncertain"]) else (0, 0)


def _confounders(claim: Claim, study: ClaimStudy, targets: list[tuple[str, str, tuple[int, int]]],
                 article: Article) -> tuple[pd.DataFrame, tuple[str, ...]]:
    if not targets:
        return _empty_confounders(), ()
    all_events = day0_table(article=article)
    tdf = pd.DataFrame([{"event_id": e, "ticker": t, "window_start": w[0], "window_end": w[1]}
                        for e, t, w in targets])
    members = {basket_label(claim.basket): claim.basket_tickers} if claim.basket else {}
    conf = find_confounders(tdf, all_events, members=members, market_tickers=article.market_tickers)
    return conf, separation_notes(conf, all_events)


def _base_notes(claim: Claim, base: EvalParams, params: EvalParams, article: Article) -> list[str]:
    facts = article.facts_by_id()
    notes = [render_note(n, facts) for n in claim.notes]
    if claim.spec:
        notes.append("specification: the claim overrides " + ", ".join(
            f"{k}={getattr(params, k)!r} (parameter: {getattr(base, k)!r})" for k in claim.spec) + ".")
    return notes


def _event_targets(claim: Claim, study: ClaimStudy) -> list[tuple[str, str, tuple[int, int]]]:
    """(event, ticker-or-basket, window) rows the rule looks at."""
    ok_events = [e for e in claim.events if e in study.day0.index and e not in dict(study.excluded)]
    if claim.rule.type == "basket_car":
        label = basket_label(claim.basket)
        prim = [e for e in (claim.rule.primary_events or claim.events) if e in ok_events]  # type: ignore[attr-defined]
        return [(e, label, _auto_window(claim, study, e)) for e in prim]
    return [(e, t, _auto_window(claim, study, e)) for e, t in claim.event_ticker_pairs() if e in ok_events]


def _confounder_targets(claim: Claim, study: ClaimStudy) -> list[tuple[str, str, tuple[int, int]]]:
    """(event, ticker-or-basket, window) rows to check for confounders: every window shown
    in the evidence, not only the rule's, since a longer CAR can take in other news."""
    ok_events = [e for e in claim.events if e in study.day0.index and e not in dict(study.excluded)]
    shown = sorted({(int(a), int(b)) for a, b in zip(study.evidence["window_start"], study.evidence["window_end"])}
                   if not study.evidence.empty else set())

    def windows(e: str) -> list[tuple[int, int]]:
        rule = _auto_window(claim, study, e)
        return [rule] + [w for w in shown if w != rule]

    if not claim.basket:
        return [(e, t, w) for e, t in claim.event_ticker_pairs() if e in ok_events for w in windows(e)]
    # the basket row covers its members' news; tickers outside the basket are listed one by one
    out = [(e, basket_label(claim.basket), w) for e in ok_events for w in windows(e)]
    out += [(e, t, w) for e, t in claim.event_ticker_pairs()
            if e in ok_events and t not in claim.basket_tickers for w in windows(e)]
    return out


def _spec(params: EvalParams, claim: Claim, windows: list[tuple[int, int]]) -> dict[str, Any]:
    return {
        "model": params.model, "market_proxy": params.market_proxy,
        "estimation_length": params.estimation_length, "estimation_end": params.estimation_end,
        "min_estimation_obs": params.min_estimation_obs, "as_of": params.as_of, "seed": params.seed,
        "alpha": params.alpha, "rule_windows": [list(w) for w in windows], "overrides": sorted(claim.spec),
    }


def _verdict(claim: Claim, params: EvalParams, verdict: str, evidence: pd.DataFrame, key: dict[str, Any],
             notes: list[str], conf: pd.DataFrame, data_source: str, details: dict[str, Any], *,
             headline: str = "", windows: list[tuple[int, int]] | None = None,
             facts: FactCheckResult | None = None) -> Verdict:
    ev = evidence.reset_index(drop=True)
    extra = [c for c in ev.columns if c not in EVIDENCE_COLUMNS]
    ev = ev.reindex(columns=list(EVIDENCE_COLUMNS) + extra)
    if claim.rule.max_verdict and verdict == SUPPORTED:
        verdict = claim.rule.max_verdict
        notes = [f"Rule check: the data alone would support the claim, but the verdict is capped at "
                 f"'{claim.rule.max_verdict}': {claim.rule.max_verdict_reason}."] + list(notes)
    text = claim.rule.text
    if claim.rule.type == "not_testable":
        text = f"{claim.rule.text} Reason: {claim.rule.reason}"  # type: ignore[attr-defined]
    if facts is not None:
        notes = list(notes) + [f"Fact check ({i['outcome']}): {i['statement']} {i['reason']}" for i in facts.items]
    return Verdict(
        claim_id=claim.id, title=claim.title, verdict=verdict, rule=text, evidence=ev,
        key_numbers=key, notes=tuple(dict.fromkeys(notes)), confounders=conf.reset_index(drop=True),
        data_source=data_source, as_of=str(params.as_of), parameters=params.to_dict(), kind=claim.kind,
        details=details, check=claim.checks, fact_verdict=facts.verdict if facts else "",
        fact_items=facts.items if facts else (), headline=headline, direction=claim.direction or "",
        specification=_spec(params, claim, windows or []),
    )


# ---------------------------------------------------------------------------------------
def _eval_event(claim: Claim, params: EvalParams, article: Article, base: EvalParams,
                facts: FactCheckResult | None) -> Verdict:
    rule = claim.rule
    study = run_claim_study(claim, params, article=article)
    notes = _base_notes(claim, base, params, article)
    targets = _event_targets(claim, study)
    if not targets:
        why = (f"none of the claim's events ({', '.join(claim.events)}) has its day 0 on or before the "
               f"as-of date {params.as_of}; the claim cannot be tested as of that date")
        notes = [f"Rule check: {why}."] + notes + list(study.notes)
        return _verdict(claim, params, NOT_TESTABLE, study.evidence, {}, notes, _empty_confounders(),
                        study.data_source, {"study": study}, headline=why[0].upper() + why[1:] + ".", facts=facts)
    rows = _rows_at(study.evidence, targets, estimated_only=False)
    tests = rule.tests  # type: ignore[attr-defined]
    direction = rule.direction  # type: ignore[attr-defined]
    if "placebo" in tests and params.placebo_draws == 0:
        notes.append("placebo_draws=0: the placebo test was not run; the rule is applied to the parametric test only.")
    if rule.type == "basket_car":
        mret: dict[str, float] = {}
        if rule.market_must_fall and params.market_proxy in study.returns.columns:  # type: ignore[attr-defined]
            for e, _, _ in targets:
                d0 = study.day0.loc[e, "day0"]
                mret[e] = float(study.returns[params.market_proxy].get(d0, float("nan")))
        window = targets[0][2]
        label = basket_label(claim.basket)
        ok_events = set(study.day0.index) - set(dict(study.excluded))
        conf_rows = _rows_at(study.evidence, [(e, label, window) for e in rule.confounded_events  # type: ignore[attr-defined]
                                              if e in ok_events])
        j = _rules.judge_basket(rows, alpha=params.alpha, tests=tests, window=window, market_returns=mret,
                                market_must_fall=rule.market_must_fall, confounded=conf_rows,  # type: ignore[attr-defined]
                                direction=direction)
        members = _rows_at(study.evidence, [(e, t, w) for e, _, w in targets
                                            for t in claim.tickers if t in claim.basket_tickers])
        sig = [_rules.row_significance(r, params.alpha, tests, direction) for r in members.to_dict(orient="records")]
        key = dict(j.key_numbers)
        key["basket"] = claim.basket
        key["basket_members"] = list(claim.basket_tickers)
        key["window"] = list(window)
        key["members_estimated"] = len(members)
        key["members_positive_significant_all_tests"] = sum(s["all_reject"] for s in sig)
    elif rule.members == "all":  # type: ignore[attr-defined]
        j = _rules.judge_pairs_all(rows, alpha=params.alpha, tests=tests, direction=direction)
        key = dict(j.key_numbers)
    else:
        j = _rules.judge_pairs(rows, alpha=params.alpha, tests=tests, direction=direction)
        key = dict(j.key_numbers)
    conf, sep = _confounders(claim, study, _confounder_targets(claim, study), article)
    notes = [f"Rule check: {r}" for r in j.reasons] + notes + list(study.notes) + list(sep)
    return _verdict(claim, params, j.verdict, study.evidence, key, notes, conf, study.data_source,
                    {"study": study, "judgement": j}, headline=j.headline,
                    windows=sorted({w for _, _, w in targets}), facts=facts)


def _context_study(claim: Claim, params: EvalParams, article: Article
                   ) -> tuple[ClaimStudy | None, pd.DataFrame, list[str]]:
    """Descriptive event studies of a claim whose verdict is not about prices."""
    if not (claim.events and (claim.tickers or claim.pairs or claim.basket)):
        return None, _empty_confounders(), []
    study = run_claim_study(claim, params, article=article)
    conf, sep = _confounders(claim, study, _confounder_targets(claim, study), article)
    return study, conf, list(study.notes) + list(sep)


def _eval_not_testable(claim: Claim, params: EvalParams, article: Article, base: EvalParams,
                       facts: FactCheckResult | None) -> Verdict:
    notes = _base_notes(claim, base, params, article)
    study, conf, more = _context_study(claim, params, article)
    headline = f"Not testable: {claim.rule.reason}"  # type: ignore[attr-defined]
    if study is None:
        return _verdict(claim, params, NOT_TESTABLE, empty_evidence(), {}, notes, conf, params.source, {},
                        headline=headline, facts=facts)
    return _verdict(claim, params, NOT_TESTABLE, study.evidence, {}, notes + more, conf, study.data_source,
                    {"study": study}, headline=headline, facts=facts)


def _eval_fact(claim: Claim, params: EvalParams, article: Article, base: EvalParams,
               facts: FactCheckResult | None) -> Verdict:
    if facts is None:  # the loader requires fact_check items for this rule
        raise ClaimError(f"claim {claim.id}: a fact_check rule needs fact_check items")
    notes = _base_notes(claim, base, params, article)
    study, conf, more = _context_study(claim, params, article)
    verdict = FACT_TO_VERDICT[facts.verdict]
    if study is None:
        return _verdict(claim, params, verdict, empty_evidence(), {}, notes, conf, params.source, {},
                        headline=facts.headline, facts=facts)
    more = ["The price reaction in the evidence is context only: the article makes no claim about it."] + more
    return _verdict(claim, params, verdict, study.evidence, {}, notes + more, conf, study.data_source,
                    {"study": study}, headline=facts.headline, facts=facts)


def _eval_rolling(claim: Claim, params: EvalParams, article: Article, base: EvalParams,
                  facts: FactCheckResult | None) -> Verdict:
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
    notes = [f"Rule check: {x}" for x in j.reasons] + _base_notes(claim, base, params, article)
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
            notes.append(f"{t}: computed calendar-month return for {r.month} {comp:+.1%} vs "  # type: ignore[attr-defined]
                         f"{f.value:+.1f}% reported for {f.period} ({fid}).")
    return _verdict(claim, params, j.verdict, evidence, key, notes, _empty_confounders(), params.source,
                    {"rally": res, "judgement": j}, headline=j.headline, facts=facts)


def _eval_growth(claim: Claim, params: EvalParams, article: Article, base: EvalParams,
                 facts: FactCheckResult | None) -> Verdict:
    r = claim.rule
    fb = article.facts_by_id()
    ids = [r.current, r.prior, r.reported_growth]  # type: ignore[attr-defined]
    cur, pri, rep = (fb[i].value if i else None for i in ids)
    num = [x if isinstance(x, float) else None for x in (cur, pri, rep)]
    j = _rules.judge_growth(num[0], num[1], num[2], threshold_pct=r.threshold_pct,  # type: ignore[attr-defined]
                            tolerance_pp=r.tolerance_pp)  # type: ignore[attr-defined]
    key = dict(j.key_numbers)
    notes = [f"Rule check: {x}" for x in j.reasons]
    comp = key.get("growth_pct_from_revenues")
    if comp is not None and num[2] is not None:
        notes.append(
            f"({num[0]:g} - {num[1]:g}) / {num[1]:g} = {comp:.1f}% from the published figures ({ids[0]}, {ids[1]}); "
            f"the reported growth is {num[2]:g}% ({ids[2]}). A difference between the two comes from the "
            "rounding of the published figures."
        )
    study = run_claim_study(claim, params, article=article)
    rows = _rows_at(study.evidence, _event_targets(claim, study))
    for rr in rows.to_dict(orient="records"):
        key[f"{rr['ticker']}@{rr['event_id']}"] = {
            "window": [rr["window_start"], rr["window_end"]], "car": rr["car"], "t_stat": rr["t_stat"],
            "p_value": rr["p_value"], "p_placebo": rr["p_placebo"]}
    conf, sep = _confounders(claim, study, _confounder_targets(claim, study), article)
    notes += _base_notes(claim, base, params, article) + list(study.notes) + list(sep)
    return _verdict(claim, params, j.verdict, study.evidence, key, notes, conf, study.data_source,
                    {"study": study, "judgement": j}, headline=j.headline, facts=facts,
                    windows=sorted({w for _, _, w in _event_targets(claim, study)}))


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
             article: Article | None = None) -> Verdict:
    """Evaluate one claim.

    Parameters
    ----------
    claim : a claim id of the article or a :class:`~research.claims.registry.Claim`.
    params : :class:`EvalParams` (default ``EvalParams()``) or a dict of notebook parameters;
        fields left None (as-of date, market proxy, seed) are taken from the article.
    article : the :class:`~research.claims.article.Article` (default: the shipped article).

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
    base = _params(params).resolve(art)
    p = base.override(c.spec)
    evaluator = _EVALUATORS.get(type(c.rule))
    if evaluator is None:
        raise ClaimError(f"claim {c.id}: no evaluator for rule type {c.rule.type!r}")
    facts = check_facts(c.fact_check, art.facts_by_id(), {e.event_id: e for e in art.events}) if c.fact_check else None
    v = evaluator(c, p, art, base, facts)
    wins = v.specification.get("rule_windows") if v.specification else None
    if wins:
        v.details["rule_windows"] = tuple(tuple(w) for w in wins)  # type: ignore[index]
    return v


def evaluate_all(params: EvalParams | dict | None = None, claim_ids: list[str] | None = None, *,
                 article: Article | None = None) -> list[Verdict]:
    """Evaluate every claim of the article (or ``claim_ids``), in file order."""
    art = article if article is not None else load_article()
    p = _params(params)
    claims = list(art.claims)
    if claim_ids is not None:
        wanted = [art.claim(c).id for c in claim_ids]
        claims = [c for c in claims if c.id in wanted]
    return [evaluate(c, p, article=art) for c in claims]
