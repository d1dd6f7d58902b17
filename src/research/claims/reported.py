"""Reported moves vs computed moves: press figures in ``events.csv`` against the data.

``reported_move`` is free text ("XYZ premarket +48% to $44.59; XYZ closed up ~51% at
$45.23 ..."). :func:`parse_reported_move` extracts, for one ticker, the first signed
percentage that describes the regular-session close-to-close move on day 0:

* the text is cut into segments at ``;`` and sentence ends, and segments into clauses at
  ``, `` / `` and `` / `` while `` / `` yet ``;
* a clause's subject is the first event ticker it mentions, or the first name of the
  article's ``press_aliases`` (``article.yaml``: a name such as an index that stands for a
  ticker, or for a subject that is not a tested ticker), else the previous clause's subject;
* a percentage is skipped when it is not a close-to-close figure: preceded in its segment
  by a qualifier -- premarket, after hours, intraday, at the open cover the rest of their
  segment; high, week, calendar, "as much as", "up to" only the next figure -- or directly
  followed by one ("+75% premarket"); when its segment names a date other than day 0; or
  when it is a range ("+33-35%") or a bound (">+7%");
* the sign is the explicit ``+``/``-``, else a verb (up, rose, gained / down, fell).

:func:`reported_vs_computed` compares the parsed figures with the package's day-0
close-to-close return (adjusted closes) and flags differences above
:func:`disagreement_threshold` (:data:`DISAGREEMENT_RULE`: a bound relative to the
reported move, with a floor): a disagreement is a data, date or press problem.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from research.claims.article import Article, load_article
from research.claims.studies import day0_table
from research.data import available_tickers, close_panel, load_prices, returns

__all__ = ["ParsedMove", "parse_reported_move", "reported_vs_computed", "disagreement_threshold",
           "DISAGREEMENT_FLOOR_PP", "DISAGREEMENT_RELATIVE", "DISAGREEMENT_RULE"]

#: A press figure and the computed return disagree when they differ by more than
#: ``max(DISAGREEMENT_FLOOR_PP, DISAGREEMENT_RELATIVE * |reported|)`` percentage points: press
#: figures are rounded ("~51%"), so a big move may be off by a few points, but a small one may
#: not (+4% reported against +0.8% computed is a disagreement, not rounding).
DISAGREEMENT_FLOOR_PP = 1.5
DISAGREEMENT_RELATIVE = 0.25
DISAGREEMENT_RULE = (f"|computed - reported| > max({DISAGREEMENT_FLOOR_PP:g} percentage points, "
                     f"{DISAGREEMENT_RELATIVE:.0%} of |reported|)")


def disagreement_threshold(reported_pct: float, *, floor_pp: float = DISAGREEMENT_FLOOR_PP,
                           relative: float = DISAGREEMENT_RELATIVE) -> float:
    """The largest difference (percentage points) between a computed return and a press
    figure ``reported_pct`` (percent) that still counts as agreement:
    ``max(floor_pp, relative * |reported_pct|)``. Defaults: 1.5 pp and 25%."""
    return max(float(floor_pp), float(relative) * abs(float(reported_pct)))

_PCT = re.compile(
    r"(?P<bound>[<>])?(?P<pre>[~+\-\u2212]{0,3})(?P<num>\d+(?:\.\d+)?)(?:-(?P<num2>\d+(?:\.\d+)?))?%"
)
#: qualifiers whose scope runs to the end of the segment ("intraday XYZ +22%, ABC +22.3%")
_LEAD_QUAL = re.compile(r"premarket|pre-market|after[- ]hours|intraday|at the open", re.I)
#: qualifiers that disqualify only the percentage right after them ("up as much as 43%")
_LOCAL_QUAL = re.compile(r"\bhigh\b|\bweek\b|calendar|as much as|up to", re.I)
_TRAIL_QUAL = re.compile(r"^\)?\s*(premarket|pre-market|after[- ]hours|intraday|at the open|in calendar|"
                         r"in the week|in the month)", re.I)
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_UP = re.compile(r"\b(up|rose|risen|gained|jumped|climbed|surged|soared)\b", re.I)
_DOWN = re.compile(r"\b(down|fell|fallen|lost|dropped|slid|declined)\b", re.I)
_SEGMENT = re.compile(r";|\.\s+(?=[A-Z])")
_CLAUSE = re.compile(r",\s+|\s+and\s+|\s+while\s+|\s+yet\s+|\s+then\s+")


@dataclass(frozen=True)
class ParsedMove:
    """A percentage parsed from ``reported_move`` for one ticker (``pct`` in percent)."""

    ticker: str
    pct: float
    text: str


def _subject(clause: str, tickers: Sequence[str], aliases: Mapping[str, str | None]) -> str | None:
    best: tuple[int, str] | None = None
    for t in tickers:
        m = re.search(rf"(?<![A-Za-z]){re.escape(t)}(?![A-Za-z])", clause)
        if m and (best is None or m.start() < best[0]):
            best = (m.start(), t)
    for name, t in aliases.items():
        i = clause.find(name)
        if i >= 0 and (best is None or i < best[0]):
            best = (i, t if t is not None else f"<{name}>")
    return None if best is None else best[1]


def parse_reported_move(text: str, ticker: str, tickers: Sequence[str], day0: str | pd.Timestamp | None = None,
                        aliases: Mapping[str, str | None] | None = None) -> ParsedMove | None:
    """The reported day-0 close-to-close move of ``ticker`` in ``text``, or None.

    Parameters
    ----------
    text : an events.csv ``reported_move`` string.
    ticker : the ticker whose move is wanted.
    tickers : all tickers of the event (used to decide each clause's subject).
    day0 : the event's day 0; segments naming another date are skipped.
    aliases : press names -> ticker (or None: a subject that is not a tested ticker), the
        article's ``press_aliases``.
    """
    if not isinstance(text, str) or not text.strip():
        return None
    d0 = pd.Timestamp(day0).strftime("%Y-%m-%d") if day0 is not None else None
    names = list(dict.fromkeys([ticker, *tickers]))
    subject: str | None = None
    for seg in _SEGMENT.split(text):
        dates = _DATE.findall(seg)
        seg_other_date = d0 is not None and any(d != d0 for d in dates)
        lead_active = False
        pos = 0
        for clause in _CLAUSE.split(seg):
            start = seg.find(clause, pos)
            pos = start + len(clause) if start >= 0 else pos
            subj = _subject(clause, names, aliases or {})
            if subj is not None:
                subject = subj
            cursor = 0
            for m in _PCT.finditer(clause):
                prefix = clause[cursor:m.start()]
                trailing = clause[m.end():]
                cursor = m.end()
                tm = _TRAIL_QUAL.match(trailing)
                if tm:
                    cursor = m.end() + tm.end()
                if _LEAD_QUAL.search(prefix):
                    lead_active = True
                local = bool(_LOCAL_QUAL.search(prefix))
                if lead_active or local or tm or seg_other_date:
                    continue
                if subject != ticker or m.group("num2") or m.group("bound"):
                    continue
                pre = m.group("pre")
                if "-" in pre or "\u2212" in pre:
                    sign = -1.0
                elif "+" in pre:
                    sign = 1.0
                elif _DOWN.search(clause[: m.start()]):
                    sign = -1.0
                elif _UP.search(clause[: m.start()]):
                    sign = 1.0
                else:
                    continue
                return ParsedMove(ticker, sign * float(m.group("num")), clause.strip())
    return None


def reported_vs_computed(
    *,
    as_of: str | pd.Timestamp | None = None,
    source: str = "snapshot",
    floor_pp: float = DISAGREEMENT_FLOOR_PP,
    relative: float = DISAGREEMENT_RELATIVE,
    article: Article | None = None,
) -> pd.DataFrame:
    """One row per (event, ticker) of the article's ``events.csv`` (events up to ``as_of``;
    None = the article's as-of date; ``article`` None = the shipped article).

    Columns: ``event_id, ticker, day0, reported_pct`` (parsed press figure, percent; NaN
    when the text has no close-to-close figure for the ticker), ``reported_text`` (the
    clause it came from), ``computed_pct`` (adjusted close-to-close return on day 0,
    percent), ``diff_pp`` (computed - reported, percentage points), ``status``:
    "agrees", "DISAGREES" (``|diff|`` above :func:`disagreement_threshold` of the reported
    figure: ``max(floor_pp, relative * |reported|)``), "no reported figure" or "no price
    data", ``threshold_pp`` (that bound, percentage points), and ``hint`` for disagreements: whether the reported figure matches the return
    of the session before or after day 0 instead (a date problem).
    """
    if article is None:
        article = load_article()
    if as_of is None:
        as_of = article.as_of.isoformat()
    ev = day0_table(article=article)
    ev = ev[(ev["day0"] <= pd.Timestamp(as_of)) & ~ev["post_article"]]
    pairs = [(eid, t) for eid, r in ev.iterrows() for t in r["tickers"]]
    have = set(available_tickers())
    tickers = sorted({t for _, t in pairs if t in have})
    columns = ["event_id", "ticker", "day0", "reported_pct", "reported_text", "computed_pct", "diff_pp",
               "threshold_pp", "status", "hint"]
    if not pairs:  # no catalogued event up to the as-of date: nothing to compare
        out = pd.DataFrame({c: pd.Series(dtype="object") for c in columns})
        out.attrs["disagreement_rule"] = DISAGREEMENT_RULE
        return out
    lo = ev["day0"].min() - pd.Timedelta(days=10)
    hi = ev["day0"].max() + pd.Timedelta(days=7)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        prices = load_prices(tickers, start=lo.strftime("%Y-%m-%d"), end=hi.strftime("%Y-%m-%d"), source=source)
    rets = returns(close_panel(prices, "close"), "simple")
    rows = []
    for eid, t in pairs:
        r = ev.loc[eid]
        p = parse_reported_move(r["reported_move"], t, r["tickers"], r["day0"], article.press_aliases)
        comp = float("nan")
        near: dict[int, float] = {}
        if t in rets.columns and r["day0"] in rets.index:
            pos = rets.index.get_loc(r["day0"])
            comp = float(rets[t].iloc[pos]) * 100.0
            near = {k: float(rets[t].iloc[pos + k]) * 100.0 for k in (-1, 1) if 0 <= pos + k < len(rets)}
        rep = p.pct if p else float("nan")
        diff = comp - rep
        bound = disagreement_threshold(rep, floor_pp=floor_pp, relative=relative) if p else float("nan")
        if not np.isfinite(comp):
            status = "no price data"
        elif p is None:
            status = "no reported figure"
        elif abs(diff) > bound:
            status = "DISAGREES"
        else:
            status = "agrees"
        hint = ""
        if status == "DISAGREES":
            fits = [k for k, v in near.items() if np.isfinite(v) and abs(v - rep) <= bound]
            hint = (f"matches the day {fits[0]:+d} return ({near[fits[0]]:+.1f}%): date problem?" if fits
                    else "no nearby day matches: intraday/unclear quote or data problem")
        rows.append({"event_id": eid, "ticker": t, "day0": r["day0"], "reported_pct": rep,
                     "reported_text": p.text if p else "", "computed_pct": comp, "diff_pp": diff,
                     "threshold_pp": bound, "status": status, "hint": hint})
    out = pd.DataFrame(rows, columns=columns)
    out.attrs["disagreement_rule"] = DISAGREEMENT_RULE
    return out
