"""Confounding events: other catalogued news whose day 0 falls inside an event window.

For an (event, ticker, window) the confounders are the other events of ``events.csv``
whose day 0 (see :func:`research.data.align_event`) lies within the window's sessions and
that name the same ticker (for a basket: any member) -- scope ``"same ticker"`` -- or one
of the article's market-wide tickers (``article.yaml`` ``market_tickers``) -- scope
``"market-wide"``. When a confounder shares day
0 with the event, no choice of window can separate the two.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from research.claims.verdict import CONFOUNDER_COLUMNS
from research.data import session_offset

__all__ = ["find_confounders", "separation_notes"]


def _window_dates(day0: pd.Timestamp, a: int, b: int) -> tuple[pd.Timestamp, pd.Timestamp]:
    """First and last session of the event window [a, b] around ``day0``."""
    return session_offset(day0, a), session_offset(day0, b)


def find_confounders(
    targets: pd.DataFrame,
    events: pd.DataFrame,
    *,
    members: Mapping[str, tuple[str, ...]] | None = None,
    market_tickers: tuple[str, ...] | list[str] = (),
) -> pd.DataFrame:
    """Other catalogued events inside each target's event window.

    Parameters
    ----------
    targets : DataFrame with ``event_id, ticker, window_start, window_end`` (one row per
        event x ticker-or-basket x window to check).
    events : the day-0 table of all catalogued events (index ``event_id``; columns
        ``day0`` and ``tickers``), e.g. :func:`research.claims.studies.day0_table`.
    members : basket label -> member tickers (a basket is confounded by any member's news).
    market_tickers : tickers whose events are market-wide news (the article's
        ``market_tickers``).

    Returns
    -------
    DataFrame with :data:`~research.claims.verdict.CONFOUNDER_COLUMNS`, sorted; empty when
    nothing else happened inside the windows.
    """
    members = dict(members or {})
    rows = []
    for t in targets[["event_id", "ticker", "window_start", "window_end"]].drop_duplicates().itertuples(index=False):
        if t.event_id not in events.index:
            continue
        day0 = pd.Timestamp(events.loc[t.event_id, "day0"])
        lo, hi = _window_dates(day0, int(t.window_start), int(t.window_end))
        names = set(members.get(t.ticker, (t.ticker,)))
        for oid, o in events.iterrows():
            if oid == t.event_id:
                continue
            od = pd.Timestamp(o["day0"])
            if not lo <= od <= hi:
                continue
            otick = set(o["tickers"])
            if names & otick:
                scope = "same ticker"
            elif otick & set(market_tickers):
                scope = "market-wide"
            else:
                continue
            rows.append({"event_id": t.event_id, "ticker": t.ticker, "window_start": int(t.window_start),
                         "window_end": int(t.window_end), "other_event_id": oid, "other_day0": od,
                         "scope": scope, "same_day0": bool(od == day0)})
    out = pd.DataFrame(rows, columns=list(CONFOUNDER_COLUMNS))
    if out.empty:
        return out.astype({"window_start": "int64", "window_end": "int64", "same_day0": "bool",
                           "other_day0": "datetime64[ns]"})
    out["other_day0"] = pd.to_datetime(out["other_day0"]).astype("datetime64[ns]")
    return out.sort_values(["event_id", "ticker", "window_start", "window_end", "other_day0",
                            "other_event_id"]).reset_index(drop=True)


def separation_notes(conf: pd.DataFrame, events: pd.DataFrame) -> tuple[str, ...]:
    """One sentence per event whose day 0 is shared with other catalogued events, saying
    the verdict cannot separate them, and one per event with confounders on other days."""
    if conf.empty:
        return ()
    notes = []
    for ev, g in conf.groupby("event_id", sort=True):
        same = sorted(set(g.loc[g["same_day0"], "other_event_id"]))
        other = sorted(set(g.loc[~g["same_day0"], "other_event_id"]))
        day0 = pd.Timestamp(events.loc[ev, "day0"]).date()
        if same:
            notes.append(f"{ev}: day 0 {day0} is shared with {', '.join(same)}; the abnormal return on "
                         "that day cannot be attributed to one of them (the verdict cannot separate them).")
        if other:
            notes.append(f"{ev}: {', '.join(other)} fall inside the longer event windows; multi-day CARs "
                         "mix their effects.")
    return tuple(notes)
