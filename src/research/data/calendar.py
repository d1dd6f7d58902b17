"""NYSE trading calendar (``exchange-calendars`` XNYS) and event-date alignment.

Day 0 of an event is the first session on which the market could trade on the news:

============================  =========================================================
timing                        day 0
============================  =========================================================
``pre_open``                  the date's session; the next session if it is not one
``intraday``                  the date's session; a :class:`CalendarError` if the date is
                              not a session (news "during trading" on a closed day is a
                              data error)
``after_close``               the next session after the date
``weekend_or_holiday``        the first session on or after the date
``unknown``                   the release hour is unknown: the date's session if it is
                              one (news before the open, during or after the close:
                              day 0 or day +1, so ``window=(0, +1)``); else the next
                              session (a non-session date leaves no doubt)
``unknown_date``              the date itself is uncertain by a session (a report dated
                              by its publication, not by the news): the date's session
                              or the next, ``window=(-1, +1)``
============================  =========================================================

An event whose day 0 is uncertain carries ``window``: the event window that covers the
uncertainty, which claims use instead of (0, 0) when they leave the window to the timing.
"""

from __future__ import annotations

import datetime as _dt
import functools
from dataclasses import dataclass
from typing import Literal

import pandas as pd

from research.errors import CalendarError, DateRangeError

Timing = Literal["pre_open", "intraday", "after_close", "weekend_or_holiday", "unknown", "unknown_date"]
TIMINGS: tuple[str, ...] = ("pre_open", "intraday", "after_close", "weekend_or_holiday", "unknown", "unknown_date")
#: The event window covering an uncertain day 0, by timing (see the module docstring).
UNCERTAIN_WINDOWS: dict[str, tuple[int, int]] = {"unknown": (0, 1), "unknown_date": (-1, 1)}
CALENDAR_NAME = "XNYS"
_CAL_START = "2015-01-02"


@functools.lru_cache(maxsize=1)
def _calendar():
    import warnings

    import exchange_calendars as xcals

    with warnings.catch_warnings():
        # exchange-calendars 4.x reads Series.values on tz-aware columns while building the
        # schedule: a pandas-4 deprecation inside the library, not in this package.
        warnings.filterwarnings("ignore", message="Series.values returning an ndarray", module="pandas")
        warnings.filterwarnings("ignore", message="Series.values returning an ndarray")
        return xcals.get_calendar(CALENDAR_NAME, start=_CAL_START)


def to_date(value: object, *, what: str = "date") -> pd.Timestamp:
    """Parse a date (str ``YYYY-MM-DD``, ``datetime.date``, ``Timestamp``) to a tz-naive midnight.

    Raises
    ------
    CalendarError
        The value cannot be parsed as a date (message names it).
    """
    if isinstance(value, pd.Timestamp):
        ts = value
    elif isinstance(value, (_dt.date, _dt.datetime)):
        ts = pd.Timestamp(value)
    elif isinstance(value, str):
        try:
            ts = pd.Timestamp(value.strip())
        except (ValueError, TypeError) as exc:
            raise CalendarError(f"{what} {value!r} is not a date; use YYYY-MM-DD") from exc
    else:
        raise CalendarError(f"{what} {value!r} (type {type(value).__name__}) is not a date; use YYYY-MM-DD")
    if ts is pd.NaT or pd.isna(ts):
        raise CalendarError(f"{what} {value!r} is not a date; use YYYY-MM-DD")
    if ts.tzinfo is not None:
        ts = ts.tz_convert("America/New_York").tz_localize(None)
    return ts.normalize().as_unit("ns")


def _bounds() -> tuple[pd.Timestamp, pd.Timestamp]:
    cal = _calendar()
    return pd.Timestamp(cal.first_session), pd.Timestamp(cal.last_session)


def calendar_range() -> tuple[pd.Timestamp, pd.Timestamp]:
    """First and last XNYS session the package's calendar knows (tz-naive)."""
    return _bounds()


def _check_bounds(ts: pd.Timestamp, what: str) -> None:
    lo, hi = _bounds()
    if not (lo <= ts <= hi):
        raise CalendarError(
            f"{what} {ts.date()} is outside the XNYS calendar range {lo.date()}..{hi.date()}"
        )


def is_session(date: object) -> bool:
    """True if ``date`` is an XNYS trading session."""
    ts = to_date(date)
    _check_bounds(ts, "date")
    return bool(_calendar().is_session(ts))


def next_session(date: object, *, inclusive: bool = False) -> pd.Timestamp:
    """First session after ``date`` (or on it when ``inclusive`` and it is a session)."""
    ts = to_date(date)
    _check_bounds(ts, "date")
    cal = _calendar()
    if inclusive and cal.is_session(ts):
        return ts
    return pd.Timestamp(cal.date_to_session(ts + pd.Timedelta(days=1), direction="next")).as_unit("ns")


