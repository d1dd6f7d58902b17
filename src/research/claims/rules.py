"""Verdict rules applied to evidence: pure functions, no data loading.

Each ``judge_*`` function takes the rows its rule looks at and returns a
:class:`Judgement`: the verdict, the key numbers it rests on and the reasons in words.
A test "rejects" when its p-value is below ``alpha``; a test whose p-value is NaN (e.g.
no placebo draws, or too little history for pseudo-events) is *unavailable* for that row
and the remaining tests decide (named in the reasons). A row whose CAR itself is missing
(the pair could not be estimated: too little history, a missing return in the window)
is *unavailable evidence*: it never counts as "not significant". With no available row
the claim is not testable; with some rows missing, "supported" is capped at "partly
supported" and the reasons name the missing rows.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from research.claims.verdict import NOT_SUPPORTED, NOT_TESTABLE, PARTLY, SUPPORTED

__all__ = ["Judgement", "row_significance", "judge_basket", "judge_pairs", "judge_rolling", "judge_growth",
           "TEST_COLUMNS"]

#: Evidence column holding each test's p-value.
TEST_COLUMNS: dict[str, str] = {"parametric": "p_value", "placebo": "p_placebo"}


@dataclass(frozen=True)
class Judgement:
    """Outcome of a verdict rule: verdict, key numbers and reasons (words)."""

    verdict: str
    key_numbers: dict[str, Any] = field(default_factory=dict)
    reasons: tuple[str, ...] = ()


def _finite(x: Any) -> bool:
    try:
        return x is not None and math.isfinite(float(x))
    except (TypeError, ValueError):
        return False


def row_significance(row: pd.Series | dict, alpha: float, tests: Sequence[str]) -> dict[str, Any]:
    """Classify one evidence row.

    Returns a dict: ``positive`` (CAR > 0), ``available`` (tests with a finite p-value),
    ``rejected`` (available tests with p < alpha), ``all_reject`` (positive, at least one
    test available and every available test rejects), ``any_reject`` (positive and at least
    one test rejects).
    """
    car = row["car"]
    positive = _finite(car) and float(car) > 0
    avail = [t for t in tests if _finite(row[TEST_COLUMNS[t]])]
    rej = [t for t in avail if float(row[TEST_COLUMNS[t]]) < alpha]
    return {
        "positive": positive, "available": avail, "rejected": rej,
        "all_reject": positive and bool(avail) and len(rej) == len(avail),
        "any_reject": positive and bool(rej),
    }


def _describe(label: str, row: pd.Series | dict, sig: dict[str, Any], window: tuple[int, int]) -> str:
    car = row["car"]
    car_s = f"{float(car):+.2%}" if _finite(car) else "n/a"
    ps = ", ".join(
        f"{t} p={float(row[TEST_COLUMNS[t]]):.4f}" if _finite(row[TEST_COLUMNS[t]]) else f"{t} p=n/a"
        for t in TEST_COLUMNS
    )
    return f"{label}: CAR({window[0]:+d},{window[1]:+d}) = {car_s} ({ps})"


def _unavailable_note(sigs: list[dict[str, Any]], tests: Sequence[str], labels: list[str]) -> list[str]:
    out = []
    for lab, s in zip(labels, sigs, strict=True):
        miss = [t for t in tests if t not in s["available"]]
        if miss and s["available"]:
            out.append(f"{lab}: {' and '.join(miss)} test unavailable (no p-value); decided on the other test(s).")
        elif miss:
            out.append(f"{lab}: no test available (no p-value); this row cannot count as significant.")
    return out


def _split_estimated(rows: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Rows with a finite CAR, and labels of the rows without one (not estimated)."""
    if rows.empty:
        return rows, []
    has = np.array([_finite(c) for c in rows["car"]], dtype=bool)
    missing = [f"{t} on {e}" for t, e in zip(rows.loc[~has, "ticker"], rows.loc[~has, "event_id"], strict=True)]
    return rows[has], missing


def _nothing_estimated(what: str, missing: list[str]) -> Judgement:
    """The judgement when no row of the rule has an estimate: not testable, and why."""
    why = f"no {what} could be estimated ({', '.join(missing)})" if missing else f"no {what} to judge"
    return Judgement(NOT_TESTABLE, {}, (why,))


