"""``load_prices``: one interface over the snapshot and yfinance sources.

Sources
-------
``"snapshot"``
    The embedded, validated snapshot in ``data/snapshot`` (offline; fixed coverage).
``"yfinance"``
    Live Yahoo Finance through ``yfinance`` and the per-ticker parquet cache.
``"auto"`` (default)
    yfinance when Yahoo is reachable, else the snapshot, with one
    :class:`DataSourceWarning` naming which tickers and dates came from where.

Every source returns the same tidy frame (see :func:`load_prices`), on one basis:
split + dividend adjusted (Yahoo ``auto_adjust=True``).
"""

from __future__ import annotations

import difflib
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Literal

import pandas as pd

from research.data import yahoo
from research.data.calendar import to_date
from research.data.snapshot import BASIS, COLUMNS, load_snapshot
from research.errors import (
    DataError,
    DateRangeError,
    SourceUnavailableError,
    UnknownTickerError,
)

Source = Literal["auto", "snapshot", "yfinance"]


class DataSourceWarning(UserWarning):
    """Data came from a different source than asked for (e.g. ``auto`` fell back to the snapshot)."""


def _tickers(tickers: str | Iterable[str]) -> list[str]:
    items = [tickers] if isinstance(tickers, str) else list(tickers)
    out: list[str] = []
    for t in items:
        if not isinstance(t, str) or not t.strip():
            raise DataError(f"ticker {t!r} is not a symbol string; pass e.g. ['AAPL', 'SPY']")
        out.append(t.strip().upper())
    if not out:
        raise DataError("no tickers given; pass e.g. ['AAPL', 'SPY']")
    return list(dict.fromkeys(out))


def available_tickers() -> list[str]:
    """Tickers carried by the embedded snapshot (sorted)."""
    return sorted(load_snapshot().manifest["tickers"])


