"""Interactive exploration of one event (the ``explore`` notebook under ``make lab``).

:class:`Explorer` runs an event study of one ticker on a catalogued event or any date
through :func:`research.eventstudy.run_event_study` and returns the CAR path figure and
the evidence table as HTML (:meth:`Explorer.run`, usable headless); :meth:`Explorer.controls`
wires ipywidgets controls (ticker, event or date, window, model, market proxy) to it so
every change redraws. Not part of the published site.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from research.claims.params import MODELS
from research.claims.studies import day0_table
from research.data.calendar import next_session
from research.data.sources import available_tickers
from research.eventstudy import EventStudySpec, run_event_study
from research.report import claimview as cv
from research.report import figures
from research.report.claimfigures import figure_html
from research.report.pages import article_of, event_names

__all__ = ["Explorer", "Exploration", "MODELS"]



@dataclass(frozen=True)
class Exploration:
    """One run: the engine's result, the evidence rows shown and the page HTML."""

    result: Any
    evidence: pd.DataFrame
    html: str
    day0: str


class Explorer:
    """Event studies of one ticker at a time, for the explore notebook.

    Parameters
    ----------
    article : article directory ("" or None: the shipped article) - its events are the
        choices of the event control.
    source : price source (default the embedded snapshot).
    """

    def __init__(self, article: str | Path | None = None, *, source: str = "snapshot") -> None:
        art = article_of(article)
        self.source = source
        self.names = event_names(art)
        self.day0 = day0_table(article=art)["day0"].to_dict() if art.events else {}
        self.tickers = sorted(available_tickers())

    def run(self, *, ticker: str, event: str = "", date: str = "", window: Sequence[int] = (0, 5),
            model: str = "market", market_proxy: str = "SPY") -> Exploration:
        """Event study of ``ticker`` on ``event`` (or day 0 = the first session on or after
        ``date``) with the CAR path over ``window`` and the evidence table."""
        if event:
            if event not in self.day0:
                raise ValueError(f"unknown event {event!r}; choose one of {sorted(self.day0)}")
            d0 = pd.Timestamp(self.day0[event])
            label = self.names.get(event, event)
        else:
            d0 = next_session(date, inclusive=True)
            label = f"day 0 {d0.date()}"
        a, b = int(window[0]), int(window[1])
        wins = tuple(dict.fromkeys([(a, b), (0, 0), (a, 0) if a < 0 else (0, 1)]))
        spec = EventStudySpec(model=model, market=market_proxy, windows=wins)
        events = pd.DataFrame({"event_id": ["explore"], "ticker": [ticker], "day0": [d0]})
        res = run_event_study(events, spec, source=self.source)
        ev = res.car.copy()
        parts = [cv.style(), f"<h3>{cv.e(ticker)}: {cv.e(label)}</h3>"]
        try:
            fig = figures.car_paths(res, ["explore"], labels={"explore": f"{ticker}, {label}"}, shade=(a, b))
            parts.append(figure_html(fig, fig.axes[0].get_title()))
        except Exception as exc:  # the engine could not estimate it: say why
            status = res.events.set_index("event_id").loc["explore"]
            parts.append(f"<p>Not estimated: {cv.e(status.get('reason', exc))}</p>")
        rows = [dict(r, window=[r["window_start"], r["window_end"]]) for r in ev.to_dict(orient="records")]
        cols = ["ticker", "day0", "window", "car", "t_stat", "p_value"]
        parts.append(cv.table_html(rows, cols, {"ticker": "stock", "day0": "day 0", "window": "days",
                                                "car": "abnormal return", "t_stat": "t", "p_value": "p (t-test)"}))
        return Exploration(res, ev, "".join(parts), str(d0.date()))

    def controls(self, **initial: Any):
        """ipywidgets controls and an output area redrawn on every change."""
        import ipywidgets as w
        from IPython.display import HTML, display

        ticker = w.Dropdown(options=self.tickers, value=initial.get("ticker", self.tickers[0]), description="ticker")
        event = w.Dropdown(options=[("(a date)", "")] + [(n, k) for k, n in self.names.items()],
                           value=initial.get("event", ""), description="event")
        date = w.Text(value=initial.get("date", ""), description="date")
        win = w.IntRangeSlider(value=tuple(initial.get("window", (0, 5))), min=-10, max=20, description="window")
        model = w.Dropdown(options=list(MODELS), value=initial.get("model", "market"), description="model")
        market = w.Dropdown(options=self.tickers, value=initial.get("market_proxy", "SPY"), description="market")
        out = w.Output()

        def redraw(_=None):
            with out:
                out.clear_output(wait=True)
                try:
                    r = self.run(ticker=ticker.value, event=event.value, date=date.value, window=win.value,
                                 model=model.value, market_proxy=market.value)
                    display(HTML(r.html))
                except Exception as exc:  # shown to the user, never raised into the widget loop
                    display(HTML(f"<p>{cv.e(exc)}</p>"))

        for c in (ticker, event, date, win, model, market):
            c.observe(redraw, names="value")
        redraw()
        return w.VBox([w.HBox([ticker, event, date]), w.HBox([win, model, market]), out])
