"""The live yfinance source: download, normalise, per-ticker parquet cache.

One ``yfinance.download(..., auto_adjust=False)`` call per ticker returns Yahoo's raw
(split-adjusted) OHLC, ``Adj Close`` and volume. They are normalised to the package's tidy
shape on the ``auto_adjust=True`` basis exactly the way yfinance does it
(``ratio = Adj Close / Close``; open/high/low/close x ratio), keeping ``Close`` as
``close_raw``. yfinance's MultiIndex columns (``(Price, Ticker)`` or ``(Ticker, Price)``)
and its timezone-aware index (exchange time) are handled: rows are keyed by the
tz-naive session date.

Cache: one parquet per ticker under :func:`research.data.paths.cache_dir` (git-ignored
``<repo>/.cache/yfinance`` unless ``RESEARCH_CACHE_DIR`` is set). A request downloads only
the sessions after the last cached one (plus that last session as an overlap check); if
the overlap row's prices changed (a new dividend or split re-based Yahoo's history), the
whole range is downloaded again. Every cache write is atomic (temp file + ``os.replace``).

Reachability: :func:`probe` opens one TCP connection to Yahoo with a short timeout (the
DNS look-up too is bounded), cached per process, so an offline machine finds out in at
most a few seconds. Set ``RESEARCH_OFFLINE=1`` to skip the probe and stay offline.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from research.atomic import atomic_write_bytes
from research.data import paths
from research.data.snapshot import COLUMNS, FLOAT_COLUMNS, parquet_bytes
from research.data.validate import price_problems, read_allowed_jumps
from research.errors import EmptyDataError, MalformedDataError, SourceUnavailableError

PROBE_HOST = "query2.finance.yahoo.com"
PROBE_PORT = 443
PROBE_TIMEOUT = 3.0
DOWNLOAD_TIMEOUT = 5.0
DEFAULT_START = pd.Timestamp("2023-01-01")
_NETWORK_MARKERS = ("resolve host", "dnserror", "timed out", "timeout", "connection", "curl: (",
                    "network", "ssl", "proxy", "name or service not known")


@dataclass(frozen=True)
class Reachability:
    """Result of :func:`probe`: whether Yahoo answered, and why not."""

    ok: bool
    reason: str


_PROBE: Reachability | None = None
_PROBE_LOCK = threading.Lock()


def probe(timeout: float = PROBE_TIMEOUT, *, refresh: bool = False) -> Reachability:
    """Is Yahoo Finance reachable? One bounded TCP connect, cached for the process.

    Parameters
    ----------
    timeout : seconds for the whole attempt (DNS look-up + TCP connect), default 3.
    refresh : ignore the cached answer and probe again.
    """
    global _PROBE
    with _PROBE_LOCK:
        if _PROBE is not None and not refresh:
            return _PROBE
        if os.environ.get("RESEARCH_OFFLINE", "").strip() not in ("", "0"):
            _PROBE = Reachability(False, "RESEARCH_OFFLINE is set")
            return _PROBE
        box: list[Reachability] = []

        def attempt() -> None:
            try:
                with socket.create_connection((PROBE_HOST, PROBE_PORT), timeout=timeout):
                    box.append(Reachability(True, f"connected to {PROBE_HOST}:{PROBE_PORT}"))
            except OSError as exc:
                box.append(Reachability(False, f"cannot connect to {PROBE_HOST}:{PROBE_PORT} ({exc})"))

        th = threading.Thread(target=attempt, daemon=True, name="research-yahoo-probe")
        th.start()
        th.join(timeout + 0.5)
        _PROBE = box[0] if box else Reachability(
            False, f"no answer from {PROBE_HOST}:{PROBE_PORT} within {timeout:g} s")
        return _PROBE


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.messages.append(record.getMessage())
        except Exception:  # pragma: no cover - never let logging break a download
            self.messages.append(str(record.msg))


def fetch_raw(ticker: str, start: pd.Timestamp, end: pd.Timestamp, *,
              timeout: float = DOWNLOAD_TIMEOUT) -> pd.DataFrame:
    """Really call ``yfinance.download`` for one ticker, ``start``..``end`` inclusive.

    Returns yfinance's frame as is (MultiIndex ``(Price, Ticker)`` columns, tz-aware or
    naive date index, ``auto_adjust=False``: Open/High/Low/Close/Adj Close/Volume).

    Raises
    ------
    SourceUnavailableError
        yfinance raised, or logged a network failure (DNS, connection, timeout).
    EmptyDataError
        Yahoo answered but returned no rows (unknown/delisted symbol, empty range).
    """
    import yfinance as yf

    handler = _Collect()
    logger = logging.getLogger("yfinance")
    logger.addHandler(handler)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # yfinance's own pandas deprecation noise
            frame = yf.download(
                ticker, start=start.strftime("%Y-%m-%d"),
                end=(end + pd.Timedelta(days=1)).strftime("%Y-%m-%d"),
                auto_adjust=False, actions=False, progress=False, threads=False,
                timeout=timeout, multi_level_index=True,
            )
    except Exception as exc:  # yfinance raises many types (curl, JSON, KeyError ...)
        raise SourceUnavailableError(
            f"yfinance failed for {ticker} {start.date()}..{end.date()}: {type(exc).__name__}: {exc}; "
            "use source='snapshot' offline"
        ) from exc
    finally:
        logger.removeHandler(handler)
    if frame is None or frame.empty or frame.dropna(how="all").empty:
        text = " | ".join(handler.messages)
        if any(m in text.lower() for m in _NETWORK_MARKERS) or not probe().ok:
            raise SourceUnavailableError(
                f"yfinance could not reach Yahoo for {ticker}: {text[:400]}; use source='snapshot' offline"
            )
        raise EmptyDataError(
            f"yfinance returned an empty frame for {ticker} {start.date()}..{end.date()} "
            f"(wrong or delisted symbol, or no sessions in the range){': ' + text[:300] if text else ''}"
        )
    return frame


def normalise(frame: pd.DataFrame, ticker: str) -> pd.DataFrame:
    """Turn a yfinance frame into the package's tidy shape (split+dividend adjusted).

    Accepts ``yf.download`` output (MultiIndex ``(Price, Ticker)`` or ``(Ticker, Price)``
    columns) or single-level columns (``Ticker.history`` / ``multi_level_index=False``),
    with ``auto_adjust=False`` (``Adj Close`` present: OHLC are scaled by
    ``Adj Close / Close`` and ``close_raw = Close``) or ``auto_adjust=True`` (no
    ``Adj Close``: OHLC kept, ``close_raw`` NaN). A tz-aware index is converted to
    America/New_York and reduced to the tz-naive session date.

    Raises
    ------
    EmptyDataError
        No usable rows.
    MalformedDataError
        The frame lacks Close, carries other tickers only, or holds impossible prices
        (:func:`research.data.validate.price_problems`).
    """
    if frame is None or frame.empty:
        raise EmptyDataError(f"yfinance returned an empty frame for {ticker}")
    df = frame
    if isinstance(df.columns, pd.MultiIndex):
        level = next((i for i in range(df.columns.nlevels)
                      if ticker in df.columns.get_level_values(i)), None)
        if level is None:
            raise MalformedDataError(
                f"yfinance frame has no columns for {ticker} (has {sorted(set(map(str, df.columns.get_level_values(-1))))})"
            )
        df = df.xs(ticker, axis=1, level=level)
    cols = {str(c).strip().lower(): c for c in df.columns}
    if "close" not in cols:
        raise MalformedDataError(f"yfinance frame for {ticker} has no Close column (columns {list(df.columns)})")

    def col(name: str) -> np.ndarray:
        c = cols.get(name)
        return df[c].to_numpy(dtype="float64", na_value=np.nan) if c is not None else np.full(len(df), np.nan)

    idx = pd.DatetimeIndex(df.index)
    if idx.tz is not None:
        idx = idx.tz_convert("America/New_York").tz_localize(None)
    dates = idx.normalize().as_unit("ns")
    close = col("close")
    if "adj close" in cols:
        ratio = col("adj close") / close
        close_raw = close
        o, h, l, c = col("open") * ratio, col("high") * ratio, col("low") * ratio, col("adj close")
    else:
        close_raw = np.full(len(df), np.nan)
        o, h, l, c = col("open"), col("high"), col("low"), close
    out = pd.DataFrame({
        "date": dates, "ticker": ticker, "open": o, "high": h, "low": l, "close": c,
        "close_raw": close_raw, "volume": col("volume"),
    })
    out = out[np.isfinite(out["close"].to_numpy())]
    out = out[out["date"].dt.day_of_week < 5]
    out = out.drop_duplicates("date", keep="last").sort_values("date").reset_index(drop=True)
    if out.empty:
        raise EmptyDataError(f"yfinance frame for {ticker} has no rows with a close")
    out["ticker"] = out["ticker"].astype("str")
    problems = price_problems(out, ticker=ticker, allowed_jumps=_allowed_jumps())
    if problems:
        raise MalformedDataError(
            f"yfinance returned impossible prices for {ticker} (not cached, not used): " + "; ".join(problems))
    return out[list(COLUMNS)]


# ----------------------------------------------------------------------------- cache
def cache_path(ticker: str, cache: Path | str | None = None) -> Path:
    """Parquet file caching ``ticker``."""
    base = Path(cache) if cache is not None else paths.cache_dir()
    safe = "".join(ch if ch.isalnum() or ch in "-_.^=" else "_" for ch in ticker)
    return base / f"{safe}.parquet"


def _allowed_jumps() -> dict[tuple[str, str], str]:
    """The data directory's ``allowed_jumps.csv`` (see :mod:`research.data.validate`)."""
    return read_allowed_jumps(paths.data_dir() / paths.ALLOWED_JUMPS_FILE)


