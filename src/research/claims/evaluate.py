"""``evaluate(claim, params) -> Verdict``: apply a claim's rule to the data.

The rule type in the registry decides what is computed:

==================  ======================================================================
basket_car          event studies of the claim's tickers and its equal-weighted basket;
                    the verdict is the basket rule on the primary event(s)
pairs_car           event studies of explicit (event, ticker) pairs; the pairs rule
rolling_return      C8: rolling and calendar-month returns (:mod:`research.claims.rally`)
revenue_growth      C9: growth from facts.csv (:mod:`research.claims.rules`) plus an event
                    study of the results day shown as context
not_testable        context claims: verdict "not testable with price data" with the reason;
                    events/tickers, when given, produce descriptive evidence only
==================  ======================================================================

Every verdict carries its evidence table, the rule in words, the numbers it rests on,
notes (facts the article gets wrong, excluded events, data caveats) and the other
catalogued events inside its event windows.
"""

from __future__ import annotations

import re

from typing import Any

import pandas as pd

from research.claims import rally as _rally
from research.claims import rules as _rules
from research.claims.confounding import find_confounders, separation_notes
from research.claims.notes import facts_by_id, render_note
from research.claims.params import EvalParams
from research.claims.registry import Claim, get_claim, load_claims
from research.claims.studies import ClaimStudy, basket_label, day0_table, run_claim_study
from research.claims.verdict import (
    CONFOUNDER_COLUMNS,
    EVIDENCE_COLUMNS,
    NOT_TESTABLE,
    SUPPORTED,
    Verdict,
    empty_evidence,
)
from research.errors import ClaimError, ParameterError

__all__ = ["evaluate", "evaluate_all"]


def _params(params: EvalParams | dict | None) -> EvalParams:
    if params is None:
        return EvalParams()
    if isinstance(params, EvalParams):
        return params
    if isinstance(params, dict):
        return EvalParams.from_mapping(params)
    raise ParameterError(f"params must be an EvalParams or a dict of parameters, got {type(params).__name__}")


def _claim(claim: Claim | str | int) -> Claim:
    if isinstance(claim, Claim):
        return claim
    if isinstance(claim, (str, int)):
        return get_claim(claim)
    raise ClaimError(f"claim must be a claim id such as 'C8' or a Claim, got {type(claim).__name__}")


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
    if claim.rule.window is not None:
        return claim.rule.window
    return (-1, 1) if bool(study.day0.loc[event_id, "uncertain"]) else (0, 0)


def _confounders(claim: Claim, study: ClaimStudy, targets: list[tuple[str, str, tuple[int, int]]]
                 ) -> tuple[pd.DataFrame, tuple[str, ...]]:
    if not targets:
        return _empty_confounders(), ()
    all_events = day0_table()
    tdf = pd.DataFrame([{"event_id": e, "ticker": t, "window_start": w[0], "window_end": w[1]}
                        for e, t, w in targets])
    members = {basket_label(claim.basket): claim.basket_tickers} if claim.basket else {}
    conf = find_confounders(tdf, all_events, members=members)
    return conf, separation_notes(conf, all_events)


def _base_notes(claim: Claim, params: EvalParams) -> list[str]:
    notes = [render_note(n) for n in claim.notes]
    if params.model != claim.model:
        notes.append(f"evaluated with model={params.model!r}; the registry designed this claim for {claim.model!r}.")
    return notes


def _event_targets(claim: Claim, study: ClaimStudy) -> list[tuple[str, str, tuple[int, int]]]:
    """(event, ticker-or-basket, window) rows the rule looks at."""
    ok_events = [e for e in claim.events if e in study.day0.index and e not in dict(study.excluded)]
    if claim.rule.type == "basket_car":
        label = basket_label(claim.basket)
        prim = [e for e in claim.rule.primary_events if e in ok_events]
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


def _verdict(claim: Claim, params: EvalParams, verdict: str, evidence: pd.DataFrame, key: dict[str, Any],
             notes: list[str], conf: pd.DataFrame, data_source: str, details: dict[str, Any]) -> Verdict:
    ev = evidence.reset_index(drop=True)
    extra = [c for c in ev.columns if c not in EVIDENCE_COLUMNS]
    ev = ev.reindex(columns=list(EVIDENCE_COLUMNS) + extra)
    if claim.rule.max_verdict and verdict == SUPPORTED:
        verdict = claim.rule.max_verdict
        notes = [f"Rule check: the data alone would support the claim, but the verdict is capped at "
                 f"'{claim.rule.max_verdict}': {claim.rule.max_verdict_reason}."] + list(notes)
    text = claim.rule.text
    if claim.rule.type == "not_testable":
        text = f"{claim.rule.text} Reason: {claim.rule.reason}"
    return Verdict(
        claim_id=claim.id, title=claim.title, verdict=verdict, rule=text, evidence=ev,
        key_numbers=key, notes=tuple(dict.fromkeys(notes)), confounders=conf.reset_index(drop=True),
        data_source=data_source, as_of=params.as_of, parameters=params.to_dict(), kind=claim.kind,
        details=details,
    )


