"""Events tables: validation, day 0 on the trading calendar, one row per ticker.

The first step of the pipeline (:mod:`research.eventstudy.pipeline`): an events table
becomes a prepared frame with one ``day0`` session per row (or a reason why not).

Combined ids
------------
Every id the package composes from parts -- an article event and a ticker, a basket and
its date -- uses one format, :func:`combined_id`: the parts joined by ``":"``
(``"ev1:ABC"``, ``"basket:2024-03-01"``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from research.data.calendar import TIMINGS, align_event, sessions
from research.errors import CalendarError, DataError, DuplicateEventError, EventStudyError

__all__ = ["prepare_events", "str_array", "align_days", "expand_tickers", "combined_id", "ID_SEP"]

#: Separator of the parts of a combined id (:func:`combined_id`).
ID_SEP = ":"



#: Timings whose day 0 may be uncertain (see :func:`research.data.align_event`).
UNCERTAIN_TIMINGS: tuple[str, ...] = ("unknown", "unknown_date")

def combined_id(*parts: object) -> str:
    """The one combined-id format: ``str`` of every part joined by ``":"``.

    >>> combined_id("ev1", "ABC")
    'ev1:ABC'
    """
    return ID_SEP.join(str(p) for p in parts)


def str_array(values: Any) -> pd.api.extensions.ExtensionArray:
    """A ``str`` array of ``values`` (strings, mostly repeats -- empty reasons, a few
    statuses): each distinct string converted once, then taken."""
    codes, uniq = pd.factorize(np.asarray(values, dtype=object), use_na_sentinel=False)  # NaN -> NA
    return pd.array(np.asarray(uniq, dtype=object), dtype="str").take(codes)


def prepare_events(events: pd.DataFrame) -> pd.DataFrame:
    """Validate an events table and attach ``day0`` and ``timing_uncertain``.

    Parameters
    ----------
    events : pandas.DataFrame
        Columns ``event_id`` (unique), ``ticker``, and either ``date`` + ``timing``
        (aligned with :func:`research.data.align_event`) or ``day0`` (sessions, used
        as given).

    Returns
    -------
    pandas.DataFrame
        Columns ``event_id, ticker, date, timing, day0, timing_uncertain, align_error``
        in input order, RangeIndex. ``day0`` is NaT and ``align_error`` non-empty when
        the calendar could not place the event.
    """
    if not isinstance(events, pd.DataFrame):
        raise EventStudyError(
            f"events must be a pandas DataFrame with columns event_id, ticker, date, timing; "
            f"got {type(events).__name__}"
        )
    has_day0 = "day0" in events.columns
    need = ["event_id", "ticker"] + ([] if has_day0 else ["date", "timing"])
    missing = [c for c in need if c not in events.columns]
    if missing:
        raise EventStudyError(
            f"events table lacks column(s) {missing}; it needs event_id, ticker and either "
            "date + timing (pre_open/intraday/after_close/weekend_or_holiday/unknown/unknown_date) or day0"
        )
    if events.empty:
        raise EventStudyError("events table is empty; pass at least one event row")
    ids = events["event_id"].astype(str)
    dup = ids[ids.duplicated(keep=False)]
    if not dup.empty:
        raise DuplicateEventError(
            f"event_id values are not unique: {sorted(set(dup))[:10]}; give each "
            "(event, ticker) row its own id, e.g. f'{event_id}:{ticker}'"
        )
    n = len(events)
    col = events["ticker"]
    if isinstance(col.dtype, pd.StringDtype):  # strings or missing: vectorised
        blank = (col.str.strip().fillna("") == "").to_numpy(dtype=bool)
    else:
        tick = col.to_numpy(dtype=object)
        blank = np.fromiter((not (isinstance(v, str) and v.strip()) for v in tick), dtype=bool, count=n)
    if blank.any():
        rows = [str(r) for r in ids.to_numpy()[blank][:10]]
        raise EventStudyError(
            f"event(s) {rows} have no ticker (None, NaN or not a string); give every event "
            "row a ticker symbol such as 'SPY', or drop the row"
        )
    # pandas str arrays as they are (no round trip through objects); one frame at the end
    timing = events["timing"].astype(str).array if "timing" in events.columns else str_array(["day0"] * n)
    date = events["date"] if "date" in events.columns else events["day0"]
    errors = np.full(n, "", dtype=object)
    if has_day0:
        day0 = pd.to_datetime(events["day0"].to_numpy(), errors="coerce", format="mixed")
        uncertain = np.isin(np.asarray(timing, dtype=object), UNCERTAIN_TIMINGS)
        bad = np.asarray(pd.isna(day0))
        errors[bad] = "day0 is missing or not a date"
    else:
        day0, uncertain, errors = align_days(events["date"], pd.Series(timing))
    return pd.DataFrame({
        "event_id": ids.array,
        "ticker": events["ticker"].astype(str).str.strip().array,
        "date": pd.to_datetime(date.to_numpy(), errors="coerce", format="mixed"),
        "timing": timing,
        "day0": pd.DatetimeIndex(day0).as_unit("ns") if len(day0) else day0,
        "timing_uncertain": uncertain.astype(bool),
        "align_error": str_array(errors),
    })


def align_days(dates: pd.Series, timings: pd.Series) -> tuple[pd.DatetimeIndex, np.ndarray, np.ndarray]:
    """Day 0 of many events: :func:`research.data.align_event` semantics, vectorised.

    Dates that parse to plain (tz-naive) dates with a known timing are aligned with one
    ``searchsorted`` on the XNYS sessions (``pre_open``, ``weekend_or_holiday``,
    ``unknown``, ``unknown_date``: the date's session, else the next; ``after_close``: the next session;
    ``intraday``: the date's session). Everything else (unparseable dates, unknown
    timings, intraday on a non-session, dates outside the calendar) goes through
    ``align_event`` itself, whose :class:`CalendarError` message becomes the event's
    reason. A test pins equality with ``align_event`` for every timing.

    Returns
    -------
    (day0 DatetimeIndex with NaT on failure, uncertain (N,) bool, error (N,) str object)
    """
    n = len(dates)
    # each distinct timing converted to a numpy string once (a few distinct values)
    codes, uniq = pd.factorize(np.asarray(timings, dtype=object), use_na_sentinel=False)
    tim = np.asarray([str(u) for u in uniq] or [""], dtype=str)[codes]
    errors = np.full(n, "", dtype=object)
    uncertain = np.isin(tim, UNCERTAIN_TIMINGS)
    day0 = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
    try:
        if pd.api.types.is_datetime64_any_dtype(dates):
            parsed = pd.Series(pd.DatetimeIndex(dates))
        else:
            parsed = pd.to_datetime(pd.Series(list(dates), dtype=object), errors="coerce",
                                    format="mixed")
        if getattr(parsed.dt, "tz", None) is not None:
            raise TypeError("tz-aware")
        pv = parsed.to_numpy(dtype="datetime64[ns]")
        midnight = parsed.dt.normalize().to_numpy(dtype="datetime64[ns]") == pv
        fast = ~np.isnat(pv) & midnight & np.isin(tim, TIMINGS)
    except (TypeError, ValueError):
        pv = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
        fast = np.zeros(n, dtype=bool)
    if fast.any():
        lo, hi = pv[fast].min(), pv[fast].max()
        try:
            sess = sessions(pd.Timestamp(lo) - pd.Timedelta(days=10),
                            pd.Timestamp(hi) + pd.Timedelta(days=10)).to_numpy(dtype="datetime64[ns]")
        except (CalendarError, DataError, ValueError):
            sess = None
            fast[:] = False
        if sess is not None:
            d = pv[fast]
            i_on = np.searchsorted(sess, d, side="left")
            i_next = np.searchsorted(sess, d, side="right")
            on = (i_on < sess.size) & (sess[np.minimum(i_on, sess.size - 1)] == d)
            nxt = sess[np.minimum(i_next, sess.size - 1)]
            t = tim[fast]
            res = np.where(on, d, nxt)
            res = np.where(t == "after_close", nxt, res)
            bad = (t == "intraday") & ~on  # error message from align_event
            idx = np.flatnonzero(fast)
            day0[idx[~bad]] = res[~bad]
            # an unknown hour is uncertain only on a session; an uncertain date always
            uncertain[idx] = ((t == "unknown") & on) | (t == "unknown_date")
            fast[idx[bad]] = False
    slow = np.flatnonzero(~fast)
    cache: dict[tuple[str, str], tuple[Any, bool, str]] = {}
    raw = list(dates) if slow.size else []
    for i in slow:  # only unusual rows reach the scalar path
        key = (repr(raw[i]), tim[i])
        if key not in cache:
            try:
                a = align_event(raw[i], str(tim[i]))
                cache[key] = (np.datetime64(pd.Timestamp(a.day0).as_unit("ns")), bool(a.uncertain), "")
            except (CalendarError, DataError, ValueError, TypeError) as exc:
                cache[key] = (np.datetime64("NaT"), tim[i] in UNCERTAIN_TIMINGS, f"calendar: {exc}")
        day0[i], uncertain[i], errors[i] = cache[key]
    return pd.DatetimeIndex(day0), uncertain.astype(bool), errors


def expand_tickers(events: pd.DataFrame, *, sep: str = ID_SEP) -> pd.DataFrame:
    """One row per (event, ticker) from an article events frame.

    ``events`` has ``event_id, date, timing`` and ``tickers`` (a sequence of symbols or a
    space-separated string, as in ``research.data.events_frame()``). The new
    ``event_id`` is ``combined_id(event_id, ticker)`` (unique); the article's id is kept in
    ``article_event_id``. Other columns are carried along.
    """
    missing = [c for c in ("event_id", "date", "timing", "tickers") if c not in events.columns]
    if missing:
        raise EventStudyError(f"events frame lacks column(s) {missing}; pass research.data.events_frame()")
    tick = events["tickers"].map(lambda v: v.split() if isinstance(v, str) else list(v))
    out = events.drop(columns="tickers").assign(ticker=tick).explode("ticker", ignore_index=True)
    out = out[out["ticker"].notna()]
    out["ticker"] = out["ticker"].astype("str")
    out["article_event_id"] = out["event_id"].astype("str")
    out["event_id"] = (out["article_event_id"] + sep + out["ticker"]).astype("str")
    return out.reset_index(drop=True)