def _cap_for_missing(verdict: str, missing: list[str], n_total: int, reasons: list[str]) -> str:
    """Cap 'supported' at 'partly supported' when part of the evidence could not be estimated."""
    if not missing:
        return verdict
    reasons.append(f"{len(missing)} of {n_total} rows could not be estimated ({', '.join(missing)}): "
                   "the verdict rests on the others" + ("; 'supported' is capped at 'partly supported'"
                                                         if verdict == SUPPORTED else ""))
    return PARTLY if verdict == SUPPORTED else verdict


def judge_basket(
    rows: pd.DataFrame,
    *,
    alpha: float,
    tests: Sequence[str] = ("parametric", "placebo"),
    window: tuple[int, int],
    market_returns: dict[str, float] | None = None,
    market_must_fall: bool = False,
    confounded: pd.DataFrame | None = None,
) -> Judgement:
    """The basket rule on the basket's rows (one per primary event, for ``window``).

    Supported: for every primary event the basket CAR is positive and every available test
    rejects at ``alpha`` (and, with ``market_must_fall``, the market's day-0 return is
    negative). Partly supported: at least one event's basket CAR is positive and at least
    one test rejects (or all reject but the market did not fall), or -- when the primary
    events fail -- a ``confounded`` event's basket CAR (rows of events whose day 0 is shared
    with other news) is positive and every available test rejects. Otherwise not supported.
    """
    n_total = len(rows)
    rows, missing = _split_estimated(rows)
    if rows.empty:
        return _nothing_estimated("basket CAR", missing)
    key: dict[str, Any] = {}
    reasons: list[str] = []
    sigs, labels = [], []
    market_ok = True
    for r in rows.to_dict(orient="records"):
        s = row_significance(r, alpha, tests)
        sigs.append(s)
        ev = r["event_id"]
        labels.append(f"{r['ticker']} on {ev}")
        reasons.append(_describe(f"{r['ticker']} on {ev}", r, s, window))
        key[f"{ev}.basket_car"] = r["car"]
        key[f"{ev}.basket_t_stat"] = r["t_stat"]
        key[f"{ev}.basket_p_value"] = r["p_value"]
        key[f"{ev}.basket_p_placebo"] = r["p_placebo"]
        if market_must_fall:
            m = (market_returns or {}).get(ev, float("nan"))
            key[f"{ev}.market_return_day0"] = m
            fell = _finite(m) and m < 0
            reasons.append(f"market proxy day-0 return on {ev}: {m:+.2%}" if _finite(m)
                           else f"market proxy day-0 return on {ev}: n/a")
            market_ok = market_ok and fell
    reasons += _unavailable_note(sigs, tests, labels)
    if all(s["all_reject"] for s in sigs) and market_ok:
        verdict = SUPPORTED
    elif any(s["any_reject"] for s in sigs):
        verdict = PARTLY
        if all(s["all_reject"] for s in sigs) and not market_ok:
            reasons.append("the basket rose significantly but the market proxy did not fall on day 0")
    else:
        verdict = NOT_SUPPORTED
    verdict = _cap_for_missing(verdict, missing, n_total, reasons)
    if confounded is not None and not confounded.empty:
        for r in confounded.to_dict(orient="records"):
            s = row_significance(r, alpha, tests)
            ev = r["event_id"]
            key[f"{ev}.basket_car"] = r["car"]
            key[f"{ev}.basket_p_value"] = r["p_value"]
            key[f"{ev}.basket_p_placebo"] = r["p_placebo"]
            reasons.append(_describe(f"{r['ticker']} on {ev} (day 0 shared with other news)", r, s, window))
            if verdict == NOT_SUPPORTED and s["all_reject"]:
                verdict = PARTLY
                reasons.append(f"partly supported only through {ev}, whose day 0 is shared with other news: "
                               "the rise is real but cannot be attributed to the claim's news alone")
    return Judgement(verdict, key, tuple(reasons))


