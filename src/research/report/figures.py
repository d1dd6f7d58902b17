"""Plotting functions used by the notebooks. Pure: each returns a new matplotlib Figure.

Figures are built on :class:`matplotlib.figure.Figure` directly (no pyplot state), so a
notebook shows each figure exactly once (as the cell's value) and tests can run headless.
All share one seaborn theme (:data:`STYLE`, :data:`CONTEXT`, :data:`PALETTE`), label their
axes with units, and carry a title that states the finding, generated from the numbers.

Functions
---------
price_paths(closes, events, ...)        prices indexed to 100 with event dates marked
car_paths(result, keys, ...)            CAR over the event window with confidence bands
day0_bars(evidence, ...)                per-ticker abnormal returns with significance marks
ar_heatmap(evidence, ...)               abnormal returns, tickers x events
rolling_return_chart(rolling, ...)      rolling 21-session returns with the +100% line (C8)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import contextmanager

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, PercentFormatter
from scipy import stats as _sps

from research.errors import FigureError

__all__ = ["STYLE", "CONTEXT", "PALETTE", "theme", "price_paths", "car_paths", "day0_bars", "ar_heatmap",
           "rolling_return_chart"]

STYLE = "whitegrid"
CONTEXT = "notebook"
PALETTE = "colorblind"
_POS, _NEG, _GREY = "#1b7837", "#b2182b", "#8c8c8c"


@contextmanager
def theme():
    """The package's seaborn theme as a context (no global side effect)."""
    with sns.axes_style(STYLE), sns.plotting_context(CONTEXT), sns.color_palette(PALETTE):
        yield


def _pct(x: float, digits: int = 1) -> str:
    return "n/a" if not np.isfinite(x) else f"{x:+.{digits}%}"


def _event_dates(events: Mapping[str, object] | pd.DataFrame | pd.Series | None) -> dict[str, pd.Timestamp]:
    if events is None:
        return {}
    if isinstance(events, pd.DataFrame):
        col = "day0" if "day0" in events.columns else events.columns[0]
        return {str(k): pd.Timestamp(v) for k, v in events[col].items()}
    return {str(k): pd.Timestamp(v) for k, v in dict(events).items()}


def price_paths(
    closes: pd.DataFrame,
    events: Mapping[str, object] | pd.DataFrame | None = None,
    *,
    start: object = None,
    end: object = None,
    title: str | None = None,
) -> Figure:
    """Prices indexed to 100 on the first session shown, with event dates marked.

    Parameters
    ----------
    closes : wide panel of adjusted closes (sessions x tickers).
    events : event label -> day-0 date (or a day-0 table with a ``day0`` column).
    start, end : date range shown (default: all rows).
    title : override the generated title ("<best> +x% ... since <base date>").
    """
    c = closes.sort_index().loc[start:end].dropna(axis=1, how="all")
    if c.empty:
        raise FigureError("price_paths: no prices in the requested range")
    base = c.apply(lambda s: s.dropna().iloc[0])
    idx = c / base * 100.0
    last = idx.apply(lambda s: s.dropna().iloc[-1])
    with theme():
        fig = Figure(figsize=(10, 5.2), layout="constrained")
        ax = fig.add_subplot()
        for t in idx.columns:
            ax.plot(idx.index, idx[t], label=f"{t} ({last[t] - 100:+.0f}%)", linewidth=1.6)
        ax.axhline(100, color=_GREY, linewidth=0.8, linestyle=":")
        ylo, yhi = ax.get_ylim()
        for i, (label, d) in enumerate(sorted(_event_dates(events).items(), key=lambda kv: kv[1])):
            if idx.index.min() <= d <= idx.index.max():
                ax.axvline(d, color=_GREY, linewidth=0.9, linestyle="--")
                ax.text(d, yhi - (yhi - ylo) * (0.04 + 0.06 * (i % 4)), " " + label.split("_")[0],
                        fontsize=8, color="#444444", rotation=0, va="top")
        ax.set_xlabel("session date")
        ax.set_ylabel(f"price index (first session {idx.index[0].date()} = 100)")
        ax.legend(loc="upper left", fontsize=8, ncol=2 if idx.shape[1] > 6 else 1, frameon=True)
        best = last.idxmax()
        worst = last.idxmin()
        ax.set_title(title or (f"{best} {last[best] - 100:+.0f}% and {worst} {last[worst] - 100:+.0f}% "
                               f"from {idx.index[0].date()} to {idx.index[-1].date()}"))
        fig.autofmt_xdate()
    return fig