def _usable_cache_path(ticker: str, cache: Path | str | None) -> Path:
    """:func:`cache_path`, refused in one line when the folder is a file or the file a folder."""
    p = cache_path(ticker, cache)
    how = ("pass a cache directory (created if missing)" if cache is not None else
           "point RESEARCH_CACHE_DIR at a directory (created if missing) or unset it")
    paths.require_directory(p.parent, "the yfinance cache folder", how)
    paths.require_file_slot(p, "the yfinance cache file", "remove it (the ticker is downloaded again)")
    return p


class CacheWarning(UserWarning):
    """A yfinance cache file was rejected (unreadable or impossible prices) and not used."""


def read_cache(ticker: str, cache: Path | str | None = None) -> pd.DataFrame | None:
    """The cached tidy frame of ``ticker``, or None if absent, unreadable or impossible.

    A file that is not a possible price history of ``ticker`` (another ticker's rows,
    text-typed prices, dates that are not dates, ... see
    :func:`research.data.validate.price_problems`) is never used: a :class:`CacheWarning`
    names it and the problem, and the caller downloads again.
    """
    p = _usable_cache_path(ticker, cache)
    if not p.is_file():
        return None
    try:
        df = pq.read_table(p).to_pandas()
    except (pa.ArrowInvalid, OSError) as exc:
        problems = [f"not readable parquet ({exc})"]
    else:
        problems = ([f"columns {list(df.columns)} != {list(COLUMNS)}"] if list(df.columns) != list(COLUMNS)
                    else price_problems(df, ticker=ticker, allowed_jumps=_allowed_jumps()))
    if problems:
        warnings.warn(f"ignoring the yfinance cache file {p} for {ticker}: {'; '.join(problems)}",
                      CacheWarning, stacklevel=2)
        return None
    df["date"] = df["date"].astype("datetime64[ns]")
    return df.sort_values("date").reset_index(drop=True)