def judge_pairs(rows: pd.DataFrame, *, alpha: float, tests: Sequence[str] = ("parametric", "placebo")) -> Judgement:
    """The pairs rule on one row per (event, ticker) pair (each at its own window, given
    by the row's ``window_start``/``window_end``).

    Supported: every pair's CAR is positive and every available test rejects. Partly
    supported: at least one pair is positive with at least one test rejecting. Otherwise
    not supported (also when there are no rows).
    """
    n_total = len(rows)
    rows, missing = _split_estimated(rows)
    if rows.empty:
        return _nothing_estimated("(event, ticker) pair", missing)
    key: dict[str, Any] = {}
    reasons, sigs, labels = [], [], []
    for r in rows.to_dict(orient="records"):
        s = row_significance(r, alpha, tests)
        sigs.append(s)
        lab = f"{r['ticker']} on {r['event_id']}"
        labels.append(lab)
        w = (int(r["window_start"]), int(r["window_end"]))
        reasons.append(_describe(lab, r, s, w))
        k = f"{r['ticker']}@{r['event_id']}"
        key[k] = {"window": list(w), "car": r["car"], "t_stat": r["t_stat"], "p_value": r["p_value"],
                  "p_placebo": r["p_placebo"], "significant_all_tests": s["all_reject"]}
    reasons += _unavailable_note(sigs, tests, labels)
    n_all = sum(s["all_reject"] for s in sigs)
    n_any = sum(s["any_reject"] for s in sigs)
    key["pairs_significant_all_tests"] = n_all
    key["pairs_significant_any_test"] = n_any
    key["pairs"] = len(sigs)
    key["pairs_not_estimated"] = len(missing)
    if n_all == len(sigs):
        verdict = SUPPORTED
    elif n_any >= 1:
        verdict = PARTLY
    else:
        verdict = NOT_SUPPORTED
    verdict = _cap_for_missing(verdict, missing, n_total, reasons)
    return Judgement(verdict, key, tuple(reasons))


def judge_rolling(table: pd.DataFrame, *, required: Sequence[str], threshold: float,
                  lookback_sessions: int, horizon: int) -> Judgement:
    """C8's rule on a per-ticker table with ``max_return`` (max rolling return over the
    lookback) and ``max_end``.

    Supported if every required ticker's max exceeds ``threshold``; partly if some do;
    not supported if none (or a required ticker has no data).
    """
    hits, reasons = [], []
    for t in required:
        if t not in table.index or not _finite(table.loc[t, "max_return"]):
            reasons.append(f"{t}: no {horizon}-session return in the last {lookback_sessions} sessions")
            hits.append(False)
            continue
        mx = float(table.loc[t, "max_return"])
        end = table.loc[t, "max_end"]
        ok = mx > threshold
        hits.append(ok)
        reasons.append(
            f"{t}: max {horizon}-session return {mx:+.1%} ending {pd.Timestamp(end).date()} "
            f"({'above' if ok else 'not above'} {threshold:+.0%})"
        )
    if all(hits):
        verdict = SUPPORTED
    elif any(hits):
        verdict = PARTLY
    else:
        verdict = NOT_SUPPORTED
    return Judgement(verdict, {"tickers_above_threshold": int(np.sum(hits)), "required": len(hits)},
                     tuple(reasons))


def judge_growth(current: float, prior: float, reported_pct: float | None, *, threshold_pct: float,
                 tolerance_pp: float = 10.0) -> Judgement:
    """C9's rule: year-over-year growth ``(current - prior) / prior`` in percent.

    The decision uses the reported growth (computed from unrounded revenues) when given,
    else the growth from the (rounded) revenue figures. Supported if it exceeds
    ``threshold_pct`` and the two agree within ``tolerance_pp`` percentage points; partly
    supported if it exceeds the threshold but they disagree by more; not supported if it
    does not exceed the threshold.
    """
    if not (_finite(current) and _finite(prior)) or float(prior) <= 0:
        return Judgement(NOT_SUPPORTED, {}, (f"revenue figures unusable: current={current}, prior={prior}",))
    computed = (float(current) - float(prior)) / float(prior) * 100.0
    decisive = float(reported_pct) if _finite(reported_pct) else computed
    key: dict[str, Any] = {"revenue_current": float(current), "revenue_prior": float(prior),
                           "growth_pct_from_revenues": computed,
                           "growth_pct_reported": float(reported_pct) if _finite(reported_pct) else None,
                           "threshold_pct": threshold_pct}
    reasons = [f"growth from the revenue figures: {computed:.1f}%",
               f"reported growth: {float(reported_pct):.1f}%" if _finite(reported_pct) else "no reported growth"]
    agree = abs(decisive - computed) <= tolerance_pp
    if decisive > threshold_pct and agree:
        verdict = SUPPORTED
    elif decisive > threshold_pct:
        verdict = PARTLY
        reasons.append(f"reported and computed growth differ by more than {tolerance_pp:g} percentage points")
    else:
        verdict = NOT_SUPPORTED
    return Judgement(verdict, key, tuple(reasons))
