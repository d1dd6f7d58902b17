"""Price-path claims ("X rose more than 100% in a month"): rolling and calendar-month returns.

A price claim, not an event: rolling ``horizon``-session simple returns
``P_t / P_{t-horizon} - 1`` (adjusted closes, trading sessions) and calendar-month returns
``P(last session of month) / P(last session of previous month) - 1``, using prices up to
and including the as-of date only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from research.data import close_panel, load_prices, returns
from research.errors import DataError

__all__ = ["RallyResult", "rolling_returns", "calendar_month_return", "rally", "key_names"]


def rolling_returns(closes: pd.DataFrame, horizon: int = 21) -> pd.DataFrame:
    """Rolling simple returns over ``horizon`` sessions: ``P_t / P_{t-horizon} - 1``.

    Parameters
    ----------
    closes : wide panel (sessions x tickers) of adjusted closes.
    horizon : number of trading sessions (default 21, about one calendar month).

    Returns
    -------
    DataFrame of the same shape; NaN where either close is missing (never filled).
    """
    if horizon < 1:
        raise DataError(f"horizon={horizon} must be a positive number of sessions")
    return returns(closes.sort_index(), "simple", periods=horizon)


def calendar_month_return(closes: pd.DataFrame, month: str) -> pd.Series:
    """Calendar-month simple return per ticker: last close of ``month`` over the last
    close of the previous month, minus 1 (NaN if either month has no close).

    Parameters
    ----------
    closes : wide panel of adjusted closes (DatetimeIndex).
    month : ``"YYYY-MM"``.
    """
    period = pd.Period(month, freq="M")
    c = closes.sort_index()
    months = c.index.to_period("M")
    this = c[months == period]
    prev = c[months == period - 1]
    if this.empty or prev.empty:
        raise DataError(
            f"no sessions for {month} or the month before in the price panel "
            f"({c.index.min().date()}..{c.index.max().date()}); widen the date range"
        )
    last_this = this.apply(lambda s: s.dropna().iloc[-1] if s.notna().any() else float("nan"))
    last_prev = prev.apply(lambda s: s.dropna().iloc[-1] if s.notna().any() else float("nan"))
    return (last_this / last_prev - 1.0).astype("float64")


def key_names(horizon: int, month: str) -> tuple[str, str, str]:
    """The key_numbers names: ``max_rolling_<h>d_return``, ``max_rolling_<h>d_end``,
    ``calendar_month_return_<YYYY>_<MM>`` (the last is "" when no month is given)."""
    return (f"max_rolling_{horizon}d_return", f"max_rolling_{horizon}d_end",
            f"calendar_month_return_{month.replace('-', '_')}" if month else "")


@dataclass(frozen=True, eq=False)
class RallyResult:
    """Rolling and calendar-month returns up to the as-of date.

    Attributes
    ----------
    closes : adjusted closes used (sessions x tickers, up to ``as_of``).
    rolling : rolling ``horizon``-session returns (same shape).
    table : one row per ticker: ``max_return`` (max rolling return over the last
        ``lookback_sessions`` sessions up to ``as_of``), ``max_end`` (session it ended on),
        ``max_start`` (its base session), ``min_return``/``min_end``/``min_start`` (the
        same for the deepest fall), ``return_as_of`` (rolling return ending on the
        last session <= as_of), ``month_return`` (calendar ``month``; NaN when no month is given), ``sessions_before_as_of``
        (how many sessions before the last one the max ended).
    horizon, lookback_sessions, month, as_of : the parameters.
    """

    closes: pd.DataFrame
    rolling: pd.DataFrame
    table: pd.DataFrame
    horizon: int
    lookback_sessions: int
    month: str
    as_of: pd.Timestamp


def rally(
    tickers: Sequence[str],
    as_of: str | pd.Timestamp,
    *,
    horizon: int = 21,
    lookback_sessions: int = 30,
    month: str = "",
    source: str = "snapshot",
    history_days: int = 400,
) -> RallyResult:
    """Rolling-return figures for ``tickers`` from prices up to ``as_of``.

    Parameters
    ----------
    tickers : the tickers.
    as_of : last date whose close may be used.
    horizon : rolling window in sessions (default 21).
    lookback_sessions : the maximum is taken over rolling windows ending in the last
        ``lookback_sessions`` sessions up to ``as_of`` (default 30 = "recent weeks").
    month : calendar month (``YYYY-MM``) reported as well (default "": none).
    source : price source for :func:`research.data.load_prices`.
    history_days : calendar days of history loaded before ``as_of`` (for the chart).
    """
    as_of_ts = pd.Timestamp(as_of)
    start = as_of_ts - pd.Timedelta(days=history_days)
    prices = load_prices(list(tickers), start=start, end=as_of_ts, source=source)
    closes = close_panel(prices, "close").loc[:as_of_ts]
    roll = rolling_returns(closes, horizon)
    recent = roll.tail(lookback_sessions)
    if recent.empty:
        raise DataError(f"no sessions up to {as_of_ts.date()} for {list(tickers)}")
    last = roll.index[-1]
    month_ret = (calendar_month_return(closes, month) if month
                 else pd.Series(float("nan"), index=closes.columns))
    rows = []
    for t in closes.columns:
        s = recent[t].dropna()
        if s.empty:
            mx, end, base, lag = float("nan"), pd.NaT, pd.NaT, None
            mn, mn_end, mn_base = float("nan"), pd.NaT, pd.NaT
        else:
            end = s.idxmax()
            mx = float(s.loc[end])
            pos = closes.index.get_loc(end)
            base = closes.index[pos - horizon]
            lag = int(len(roll.index) - 1 - pos)
            mn_end = s.idxmin()
            mn = float(s.loc[mn_end])
            mn_base = closes.index[closes.index.get_loc(mn_end) - horizon]
        rows.append({
            "ticker": t, "max_return": mx, "max_end": end, "max_start": base,
            "return_as_of": float(roll[t].iloc[-1]), "month_return": float(month_ret[t]),
            "sessions_before_as_of": lag, "min_return": mn, "min_end": mn_end, "min_start": mn_base,
        })
    table = pd.DataFrame(rows).set_index("ticker")
    return RallyResult(closes=closes, rolling=roll, table=table, horizon=horizon,
                       lookback_sessions=lookback_sessions, month=month, as_of=last)
