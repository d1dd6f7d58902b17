"""An article's event and fact tables (``events.csv``, ``facts.csv``) as typed records.

The files live in the article's directory (the shipped article: ``data/articles/<id>/``).
Claim ids in the CSVs are space-separated ids of the article's ``claims.yaml``
(``"A1 A2"``). Every record keeps the CSV line it came from (``line``), so later checks can
name it.
"""

from __future__ import annotations

import csv
import difflib
import io
import math
import re
from dataclasses import dataclass, field, fields
from pathlib import Path

import pandas as pd

from research.data import paths, sandbox
from research.data.calendar import TIMINGS
from research.errors import CalendarError, MalformedDataError

EVENT_COLUMNS = ("event_id", "date", "timing", "title", "tickers", "claim_ids", "reported_move", "source_urls")
FACT_COLUMNS = ("fact_id", "claim_id", "metric", "entity", "period", "value", "unit", "source_urls")
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
#: The dates an article may name (events, facts, ``published``, ``as_of``): the era of the
#: price data with a wide margin, and well inside what pandas timestamps can hold.
DATE_RANGE = ("1970-01-01", "2100-12-31")


def date_problem(text: str) -> str:
    """Why ``text`` is not a usable article date ("" when it is one): not ``YYYY-MM-DD``,
    not a calendar date, or outside :data:`DATE_RANGE`."""
    import datetime as dt

    if not isinstance(text, str) or not _DATE_RE.match(text):
        return f"{text!r} is not a YYYY-MM-DD date"
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return f"{text!r} is not a calendar date"
    if not DATE_RANGE[0] <= text <= DATE_RANGE[1]:
        return f"{text} is outside the dates an article may name ({DATE_RANGE[0]} .. {DATE_RANGE[1]})"
    return ""


class EventDateError(MalformedDataError, CalendarError):
    """An event date in events.csv cannot be parsed (both a malformed-data and a calendar error)."""


@dataclass(frozen=True)
class Event:
    """One dated news event from ``events.csv``.

    ``date`` is the calendar date of the news (tz-naive midnight); map it to a trading
    session with :func:`research.data.align_event` (``date``, ``timing``).
    ``post_article`` is True when the title marks it ``POST-ARTICLE`` (after the
    article's as-of date; not evidence for the article's claims).
    """

    event_id: str
    date: pd.Timestamp
    timing: str
    title: str
    tickers: tuple[str, ...]
    claim_ids: tuple[str, ...]
    reported_move: str
    source_urls: tuple[str, ...]
    post_article: bool
    line: int = field(default=0, compare=False, repr=False)


@dataclass(frozen=True)
class Fact:
    """One sourced number (or date) from ``facts.csv``.

    ``value`` is a float for numeric facts, the ISO string for ``unit == "date"``, and
    None for ``NA``. ``verified`` is False when the source is ``unverified`` (a number
    the article states that no source confirmed).
    """

    fact_id: str
    claim_ids: tuple[str, ...]
    metric: str
    entity: str
    period: str
    value: float | str | None
    unit: str
    source_urls: tuple[str, ...]
    verified: bool
    line: int = field(default=0, compare=False, repr=False)


def _rows(path: Path, columns: tuple[str, ...]) -> list[tuple[int, dict[str, str]]]:
    """The CSV's rows, read through :func:`research.data.sandbox.read_text` (a regular file of
    at most :data:`~research.data.sandbox.CSV_LIMIT` bytes, no link; a UTF-8 byte-order mark
    is accepted)."""
    if not sandbox.exists(path.parent, path.name):
        raise MalformedDataError(
            f"{path} is missing; every article directory holds events.csv and facts.csv (see docs/ARTICLES.md; `research article new DIR` writes them)"
        )
    try:
        text = sandbox.read_text(path.parent, path.name, limit=sandbox.CSV_LIMIT)
    except sandbox.ArticleFileError as exc:
        raise MalformedDataError(f"{path}: {exc.reason}") from None
    try:
        reader = csv.reader(io.StringIO(text, newline=""))
        header = next(reader, None)
        if header is None or tuple(h.strip() for h in header) != columns:
            raise MalformedDataError(f"{path} header {header} != expected {list(columns)}")
        out = []
        for i, rec in enumerate(reader, start=2):
            if not rec or all(not x.strip() for x in rec):
                continue
            if len(rec) != len(columns):
                raise MalformedDataError(
                    f"{path} row {i}: {len(rec)} fields, expected {len(columns)} "
                    f"({', '.join(columns)}); quote fields that contain commas"
                )
            out.append((i, dict(zip(columns, (x.strip() for x in rec)))))
    except csv.Error as exc:
        raise MalformedDataError(f"{path} is not a readable CSV ({exc})") from exc
    return out


