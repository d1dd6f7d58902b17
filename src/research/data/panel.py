"""Wide price panels and returns. Nothing is ever forward-filled.

A missing price (before a ticker lists, after its series ends, or anywhere a source has
no row) stays NaN, and so does every return that needs it.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from research.errors import DataError

_FIELDS = ("open", "high", "low", "close", "close_raw", "volume")


def close_panel(prices: pd.DataFrame, field: str = "close") -> pd.DataFrame:
    """Pivot a tidy :func:`load_prices` frame to a wide panel.

    Parameters
    ----------
    prices : tidy frame with ``date``, ``ticker`` and ``field`` columns.
    field : which column to spread (default ``"close"``: split+dividend adjusted close).

    Returns
    -------
    pandas.DataFrame
        Index: sorted ``DatetimeIndex`` named ``"date"`` (the union of the frame's
        sessions); columns: tickers in order of first appearance. NaN where a ticker has
        no row (outside its coverage); never filled.
    """
    if field not in _FIELDS:
        raise DataError(f"field {field!r} is not one of {_FIELDS}")
    missing = [c for c in ("date", "ticker", field) if c not in prices.columns]
    if missing:
        raise DataError(f"prices frame lacks column(s) {missing}; pass the output of load_prices()")
    order = list(dict.fromkeys(prices["ticker"].tolist()))
    wide = prices.pivot(index="date", columns="ticker", values=field)
    wide = wide.reindex(columns=order).sort_index()
    wide.index = pd.DatetimeIndex(wide.index, name="date")
    wide.columns = pd.Index([str(c) for c in wide.columns], name="ticker")
    return wide.astype("float64")


def returns(panel: pd.DataFrame, kind: Literal["simple", "log"] = "simple", *, periods: int = 1) -> pd.DataFrame:
    """Returns of a wide price panel over ``periods`` sessions (default 1: daily).

    Parameters
    ----------
    panel : dates x tickers prices (e.g. from :func:`close_panel`).
    kind : ``"simple"``: ``P_t / P_{t-k} - 1``; ``"log"``: ``ln(P_t / P_{t-k})``.
    periods : ``k``, the horizon in sessions (rows of the panel), e.g. 21 for a
        rolling trading month.

    Returns
    -------
    pandas.DataFrame
        Same index and columns; the first ``k`` rows, and any row whose own or k-th
        previous price is NaN, are NaN (no forward fill: a gap never becomes a multi-day
        return).
    """
    if kind not in ("simple", "log"):
        raise DataError(f"kind {kind!r} must be 'simple' or 'log'")
    if isinstance(periods, bool) or not isinstance(periods, (int, np.integer)) or periods < 1:
        raise DataError(f"periods={periods!r} must be a positive whole number of sessions")
    p = panel.astype("float64")
    ratio = p / p.shift(int(periods))
    out = ratio - 1.0 if kind == "simple" else np.log(ratio)
    return out


__all__ = ["close_panel", "returns"]
