"""Price data, trading calendar and article records.

Public API (see ``docs/ARCHITECTURE.md``)::

    load_prices(tickers, start=None, end=None, *, source="auto") -> tidy DataFrame
    close_panel(prices, field="close"); returns(panel, kind="simple"|"log")
    coverage(); available_tickers(); sessions(start, end); align_event(date, timing)
    load_events(); events_frame(); load_facts(); facts_frame()

Prices are split + dividend adjusted (Yahoo ``auto_adjust=True`` basis) from every
source; ``close_raw`` is the split-adjusted-only close. Nothing is forward-filled.
"""

from research.data.article import Event, EventDateError, Fact, events_frame, facts_frame, load_events, load_facts
from research.data.calendar import (
    TIMINGS,
    AlignedEvent,
    align_event,
    is_session,
    next_session,
    session_offset,
    sessions,
)
from research.data.panel import close_panel, returns
from research.data.snapshot import BASIS, build_snapshot, load_snapshot, read_manifest
from research.data.sources import DataSourceWarning, available_tickers, coverage, load_prices

__all__ = [
    "AlignedEvent", "BASIS", "DataSourceWarning", "Event", "EventDateError", "Fact", "TIMINGS",
    "align_event", "available_tickers", "build_snapshot", "close_panel", "coverage",
    "events_frame", "facts_frame", "is_session", "load_events", "load_facts", "load_prices",
    "load_snapshot", "next_session", "read_manifest", "returns", "session_offset", "sessions",
]
