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
rolling_return_chart(rolling, ...)      rolling 21-session returns with the threshold line
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
from research.vocab import NOT_SUPPORTED, PARTLY, SUPPORTED, VERDICT_STYLES, pct

__all__ = ["STYLE", "CONTEXT", "PALETTE", "theme", "price_paths", "car_paths", "day0_bars", "ar_heatmap",
           "rolling_return_chart", "indexed_chart", "specification_curve", "safe_text"]

STYLE = "whitegrid"
CONTEXT = "notebook"
PALETTE = "colorblind"
_POS, _NEG, _GREY = "#1b7837", "#b2182b", "#8c8c8c"


@contextmanager
def theme():
    """The package's seaborn theme as a context (no global side effect)."""
    with sns.axes_style(STYLE), sns.plotting_context(CONTEXT), sns.color_palette(PALETTE):
        yield


def safe_text(text: object) -> str:
    """Text from data files made literal for matplotlib (no mathtext: ``$`` escaped)."""
    return str(text).replace("$", r"\$")


def _wrap(title: str, width: int = 95) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(title, width)) or title


def _wrap_title(fig: Figure) -> None:
    ax = fig.axes[0]
    width = int(fig.get_figwidth() * 9.5)
    ax.set_title(_wrap(ax.get_title().replace("\n", " "), width), fontsize=LABEL_SIZE + 1)


#: Font size of annotations and tick labels (points); readable at the page's width.
LABEL_SIZE = 10


def _event_dates(events: Mapping[str, object] | pd.DataFrame | pd.Series | None) -> dict[str, pd.Timestamp]:
    if events is None:
        return {}
    if isinstance(events, pd.DataFrame):
        col = "day0" if "day0" in events.columns else events.columns[0]
        return {str(k): pd.Timestamp(v) for k, v in events[col].items()}
    return {str(k): pd.Timestamp(v) for k, v in dict(events).items()}


def _event_key(ax, marks: list[tuple[str, pd.Timestamp]]) -> None:
    """Number the event lines 1, 2, ... at the top of the axes and list them in a key
    below the plot ("1  Central bank cuts rates, 2024-09-18")."""
    ylo, yhi = ax.get_ylim()
    for n, (_, d) in enumerate(marks, start=1):
        ax.axvline(d, color=_GREY, linewidth=0.9, linestyle="--")
        ax.text(d, yhi, f" {n}", fontsize=LABEL_SIZE, color="#222222", va="top", ha="left", fontweight="bold")
    if marks:
        key = "   ".join(f"{n}: {safe_text(label)}" for n, (label, _) in enumerate(marks, start=1))
        ax.annotate("events: " + key, xy=(0, 0), xycoords="figure fraction", xytext=(8, 4),
                    textcoords="offset points", fontsize=LABEL_SIZE - 1, color="#333333", wrap=True)


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
    events : event label (e.g. a short name with its date) -> day-0 date, or a day-0
        table with a ``day0`` column. Events are numbered on the chart and named in a key.
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
        fig = Figure(figsize=(10, 5.4), layout="constrained")
        ax = fig.add_subplot()
        for t in idx.columns:
            ax.plot(idx.index, idx[t], label=f"{safe_text(t)} ({last[t] - 100:+.0f}%)", linewidth=1.6)
        ax.axhline(100, color=_GREY, linewidth=0.8, linestyle=":")
        marks = [(lab, d) for lab, d in sorted(_event_dates(events).items(), key=lambda kv: kv[1])
                 if idx.index.min() <= d <= idx.index.max()]
        _event_key(ax, marks)
        ax.set_xlabel("session date")
        ax.set_ylabel(f"price index (first session {idx.index[0].date()} = 100)")
        ax.tick_params(labelsize=LABEL_SIZE)
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=LABEL_SIZE - 1, frameon=False)
        best = last.idxmax()
        worst = last.idxmin()
        ax.set_title(safe_text(title) if title else (
            f"{safe_text(best)} {last[best] - 100:+.0f}% and {safe_text(worst)} {last[worst] - 100:+.0f}% "
            f"from {idx.index[0].date()} to {idx.index[-1].date()}"))
        fig.autofmt_xdate()
    _wrap_title(fig)
    return fig


