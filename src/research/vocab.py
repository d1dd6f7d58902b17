"""The package's one vocabulary: ids, number formats, verdict names and colours, strict JSON.

Every layer (data, eventstudy, claims, report) imports its words and formats from here, so
an id is built and parsed in one place, a p-value is printed one way per purpose, and a
verdict has one colour everywhere. This module imports nothing from ``research`` (it sits
below every layer).

Ids
---
:func:`basket_id` / :func:`parse_series` -- a studied series: a ticker (``"XYZ"``) or an
equal-weighted basket (``"basket:NAME"``), and :func:`series_display` its reader-facing form
(``"basket: NAME"``). :func:`engine_id` / :func:`split_engine_id` -- one study of one series
on one event, ``"<event_id>|<series>"`` (:data:`SEP`). :func:`pair_key` -- a pair's key
number name ``"TICKER@EVENT"``; :func:`basket_key` -- ``"EVENT.field"``.

Formats
-------
``p_note`` (4 decimals, notes and headlines), ``p_short`` (3 decimals, tables and figure
titles), ``p_text`` (``"p = 0.012"``), ``pct`` (signed percentage of a return fraction),
``pct_points`` (an already-percent number), ``window_label`` (``"(+0,+1)"``).

Verdicts
--------
:data:`SUPPORTED` ... :data:`NOT_RUN`, and :data:`VERDICT_STYLES`: one colour-blind-safe
palette (Okabe & Ito) with the text colour that keeps each badge readable; a badge always
carries the verdict's words too, so colour is never the only signal.

Strict JSON
-----------
:func:`to_jsonable` (floats rounded to :data:`DECIMALS`, NaN -> null, dates ISO) and
:func:`dumps` (``allow_nan=False``).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "SEP", "BASKET_PREFIX", "basket_id", "parse_series", "series_display", "is_basket", "engine_id",
    "split_engine_id", "pair_key", "basket_key", "finite", "num", "p_note", "p_short", "p_text", "pct",
    "pct_points", "window_label", "day", "SUPPORTED", "PARTLY", "NOT_SUPPORTED", "NOT_TESTABLE", "ERROR",
    "NOT_RUN", "VERDICTS", "FACT_VERDICTS", "VerdictStyle", "VERDICT_STYLES", "verdict_style", "FACT_COLOURS", "WARNING_COLOUR", "DECIMALS",
    "to_jsonable", "strict", "dumps",
]

# ---------------------------------------------------------------------------------------
# ids
#: Separator of an engine event id: ``"<event_id>|<series>"``.
SEP = "|"
#: Prefix of a basket series (an equal-weighted portfolio of named stocks).
BASKET_PREFIX = "basket:"


def basket_id(name: str) -> str:
    """The series id of the equal-weighted basket ``name``: ``"basket:NAME"`` (a ticker's
    series id is the ticker)."""
    return f"{BASKET_PREFIX}{name}"


def is_basket(series: str) -> bool:
    """True for a basket series id (``"basket:NAME"``) or its display form."""
    return str(series).startswith(BASKET_PREFIX)


def parse_series(series: str) -> tuple[str, bool]:
    """``(name, is_basket)`` of a series id or its display form (the one parser of
    ``"basket:"``)."""
    s = str(series)
    if s.startswith(BASKET_PREFIX):
        return s[len(BASKET_PREFIX):].strip(), True
    return s, False


def series_display(series: str) -> str:
    """A series id as readers see it: ``"basket: NAME"`` or the ticker."""
    name, basket = parse_series(series)
    return f"basket: {name}" if basket else name


def engine_id(event_id: str, series: str) -> str:
    """The engine's id of one series on one event: ``"<event_id>|<series>"``."""
    return f"{event_id}{SEP}{series}"


def split_engine_id(eid: str) -> tuple[str, str]:
    """``(event_id, series)`` of an :func:`engine_id`."""
    event_id, _, series = str(eid).partition(SEP)
    return event_id, series


def pair_key(ticker: str, event_id: str) -> str:
    """Key-number name of an (event, ticker) pair: ``"TICKER@EVENT"``."""
    return f"{ticker}@{event_id}"


def basket_key(event_id: str, field: str) -> str:
    """Key-number name of a basket figure on an event: ``"EVENT.field"``."""
    return f"{event_id}.{field}"


# ---------------------------------------------------------------------------------------
# numbers and their formats
def finite(x: Any) -> bool:
    """True when ``x`` converts to a finite float (False for None, NaN, inf, text)."""
    try:
        return x is not None and math.isfinite(float(x))
    except (TypeError, ValueError):
        return False


def num(x: Any) -> float | None:
    """``x`` as a finite float, or None."""
    return float(x) if finite(x) else None


def p_note(x: Any) -> str:
    """A p-value in notes and headlines: 4 decimals, ``<0.0001`` below, ``n/a`` when missing."""
    f = num(x)
    if f is None:
        return "n/a"
    return "<0.0001" if f < 1e-4 else f"{f:.4f}"


def p_short(x: Any) -> str:
    """A p-value in tables and figure titles: 3 decimals, ``<0.001`` below, ``n/a`` when missing."""
    f = num(x)
    if f is None:
        return "n/a"
    return "<0.001" if f < 0.001 else f"{f:.3f}"


def p_text(x: Any) -> str:
    """``"p = 0.012"``, ``"p < 0.001"`` or ``"p n/a"``."""
    f = num(x)
    if f is None:
        return "p n/a"
    return "p < 0.001" if f < 0.001 else f"p = {f:.3f}"