def session_offset(session: object, k: int) -> pd.Timestamp:
    """The XNYS session ``k`` sessions after ``session`` (before it when ``k < 0``).

    ``session`` must itself be a session (a day 0); ``k = 0`` returns it.

    Raises
    ------
    CalendarError
        ``session`` is not a session, or the result falls outside the calendar.
    """
    ts = to_date(session, what="session")
    _check_bounds(ts, "session")
    cal = _calendar()
    if not cal.is_session(ts):
        raise CalendarError(f"{ts.date()} is not an XNYS session; align the event first (align_event)")
    try:
        out = cal.session_offset(ts, int(k))
    except Exception as exc:  # exchange-calendars raises its own range errors
        raise CalendarError(f"{k:+d} sessions from {ts.date()} is outside the XNYS calendar: {exc}") from None
    out = pd.Timestamp(out)
    return (out.tz_localize(None) if out.tzinfo is not None else out).as_unit("ns")


def sessions(start: object, end: object) -> pd.DatetimeIndex:
    """XNYS sessions from ``start`` to ``end`` inclusive (tz-naive, named ``date``).

    Raises
    ------
    CalendarError
        Unparseable dates, or dates outside the calendar's range.
    DateRangeError
        ``start`` after ``end``.
    """
    s, e = to_date(start, what="start"), to_date(end, what="end")
    if s > e:
        raise DateRangeError(f"start {s.date()} is after end {e.date()}; swap them")
    _check_bounds(s, "start")
    _check_bounds(e, "end")
    idx = _calendar().sessions_in_range(s, e)
    return pd.DatetimeIndex(idx.tz_localize(None) if idx.tz is not None else idx, name="date").as_unit("ns")


@dataclass(frozen=True)
class AlignedEvent:
    """An event date mapped to its day-0 session.

    Attributes
    ----------
    date : the calendar date of the news (tz-naive midnight).
    timing : one of :data:`TIMINGS`.
    day0 : the XNYS session that is event day 0.
    uncertain : True when day 0 is uncertain (an unknown hour on a session, or an
        uncertain date).
    note : how day 0 was chosen, in words.
    window : the event window (trading days) covering the uncertainty -- (0, +1) for an
        unknown hour, (-1, +1) for an uncertain date -- or None when day 0 is certain.
    """

    date: pd.Timestamp
    timing: str
    day0: pd.Timestamp
    uncertain: bool
    note: str
    window: tuple[int, int] | None = None


def align_event(date: object, timing: str) -> AlignedEvent:
    """Map an event (calendar date + timing) to its day-0 XNYS session.

    Raises
    ------
    CalendarError
        Unparseable date, unknown timing, an ``intraday`` event on a non-session (the
        message names the next session), or a date outside the calendar's range.
    """
    ts = to_date(date, what="event date")
    if timing not in TIMINGS:
        raise CalendarError(f"timing {timing!r} is not one of {TIMINGS}")
    _check_bounds(ts, "event date")
    cal = _calendar()
    on_session = bool(cal.is_session(ts))
    nxt = pd.Timestamp(cal.date_to_session(ts + pd.Timedelta(days=1), direction="next")).as_unit("ns")
    d = ts.date()
    if timing == "intraday":
        if not on_session:
            raise CalendarError(
                f"intraday event on {d} ({ts.day_name()}) but {d} is not an XNYS session; "
                f"the next session is {nxt.date()}: fix the date or use timing "
                "'weekend_or_holiday'"
            )
        return AlignedEvent(ts, timing, ts, False, f"intraday on session {d}: day 0 = {d}")
    if timing == "after_close":
        why = "after the close" if on_session else f"after the close of a non-session ({ts.day_name()})"
        return AlignedEvent(ts, timing, nxt, False, f"{why} on {d}: day 0 = next session {nxt.date()}")
    day0 = ts if on_session else nxt
    if timing == "pre_open":
        note = (f"before the open of session {d}: day 0 = {d}" if on_session
                else f"pre_open on non-session {d}: day 0 = next session {nxt.date()}")
        return AlignedEvent(ts, timing, day0, False, note)
    if timing == "weekend_or_holiday":
        note = (f"{d} is a session (not a weekend/holiday): day 0 = {d}" if on_session
                else f"{d} ({ts.day_name()}) is not a session: day 0 = next session {nxt.date()}")
        return AlignedEvent(ts, timing, day0, False, note)
    if timing == "unknown_date":
        note = (f"date uncertain by a session: day 0 = {day0.date()}, window (-1, +1) covers "
                "the session before and after")
        return AlignedEvent(ts, timing, day0, True, note, UNCERTAIN_WINDOWS[timing])
    if not on_session:
        return AlignedEvent(ts, timing, day0, False,
                            f"release time unknown, {d} is not a session: day 0 = next session {nxt.date()}")
    note = (f"release time unknown on session {d}: day 0 = {d} (news before the open or during "
            "the session) or the next session (after the close); window (0, +1) covers both")
    return AlignedEvent(ts, timing, day0, True, note, UNCERTAIN_WINDOWS[timing])


__all__ = ["AlignedEvent", "TIMINGS", "UNCERTAIN_WINDOWS", "Timing", "align_event", "is_session", "next_session", "session_offset",
           "sessions", "to_date"]
