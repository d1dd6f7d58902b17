"""Yahoo-style dividend adjustment of raw (split-adjusted only) prices.

Yahoo Finance's ``Adj Close`` (and yfinance's ``auto_adjust=True`` OHLC) multiply every
price *before* an ex-dividend date by ``1 - D / C_prev``, where ``D`` is the cash dividend
per share (on the current split basis) and ``C_prev`` the raw close of the last session
before the ex-date. Factors of successive ex-dates cumulate multiplicatively, so the
adjusted series is on the basis "as of" the latest ex-date it reflects, and a simple
return across an ex-date equals the total return ``(C_t + D) / C_{t-1} - 1``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from research.errors import MalformedDataError


def dividend_factors(
    dates: pd.DatetimeIndex | np.ndarray,
    close_raw: np.ndarray,
    ex_dates: pd.DatetimeIndex | np.ndarray,
    dividends: np.ndarray,
    *,
    ticker: str = "?",
) -> np.ndarray:
    """Cumulative Yahoo dividend-adjustment factor for each row.

    Parameters
    ----------
    dates : sorted session dates of one ticker (ascending, unique).
    close_raw : raw closes (split-adjusted, not dividend-adjusted) aligned with ``dates``.
    ex_dates, dividends : ex-dividend dates and cash amounts per share (same split basis).
    ticker : used in error messages only.

    Returns
    -------
    numpy.ndarray
        ``factor[r] = prod(1 - D_e / C_prev(e))`` over every ex-date ``e`` later than
        ``dates[r]``; adjusted price = raw price x factor. Ex-dates on/before the first
        row or after the last row have no previous/next row inside the series and are
        ignored (the series is adjusted "as of" its last row).
    """
    d = np.asarray(pd.DatetimeIndex(dates).values)
    c = np.asarray(close_raw, dtype="float64")
    n = d.shape[0]
    ex = np.asarray(pd.DatetimeIndex(ex_dates).values)
    amt = np.asarray(dividends, dtype="float64")
    idx = np.searchsorted(d, ex, side="left")  # rows strictly before the ex-date
    keep = (idx > 0) & (idx < n)
    idx, amt, ex = idx[keep], amt[keep], ex[keep]
    prev = c[idx - 1]
    f = 1.0 - amt / prev
    bad = ~np.isfinite(f) | (f <= 0.0) | (f > 1.0)
    if bad.any():
        j = int(np.flatnonzero(bad)[0])
        raise MalformedDataError(
            f"dividend {amt[j]} for {ticker} ex {pd.Timestamp(ex[j]).date()} gives an "
            f"adjustment factor {f[j]!r} (previous close {prev[j]}); fix dividends.csv"
        )
    g = np.ones(n + 1)
    np.multiply.at(g, idx, f)
    tail = np.cumprod(g[::-1])[::-1]  # tail[j] = prod_{k >= j} g[k]
    return tail[1:]


def adjust_ohlc(frame: pd.DataFrame, dividends: pd.DataFrame, *, ticker: str = "?") -> pd.DataFrame:
    """Dividend-adjust one ticker's raw OHLC (Yahoo ``auto_adjust`` basis).

    Parameters
    ----------
    frame : one ticker's rows sorted by ``date`` with columns open/high/low/close (raw).
    dividends : rows with ``date`` (ex-date) and ``dividend`` for that ticker.

    Returns
    -------
    pandas.DataFrame
        Copy of ``frame`` with open/high/low/close multiplied by the factor and a new
        ``close_raw`` column holding the unadjusted close. Volume is unchanged.
    """
    out = frame.copy()
    fac = dividend_factors(
        out["date"].to_numpy(),
        out["close"].to_numpy(dtype="float64"),
        dividends["date"].to_numpy(),
        dividends["dividend"].to_numpy(dtype="float64"),
        ticker=ticker,
    )
    out["close_raw"] = out["close"].astype("float64")
    for col in ("open", "high", "low", "close"):
        out[col] = out[col].astype("float64") * fac
    return out