# ---------------------------------------------------------------------------------------
def _eval_event(claim: Claim, params: EvalParams) -> Verdict:
    study = run_claim_study(claim, params)
    notes = _base_notes(claim, params)
    targets = _event_targets(claim, study)
    if not targets:
        notes = [f"Rule check: none of the claim's events ({', '.join(claim.events)}) has its day 0 on or "
                 f"before the as-of date {params.as_of}; the claim cannot be tested as of that date."
                 ] + notes + list(study.notes)
        return _verdict(claim, params, NOT_TESTABLE, study.evidence, {}, notes, _empty_confounders(),
                        study.data_source, {"study": study})
    rows = _rows_at(study.evidence, targets, estimated_only=False)
    tests = claim.rule.tests
    if "placebo" in tests and params.placebo_draws == 0:
        notes.append("placebo_draws=0: the placebo test was not run; the rule is applied to the parametric test only.")
    if claim.rule.type == "basket_car":
        mret: dict[str, float] = {}
        if claim.rule.market_must_fall and params.market_proxy in study.returns.columns:
            for e, _, _ in targets:
                d0 = study.day0.loc[e, "day0"]
                mret[e] = float(study.returns[params.market_proxy].get(d0, float("nan")))
        window = targets[0][2] if targets else (claim.rule.window or (0, 0))
        label = basket_label(claim.basket)
        ok_events = set(study.day0.index) - set(dict(study.excluded))
        conf_rows = _rows_at(study.evidence, [(e, label, window) for e in claim.rule.confounded_events
                                              if e in ok_events])
        j = _rules.judge_basket(rows, alpha=params.alpha, tests=tests, window=window, market_returns=mret,
                                market_must_fall=claim.rule.market_must_fall, confounded=conf_rows)
        members = _rows_at(study.evidence, [(e, t, w) for e, _, w in targets
                                            for t in claim.tickers if t in claim.basket_tickers])
        sig = [_rules.row_significance(r, params.alpha, tests) for r in members.to_dict(orient="records")]
        key = dict(j.key_numbers)
        key["basket"] = claim.basket
        key["basket_members"] = list(claim.basket_tickers)
        key["window"] = list(window)
        key["members_estimated"] = len(members)
        key["members_positive_significant_all_tests"] = sum(s["all_reject"] for s in sig)
    else:
        j = _rules.judge_pairs(rows, alpha=params.alpha, tests=tests)
        key = dict(j.key_numbers)
    conf, sep = _confounders(claim, study, _confounder_targets(claim, study))
    notes = [f"Rule check: {r}" for r in j.reasons] + notes + list(study.notes) + list(sep)
    return _verdict(claim, params, j.verdict, study.evidence, key, notes, conf, study.data_source,
                    {"study": study, "judgement": j})


def _eval_not_testable(claim: Claim, params: EvalParams) -> Verdict:
    notes = _base_notes(claim, params)
    if claim.events and claim.tickers:
        study = run_claim_study(claim, params)
        conf, sep = _confounders(claim, study, _confounder_targets(claim, study))
        notes += list(study.notes) + list(sep)
        return _verdict(claim, params, NOT_TESTABLE, study.evidence, {}, notes, conf, study.data_source,
                        {"study": study})
    return _verdict(claim, params, NOT_TESTABLE, empty_evidence(), {}, notes, _empty_confounders(),
                    params.source, {})