_CLAIM_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def _claims(text: str, path: Path, row: int, *, allow_empty: bool = False) -> tuple[str, ...]:
    parts = text.split()
    if (not parts and not allow_empty) or not all(_CLAIM_ID_RE.match(p) for p in parts):
        raise MalformedDataError(
            f"{path} row {row}: claim ids {text!r} must be space-separated ids of claims.yaml, e.g. 'A1 A2'")
    return tuple(parts)


def _near(word: str, known: tuple[str, ...]) -> str:
    m = difflib.get_close_matches(word.lower().replace("-", "_").replace(" ", "_"), known, n=1, cutoff=0.5)
    return f"did you mean {m[0]!r}? " if m else ""


def _event(row: int, r: dict[str, str], path: Path) -> Event:
    bad = date_problem(r["date"])
    if bad:
        raise EventDateError(f"{path} row {row} ({r['event_id']}): date {bad}; write it as YYYY-MM-DD "
                             f"(e.g. 2025-01-27)")
    date = pd.Timestamp(r["date"])
    if r["timing"] not in TIMINGS:
        raise MalformedDataError(f"{path} row {row} ({r['event_id']}): timing {r['timing']!r} not in {TIMINGS}; "
                                 f"{_near(r['timing'], TIMINGS)}docs/ARTICLES.md says when to use which")
    tickers = tuple(r["tickers"].split())
    if not tickers:
        raise MalformedDataError(f"{path} row {row} ({r['event_id']}): no tickers; list the tickers the news "
                                 "concerns, space-separated")
    return Event(
        event_id=r["event_id"], date=pd.Timestamp(date).as_unit("ns"), timing=r["timing"],
        title=r["title"], tickers=tickers, claim_ids=_claims(r["claim_ids"], path, row, allow_empty=True),
        reported_move=r["reported_move"], source_urls=tuple(r["source_urls"].split()),
        post_article="POST-ARTICLE" in r["title"].upper(), line=row,
    )


def read_events(path: Path | str) -> tuple[list[Event], list[tuple[int, str, MalformedDataError]]]:
    """Parse ``events.csv`` row by row, collecting the bad rows instead of stopping at the first.

    Returns
    -------
    (events, bad rows)
        The events of the good rows, and one ``(row, event_id, error)`` per bad row (a
        duplicate id is a bad row too). A missing or unreadable file, or a wrong header,
        still raises :class:`~research.errors.MalformedDataError`.
    """
    path = Path(path)
    events: list[Event] = []
    bad: list[tuple[int, str, MalformedDataError]] = []
    seen: set[str] = set()
    for row, r in _rows(path, EVENT_COLUMNS):
        try:
            e = _event(row, r, path)
        except MalformedDataError as exc:
            bad.append((row, r["event_id"], exc))
            continue
        if e.event_id in seen:
            bad.append((row, e.event_id, MalformedDataError(f"{path}: id {e.event_id} appears twice; ids must "
                                                            "be unique")))
            continue
        seen.add(e.event_id)
        events.append(e)
    return events, bad


def load_events(path: Path | str | None = None) -> list[Event]:
    """Parse ``events.csv`` (default: the shipped article's ``events.csv``) into :class:`Event` records.

    ``claim_ids`` may be empty: the event bears on no claim and is context only (it still
    counts as a confounder and is excluded from the placebo dates of its tickers).

    Raises
    ------
    MalformedDataError
        Missing file, wrong header, wrong field count, bad claim ids or timing, duplicate id
        (names file and row). An unparseable date raises :class:`EventDateError`
        (a MalformedDataError and a CalendarError).
    """
    events, bad = read_events(Path(path) if path is not None else paths.default_article_dir() / "events.csv")
    if bad:
        raise bad[0][2]
    return events