def serve_cached(ticker: str, start: pd.Timestamp | None, end: pd.Timestamp | None,
                 cache: Path | str | None = None) -> pd.DataFrame | None:
    """``ticker``'s rows ``start``..``end`` from a valid cache file that covers the whole
    range (the offline path; no download), else None. ``end=None`` means today."""
    start = start if start is not None else DEFAULT_START
    end = end if end is not None else pd.Timestamp.today().normalize()
    cached = read_cache(ticker, cache)
    if cached is None or cached["date"].iloc[0] > start or cached["date"].iloc[-1] < end:
        return None
    out = cached[(cached["date"] >= start) & (cached["date"] <= end)].reset_index(drop=True)
    return out if not out.empty else None


def write_cache(df: pd.DataFrame, ticker: str, cache: Path | str | None = None) -> Path:
    """Atomically write ``ticker``'s tidy frame to its cache file.

    Raises
    ------
    PathError
        The cache folder is a file or the cache file a folder.
    OSError
        The write failed (read-only, full; names the file): the previous cache file is
        left as it was.
    """
    p = _usable_cache_path(ticker, cache)
    frame = df[list(COLUMNS)].copy()
    for c in FLOAT_COLUMNS:
        frame[c] = frame[c].astype("float64")
    atomic_write_bytes(p, parquet_bytes(frame))  # OSError (read-only, full) names the file
    return p


