"""What happened next: the article's baskets and named stocks after its as-of date.

For each series (a named basket, equal-weighted and bought at the as-of close, or one
ticker) and each horizon (+5, +21, +63, +125 sessions after the as-of close, and the end
of the data), :func:`followup` computes from adjusted closes:

* ``return``        simple return from the as-of close to the horizon's close;
* ``excess``        ``return`` minus the market proxy's return over the same sessions;
* ``max_drawdown``  the largest fall from a running peak (the as-of close included) up to
                    the horizon, as a negative fraction;
* ``volatility``    standard deviation of the daily simple returns after the as-of close
                    up to the horizon, annualised with sqrt(252) (NaN with fewer than 2).

A basket is a buy-and-hold portfolio of equal amounts in each member at the as-of close
(value = mean of the members' closes relative to their as-of close); members without a
close at the as-of date are left out (named in ``notes``), and the basket ends on the
last session every remaining member has a close. A horizon a series' data does not reach
has NaN numbers and ``reached=False``. Sessions are the series' own trading days (the
snapshot holds XNYS sessions only). Units: fractions (0.1 = +10%).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from research.data.panel import close_panel
from research.data.sources import load_prices
from research.errors import DataError

__all__ = ["HORIZONS", "FollowUp", "followup", "series_stats"]

#: Horizons in sessions after the as-of close ("end" = the last session of the data).
HORIZONS: tuple[int, ...] = (5, 21, 63, 125)
_ANNUAL = math.sqrt(252.0)


@dataclass(frozen=True)
class FollowUp:
    """Result of :func:`followup`.

    Attributes
    ----------
    table : one row per (kind, name, horizon): ``kind`` ("basket"/"ticker"), ``name``,
        ``horizon`` ("+5", ..., "end"), ``sessions``, ``start``, ``end`` (ISO dates),
        ``reached``, ``return``, ``market_return``, ``excess``, ``max_drawdown``,
        ``volatility``.
    values : series indexed to 100 at the as-of close (sessions x names): baskets
        (``"basket: NAME"``), tickers, and the market proxy last.
    as_of : the last session on or before the requested as-of date (ISO).
    market : the market proxy.
    members : basket name -> members used.
    notes : members left out, series that end early.
    """

    table: pd.DataFrame
    values: pd.DataFrame
    as_of: str
    market: str
    members: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    def to_records(self) -> list[dict[str, Any]]:
        """The table as JSON-ready records (NaN -> None, floats rounded to 6 decimals)."""
        out = []
        for r in self.table.to_dict(orient="records"):
            rec = {}
            for k, v in r.items():
                if isinstance(v, (float, np.floating)):
                    v = None if not math.isfinite(float(v)) else round(float(v), 6)
                elif isinstance(v, (np.integer,)):
                    v = int(v)
                elif isinstance(v, np.bool_):
                    v = bool(v)
                rec[k] = v
            out.append(rec)
        return out


def series_stats(value: pd.Series, market: pd.Series, k: int | None) -> dict[str, Any]:
    """Numbers of one value series (starting at the as-of close) ``k`` sessions on
    (None: to its last value), against ``market`` (same index)."""
    v = value.dropna()
    last = len(v) - 1 if k is None else k
    if last < 1 or last > len(v) - 1:
        return {"sessions": k if k is not None else 0, "reached": False, "end": None,
                "return": math.nan, "market_return": math.nan, "excess": math.nan,
                "max_drawdown": math.nan, "volatility": math.nan}
    path = v.iloc[: last + 1]
    ret = float(path.iloc[-1] / path.iloc[0] - 1.0)
    m = market.reindex(path.index)
    mret = float(m.iloc[-1] / m.iloc[0] - 1.0) if m.notna().iloc[[0, -1]].all() else math.nan
    dd = float((path / path.cummax() - 1.0).min())
    daily = path.pct_change().iloc[1:]
    vol = float(daily.std(ddof=1) * _ANNUAL) if len(daily) >= 2 else math.nan
    return {"sessions": last, "reached": True, "end": path.index[-1].strftime("%Y-%m-%d"),
            "return": ret, "market_return": mret, "excess": ret - mret if math.isfinite(mret) else math.nan,
            "max_drawdown": dd, "volatility": vol}


def followup(
    baskets: Mapping[str, Sequence[str]],
    tickers: Sequence[str],
    as_of: object,
    *,
    market: str = "SPY",
    source: str = "snapshot",
    horizons: Sequence[int] = HORIZONS,
) -> FollowUp:
    """Follow the baskets and tickers from the ``as_of`` close (see the module docstring).

    Raises
    ------
    research.errors.DataError : unknown ticker, or no close on or before ``as_of``.
    """
    names = sorted({*tickers, *(t for m in baskets.values() for t in m), market})
    start = pd.Timestamp(as_of) - pd.Timedelta(days=10)
    closes = close_panel(load_prices(names, start, None, source=source)).sort_index()
    base_days = closes.index[closes.index <= pd.Timestamp(as_of)]
    if base_days.empty:
        raise DataError(f"no close on or before the as-of date {as_of}; choose a later as_of")
    t0 = base_days[-1]
    closes = closes.loc[t0:]
    notes: list[str] = []
    values: dict[str, pd.Series] = {}
    members: dict[str, tuple[str, ...]] = {}
    for name, mem in baskets.items():
        have = tuple(t for t in mem if t in closes.columns and pd.notna(closes.loc[t0, t]))
        gone = [t for t in mem if t not in have]
        if gone:
            notes.append(f"basket {name}: {', '.join(gone)} left out (no close on {t0.date()})")
        if not have:
            continue
        rel = closes[list(have)] / closes.loc[t0, list(have)]
        common_end = min(rel[t].last_valid_index() for t in have)
        values[f"basket: {name}"] = rel.loc[:common_end].mean(axis=1) * 100.0
        members[name] = have
    for t in tickers:
        if t in closes.columns and pd.notna(closes.loc[t0, t]):
            values[t] = closes[t].loc[: closes[t].last_valid_index()] / closes.loc[t0, t] * 100.0
        else:
            notes.append(f"{t}: no close on {t0.date()}, not followed")
    mkt = closes[market] / closes.loc[t0, market] * 100.0
    rows = []
    ends: dict[str, list[str]] = {}
    for name, v in values.items():
        kind = "basket" if name.startswith("basket: ") else "ticker"
        for k in [*horizons, None]:
            s = series_stats(v, mkt, k)
            rows.append({"kind": kind, "name": name.removeprefix("basket: "), "horizon": f"+{k}" if k else "end",
                         "start": t0.strftime("%Y-%m-%d"), **s})
        ends.setdefault(v.dropna().index[-1].strftime("%Y-%m-%d"), []).append(name)
    if len(ends) > 1:
        notes.append("the data end on different dates: " + "; ".join(
            f"{d}: {', '.join(n)}" for d, n in sorted(ends.items())))
    table = pd.DataFrame(rows, columns=["kind", "name", "horizon", "sessions", "start", "end", "reached",
                                        "return", "market_return", "excess", "max_drawdown", "volatility"])
    values[market] = mkt.loc[: mkt.last_valid_index()]
    return FollowUp(table=table, values=pd.DataFrame(values), as_of=t0.strftime("%Y-%m-%d"), market=market,
                    members=members, notes=tuple(notes))