def car_paths(
    result,
    keys: Sequence[str] | None = None,
    *,
    alpha: float = 0.05,
    labels: Mapping[str, str] | None = None,
    title: str | None = None,
) -> Figure:
    """Cumulative abnormal return paths over the event span with confidence bands.

    Parameters
    ----------
    result : an :class:`~research.eventstudy.EventStudyResult` (its ``car_path`` table:
        CAR from the first event day, per relative trading day, with its standard error).
    keys : engine event ids to plot (default: all estimated events, at most 8).
    alpha : the band is ``+/- z_{1-alpha/2} * SE(CAR)`` around zero, with the CAR's
        standard error from the engine (``result.car_path``: the same variance as the CAR
        t-test, estimation error of the expected-return model included).
    labels : event id -> legend label.
    title : override the generated title.
    """
    ev = result.events.set_index("event_id")
    ok = ev.index[ev["status"] == "ok"]
    keys = [k for k in (keys if keys is not None else list(ok)[:8]) if k in ok]
    if not keys:
        raise FigureError("car_paths: none of the requested events was estimated")
    if getattr(result, "car_path", None) is None:
        raise FigureError("car_paths: the result has no car_path table (run it with run_event_study)")
    car = result.car_path["car"].loc[keys]
    se = result.car_path["car_se"].loc[keys]
    days = np.asarray(car.columns, dtype=int)
    z = float(_sps.norm.ppf(1 - alpha / 2))
    with theme():
        fig = Figure(figsize=(9, 5), layout="constrained")
        ax = fig.add_subplot()
        pal = sns.color_palette(PALETTE, len(keys))
        finals = {}
        for colour, key in zip(pal, keys, strict=True):
            y = car.loc[key].to_numpy()
            band = z * se.loc[key].to_numpy()
            lab = (labels or {}).get(key, key.replace("|", " / "))
            ax.plot(days, y, marker="o", markersize=3, color=colour, label=lab)
            ax.fill_between(days, -band, band, color=colour, alpha=0.12, linewidth=0)
            last = y[np.isfinite(y)]
            finals[lab] = last[-1] if last.size else np.nan
        ax.axhline(0, color=_GREY, linewidth=0.8)
        ax.axvline(0, color=_GREY, linewidth=0.8, linestyle="--")
        ax.yaxis.set_major_formatter(PercentFormatter(1.0))
        ax.set_xlabel("trading days relative to day 0")
        ax.set_ylabel(f"CAR from day {days[0]:+d} (simple returns, %)")
        ax.legend(fontsize=8, loc="upper left")
        ax.text(0.99, 0.02, f"shaded: {1 - alpha:.0%} band under no abnormal return (±z·SE of the CAR)",
                transform=ax.transAxes, ha="right", va="bottom", fontsize=8, color="#444444")
        top = max(finals, key=lambda x: -np.inf if not np.isfinite(finals[x]) else finals[x])
        ax.set_title(title or f"Cumulative abnormal return by day {days[-1]:+d}: {top} {_pct(finals[top])}")
    return fig


def _stars(row: pd.Series, alpha: float) -> str:
    p1, p2 = row.get("p_value", np.nan), row.get("p_placebo", np.nan)
    a = np.isfinite(p1) and p1 < alpha
    b = np.isfinite(p2) and p2 < alpha
    return "**" if a and b else "*" if a or b else ""


def day0_bars(
    evidence: pd.DataFrame,
    *,
    window: tuple[int, int] = (0, 0),
    event_id: str | None = None,
    all_events: bool = False,
    alpha: float = 0.05,
    title: str | None = None,
) -> Figure:
    """Per-ticker CAR over ``window`` (default day 0) as bars with significance marks.

    ``**`` = significant at ``alpha`` under both the parametric and the placebo test,
    ``*`` = under one of them. Rows of one event (``event_id``; default: the evidence's
    first event), or of every event with ``all_events=True`` (bars labelled
    "ticker / event"); estimated rows only.
    """
    ev = evidence[(evidence["window_start"] == window[0]) & (evidence["window_end"] == window[1])]
    if "status" in ev.columns:
        ev = ev[ev["status"] == "ok"]
    if all_events:
        ev = ev.assign(ticker=ev["ticker"] + " / " + ev["event_id"].str.split("_").str[0])
        event_id = "all events"
    else:
        if event_id is None and not ev.empty:
            event_id = str(ev["event_id"].iloc[0])
        ev = ev[ev["event_id"] == event_id]
    ev = ev.dropna(subset=["car"])
    if ev.empty:
        raise FigureError(f"day0_bars: no estimated rows for window {window} and event {event_id!r}")
    ev = ev.sort_values("car", ascending=False).reset_index(drop=True)
    stars = [_stars(r, alpha) for _, r in ev.iterrows()]
    with theme():
        fig = Figure(figsize=(max(6, 0.55 * len(ev) + 3), 4.8), layout="constrained")
        ax = fig.add_subplot()
        from matplotlib.colors import to_rgba

        colours = [to_rgba(_POS if c > 0 else _NEG, 1.0 if s else 0.4) for c, s in zip(ev["car"], stars, strict=True)]
        xs = np.arange(len(ev))
        ax.bar(xs, ev["car"], color=colours)
        for x, (c, s) in enumerate(zip(ev["car"], stars, strict=True)):
            if s:
                ax.text(x, c, s, ha="center", va="bottom" if c >= 0 else "top", fontsize=12, fontweight="bold")
        ax.set_xticks(xs, ev["ticker"], rotation=45, ha="right")
        ax.axhline(0, color=_GREY, linewidth=0.8)
        ax.yaxis.set_major_formatter(PercentFormatter(1.0))
        w = "day 0" if window == (0, 0) else f"({window[0]:+d},{window[1]:+d})"
        ax.set_xlabel("ticker (basket = equal-weighted portfolio)")
        ax.set_ylabel(f"abnormal return {w} (%)")
        ax.text(0.99, 0.98, f"** both tests p<{alpha:g}; * one test; faded: neither",
                transform=ax.transAxes, ha="right", va="top", fontsize=8, color="#444444")
        n_sig = sum(s == "**" for s in stars)
        n_pos = int((ev["car"] > 0).sum())
        ax.set_title(title or f"{event_id.split('_')[0]}: {n_pos} of {len(ev)} positive, {n_sig} significant "
                              f"under both tests (abnormal return {w})")
    return fig