Fetcher = Callable[[str, pd.Timestamp, pd.Timestamp], pd.DataFrame]


def _same_prices(a: pd.Series, b: pd.Series) -> bool:
    x = np.array([a["close"], a["close_raw"]], dtype="float64")
    y = np.array([b["close"], b["close_raw"]], dtype="float64")
    both = np.isfinite(x) & np.isfinite(y)
    return bool(np.allclose(x[both], y[both], rtol=1e-6, atol=0.0)) and bool((np.isfinite(x) == np.isfinite(y)).all())


def load_ticker(ticker: str, start: pd.Timestamp | None, end: pd.Timestamp | None, *,
                cache: Path | str | None = None, fetch: Fetcher | None = None) -> pd.DataFrame:
    """One ticker from yfinance through the cache, ``start``..``end`` inclusive.

    Parameters
    ----------
    ticker : Yahoo symbol.
    start, end : inclusive bounds (None: ``DEFAULT_START`` / today).
    cache : cache directory (default :func:`paths.cache_dir`).
    fetch : function ``(ticker, start, end) -> yfinance-shaped frame``; default the real
        :func:`fetch_raw`. (Tests inject yfinance-shaped frames to check the cache logic.)

    Raises
    ------
    SourceUnavailableError, EmptyDataError
        From the download (see :func:`fetch_raw`).
    """
    fetch = fetch or fetch_raw
    start = start if start is not None else DEFAULT_START
    end = end if end is not None else pd.Timestamp.today().normalize()
    cached = read_cache(ticker, cache)
    if cached is not None and cached["date"].iloc[0] <= start and cached["date"].iloc[-1] >= end:
        merged = cached
    elif cached is not None and cached["date"].iloc[0] <= start:
        last = cached["date"].iloc[-1]
        try:
            new = normalise(fetch(ticker, last, end), ticker)  # overlap: the last cached row
        except EmptyDataError:  # nothing new (e.g. end is a weekend): the cache stands
            new = cached.iloc[:0]
        overlap = new[new["date"] == last]
        if new.empty:
            merged = cached
        elif not overlap.empty and not _same_prices(overlap.iloc[0], cached.iloc[-1]):
            # Yahoo re-based its history (dividend/split): refresh the whole cached range.
            merged = normalise(fetch(ticker, cached["date"].iloc[0], end), ticker)
        else:
            merged = (pd.concat([cached, new], ignore_index=True)
                      .drop_duplicates("date", keep="last").sort_values("date").reset_index(drop=True))
        if merged is not cached:
            write_cache(merged, ticker, cache)
    else:
        lo = start if cached is None else min(start, cached["date"].iloc[0])
        hi = end if cached is None else max(end, cached["date"].iloc[-1])
        merged = normalise(fetch(ticker, lo, hi), ticker)
        write_cache(merged, ticker, cache)
    out = merged[(merged["date"] >= start) & (merged["date"] <= end)].reset_index(drop=True)
    if out.empty:
        raise EmptyDataError(
            f"yfinance has no rows for {ticker} in {start.date()}..{end.date()} "
            f"(it has {merged['date'].iloc[0].date()}..{merged['date'].iloc[-1].date()})"
        )
    return out


__all__ = ["CacheWarning", "Reachability", "cache_path", "fetch_raw", "load_ticker", "normalise", "probe",
           "read_cache", "serve_cached", "write_cache"]
