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
  an unadjusted split does);
* no close jumps implausibly (:func:`jump_problems`): a move beyond the ticker's own
  plausibility bound that **reverts** within :data:`REVERT_SESSIONS` sessions (a bad tick
  or a mis-scaled stretch), or that **steps** the level by a common split ratio
  (:data:`SPLIT_RATIOS`: a split the source did not adjust for), is refused unless the
  day's volume spiked (real news trades; a data error does not; only for jumps up to
  :data:`VOLUME_EXCUSES`) or the (ticker, date) is
  listed in an ``allowed_jumps.csv`` file (:func:`read_allowed_jumps`).

The bound is ``5 x`` the ticker's 99.9th-percentile absolute daily log move, estimated
robustly from the median absolute move (normal quantiles: ``q99.9 = 4.88 x median``, so
one bad row cannot raise the bound that should catch it), and never below
:data:`MIN_BOUND`. A genuine jump (a +50% day on a government deal, a quantum small cap
doubling) neither reverts nor lands on an exact split ratio, so it passes.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Collection
from pathlib import Path

import numpy as np
import pandas as pd

from research.data.calendar import sessions
from research.errors import CalendarError, DateRangeError, MalformedDataError, PathError

__all__ = ["ALLOWED_JUMPS_HEADER", "MAX_DAILY_RATIO", "MAX_PRICE", "SPLIT_RATIOS", "jump_problems",
           "price_problems", "read_allowed_jumps"]

#: Highest plausible share price in dollars (the dearest US share trades below 1e6).
MAX_PRICE = 1e7
#: Largest plausible close-to-close factor in one session on split-adjusted prices.
MAX_DAILY_RATIO = 100.0
_EXAMPLES = 3
_REL_TOL = 1e-9

#: Share ratios of common splits and reverse splits (k-for-1 and 1-for-k). 3-for-2 is
#: left out: +50% is also the size of a genuine big day.
SPLIT_RATIOS: tuple[int, ...] = (2, 3, 4, 5, 8, 10, 15, 20, 25, 30, 50)
#: The bound is this many times the ticker's robust 99.9th-percentile absolute daily log move.
BOUND_MULTIPLE = 5.0
#: 99.9th percentile of |N(0, s)| over its median: z(0.9995) / z(0.75).
_Q999_PER_MEDIAN = 3.2905 / 0.6745
#: The bound (absolute daily log move) is never below this (~ +28% / -22%).
MIN_BOUND = 0.25
#: With fewer daily moves than this the ticker's own scale is unknown; the bound is
#: then :data:`FALLBACK_BOUND` (~ x2.7).
MIN_MOVES = 20
FALLBACK_BOUND = 1.0
#: A jump that comes back within this many sessions is a spike.
REVERT_SESSIONS = 5
#: "Comes back": to within this fraction of the jump (in log terms) of the level before it.
REVERT_FRACTION = 0.25
#: A split step moves the level: compared over this many sessions either side.
LEVEL_SESSIONS = 5
#: A day's volume is a spike when at least this many times the median volume of the
#: :data:`VOLUME_WINDOW` sessions before the jump and of those after it.
VOLUME_SPIKE = 3.0
VOLUME_WINDOW = 20
#: A volume spike excuses a jump of up to this factor either way, no larger one (a x10
#: close is a bad print or a missed split whatever traded that day).
VOLUME_EXCUSES = 5.0
_MAX_JUMP_LINES = 5
ALLOWED_JUMPS_HEADER = ("ticker", "date", "reason")


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


def read_allowed_jumps(path: Path | str) -> dict[tuple[str, str], str]:
    """The (ticker, ``YYYY-MM-DD``) -> reason entries of an ``allowed_jumps.csv`` file.

    The file has the header ``ticker,date,reason``; every row names one session whose
    close jump is real although it reverts or equals a split ratio, and why (the reason
    must not be empty). A missing file is an empty list.

    Raises
    ------
    MalformedDataError
        The file lacks the header, or a row has an empty ticker/reason or a bad date
        (the message names file and row).
    PathError
        ``path`` is a directory.
    """
    path = Path(path)
    if path.is_dir():
        raise PathError(f"{path} is a directory, not an allowed-jumps CSV file; remove it or put a "
                        f"file with the header {','.join(ALLOWED_JUMPS_HEADER)} there")
    if not path.is_file():
        return {}
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    if not rows or [c.strip() for c in rows[0]] != list(ALLOWED_JUMPS_HEADER):
        raise MalformedDataError(f"{path}: the first line must be {','.join(ALLOWED_JUMPS_HEADER)}")
    out: dict[tuple[str, str], str] = {}
    for n, row in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in row):
            continue
        t, d, reason = ([c.strip() for c in row] + ["", "", ""])[:3]
        day = pd.to_datetime(d, format="%Y-%m-%d", errors="coerce")
        if not t or pd.isna(day) or not reason or len(row) > 3:
            raise MalformedDataError(
                f"{path} row {n}: expected ticker,date(YYYY-MM-DD),reason (quote a reason holding "
                f"commas), got {','.join(row)!r}; fix that row")
        out[(t.upper(), day.date().isoformat())] = reason
    return out


