"""Price data, trading calendar and article records.

Public API (see ``docs/ARCHITECTURE.md``)::

    load_prices(tickers, start=None, end=None, *, source="auto") -> tidy DataFrame
    close_panel(prices, field="close"); returns(panel, kind="simple"|"log")
    coverage(); available_tickers(); sessions(start, end); align_event(date, timing)
    load_events(); events_frame(); load_facts(); facts_frame()

Prices are split + dividend adjusted (Yahoo ``auto_adjust=True`` basis) from every
source; ``close_raw`` is the split-adjusted-only close. Nothing is forward-filled.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "AlignedEvent", "BASIS", "DataSourceWarning", "Event", "EventDateError", "Fact", "TIMINGS",
    "align_event", "available_tickers", "build_snapshot", "close_panel", "coverage",
    "events_frame", "facts_frame", "is_session", "load_events", "load_facts", "load_prices",
    "load_snapshot", "next_session", "read_manifest", "returns", "session_offset", "sessions",
]

# the names above load their module on first use (PEP 562), so importing this package
# (or one of its light modules, e.g. for `research article check`) does not import pandas
_LAZY = {
    "Event": "research.data.article",
    "EventDateError": "research.data.article",
    "Fact": "research.data.article",
    "events_frame": "research.data.article",
    "facts_frame": "research.data.article",
    "load_events": "research.data.article",
    "load_facts": "research.data.article",
    "TIMINGS": "research.data.calendar",
    "AlignedEvent": "research.data.calendar",
    "align_event": "research.data.calendar",
    "is_session": "research.data.calendar",
    "next_session": "research.data.calendar",
    "session_offset": "research.data.calendar",
    "sessions": "research.data.calendar",
    "close_panel": "research.data.panel",
    "returns": "research.data.panel",
    "BASIS": "research.data.snapshot",
    "build_snapshot": "research.data.snapshot",
    "load_snapshot": "research.data.snapshot",
    "read_manifest": "research.data.snapshot",
    "DataSourceWarning": "research.data.sources",
    "available_tickers": "research.data.sources",
    "coverage": "research.data.sources",
    "load_prices": "research.data.sources",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'research.data' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))

