"""Run the event studies a claim needs and turn them into an evidence table.

One call of :func:`research.eventstudy.run_event_study` per claim: every (event, ticker)
pair of the claim, plus the claim's equal-weighted basket as one more series per event
(the portfolio approach of :mod:`research.eventstudy.portfolio`: the basket's daily return
is the mean of its members' simple returns that day, so a member enters the basket from
its first traded session). Events
after the as-of date are excluded and named in the notes.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from typing import TYPE_CHECKING

from research.claims.params import EvalParams
from research.claims.registry import Claim
from research.claims.verdict import EVIDENCE_COLUMNS, empty_evidence
from research.data import align_event, available_tickers, close_panel, load_prices, returns

if TYPE_CHECKING:
    from research.claims.article import Article
from research.eventstudy import EstimationWindow, EventStudyResult, EventStudySpec, run_event_study
from research.eventstudy.portfolio import basket_returns, late_members

__all__ = ["ClaimStudy", "run_claim_study", "basket_label", "SEP", "claim_windows", "day0_table"]

#: Separator of the engine's event ids: ``"<event_id>|<ticker>"``.
SEP = "|"


def basket_label(name: str) -> str:
    """The pseudo-ticker of a basket in evidence tables: ``"basket:<name>"``."""
    return f"basket:{name}"


@dataclass(frozen=True, eq=False)
class ClaimStudy:
    """The event studies behind one claim.

    Attributes
    ----------
    result : the engine's EventStudyResult (event ids ``"<event_id>|<ticker>"``), or None
        when no event could be studied.
    evidence : evidence table (:data:`~research.claims.verdict.EVIDENCE_COLUMNS`), one row
        per event x ticker-or-basket x window.
    returns : daily simple returns used (sessions x tickers, incl. basket columns).
    closes : adjusted closes of the tickers (sessions x tickers).
    day0 : DataFrame event_id -> date, timing, day0, uncertain, note.
    excluded : tuple of (event_id, reason) of events left out (post-article).
    notes : caveats (missing tickers, skipped estimations, windows past the as-of date).
    data_source : source label for the verdict.
    """

    result: EventStudyResult | None
    evidence: pd.DataFrame
    returns: pd.DataFrame
    closes: pd.DataFrame
    day0: pd.DataFrame
    excluded: tuple[tuple[str, str], ...]
    notes: tuple[str, ...]
    data_source: str


def claim_windows(claim: Claim, params: EvalParams, any_uncertain: bool) -> tuple[tuple[int, int], ...]:
    """Union of the parameter windows, the claim's windows and its rule window (in that
    order); (-1,+1) is added when an event's timing is uncertain."""
    out: list[tuple[int, int]] = []
    cands = list(params.event_windows) + list(claim.windows)
    rule_window = getattr(claim.rule, "window", None)
    if rule_window is not None:
        cands.append(rule_window)
    if any_uncertain:
        cands += [(0, 0), (-1, 1)]
    for w in cands:
        if w not in out:
            out.append(w)
    return tuple(out)


def day0_table(event_ids: list[str] | tuple[str, ...] | None = None, *, article: Article | None = None
               ) -> pd.DataFrame:
    """The article's events with their day-0 session (index ``event_id``).

    Parameters
    ----------
    event_ids : keep only these events (default: all).
    article : the article (default: the shipped article).

    Columns: date, timing, day0, uncertain, note, tickers (tuple), post_article,
    reported_move.
    """
    if article is None:
        from research.claims.article import load_article

        article = load_article()
    ev = article.events_frame()
    if event_ids is not None:
        ev = ev[ev["event_id"].isin(list(event_ids))]
    rows = []
    for r in ev.itertuples(index=False):
        a = align_event(r.date, r.timing)
        rows.append({"event_id": r.event_id, "date": r.date, "timing": r.timing, "day0": a.day0,
                     "uncertain": a.uncertain, "note": a.note, "tickers": tuple(r.tickers),
                     "post_article": bool(r.post_article), "reported_move": r.reported_move})
    out = pd.DataFrame(rows, columns=["event_id", "date", "timing", "day0", "uncertain", "note",
                                      "tickers", "post_article", "reported_move"])
    out["day0"] = pd.to_datetime(out["day0"]).astype("datetime64[ns]")
    return out.set_index("event_id")


def _days_after(windows: tuple[tuple[int, int], ...]) -> int:
    """Calendar days to load after the last day 0 (generous: 1.6x the longest window)."""
    last = max(b for _, b in windows)
    return int(max(last, 1) * 1.6) + 10