def _median_moves(tick: np.ndarray, a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per move: its ticker's median absolute log move and that ticker's count of moves."""
    s = pd.Series(a)
    g = s.groupby(pd.factorize(tick)[0], sort=False)
    return g.transform("median").to_numpy(), g.transform("count").to_numpy()


def _volume_spike(v: np.ndarray, tick: np.ndarray, at: int, after_from: int) -> bool:
    """Is ``v[at]`` >= VOLUME_SPIKE x the median volume before ``at`` and from ``after_from`` on?"""
    if not np.isfinite(v[at]):
        return False
    lo = at
    while lo > 0 and at - lo < VOLUME_WINDOW and tick[lo - 1] == tick[at]:
        lo -= 1
    hi = after_from
    while hi < len(v) and hi - after_from < VOLUME_WINDOW and tick[hi] == tick[at]:
        hi += 1
    ref = [np.nanmedian(w) for w in (v[lo:at], v[after_from:hi]) if np.isfinite(w).any()]
    return bool(ref) and v[at] >= VOLUME_SPIKE * max(ref) and max(ref) > 0


def _near_split(lc: np.ndarray, tick: np.ndarray, p: int, med: float) -> int | None:
    """The split ratio ``k`` that the close steps by at row ``p``, else None.

    Both the one-session move and the change of level (median log close of the
    :data:`LEVEL_SESSIONS` sessions from ``p`` on over that of those before it) must be
    ``log k`` within ~6 median daily moves (a split day has its own move) (twice that for the level): a missed split
    moves the whole level, a run-up that collapses onto a round ratio does not.
    """
    tol = min(0.15, max(0.03, 6.0 * med)) if np.isfinite(med) else 0.05
    move = lc[p] - lc[p - 1]
    lo, hi = p, p
    while lo > 0 and p - lo < LEVEL_SESSIONS and tick[lo - 1] == tick[p]:
        lo -= 1
    while hi < len(lc) and hi - p < LEVEL_SESSIONS and tick[hi] == tick[p]:
        hi += 1
    level = np.nanmedian(lc[p:hi]) - np.nanmedian(lc[lo:p])
    for k in SPLIT_RATIOS:
        if abs(abs(move) - math.log(k)) <= tol and abs(abs(level) - math.log(k)) <= 2 * tol \
                and np.sign(level) == np.sign(move):
            return k
    return None


def jump_problems(df: pd.DataFrame, allowed: Collection[tuple[str, str]] = ()) -> list[str]:
    """Implausible close jumps in a tidy price frame (see the module docstring).

    Parameters
    ----------
    df
        Tidy price frame with finite numeric ``close`` (other problems are found by
        :func:`price_problems`; non-positive closes are skipped here).
    allowed
        (ticker, ``YYYY-MM-DD``) sessions whose jump is known to be real
        (:func:`read_allowed_jumps`).

    Returns
    -------
    list of str
        One line per refused jump: ticker, date, the closes before and after, the ratio,
        what it looks like and the fix.
    """
    d = df.reset_index(drop=True)
    dates = pd.DatetimeIndex(d["date"]).normalize()
    order = np.lexsort((dates.asi8, d["ticker"].to_numpy(dtype=str)))
    tick = d["ticker"].to_numpy(dtype=str)[order]
    day = dates[order]
    c = d["close"].to_numpy(dtype="float64")[order]
    v = d["volume"].to_numpy(dtype="float64")[order]
    with np.errstate(divide="ignore", invalid="ignore"):
        lc = np.where(np.isfinite(c) & (c > 0), np.log(c), np.nan)
    r = lc[1:] - lc[:-1]
    r[tick[1:] != tick[:-1]] = np.nan
    a = np.abs(r)
    med, n = _median_moves(tick[1:], a)
    bound = np.where(n >= MIN_MOVES, np.maximum(MIN_BOUND, BOUND_MULTIPLE * _Q999_PER_MEDIAN * med),
                     FALLBACK_BOUND)
    with np.errstate(invalid="ignore"):
        cand = np.flatnonzero(a > bound)
    allowed_set = {(str(t).upper(), str(x)) for t, x in allowed}
    lines: list[str] = []
    back_legs: set[int] = set()
    for i in cand:
        if i in back_legs:
            continue
        t, p = tick[i + 1], i + 1  # the move from row i to row p
        ratio = math.exp(r[i])
        back = None
        for j in range(1, REVERT_SESSIONS + 1):
            k = i + j
            if k >= len(r) or not np.isfinite(r[k]):
                break
            if a[k] > bound[k] and np.sign(r[k]) != np.sign(r[i]) and \
                    abs(lc[k + 1] - lc[i]) <= REVERT_FRACTION * a[i]:
                back = k
                break
        split = None if back is not None else _near_split(lc, tick, p, med[i])
        if back is None and split is None:
            continue
        if back is not None:
            back_legs.add(back)
        dates_named = {day[p].date().isoformat()} | ({day[back + 1].date().isoformat()} if back is not None else set())
        if any((t, x) in allowed_set for x in dates_named):
            continue
        if a[i] <= math.log(VOLUME_EXCUSES) and _volume_spike(v, tick, p, (back + 1) if back is not None else p + 1):
            continue
        came_back = None if back is None else (day[back + 1], c[back + 1], back + 1 - p)
        lines.append(_jump_line(t, day[i], day[p], c[i], c[p], ratio, bound[i], came_back, split))
    if len(lines) > _MAX_JUMP_LINES:
        lines = lines[:_MAX_JUMP_LINES] + [f"... and {len(lines) - _MAX_JUMP_LINES} more implausible jump(s)"]
    return lines


def _jump_line(t: str, d0: pd.Timestamp, d1: pd.Timestamp, c0: float, c1: float, ratio: float,
               bound: float, back: tuple[pd.Timestamp, float, int] | None, split: int | None) -> str:
    when = d1.date().isoformat()
    head = (f"{t} {when}: close {c0:.6g} ({d0.date()}) -> {c1:.6g}, x{ratio:.4g} in one session, beyond "
            f"{t}'s plausibility bound x{math.exp(bound):.3g} (5x its robust 99.9th-percentile daily move) "
            "with no volume spike")
    real = f"if the move is real, list `{t},{when},<reason>` in allowed_jumps.csv"
    if back is not None:
        bday, bclose, span = back
        what = "a one-session spike" if span == 1 else f"a {span}-session level shift"
        return (f"{head}, and back to {bclose:.6g} on {bday.date()}: {what} that reverts (a bad "
                f"print); fix the close(s) in the source, or {real}")
    if ratio < 1:
        shown, kind = f"1/{split}", f"a {split}-for-1 split"
        fix = f"divide every close before {when} by {split}"
    else:
        shown, kind = f"{split}", f"a 1-for-{split} reverse split"
        fix = f"multiply every close before {when} by {split}"
    return (f"{head}, and the level stays: a step by the split ratio {shown} ({kind} the source did "
            f"not adjust for); {fix} (or re-download split-adjusted prices), or {real}")


def price_problems(df: pd.DataFrame, *, ticker: str | None = None,
                   allowed_jumps: Collection[tuple[str, str]] = ()) -> list[str]:
    """Every way ``df`` is not a possible daily price history; empty when it is.

    Parameters
    ----------
    df
        Tidy price frame (``date, ticker, open, high, low, close, close_raw, volume``);
        close-only tickers have NaN open/high/low/volume.
    ticker
        When given, every row must be this ticker's.
    allowed_jumps
        (ticker, ``YYYY-MM-DD``) sessions whose implausible-looking jump is real
        (:func:`read_allowed_jumps`); see :func:`jump_problems`.

    Returns
    -------
    list of str
        One line per kind of problem, naming up to three example rows (ticker and date).
    """
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
    elif not problems:
        problems.extend(jump_problems(df, allowed_jumps))
    return problems