def pct(x: Any, digits: int = 1, *, signed: bool = True) -> str:
    """A return fraction as a percentage: 0.0912 -> ``"+9.1%"`` (``digits`` decimals);
    ``"n/a"`` if missing or not finite."""
    f = num(x)
    if f is None:
        return "n/a"
    return f"{f * 100:+.{digits}f}%" if signed else f"{f * 100:.{digits}f}%"


def pct_points(x: Any, unit: str = "%") -> str:
    """An already-percent number, signed with 1 decimal: 4.23 -> ``"+4.2%"`` (or ``unit``
    ``" pp"``); ``""`` if missing."""
    try:
        f = float(x)
    except (TypeError, ValueError):
        return ""
    return "" if f != f else f"{f:+.1f}{unit}"


def window_label(window: Any) -> str:
    """A CAR window as ``"(+0,+1)"``."""
    a, b = window
    return f"({int(a):+d},{int(b):+d})"


def day(x: Any) -> str:
    """A date as YYYY-MM-DD (no time of day); ``""`` if missing."""
    if x is None:
        return ""
    s = str(x)
    m = re.match(r"^(\d{4}-\d{2}-\d{2})", s)
    return m.group(1) if m else s


# ---------------------------------------------------------------------------------------
# verdicts
SUPPORTED = "supported"
PARTLY = "partly supported"
NOT_SUPPORTED = "not supported"
NOT_TESTABLE = "not testable with price data"
#: the index's verdict of a page that failed / was not run into the output folder
ERROR = "error"
NOT_RUN = "not run"
VERDICTS: tuple[str, ...] = (SUPPORTED, PARTLY, NOT_SUPPORTED, NOT_TESTABLE)
#: Verdicts of a fact check.
FACT_VERDICTS: tuple[str, ...] = ("accurate", "partly wrong", "wrong", "unverified")


@dataclass(frozen=True)
class VerdictStyle:
    """How a verdict looks: badge background and text colour, CSS class, and the words shown
    on it (a badge is never colour alone)."""

    background: str
    text: str
    css_class: str
    label: str


#: The one verdict palette (Okabe & Ito's colour-blind-safe blue, orange and vermillion,
#: the vermillion darkened so that every pair of background and text meets a 4.5:1 contrast).
VERDICT_STYLES: Mapping[str, VerdictStyle] = {
    SUPPORTED: VerdictStyle("#0072b2", "#ffffff", "b-supported", SUPPORTED),
    PARTLY: VerdictStyle("#e69f00", "#1d1d1f", "b-partly", PARTLY),
    NOT_SUPPORTED: VerdictStyle("#c24e00", "#ffffff", "b-not", NOT_SUPPORTED),
    NOT_TESTABLE: VerdictStyle("#5f6368", "#ffffff", "b-untestable", NOT_TESTABLE),
    ERROR: VerdictStyle("#2b0000", "#ffb4ab", "b-error", ERROR),
    NOT_RUN: VerdictStyle("#5f6368", "#ffffff", "b-untestable", NOT_RUN),
}


#: Text colours (readable on white, 4.5:1) of a fact check's outcomes, same hues as the verdicts.
FACT_COLOURS: Mapping[str, str] = {"accurate": "#0072b2", "partly wrong": "#8a5a00", "wrong": "#c24e00",
                                   "unverified": "#5f6368"}
#: Text and border colour of a warning (a fragile verdict, a stale page).
WARNING_COLOUR = "#8a5a00"


def verdict_style(verdict: str) -> VerdictStyle:
    """The style of ``verdict`` (an unknown one looks like "not testable", with its own words)."""
    s = VERDICT_STYLES.get(verdict)
    return s if s is not None else VerdictStyle("#5f6368", "#ffffff", "b-untestable", str(verdict))


# ---------------------------------------------------------------------------------------
# strict JSON
DECIMALS = 6


def to_jsonable(value: Any, decimals: int | None = DECIMALS) -> Any:
    """Numbers, dates, arrays and containers as strict-JSON values.

    Floats are rounded to ``decimals`` (None: not rounded; ``-0.0`` becomes ``0.0`` when
    rounded); NaN/inf become None; Timestamps and dates become ISO dates (``YYYY-MM-DD``);
    tuples, arrays and indexes become lists; a DataFrame becomes a list of row objects.
    """
    if value is None or isinstance(value, (bool, str)):
        return value
    import numpy as np  # here: the vocabulary must stay importable without the numeric stack
    import pandas as pd

    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        f = float(value)
        if not math.isfinite(f):
            return None
        if decimals is None:
            return f
        r = round(f, decimals)
        return 0.0 if r == 0 else r
    if isinstance(value, pd.Timestamp):
        return None if pd.isna(value) else value.strftime("%Y-%m-%d")
    if value is pd.NaT:
        return None
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v, decimals) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray, pd.Index)):
        return [to_jsonable(v, decimals) for v in value]
    if isinstance(value, pd.DataFrame):
        return [to_jsonable(r, decimals) for r in value.to_dict(orient="records")]
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return str(value)


def strict(obj: Any) -> Any:
    """Non-finite floats replaced by None in nested mappings and sequences, nothing else
    touched (no rounding): a published sidecar as the page computed it."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, Mapping):
        return {str(k): strict(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [strict(v) for v in obj]
    return obj


def dumps(obj: Any, *, sort_keys: bool = False, indent: int | None = 2) -> str:
    """Strict JSON text (``allow_nan=False``, UTF-8 characters kept)."""
    return json.dumps(obj, ensure_ascii=False, sort_keys=sort_keys, indent=indent, allow_nan=False)