def car_paths(
    result,
    keys: Sequence[str] | None = None,
    *,
    alpha: float = 0.05,
    labels: Mapping[str, str] | None = None,
    title: str | None = None,
    shade: tuple[int, int] | None = None,
    start: int | None = None,
    se_points: Mapping[str, Mapping[int, float]] | None = None,
) -> Figure:
    """Cumulative abnormal return paths over the event span with confidence bands.

    Parameters
    ----------
    result : an :class:`~research.eventstudy.EventStudyResult` (its ``car_path`` table:
        CAR from the first event day, per relative trading day, with its standard error).
    keys : engine event ids to plot (default: all estimated events, at most 8); the first
        is the series the title is about.
    alpha : the band is ``+/- z_{1-alpha/2} * SE(CAR)`` around zero, with the CAR's
        standard error from the engine (``result.car_path``: the same variance as the CAR
        t-test, estimation error of the expected-return model included).
    labels : event id -> legend label.
    title : override the generated title.
    shade : the rule's window (first, last relative day), shaded.
    start : accumulate from this relative day (the rule window's first day) instead of the
        first event day: the path is re-based to 0 on the day before. The engine's band
        is then not the CAR's; give ``se_points`` (event id -> {last day: SE of the CAR
        from ``start`` to that day}, e.g. from the evidence table) for exact error bars.
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
    rebased = start is not None and start > days[0]
    if rebased:
        car = car.sub(car[start - 1], axis=0).loc[:, start - 1:]
        days = np.asarray(car.columns, dtype=int)
    z = float(_sps.norm.ppf(1 - alpha / 2))
    with theme():
        fig = Figure(figsize=(10, 5), layout="constrained")
        ax = fig.add_subplot()
        pal = sns.color_palette(PALETTE, len(keys))
        finals = {}
        for colour, key in zip(pal, keys, strict=True):
            y = car.loc[key].to_numpy()
            lab = safe_text((labels or {}).get(key, key.replace("|", " / ")))
            ax.plot(days, y, marker="o", markersize=3, color=colour, label=lab)
            if not rebased:
                band = z * se.loc[key].to_numpy()
                ax.fill_between(days, -band, band, color=colour, alpha=0.12, linewidth=0)
            for d, s_ in ((se_points or {}).get(key) or {}).items():
                if np.isfinite(s_) and d in car.columns:
                    ax.errorbar([d], [car.loc[key, d]], yerr=[z * s_], color=colour, capsize=4, linewidth=1.2)
            last = y[np.isfinite(y)]
            finals[lab] = last[-1] if last.size else np.nan
        if shade is not None:
            ax.axvspan(shade[0] - 0.5, shade[1] + 0.5, color="#0969da", alpha=0.08, linewidth=0,
                       label=f"rule window ({shade[0]:+d},{shade[1]:+d})")
        ax.axhline(0, color=_GREY, linewidth=0.8)
        ax.axvline(0, color=_GREY, linewidth=0.8, linestyle="--")
        ax.yaxis.set_major_formatter(FuncFormatter(lambda y, _: f"{y:+.0%}"))
        ax.tick_params(labelsize=LABEL_SIZE)
        ax.set_xlabel("trading days relative to day 0")
        ax.set_ylabel(f"CAR from day {days[0] + 1 if rebased else days[0]:+d} (simple returns, %)")
        ax.legend(fontsize=LABEL_SIZE - 1, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
        what = ("error bars" if rebased else "bands") + f": {1 - alpha:.0%} range under no abnormal return (±z·SE of the CAR)"
        ax.text(0.99, 0.02, what,
                transform=ax.transAxes, ha="right", va="bottom", fontsize=LABEL_SIZE - 1, color="#444444")
        first = safe_text((labels or {}).get(keys[0], keys[0].replace("|", " / ")))
        ax.set_title(safe_text(title) if title else
                     f"{first}: CAR by day {days[-1]:+d} {pct(finals[first])}", fontsize=LABEL_SIZE + 1)
    _wrap_title(fig)
    return fig


def _stars(row: pd.Series, alpha: float) -> str:
    p1, p2 = row.get("p_value", np.nan), row.get("p_placebo", np.nan)
    a = np.isfinite(p1) and p1 < alpha
    b = np.isfinite(p2) and p2 < alpha
    return "**" if a and b else "*" if a or b else ""


def day0_bars(
    evidence: pd.DataFrame,
    *,
    window: tuple[int, int] | None = (0, 0),
    event_id: str | None = None,
    all_events: bool = False,
    alpha: float = 0.05,
    title: str | None = None,
    names: Mapping[str, str] | None = None,
    rows: Sequence[tuple[str, str, tuple[int, int]]] | None = None,
) -> Figure:
    """Per-ticker CAR over ``window`` (default day 0) as bars with significance marks.

    ``**`` = significant at ``alpha`` under both the parametric and the placebo test,
    ``*`` = under one of them. Rows of one event (``event_id``; default: the evidence's
    first event), or of every event with ``all_events=True`` (bars labelled
    "ticker / event name"), or exactly the (event, ticker, window) triples in ``rows``
    (e.g. each pair at its rule window); estimated rows only. ``names``: event id ->
    short name shown instead of the id.
    """
    names = dict(names or {})
    ev = evidence
    if rows is not None:
        key = pd.DataFrame([(a, b, w[0], w[1]) for a, b, w in rows],
                           columns=["event_id", "ticker", "window_start", "window_end"])
        ev = key.merge(evidence, on=list(key.columns), how="inner")
        all_events = True
    else:
        ev = ev[(ev["window_start"] == window[0]) & (ev["window_end"] == window[1])]
    if "status" in ev.columns:
        ev = ev[ev["status"] == "ok"]
    if all_events:
        def lab(r):
            n = names.get(r["event_id"], str(r["event_id"]).split("_")[0])
            w = f" ({int(r['window_start']):+d},{int(r['window_end']):+d})" if rows is not None and (
                int(r["window_start"]), int(r["window_end"])) != (0, 0) else ""
            return f"{r['ticker']} / {n}{w}"
        ev = ev.assign(ticker=[lab(r) for _, r in ev.iterrows()]) if not ev.empty else ev
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
        fig = Figure(figsize=(max(9, 0.6 * len(ev) + 3), 5.6), layout="constrained")
        ax = fig.add_subplot()
        from matplotlib.colors import to_rgba

        colours = [to_rgba(_POS if c > 0 else _NEG, 1.0 if s else 0.4) for c, s in zip(ev["car"], stars, strict=True)]
        xs = np.arange(len(ev))
        ax.bar(xs, ev["car"], color=colours)
        for x, (c, s) in enumerate(zip(ev["car"], stars, strict=True)):
            if s:
                ax.text(x, c, s, ha="center", va="bottom" if c >= 0 else "top", fontsize=12, fontweight="bold")
        tilt = len(ev) > 4 or all_events
        ax.set_xticks(xs, [safe_text(t) for t in ev["ticker"]], rotation=30 if tilt else 0,
                      ha="right" if tilt else "center", fontsize=LABEL_SIZE)
        ax.axhline(0, color=_GREY, linewidth=0.8)
        ax.yaxis.set_major_formatter(FuncFormatter(lambda y, _: f"{y:+.0%}"))
        w = ("each pair's rule window" if rows is not None else
             "day 0" if window == (0, 0) else f"({window[0]:+d},{window[1]:+d})")
        ax.set_xlabel("ticker (basket = equal-weighted portfolio)")
        ax.set_ylabel(f"abnormal return, {w} (%)")
        ax.text(0.99, 0.98, f"** both tests p<{alpha:g}; * one test; faded: neither",
                transform=ax.transAxes, ha="right", va="top", fontsize=LABEL_SIZE - 1, color="#444444")
        n_sig = sum(s == "**" for s in stars)
        n_pos = int((ev["car"] > 0).sum())
        what = "" if all_events else safe_text(names.get(event_id, event_id.split("_")[0])) + ": "
        ax.set_title(safe_text(title) if title else
                     f"{what}{n_pos} of {len(ev)} positive, {n_sig} significant under both tests "
                     f"(abnormal return, {w})", fontsize=LABEL_SIZE + 1)
    _wrap_title(fig)
    return fig


def ar_heatmap(
    evidence: pd.DataFrame,
    *,
    window: tuple[int, int] = (0, 0),
    title: str | None = None,
    names: Mapping[str, str] | None = None,
    clip_quantile: float = 0.95,
) -> Figure:
    """Heatmap of abnormal returns (CAR over ``window``), tickers x events, in percent.

    The colour scale is symmetric and clipped at the ``clip_quantile`` of the absolute
    values (one extreme cell does not wash out the others); every cell is annotated with
    its exact value. ``names``: event id -> short label (default: the id's prefix and the
    day-0 date).
    """
    ev = evidence[(evidence["window_start"] == window[0]) & (evidence["window_end"] == window[1])]
    if "status" in ev.columns:
        ev = ev[ev["status"] == "ok"]
    ev = ev.dropna(subset=["car"])
    if ev.empty:
        raise FigureError(f"ar_heatmap: no estimated rows for window {window}")
    ev = ev.drop_duplicates(subset=["event_id", "ticker"])
    d0 = pd.to_datetime(ev["day0"])
    labels = [safe_text((names or {}).get(e, f"{str(e).split('_')[0]} {d.strftime('%m-%d')}"))
              for e, d in zip(ev["event_id"], d0, strict=True)]
    short = ev.assign(event=labels, _d=d0)
    order = short.sort_values("_d").drop_duplicates("event")["event"].tolist()
    grid = short.pivot_table(index="ticker", columns="event", values="car", aggfunc="first") * 100.0
    grid = grid.reindex(columns=order)
    vals = np.abs(grid.to_numpy()[np.isfinite(grid.to_numpy())])
    lim = float(np.quantile(vals, clip_quantile)) if vals.size else 1.0
    lim = lim or 1.0
    with theme():
        fig = Figure(figsize=(max(8, 1.5 * grid.shape[1] + 3), max(4, 0.42 * grid.shape[0] + 2.5)),
                     layout="constrained")
        ax = fig.add_subplot()
        sns.heatmap(grid, ax=ax, cmap="RdBu_r", vmin=-lim, vmax=lim, annot=True, fmt="+.1f",
                    annot_kws={"fontsize": LABEL_SIZE}, linewidths=0.5,
                    cbar_kws={"label": f"abnormal return (%), colour clipped at ±{lim:.0f}", "extend": "both"})
        w = "day 0" if window == (0, 0) else f"({window[0]:+d},{window[1]:+d})"
        ax.grid(False)
        ax.tick_params(labelsize=LABEL_SIZE)
        ax.set_xticklabels(ax.get_xticklabels(), rotation=30, ha="right")
        ax.set_xlabel("event (day 0)")
        ax.set_ylabel("ticker")
        stacked = grid.stack()
        (tk, evn) = stacked.idxmax()
        ax.set_title(safe_text(title) if title else
                     f"Abnormal returns {w}: largest {safe_text(tk)} on {evn} ({stacked.max():+.1f}%)",
                     fontsize=LABEL_SIZE + 1)
    _wrap_title(fig)
    return fig


def rolling_return_chart(
    rolling: pd.DataFrame,
    *,
    threshold: float = 1.0,
    horizon: int = 21,
    start: object = None,
    as_of: object = None,
    lookback_sessions: int | None = None,
    title: str | None = None,
    judged: Sequence[str] | None = None,
    count: tuple[int, int] | None = None,
) -> Figure:
    """Rolling ``horizon``-session simple returns with the ``threshold`` line.

    Parameters
    ----------
    rolling : wide panel of rolling returns (sessions x tickers), e.g. ``RallyResult.rolling``.
    threshold : horizontal line (simple return; 1.0 = +100%).
    start, as_of : date range shown; ``as_of`` is marked.
    lookback_sessions : the rule counts only windows ending in the last this-many sessions
        up to ``as_of``: that span is shaded and the title counts peaks inside it.
    judged : the tickers the rule judges (the title counts and names only these; the other
        columns are drawn for context). Default: every column.
    count : (tickers beyond the threshold, tickers judged) as the verdict states them
        (``tickers_above_threshold``, ``required``); default: counted from the panel.
    """
    r = rolling.sort_index().loc[start:as_of].dropna(how="all")
    if r.empty:
        raise FigureError("rolling_return_chart: no rolling returns in range")
    counted = r.iloc[-lookback_sessions:] if lookback_sessions else r
    peaks = counted.max()
    judged_cols = [t for t in r.columns if judged is None or t in judged]
    above = [t for t in judged_cols if np.isfinite(peaks[t]) and peaks[t] > threshold]
    n_above, n_judged = count if count is not None else (len(above), len(judged_cols))
    with theme():
        fig = Figure(figsize=(10, 5), layout="constrained")
        ax = fig.add_subplot()
        for t in r.columns:
            end = counted[t].idxmax() if counted[t].notna().any() else None
            when = f" on {end.date()}" if end is not None else ""
            ax.plot(r.index, r[t], label=f"{safe_text(t)} (peak {pct(peaks[t], 0)}{when})", linewidth=1.6)
        if lookback_sessions:
            ax.axvspan(counted.index[0], counted.index[-1], color="#0969da", alpha=0.08, linewidth=0,
                       label=f"rule window: last {lookback_sessions} sessions")
        ax.axhline(threshold, color=_NEG, linestyle="--", linewidth=1.2, label=f"{threshold:+.0%} line")
        ax.axhline(0, color=_GREY, linewidth=0.8)
        if as_of is not None:
            ax.axvline(pd.Timestamp(as_of), color=_GREY, linestyle=":", linewidth=1)
            ax.text(pd.Timestamp(as_of), ax.get_ylim()[1], " as of", fontsize=LABEL_SIZE - 1, va="top",
                    color="#444444")
        ax.yaxis.set_major_formatter(FuncFormatter(lambda y, _: f"{y:+.0%}"))
        ax.tick_params(labelsize=LABEL_SIZE)
        ax.set_xlabel("session date (end of the rolling window)")
        ax.set_ylabel(f"{horizon}-session simple return (%)")
        ax.legend(fontsize=LABEL_SIZE - 1, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
        span = (f"in the {lookback_sessions} sessions to {counted.index[-1].date()}" if lookback_sessions
                else f"{r.index[0].date()} to {r.index[-1].date()}")
        ax.set_title(safe_text(title) if title else
                     (f"{n_above} of {n_judged} tickers exceeded {threshold:+.0%} over {horizon} sessions "
                      f"{span}" + (f" ({', '.join(safe_text(a) for a in above)})" if above else "")),
                     fontsize=LABEL_SIZE + 1)
        fig.autofmt_xdate()
    _wrap_title(fig)
    return fig


def indexed_chart(
    closes: pd.DataFrame,
    *,
    as_of: object,
    title: str | None = None,
    highlight: Sequence[str] = (),
) -> Figure:
    """Series indexed to 100 at the ``as_of`` close (the last session on or before it),
    drawn from there to the end of the data, with the as-of date marked.

    ``highlight``: columns drawn thick (e.g. baskets and the market); others thin.
    """
    c = closes.sort_index().dropna(axis=1, how="all")
    base_day = c.index[c.index <= pd.Timestamp(as_of)]
    if base_day.empty:
        raise FigureError(f"indexed_chart: no session on or before {as_of}")
    c = c.loc[base_day[-1]:]
    base = c.iloc[0]
    keep = base.notna() & (base > 0)
    idx = c.loc[:, keep] / base[keep] * 100.0
    if idx.shape[1] == 0:
        raise FigureError("indexed_chart: no series has a close at the as-of date")
    last = idx.apply(lambda s: s.dropna().iloc[-1])
    last_day = idx.apply(lambda s: s.dropna().index[-1])
    with theme():
        fig = Figure(figsize=(10, 5.2), layout="constrained")
        ax = fig.add_subplot()
        for t in idx.columns:
            thick = t in highlight
            ax.plot(idx.index, idx[t], linewidth=2.4 if thick else 1.0, alpha=1.0 if thick else 0.55,
                    label=f"{safe_text(t)} ({last[t] - 100:+.0f}%)")
        ax.axhline(100, color=_GREY, linewidth=0.8, linestyle=":")
        ax.axvline(idx.index[0], color="#222222", linewidth=1.0, linestyle="--")
        ax.text(idx.index[0], ax.get_ylim()[1], f" as of {idx.index[0].date()}", fontsize=LABEL_SIZE - 1,
                va="top", color="#222222")
        ax.set_yscale("log")
        ax.yaxis.set_major_formatter(FuncFormatter(lambda y, _: f"{y:.0f}"))
        ax.tick_params(labelsize=LABEL_SIZE)
        ax.set_xlabel("session date")
        ax.set_ylabel(f"value of 100 invested at the {idx.index[0].date()} close (log scale)")
        ax.legend(fontsize=LABEL_SIZE - 1, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False,
                  ncol=2 if idx.shape[1] > 14 else 1)
        best, worst = last.idxmax(), last.idxmin()
        ax.set_title(safe_text(title) if title else
                     f"After the article: {safe_text(best)} {last[best] - 100:+.0f}% (to {last_day[best].date()}), "
                     f"{safe_text(worst)} {last[worst] - 100:+.0f}% (to {last_day[worst].date()})",
                     fontsize=LABEL_SIZE + 1)
        fig.autofmt_xdate()
    _wrap_title(fig)
    return fig


#: Colours of the verdicts in the specification curve (as the verdict badges).
_VERDICT_COLOURS = {v: VERDICT_STYLES[v].background for v in (SUPPORTED, PARTLY, NOT_SUPPORTED)}


def specification_curve(grid: pd.DataFrame, *, headline_verdict: str, statistic: str, share: float,
                        threshold: float, title: str | None = None) -> Figure:
    """Specification curve (Simonsohn, Simmons & Nelson 2020): every estimable
    specification's estimate with its confidence interval, sorted, coloured by the
    verdict under it; beneath, which proxy / model / estimation length / window each uses.

    ``grid`` holds :data:`research.claims.robustness.GRID_COLUMNS` (``estimate``,
    ``ci_low``, ``ci_high`` in return units); the headline specification is ringed.
    """
    g = grid[grid["status"] == "ok"].sort_values("estimate", kind="stable").reset_index(drop=True)
    if g.empty:
        raise FigureError("specification_curve: no estimable specification")
    dims = [("market proxy", [p if isinstance(p, str) and p else "no proxy" for p in g["market_proxy"]]),
            ("model", list(g["model"])), ("estimation (sessions)", [str(int(n)) for n in g["estimation_length"]]),
            ("window", list(g["window"]))]
    levels = [(name, v) for name, col in dims for v in dict.fromkeys(sorted(set(col), key=str))]
    x = np.arange(len(g))
    with theme():
        fig = Figure(figsize=(9, 2.4 + 0.15 * len(levels)), layout="constrained")
        top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=[2.2, 0.2 * len(levels) + 0.4])
        colours = [_VERDICT_COLOURS.get(v, _GREY) for v in g["verdict"]]
        top.vlines(x, g["ci_low"], g["ci_high"], colors=colours, linewidth=1.0, alpha=0.6)
        top.scatter(x, g["estimate"], c=colours, s=14, zorder=3)
        head = np.flatnonzero(g["headline"].to_numpy(dtype=bool))
        ring = [top.scatter(x[head], g["estimate"].iloc[head], s=90, facecolors="none", edgecolors="#222222",
                            linewidths=1.4, zorder=4, label="headline specification")] if head.size else []
        top.axhline(0, color=_GREY, linewidth=0.8, linestyle=":")
        top.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        top.set_ylabel(_wrap(safe_text(statistic), 28), fontsize=LABEL_SIZE - 1)
        top.tick_params(labelsize=LABEL_SIZE)
        handles = [top.scatter([], [], c=c, s=14, label=v) for v, c in _VERDICT_COLOURS.items()
                   if v in set(g["verdict"])]
        top.legend(handles=handles + ring, fontsize=LABEL_SIZE - 1,
                   loc="upper left", frameon=False, ncol=4)
        ypos = {lv: i for i, lv in enumerate(levels)}
        for name, col in dims:
            ys = [ypos[(name, v)] for v in col]
            bottom.scatter(x, ys, marker="|", s=40, color="#333333", linewidths=1.2)
        bottom.set_yticks(range(len(levels)), [f"{safe_text(v)}" for _, v in levels], fontsize=LABEL_SIZE - 2)
        bottom.set_ylim(len(levels) - 0.5, -0.5)
        edges = np.cumsum([len(dict.fromkeys(col)) for _, col in dims])[:-1]
        for y in edges:
            bottom.axhline(y - 0.5, color=_GREY, linewidth=0.6)
        bottom.set_xticks([])
        bottom.set_xlabel(f"{len(g)} specifications, sorted by the estimate", fontsize=LABEL_SIZE - 1)
        bottom.grid(False)
        top.set_title(safe_text(title) if title else
                      f"'{headline_verdict}' holds in {share:.0%} of {len(g)} specifications"
                      + (f" - fragile (below {threshold:.0%})" if share < threshold else ""),
                      fontsize=LABEL_SIZE + 1)
    _wrap_title(fig)
    return fig