def _eval_rolling(claim: Claim, params: EvalParams) -> Verdict:
    r = claim.rule
    res = _rally.rally(claim.tickers, params.as_of, horizon=r.horizon, lookback_sessions=r.lookback_sessions,
                       month=r.month, source=params.source)
    j = _rules.judge_rolling(res.table, required=r.required_tickers, threshold=r.threshold,
                             lookback_sessions=r.lookback_sessions, horizon=r.horizon)
    k_max, k_end, k_month = _rally.key_names(r.horizon, r.month)
    key: dict[str, Any] = {}
    rows = []
    for t, row in res.table.iterrows():
        key[t] = {
            k_max: row["max_return"], k_end: row["max_end"], f"max_rolling_{r.horizon}d_start": row["max_start"],
            f"rolling_{r.horizon}d_return_as_of": row["return_as_of"], k_month: row["month_return"],
        }
        rows.append({"event_id": f"rolling_{r.horizon}d_max", "ticker": t, "day0": row["max_end"],
                     "window_start": -(r.horizon - 1), "window_end": 0, "status": "ok",
                     "return": row["max_return"], "base_date": row["max_start"],
                     "calendar_month_return": row["month_return"]})
    key.update(j.key_numbers)
    key["threshold"] = r.threshold
    key["lookback_sessions"] = r.lookback_sessions
    evidence = pd.DataFrame(rows)
    for c in EVIDENCE_COLUMNS:
        if c not in evidence.columns:
            evidence[c] = float("nan")
    notes = [f"Rule check: {x}" for x in j.reasons] + _base_notes(claim, params)
    # the claim's press facts of calendar-month returns, matched to tickers by the
    # "(TICKER)" in the fact's entity (facts.csv), not by a list kept in code
    facts = facts_by_id()
    for fid in claim.facts:
        f = facts.get(fid)
        if f is None or f.metric != "calendar_month_price_return" or not isinstance(f.value, float):
            continue
        m = re.search(r"\(([A-Z.]+)\)", f.entity)
        t = m.group(1) if m else None
        if t in res.table.index:
            comp = res.table.loc[t, "month_return"]
            notes.append(f"{t}: computed calendar-month return for {r.month} {comp:+.1%} vs "
                         f"{f.value:+.1f}% reported for {f.period} ({fid}).")
    conf = _empty_confounders()
    return _verdict(claim, params, j.verdict, evidence, key, notes, conf, params.source,
                    {"rally": res, "judgement": j})


def _eval_growth(claim: Claim, params: EvalParams) -> Verdict:
    r = claim.rule
    facts = facts_by_id()
    for fid in (r.current, r.prior, r.reported_growth):
        if fid not in facts:
            raise ClaimError(f"claim {claim.id}: fact {fid} is not in facts.csv")
    cur, pri, rep = facts[r.current].value, facts[r.prior].value, facts[r.reported_growth].value
    j = _rules.judge_growth(cur, pri, rep, threshold_pct=r.threshold_pct)
    key = dict(j.key_numbers)
    notes = [f"Rule check: {x}" for x in j.reasons]
    comp = key.get("growth_pct_from_revenues")
    if comp is not None:
        notes.append(
            f"({cur:g} - {pri:g}) / {pri:g} = {comp:.1f}% from the rounded revenues ({r.current}, {r.prior}); "
            f"the reported {rep:g}% ({r.reported_growth}) comes from unrounded figures: the article's "
            f"'more than {r.threshold_pct:g}%' rests on that rounding."
        )
    study = run_claim_study(claim, params)
    rows = _rows_at(study.evidence, _event_targets(claim, study))
    for rr in rows.to_dict(orient="records"):
        key[f"{rr['ticker']}@{rr['event_id']}"] = {
            "window": [rr["window_start"], rr["window_end"]], "car": rr["car"], "t_stat": rr["t_stat"],
            "p_value": rr["p_value"], "p_placebo": rr["p_placebo"]}
    conf, sep = _confounders(claim, study, _confounder_targets(claim, study))
    notes += _base_notes(claim, params) + list(study.notes) + list(sep)
    return _verdict(claim, params, j.verdict, study.evidence, key, notes, conf, study.data_source,
                    {"study": study, "judgement": j})


_DISPATCH = {
    "basket_car": _eval_event,
    "pairs_car": _eval_event,
    "rolling_return": _eval_rolling,
    "revenue_growth": _eval_growth,
    "not_testable": _eval_not_testable,
}


def evaluate(claim: Claim | str | int, params: EvalParams | dict | None = None) -> Verdict:
    """Evaluate one claim.

    Parameters
    ----------
    claim : a claim id (``"C8"``) or a :class:`~research.claims.registry.Claim`.
    params : :class:`EvalParams` (default ``EvalParams()``) or a dict of notebook parameters.

    Returns
    -------
    Verdict
        Deterministic: the same inputs give byte-identical ``to_dict()`` JSON.

    Raises
    ------
    ClaimError (unknown claim), ParameterError (bad parameters), and the data/event-study
    errors of :mod:`research.errors` (e.g. an unknown market proxy).
    """
    c = _claim(claim)
    p = _params(params)
    v = _DISPATCH[c.rule.type](c, p)
    wins = sorted({w for _, _, w in _event_targets(c, v.details["study"])}) if "study" in v.details else []
    if wins:
        v.details["rule_windows"] = tuple(wins)  # type: ignore[index]
    return v


def evaluate_all(params: EvalParams | dict | None = None, claim_ids: list[str] | None = None) -> list[Verdict]:
    """Evaluate every claim of the registry (or ``claim_ids``), in registry order."""
    p = _params(params)
    claims = load_claims()
    if claim_ids is not None:
        wanted = [get_claim(c).id for c in claim_ids]
        claims = [c for c in claims if c.id in wanted]
    return [evaluate(c, p) for c in claims]