def _value(r: dict[str, str], path: Path, row: int) -> float | str | None:
    v = r["value"]
    if v.upper() in ("NA", "N/A", ""):
        return None
    if r["unit"] == "date":
        bad = date_problem(v)
        if bad:
            raise MalformedDataError(f"{path} row {row} ({r['fact_id']}): date value {bad}; fix it")
        return v
    try:
        x = float(v)
    except ValueError:
        raise MalformedDataError(
            f"{path} row {row} ({r['fact_id']}): value {v!r} is not a number (or NA, or a date with unit 'date')"
        ) from None
    if not math.isfinite(x):
        raise MalformedDataError(
            f"{path} row {row} ({r['fact_id']}): value {v!r} is not a finite number; write the sourced "
            "number, or NA when there is none"
        )
    return x


def _fact(row: int, r: dict[str, str], path: Path) -> Fact:
    urls = tuple(r["source_urls"].split())
    verified = bool(urls) and urls != ("unverified",)
    return Fact(
        fact_id=r["fact_id"], claim_ids=_claims(r["claim_id"], path, row), metric=r["metric"],
        entity=r["entity"], period=r["period"], value=_value(r, path, row), unit=r["unit"],
        source_urls=urls if verified else (), verified=verified, line=row,
    )


def read_facts(path: Path | str) -> tuple[list[Fact], list[tuple[int, str, MalformedDataError]]]:
    """Parse ``facts.csv`` row by row, collecting the bad rows (as :func:`read_events`)."""
    path = Path(path)
    facts: list[Fact] = []
    bad: list[tuple[int, str, MalformedDataError]] = []
    seen: set[str] = set()
    for row, r in _rows(path, FACT_COLUMNS):
        try:
            f = _fact(row, r, path)
        except MalformedDataError as exc:
            bad.append((row, r["fact_id"], exc))
            continue
        if f.fact_id in seen:
            bad.append((row, f.fact_id, MalformedDataError(f"{path}: id {f.fact_id} appears twice; ids must be "
                                                           "unique")))
            continue
        seen.add(f.fact_id)
        facts.append(f)
    return facts, bad


def load_facts(path: Path | str | None = None) -> list[Fact]:
    """Parse ``facts.csv`` (default: the shipped article's ``facts.csv``) into :class:`Fact` records.

    ``claim_id`` holds one or more space-separated claim ids (``"A1 A2"``): the claims the
    fact bears on.

    Raises
    ------
    MalformedDataError
        Missing file, wrong header/field count, bad claim ids, non-numeric value,
        duplicate id (names file and row).
    """
    facts, bad = read_facts(Path(path) if path is not None else paths.default_article_dir() / "facts.csv")
    if bad:
        raise bad[0][2]
    return facts


def _frame(records: list, cls: type) -> pd.DataFrame:
    names = [f.name for f in fields(cls) if f.name != "line"]
    data = {n: [getattr(r, n) for r in records] for n in names}
    return pd.DataFrame(data, columns=names)


def events_to_frame(events: list[Event] | tuple[Event, ...]) -> pd.DataFrame:
    """Event records as a DataFrame (columns as :func:`events_frame`)."""
    df = _frame(list(events), Event)
    df["date"] = pd.to_datetime(df["date"]).astype("datetime64[ns]")
    return df


def facts_to_frame(facts: list[Fact] | tuple[Fact, ...]) -> pd.DataFrame:
    """Fact records as a DataFrame (columns as :func:`facts_frame`)."""
    return _frame(list(facts), Fact)


def events_frame(path: Path | str | None = None) -> pd.DataFrame:
    """:func:`load_events` as a DataFrame (one row per event; tuple columns kept as tuples).

    Columns: event_id, date (datetime64[ns]), timing, title, tickers, claim_ids,
    reported_move, source_urls, post_article. Ready for ``run_event_study`` after
    exploding ``tickers`` (``df.explode("tickers").rename(columns={"tickers": "ticker"})``).
    """
    return events_to_frame(load_events(path))


def facts_frame(path: Path | str | None = None) -> pd.DataFrame:
    """:func:`load_facts` as a DataFrame; ``value`` is an object column (float, str or None)."""
    return facts_to_frame(load_facts(path))


__all__ = ["DATE_RANGE", "Event", "EventDateError", "Fact", "date_problem", "events_frame", "events_to_frame",
           "facts_frame", "facts_to_frame", "load_events", "load_facts", "read_events", "read_facts"]
