"""XNYS sessions and align_event, checked against the article's own day-0 statements."""

from __future__ import annotations

import csv
import datetime as dt
import re

import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

import research.data as d
from research.data import paths
from research.errors import CalendarError, DateRangeError


def _events():
    with open(paths.default_article_dir() / "events.csv", newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_day0_stated_in_event_titles():
    """Titles saying 'day0=YYYY-MM-DD' are an independent statement of day 0."""
    checked = 0
    for r in _events():
        m = re.search(r"day0=(\d{4}-\d{2}-\d{2})", r["title"])
        if not m:
            continue
        a = d.align_event(r["date"], r["timing"])
        assert a.day0 == pd.Timestamp(m.group(1)), r["event_id"]
        checked += 1
    assert checked >= 10


@pytest.mark.parametrize("date,timing,day0,uncertain", [
    ("2025-09-23", "after_close", "2025-09-24", False),        # ev03
    ("2025-10-05", "weekend_or_holiday", "2025-10-06", False),  # ev06, Sunday
    ("2025-10-11", "weekend_or_holiday", "2025-10-13", False),  # ev14, Saturday
    ("2025-10-10", "after_close", "2025-10-13", False),         # ev13, Friday after close
    ("2025-10-10", "intraday", "2025-10-10", False),            # ev12
    ("2025-10-08", "unknown", "2025-10-08", True),              # ev10
    ("2025-05-08", "unknown", "2025-05-08", True),              # ev20
    ("2025-07-04", "unknown", "2025-07-07", False),             # holiday -> next session, whatever the hour
    ("2025-06-16", "unknown_date", "2025-06-16", True),         # a date uncertain by a session
    ("2025-07-04", "pre_open", "2025-07-07", False),
    ("2025-07-03", "after_close", "2025-07-07", False),         # early close, then holiday
    ("2024-12-31", "after_close", "2025-01-02", False),
    ("2025-01-08", "after_close", "2025-01-10", False),         # 2025-01-09 national mourning (Carter)
])
def test_align_event_cases(date, timing, day0, uncertain):
    a = d.align_event(date, timing)
    assert a.day0 == pd.Timestamp(day0)
    assert a.uncertain is uncertain
    assert a.timing == timing and a.date == pd.Timestamp(date)
    assert day0 in a.note


def test_intraday_on_holiday_names_next_session():
    with pytest.raises(CalendarError, match=r"2025-07-04.*not an XNYS session; the next session is 2025-07-07"):
        d.align_event("2025-07-04", "intraday")


@pytest.mark.parametrize("date", ["2025-02-30", "10/45/2025", "soon", "", None])
def test_unparseable_event_date(date):
    with pytest.raises(CalendarError):
        d.align_event(date, "pre_open")


def test_bad_timing_and_out_of_range():
    with pytest.raises(CalendarError, match="timing 'overnight'"):
        d.align_event("2025-10-10", "overnight")
    with pytest.raises(CalendarError, match="outside the XNYS calendar"):
        d.align_event("1990-01-02", "pre_open")


def test_aligned_event_is_frozen():
    a = d.align_event(dt.date(2025, 10, 13), "pre_open")
    with pytest.raises(AttributeError):
        a.day0 = pd.Timestamp("2025-10-14")  # type: ignore[misc]


def test_sessions_equal_archive_dates():
    """The archive's SPY dates were checked against 4 independent archives (SOURCES.md)."""
    spy = d.load_prices("SPY", source="snapshot")["date"]
    s = d.sessions(spy.min(), spy.max())
    assert s.name == "date" and s.tz is None
    assert list(s) == list(spy)
    assert pd.Timestamp("2025-01-09") not in s and pd.Timestamp("2026-04-03") not in s
    with pytest.raises(DateRangeError):
        d.sessions("2025-10-10", "2025-10-01")


@settings(max_examples=150, deadline=None)
@given(st.dates(dt.date(2023, 1, 1), dt.date(2026, 6, 30)),
       st.sampled_from(["pre_open", "after_close", "weekend_or_holiday", "unknown", "unknown_date"]))
def test_align_properties(date, timing):
    a = d.align_event(date, timing)
    ts = pd.Timestamp(date)
    window = d.sessions(ts - pd.Timedelta(days=10), ts + pd.Timedelta(days=10))
    assert a.day0 in window
    later = window[window > ts]
    if timing == "after_close":
        assert a.day0 == later[0]
    else:
        on_or_after = window[window >= ts]
        assert a.day0 == on_or_after[0]
    # an unknown hour is uncertain only on a session (day 0 or +1); an uncertain date always
    assert a.uncertain == ((timing == "unknown" and ts in window) or timing == "unknown_date")
    assert a.window == ({"unknown": (0, 1), "unknown_date": (-1, 1)}[timing] if a.uncertain else None)


@pytest.mark.parametrize("day0, k", [("2025-10-09", 2), ("2025-10-13", -1), ("2025-07-03", 1),
                                     ("2025-10-13", -260), ("2025-10-13", 20)])
def test_session_offset_counts_xnys_sessions(day0, k):
    days = d.sessions("2024-06-01", "2026-01-31")
    expected = days[days.get_loc(pd.Timestamp(day0)) + k]
    assert d.session_offset(day0, k) == expected


def test_session_offset_needs_a_session():
    with pytest.raises(CalendarError, match="not an XNYS session"):
        d.session_offset("2025-10-11", 1)
