"""Impossible prices: the one check every price frame passes before it is used or stored.

:func:`price_problems` is applied to the snapshot when it is built (nothing is written
if it fails) and when it is loaded, to every yfinance download before it is cached, and
to every cached file before it is served. A tidy price frame (columns
``date, ticker, open, high, low, close, close_raw, volume``) is possible when:

* ``date`` holds dates and ``open ... volume`` hold numbers (not text);
* every row belongs to the expected ticker (a cache file of one ticker holding another's
  rows is rejected);
* every close is a finite number > 0; open/high/low/close_raw are > 0 and finite where
  present (NaN = not published); volume is >= 0 where present;
* ``low <= open, close <= high`` where the bar is published;
* every date is an XNYS session (no weekend, no exchange holiday), none repeated;
* the close is below :data:`MAX_PRICE` and no session moves it by more than
  :data:`MAX_DAILY_RATIO` either way (split-adjusted prices do not; a value like 1e300 or
  an unadjusted split does).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["MAX_DAILY_RATIO", "MAX_PRICE", "price_problems"]

#: Highest plausible share price in dollars (the dearest US share trades below 1e6).
MAX_PRICE = 1e7
#: Largest plausible close-to-close factor in one session on split-adjusted prices.
MAX_DAILY_RATIO = 100.0
_EXAMPLES = 3
_REL_TOL = 1e-9


def _rows(df: pd.DataFrame, mask: np.ndarray | pd.Series) -> str:
    m = np.asarray(mask, dtype=bool)
    sub = df.loc[m, ["ticker", "date"]].head(_EXAMPLES)
    where = ", ".join(f"{t} {pd.Timestamp(d).date()}" for t, d in zip(sub["ticker"], sub["date"]))
    more = f" (+{int(m.sum()) - _EXAMPLES} more)" if m.sum() > _EXAMPLES else ""
    return where + more


def _types(df: pd.DataFrame, float_columns: tuple[str, ...]) -> list[str]:
    problems = []
    if not pd.api.types.is_datetime64_any_dtype(df["date"]):
        bad = pd.to_datetime(df["date"], errors="coerce", format="mixed").isna()
        example = f", e.g. {df['date'][bad].iloc[0]!r}" if bad.any() else ""
        problems.append(f"dates are stored as {df['date'].dtype}, not dates{example}")
    for col in float_columns:
        if not pd.api.types.is_numeric_dtype(df[col]) or pd.api.types.is_bool_dtype(df[col]):
            problems.append(f"{col} is stored as {df[col].dtype} (text?), not numbers")
    return problems


def price_problems(df: pd.DataFrame, *, ticker: str | None = None) -> list[str]:
    """Every way ``df`` is not a possible daily price history; empty when it is.

    Parameters
    ----------
    df
        Tidy price frame (``date, ticker, open, high, low, close, close_raw, volume``);
        close-only tickers have NaN open/high/low/volume.
    ticker
        When given, every row must be this ticker's.

    Returns
    -------
    list of str
        One line per kind of problem, naming up to three example rows (ticker and date).
    """
    from research.data.calendar import sessions
    from research.errors import CalendarError, DateRangeError

    cols = ("open", "high", "low", "close", "close_raw", "volume")
    missing = [c for c in ("date", "ticker", *cols) if c not in df.columns]
    if missing:
        return [f"columns {missing} are missing"]
    if df.empty:
        return ["no rows"]
    problems = _types(df, cols)
    if problems:
        return problems
    df = df.reset_index(drop=True)
    if ticker is not None and (df["ticker"] != ticker).any():
        others = sorted(set(map(str, df["ticker"])) - {ticker})
        problems.append(f"rows of other tickers {others[:5]} in the data of {ticker}")
    v = {c: df[c].to_numpy(dtype="float64") for c in cols}
    close = v["close"]
    if (~np.isfinite(close)).any():
        problems.append(f"close missing or infinite: {_rows(df, ~np.isfinite(close))}")
    with np.errstate(invalid="ignore"):
        for c in ("open", "high", "low", "close", "close_raw"):
            bad = np.isinf(v[c]) | (v[c] <= 0)
            if bad.any():
                problems.append(f"{c} is zero, negative or infinite: {_rows(df, bad)}")
        vol = v["volume"]
        if (np.isinf(vol) | (vol < 0)).any():
            problems.append(f"volume is negative or infinite: {_rows(df, np.isinf(vol) | (vol < 0))}")
        hi, lo = v["high"] * (1 + _REL_TOL), v["low"] * (1 - _REL_TOL)
        bar = (lo > hi) | (v["open"] > hi) | (close > hi) | (v["open"] < lo) | (close < lo)
        if bar.any():
            problems.append(f"high/low do not bracket open/close (e.g. high < low): {_rows(df, bar)}")
        if (close > MAX_PRICE).any():
            problems.append(f"close above {MAX_PRICE:g} dollars: {_rows(df, close > MAX_PRICE)}")
    dates = pd.DatetimeIndex(df["date"]).normalize()
    dup = df.assign(date=dates).duplicated(["ticker", "date"]).to_numpy()
    if dup.any():
        problems.append(f"repeated dates: {_rows(df, dup)}")
    try:
        open_days = sessions(dates.min(), dates.max())
    except (CalendarError, DateRangeError) as exc:  # a date outside the calendar's range
        problems.append(f"dates outside the exchange calendar ({exc})")
    else:
        closed = ~dates.isin(open_days)
        if closed.any():
            problems.append(f"rows on days the exchange was closed (weekend or holiday): {_rows(df, closed)}")
    order = np.lexsort((dates.asi8, df["ticker"].to_numpy(dtype=str)))
    c_sorted = close[order]
    same = df["ticker"].to_numpy(dtype=str)[order]
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = c_sorted[1:] / c_sorted[:-1]
    jump = (same[1:] == same[:-1]) & np.isfinite(ratio) & (ratio > 0) & (
        (ratio > MAX_DAILY_RATIO) | (ratio < 1 / MAX_DAILY_RATIO))
    if jump.any():
        at = np.zeros(len(df), dtype=bool)
        at[order[1:][jump]] = True
        problems.append(f"close moves more than {MAX_DAILY_RATIO:g}x in one session: {_rows(df, at)}")
    return problems