def ticker_span(ticker: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    """First and last session of one snapshot ticker (from the manifest; KeyError for a
    ticker it does not carry). The cheap form of one row of :func:`coverage`."""
    m = load_snapshot().manifest["tickers"][ticker]
    return pd.Timestamp(m["first"]), pd.Timestamp(m["last"])


def coverage() -> pd.DataFrame:
    """Per-ticker coverage of the snapshot.

    Returns
    -------
    pandas.DataFrame
        Columns ``ticker, name, theme, first, last, rows, columns, source_adjustment``
        (``columns``: ``"ohlcv"`` or ``"close"``; ``source_adjustment``: how the archive
        stored it, ``"raw"`` or ``"adjusted"``; the snapshot itself is always split +
        dividend adjusted), plus ``dividends_applied`` and ``close_raw`` (what
        ``close_raw`` holds). ``first``/``last`` are Timestamps.
    """
    man = load_snapshot().manifest
    rows = [{"ticker": t, **m} for t, m in sorted(man["tickers"].items())]
    df = pd.DataFrame(rows)
    df["first"] = pd.to_datetime(df["first"]).astype("datetime64[ns]")
    df["last"] = pd.to_datetime(df["last"]).astype("datetime64[ns]")
    df["rows"] = df["rows"].astype("int64")
    cols = ["ticker", "name", "theme", "first", "last", "rows", "columns", "source_adjustment",
            "dividends_applied", "close_raw"]
    return df[cols]


def unknown_ticker_error(ticker: str, available: list[str]) -> UnknownTickerError:
    """The error for a symbol the snapshot does not carry (lists the nearest ones)."""
    near = difflib.get_close_matches(ticker, available, n=5, cutoff=0.0)
    return UnknownTickerError(
        f"{ticker} is not in the snapshot (private company, not listed in the US, or not "
        f"collected?); nearest available: {', '.join(near)}. "
        f"research.data.available_tickers() lists all {len(available)}; with network access "
        "source='yfinance' can fetch any Yahoo symbol."
    )


def _range(start: object, end: object) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
    s = to_date(start, what="start") if start is not None else None
    e = to_date(end, what="end") if end is not None else None
    if s is not None and e is not None and s > e:
        raise DateRangeError(f"start {s.date()} is after end {e.date()}; swap them")
    return s, e


def _from_snapshot(tickers: list[str], s: pd.Timestamp | None, e: pd.Timestamp | None) -> pd.DataFrame:
    snap = load_snapshot()
    avail = sorted(snap.slices)
    for t in tickers:
        if t not in snap.slices:
            raise unknown_ticker_error(t, avail)
    parts = []
    for t in tickers:
        g = snap.ticker_frame(t)
        d = g["date"]
        mask = pd.Series(True, index=g.index)
        if s is not None:
            mask &= d >= s
        if e is not None:
            mask &= d <= e
        part = g[mask]
        if part.empty:
            m = snap.manifest["tickers"][t]
            req = f"{s.date() if s is not None else '...'}..{e.date() if e is not None else '...'}"
            first, last = pd.Timestamp(m["first"]), pd.Timestamp(m["last"])
            inside = (s is None or s >= first) and (e is None or e <= last)
            fix = ("no session falls in it (weekend or market holiday): widen the range"
                   if inside else "choose dates inside that range")
            raise DateRangeError(
                f"{t} has no rows in {req}; the snapshot covers {t} from {m['first']} to "
                f"{m['last']} ({m['rows']} sessions): {fix}"
            )
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


def _describe(df: pd.DataFrame) -> str:
    g = df.groupby("ticker", sort=False)["date"].agg(["min", "max", "size"])
    return ", ".join(f"{t} {r['min'].date()}..{r['max'].date()} ({r['size']} rows)" for t, r in g.iterrows())


def _finish(df: pd.DataFrame, origin: dict[str, str]) -> pd.DataFrame:
    df = df.sort_values(["ticker", "date"], kind="stable").reset_index(drop=True)
    df = df[list(COLUMNS)]
    df.attrs["source"] = dict(origin)
    df.attrs["basis"] = BASIS
    return df


def _from_cache_offline(names: list[str], s: pd.Timestamp | None, e: pd.Timestamp | None,
                        reason: str, cache_dir: Path | str | None) -> pd.DataFrame:
    """``source='yfinance'`` offline: serve from a cache that covers the range, and say so."""
    parts = {t: yahoo.serve_cached(t, s, e, cache_dir) for t in names}
    uncovered = [t for t, df in parts.items() if df is None]
    if uncovered:
        raise SourceUnavailableError(
            f"Yahoo Finance is unreachable ({reason}) and the yfinance cache "
            f"({yahoo.cache_path(uncovered[0], cache_dir).parent}) does not cover the range for "
            f"{', '.join(uncovered)}; use source='snapshot' or 'auto' offline"
        )
    df = pd.concat(list(parts.values()), ignore_index=True)
    warnings.warn(
        f"Yahoo Finance is unreachable ({reason}); served from the yfinance cache "
        f"({yahoo.cache_path(names[0], cache_dir).parent}, downloaded earlier): {_describe(df)}.",
        DataSourceWarning, stacklevel=3,
    )
    return _finish(df, {t: "yfinance cache" for t in names})


def load_prices(
    tickers: str | Iterable[str],
    start: object = None,
    end: object = None,
    *,
    source: Source = "auto",
    cache_dir: Path | str | None = None,
) -> pd.DataFrame:
    """Daily prices for ``tickers`` from ``start`` to ``end`` (inclusive).

    Parameters
    ----------
    tickers : one symbol or a list (as in ``tickers.csv``; case-insensitive).
    start, end : ``YYYY-MM-DD`` strings, dates or Timestamps; None = the ticker's full
        coverage (yfinance: from 2023-01-01 / to today).
    source : ``"auto"`` (default), ``"snapshot"`` or ``"yfinance"``.
    cache_dir : yfinance cache folder (default ``$RESEARCH_CACHE_DIR`` or ``.cache/yfinance``).

    Returns
    -------
    pandas.DataFrame
        One row per (ticker, session), sorted by ticker then date, RangeIndex; columns
        ``date`` (datetime64[ns], tz-naive), ``ticker`` (str), ``open, high, low, close``
        (float64, split + dividend adjusted; open/high/low NaN for close-only tickers),
        ``close_raw`` (split-adjusted only; NaN where unknown), ``volume`` (float64
        shares; NaN for close-only tickers). Never forward-filled: a ticker has no rows
        outside its coverage (e.g. before it listed). ``attrs["source"]`` maps ticker ->
        ``"snapshot"``/``"yfinance"``; ``attrs["basis"]`` = ``"split+dividend adjusted"``.

    Raises
    ------
    UnknownTickerError
        A ticker is not in the snapshot (offline); the message lists the nearest ones.
    DateRangeError
        ``start`` after ``end``, or no rows for a ticker in the range (message gives the
        ticker's available range).
    CalendarError
        A date cannot be parsed.
    SourceUnavailableError, EmptyDataError
        ``source="yfinance"`` and Yahoo cannot be reached / returns nothing (offline, a
        yfinance cache that covers the whole range is served instead, with a warning).

    Warns
    -----
    DataSourceWarning
        ``source="auto"`` served some or all tickers from the snapshot; or
        ``source="yfinance"`` offline was served from the yfinance cache
        (``attrs["source"]`` then says ``"yfinance cache"``).
    """
    if source not in ("auto", "snapshot", "yfinance"):
        raise DataError(f"source {source!r} must be 'auto', 'snapshot' or 'yfinance'")
    names = _tickers(tickers)
    s, e = _range(start, end)
    if source == "snapshot":
        return _finish(_from_snapshot(names, s, e), {t: "snapshot" for t in names})
    if source == "yfinance":
        reach = yahoo.probe()
        if not reach.ok:
            return _from_cache_offline(names, s, e, reach.reason, cache_dir)
        parts = [yahoo.load_ticker(t, s, e, cache=cache_dir) for t in names]
        return _finish(pd.concat(parts, ignore_index=True), {t: "yfinance" for t in names})
    # auto
    reach = yahoo.probe()
    live: dict[str, pd.DataFrame] = {}
    failures: dict[str, str] = {}
    if reach.ok:
        for t in names:
            try:
                live[t] = yahoo.load_ticker(t, s, e, cache=cache_dir)
            except SourceUnavailableError as exc:  # includes EmptyDataError
                failures[t] = str(exc)
    else:
        failures = {t: reach.reason for t in names}
    fallback = [t for t in names if t not in live]
    parts = list(live.values())
    if fallback:
        snap_part = _from_snapshot(fallback, s, e)
        parts.append(snap_part)
        why = reach.reason if not reach.ok else "; ".join(f"{t}: {m}" for t, m in failures.items())
        from_yf = f" From yfinance: {_describe(pd.concat(list(live.values())))}." if live else ""
        warnings.warn(
            f"Yahoo Finance data unavailable ({why}); loaded from the embedded snapshot "
            f"(data/snapshot, {BASIS}): {_describe(snap_part)}.{from_yf} "
            "Pass source='snapshot' to use the snapshot without this warning.",
            DataSourceWarning,
            stacklevel=2,
        )
    origin = {t: ("yfinance" if t in live else "snapshot") for t in names}
    return _finish(pd.concat(parts, ignore_index=True), origin)


__all__ = ["DataSourceWarning", "Source", "available_tickers", "coverage", "load_prices",
           "unknown_ticker_error"]