def ar_heatmap(
    evidence: pd.DataFrame,
    *,
    window: tuple[int, int] = (0, 0),
    title: str | None = None,
) -> Figure:
    """Heatmap of abnormal returns (CAR over ``window``), tickers x events, in percent."""
    ev = evidence[(evidence["window_start"] == window[0]) & (evidence["window_end"] == window[1])]
    if "status" in ev.columns:
        ev = ev[ev["status"] == "ok"]
    ev = ev.dropna(subset=["car"])
    if ev.empty:
        raise FigureError(f"ar_heatmap: no estimated rows for window {window}")
    short = ev.assign(event=ev["event_id"].str.split("_").str[0] + " " + pd.to_datetime(ev["day0"]).dt.strftime("%m-%d"))
    grid = short.pivot_table(index="ticker", columns="event", values="car", aggfunc="first") * 100.0
    grid = grid.reindex(columns=sorted(grid.columns, key=lambda s: s.split(" ")[1]))
    lim = float(np.nanmax(np.abs(grid.to_numpy()))) or 1.0
    with theme():
        fig = Figure(figsize=(max(6, 1.0 * grid.shape[1] + 3), max(3.5, 0.4 * grid.shape[0] + 1.5)),
                     layout="constrained")
        ax = fig.add_subplot()
        sns.heatmap(grid, ax=ax, cmap="RdBu_r", vmin=-lim, vmax=lim, annot=True, fmt=".1f",
                    annot_kws={"fontsize": 8}, cbar_kws={"label": "abnormal return (%)"}, linewidths=0.5)
        w = "day 0" if window == (0, 0) else f"({window[0]:+d},{window[1]:+d})"
        ax.grid(False)
        ax.set_xlabel("event (id, day 0 month-day)")
        ax.set_ylabel("ticker")
        stacked = grid.stack()
        (tk, evn) = stacked.idxmax()
        ax.set_title(title or f"Abnormal returns {w}: largest {tk} on {evn} ({stacked.max():+.1f}%)")
    return fig


def rolling_return_chart(
    rolling: pd.DataFrame,
    *,
    threshold: float = 1.0,
    horizon: int = 21,
    start: object = None,
    as_of: object = None,
    title: str | None = None,
) -> Figure:
    """Rolling ``horizon``-session simple returns with the ``threshold`` line (C8).

    Parameters
    ----------
    rolling : wide panel of rolling returns (sessions x tickers), e.g. ``RallyResult.rolling``.
    threshold : horizontal line (simple return; 1.0 = +100%).
    start, as_of : date range shown; ``as_of`` is marked.
    """
    r = rolling.sort_index().loc[start:as_of].dropna(how="all")
    if r.empty:
        raise FigureError("rolling_return_chart: no rolling returns in range")
    peaks = r.max()
    above = [t for t in r.columns if peaks[t] > threshold]
    with theme():
        fig = Figure(figsize=(10, 5), layout="constrained")
        ax = fig.add_subplot()
        for t in r.columns:
            ax.plot(r.index, r[t], label=f"{t} (peak {_pct(peaks[t], 0)} on {r[t].idxmax().date()})", linewidth=1.6)
        ax.axhline(threshold, color=_NEG, linestyle="--", linewidth=1.2, label=f"{threshold:+.0%} line")
        ax.axhline(0, color=_GREY, linewidth=0.8)
        if as_of is not None:
            ax.axvline(pd.Timestamp(as_of), color=_GREY, linestyle=":", linewidth=1)
            ax.text(pd.Timestamp(as_of), ax.get_ylim()[1], " as of", fontsize=8, va="top", color="#444444")
        ax.yaxis.set_major_formatter(FuncFormatter(lambda y, _: f"{y:+.0%}"))
        ax.set_xlabel("session date (end of the rolling window)")
        ax.set_ylabel(f"{horizon}-session simple return (%)")
        ax.legend(fontsize=8, loc="upper left")
        ax.set_title(title or (f"{r.index[0].date()} to {r.index[-1].date()}: {len(above)} of {r.shape[1]} "
                               f"tickers exceeded {threshold:+.0%} over {horizon} sessions"
                               + (f" ({', '.join(above)})" if above else "")))
        fig.autofmt_xdate()
    return fig