def run_claim_study(claim: Claim, params: EvalParams, *, article: Article) -> ClaimStudy:
    """Run the claim's event studies (pairs and basket) with the evaluation parameters.

    ``params`` must be resolved against the article, with the claim's ``spec:`` overrides
    applied (see :meth:`EvalParams.resolve`, :meth:`EvalParams.override`).
    Returns a :class:`ClaimStudy`; a claim without events returns an empty one.
    """
    as_of = params.as_of_ts
    d0 = day0_table(claim.events, article=article)
    excluded = tuple(
        (e, f"day 0 {d0.loc[e, 'day0'].date()} is after the as-of date {params.as_of}"
            + (" (marked POST-ARTICLE in events.csv)" if d0.loc[e, "post_article"] else ""))
        for e in d0.index if d0.loc[e, "post_article"] or d0.loc[e, "day0"] > as_of
    )
    keep = [e for e in claim.events if e in d0.index and e not in dict(excluded)]
    notes: list[str] = [f"{e} excluded: {why}." for e, why in excluded]
    pairs = [(e, t) for e, t in claim.event_ticker_pairs() if e in keep]
    have = set(available_tickers()) if params.source == "snapshot" else None
    members = list(claim.basket_tickers)
    if have is not None:
        missing = sorted({t for _, t in pairs if t not in have} | {t for t in members if t not in have})
        if missing:
            notes.append(f"ticker(s) {missing} are not in the price data and were left out.")
        pairs = [(e, t) for e, t in pairs if t in have]
        members = [t for t in members if t in have]
    if not keep or (not pairs and not members):
        return ClaimStudy(None, empty_evidence(), pd.DataFrame(), pd.DataFrame(), d0, excluded,
                          tuple(notes), params.source)
    uncertain = bool(d0.loc[keep, "uncertain"].any())
    windows = claim_windows(claim, params, uncertain)
    # Each ticker's whole history up to the last event window: the estimation windows need
    # ~260 sessions before day 0, and the placebo draws its pseudo-event dates (each with
    # its own estimation window) from the ticker's non-event history, so a short span
    # would leave it almost nothing to draw from.
    end = d0.loc[keep, "day0"].max() + pd.Timedelta(days=_days_after(windows))
    tickers = list(dict.fromkeys([t for _, t in pairs] + members + [params.market_proxy]))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        prices = load_prices(tickers, start=None, end=end.strftime("%Y-%m-%d"),
                             source=params.source)
    for w in caught:
        notes.append(f"data: {w.message}")
    src = prices.attrs.get("source", {})
    used = sorted(set(src.values())) if isinstance(src, dict) else []
    data_source = params.source if used in ([], [params.source]) else f"{params.source} ({', '.join(used)})"
    closes = close_panel(prices, "close")
    rets = returns(closes, "simple")
    vol = close_panel(prices, "volume")
    rows = [{"event_id": f"{e}{SEP}{t}", "ticker": t, "date": d0.loc[e, "date"],
             "timing": d0.loc[e, "timing"], "day0": d0.loc[e, "day0"]} for e, t in pairs]
    if claim.basket and len(members) >= 2:
        label = basket_label(claim.basket)
        rets[label] = basket_returns(rets, members)[0]
        vol[label] = np.nan
        first_est = min(_session_after(rets.index, d0.loc[e, "day0"], params.estimation_end - params.estimation_length + 1)
                        for e in keep)
        late = late_members(rets, members, first_est)
        if late:
            notes.append(f"basket {claim.basket}: {', '.join(late)} started trading after the start of the "
                         "estimation window; the basket averages the members available each day.")
        rows += [{"event_id": f"{e}{SEP}{label}", "ticker": label, "date": d0.loc[e, "date"],
                  "timing": d0.loc[e, "timing"], "day0": d0.loc[e, "day0"]} for e in keep]
    # day 0 aligned once (day0_table) and handed to the engine, so the evidence, the
    # confounders and the notes all use the same session
    events = pd.DataFrame(rows, columns=["event_id", "ticker", "date", "timing", "day0"])
    spec = EventStudySpec(
        estimation=EstimationWindow(params.estimation_length, params.estimation_end, params.min_estimation_obs),
        windows=windows, model=params.model, market=params.market_proxy, return_type="simple",
    )
    res = run_event_study(events, spec, returns=rets, volume=vol, placebo_draws=params.placebo_draws,
                          seed=params.seed)
    evidence = _evidence(res)
    skipped = res.events[res.events["status"] != "ok"]
    for r in skipped.itertuples(index=False):
        notes.append(f"{r.event_id.replace(SEP, ' / ')} not estimated: {r.reason}.")
    late = [(w, e) for w in windows for e in keep
            if _session_after(rets.index, d0.loc[e, "day0"], w[1]) > as_of]
    if late:
        ws = sorted({w for w, _ in late})
        notes.append(
            "event window(s) " + ", ".join(f"({a:+d},{b:+d})" for a, b in ws)
            + f" end after the as-of date {params.as_of} for some events: they use prices the "
            "article could not see and are shown for information only."
        )
    return ClaimStudy(res, evidence, rets, closes, d0, excluded, tuple(notes), data_source)


def _session_after(index: pd.DatetimeIndex, day0: pd.Timestamp, k: int) -> pd.Timestamp:
    """The session ``k`` rows after (k < 0: before) ``day0`` in ``index`` (clipped to its ends)."""
    pos = index.searchsorted(day0)
    j = min(max(pos + k, 0), len(index) - 1)
    return index[j]


def _evidence(res: EventStudyResult) -> pd.DataFrame:
    car = res.car.copy()
    if car.empty:
        return empty_evidence()
    split = car["event_id"].str.split(SEP, n=1, regex=False)
    car["event_id"] = split.str[0]
    status = res.events.set_index("event_id")["status"]
    car["status"] = res.car["event_id"].map(status).to_numpy()
    car["abnormal_volume"] = np.nan
    if res.volume is not None and not res.volume.empty:
        v0 = res.volume[res.volume["day"] == 0].set_index("event_id")["abnormal_log_volume"]
        car["abnormal_volume"] = res.car["event_id"].map(v0).astype("float64").to_numpy()
    car["day0"] = pd.to_datetime(car["day0"]).astype("datetime64[ns]")
    out = car.reindex(columns=list(EVIDENCE_COLUMNS))
    return out.reset_index(drop=True)
