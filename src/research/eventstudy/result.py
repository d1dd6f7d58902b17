"""The result object of :func:`research.eventstudy.run_event_study`.

Nothing here computes statistics; it holds the tables the engine produced and renders
them (``summary()``, ``to_frame()``). Nothing is printed as a side effect.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from research.errors import SpecificationError
from research.eventstudy.spec import EventStudySpec

__all__ = ["EventStudyResult", "Summary"]

EVENT_COLUMNS: tuple[str, ...] = (
    "event_id", "ticker", "date", "timing", "day0", "timing_uncertain", "status", "reason",
    "alpha", "beta", "sigma", "r2", "n_obs",
)
CAR_COLUMNS: tuple[str, ...] = (
    "event_id", "ticker", "day0", "window_start", "window_end", "car", "bhar", "car_se",
    "t_stat", "p_value", "p_placebo",
)
AAR_COLUMNS: tuple[str, ...] = ("aar", "caar", "n")
TEST_COLUMNS: tuple[str, ...] = (
    "test", "scope", "day", "window_start", "window_end", "statistic", "p_value",
)


def _fmt(x: object, digits: int = 4) -> str:
    if x is None:
        return ""
    if isinstance(x, (float, np.floating)):
        if not np.isfinite(x):
            return "nan"
        if x != 0 and (abs(x) < 1e-3 or abs(x) >= 1e5):
            return f"{x:.{digits - 1}e}"
        return f"{x:.{digits}f}"
    if isinstance(x, pd.Timestamp):
        return "" if pd.isna(x) else x.strftime("%Y-%m-%d")
    return str(x)


@dataclass(frozen=True)
class Summary:
    """A printable summary: a title, key/value header and tables (statsmodels-style).

    ``str(summary)`` gives fixed-width text; in Jupyter ``_repr_html_`` renders HTML.
    """

    title: str
    header: tuple[tuple[str, str], ...]
    tables: tuple[tuple[str, pd.DataFrame], ...]
    notes: tuple[str, ...] = ()

    def as_text(self) -> str:
        """Fixed-width plain-text rendering."""
        width = 78
        lines = ["=" * width, self.title.center(width), "=" * width]
        for i in range(0, len(self.header), 2):
            pair = self.header[i : i + 2]
            cells = [f"{k + ':':<22}{v:>15}" for k, v in pair]
            lines.append("   ".join(cells))
        for name, table in self.tables:
            lines.append("-" * width)
            lines.append(name)
            lines.append("-" * width)
            if table.empty:
                lines.append("(none)")
            else:
                shown = table.map(_fmt) if hasattr(table, "map") else table
                lines.append(shown.to_string(index=False))
        lines.append("=" * width)
        lines.extend(f"Note: {n}" for n in self.notes)
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.as_text()

    def __repr__(self) -> str:
        return self.as_text()

    def _repr_html_(self) -> str:
        parts = [f"<h4>{html.escape(self.title)}</h4>", "<table>"]
        for k, v in self.header:
            parts.append(f"<tr><th style='text-align:left'>{html.escape(k)}</th>"
                         f"<td>{html.escape(v)}</td></tr>")
        parts.append("</table>")
        for name, table in self.tables:
            parts.append(f"<h5>{html.escape(name)}</h5>")
            parts.append(table.map(_fmt).to_html(index=False, escape=True)
                         if not table.empty else "<p>(none)</p>")
        for n in self.notes:
            parts.append(f"<p><small>Note: {html.escape(n)}</small></p>")
        return "\n".join(parts)


@dataclass(frozen=True)
class EventStudyResult:
    """Everything an event study produced.

    Attributes
    ----------
    events : pandas.DataFrame
        One row per input event (same order, none dropped): ``event_id, ticker, date,
        timing, day0, timing_uncertain, status`` ("ok" / "skipped"), ``reason`` (why
        skipped, or a caveat; "" otherwise), model parameters ``alpha, beta`` (first
        regressor; extra ``beta_<factor>`` columns for the factor model), ``sigma``
        (estimation residual s.d., return units per trading day), ``r2, n_obs``.
    ar : pandas.DataFrame
        Abnormal returns, index ``event_id`` x columns relative trading day (int).
        NaN for skipped events and missing returns.
    car : pandas.DataFrame
        Long table, one row per event x window: ``event_id, ticker, day0, window_start,
        window_end, car`` (sum of ARs), ``bhar`` (buy-and-hold abnormal return, simple
        return units), ``car_se, t_stat, p_value`` (single-event test, two-sided),
        ``p_placebo`` (empirical two-sided p-value, NaN unless placebo draws were run).
    aar : pandas.DataFrame
        Index relative day; ``aar`` (mean AR over "ok" events), ``caar`` (cumulative
        from the first event day), ``n`` (events with a finite AR that day). Aggregates
        (``aar`` and ``tests``) count each distinct (ticker, day 0) once: a repeat of an
        earlier event's stock and day 0 keeps its own rows but is flagged in ``reason``.
    tests : pandas.DataFrame
        Long table of cross-sectional tests: ``test, scope`` ("day"/"window"), ``day``,
        ``window_start, window_end, statistic, p_value``.
    spec : EventStudySpec
    volume : pandas.DataFrame or None
        Abnormal log volume per event and relative day (see
        :mod:`research.eventstudy.volume`), when computed.
    placebo : pandas.DataFrame or None
        Per event x window placebo detail, when run: ``t_actual``, ``n_valid`` (pseudo
        dates with a defined statistic, the ``n`` of the p-value), ``n_exceed``,
        ``p_placebo``, ``p_floor`` (= 1/(1+n), the smallest attainable p) and ``method``
        ("exact": every admissible date; "resample": seeded draws).
    car_path : pandas.DataFrame or None
        Event ids x (stat, day): ``car_path["car"]`` is the CAR from the first event day
        to each day of the span, ``car_path["car_se"]`` its standard error (the variance
        of the CAR t-test, prediction error included; simple- or log-return units as the
        spec). NaN from the first missing return on, as for window CARs.
    notes : tuple of str
        Caveats produced while running (e.g. fallbacks used).
    """

    events: pd.DataFrame
    ar: pd.DataFrame
    car: pd.DataFrame
    aar: pd.DataFrame
    tests: pd.DataFrame
    spec: EventStudySpec
    volume: pd.DataFrame | None = field(default=None, repr=False)
    placebo: pd.DataFrame | None = field(default=None, repr=False)
    notes: tuple[str, ...] = ()
    car_path: pd.DataFrame | None = field(default=None, repr=False)

    def __repr__(self) -> str:
        n = len(self.events)
        ok = int((self.events["status"] == "ok").sum()) if n else 0
        return (f"EventStudyResult(events={n}, ok={ok}, skipped={n - ok}, "
                f"model={self.spec.model!r}, windows={list(self.spec.windows)})")

    @property
    def n_ok(self) -> int:
        """Number of events that were estimated."""
        return int((self.events["status"] == "ok").sum())

    def to_frame(self) -> pd.DataFrame:
        """Per event x window table: the ``car`` table joined with the event's status,
        timing and model parameters (one row per event and window; no rows multiplied)."""
        keep = ["event_id", "date", "timing", "timing_uncertain", "status", "reason",
                "alpha", "beta", "sigma", "r2", "n_obs"]
        out = self.car.merge(self.events[keep], on="event_id", how="left",
                             validate="many_to_one")
        return out

    def summary(self, *, window: tuple[int, int] | None = None, max_events: int = 30) -> Summary:
        """Readable summary: specification, per-event CARs for one window, and the
        cross-sectional tests for that window.

        Parameters
        ----------
        window : (int, int), optional
            Which event window to show (default: the first of ``spec.windows``).
        max_events : int, default 30
            At most this many per-event rows are shown.
        """
        spec = self.spec
        w = tuple(int(v) for v in window) if window is not None else spec.windows[0]
        if w not in spec.windows:
            raise SpecificationError(
                f"window {w} was not computed; choose one of {list(spec.windows)} or rerun "
                "with it in EventStudySpec(windows=...)"
            )
        n = len(self.events)
        header = (
            ("Model", spec.model),
            ("Market proxy", spec.market if spec.uses_market else "-"),
            ("Returns", spec.return_type),
            ("Convention", spec.convention),
            ("Estimation window", f"[{spec.estimation.start}, {spec.estimation.end}]"),
            ("Min. estimation obs", str(spec.estimation.min_obs)),
            ("Events", str(n)),
            ("Estimated / skipped", f"{self.n_ok} / {n - self.n_ok}"),
            ("Window shown", f"({w[0]}, {w[1]})"),
            ("Placebo p-values", "yes" if self.placebo is not None else "no"),
        )
        car = self.car[(self.car["window_start"] == w[0]) & (self.car["window_end"] == w[1])]
        ok_ids = self.events.loc[self.events["status"] == "ok", "event_id"]
        ok_car = car[car["event_id"].isin(ok_ids)]
        header = header + (
            ("Mean CAR (CAAR)", _fmt(float(ok_car["car"].mean()) if len(ok_car) else float("nan"))),
            ("Mean BHAR", _fmt(float(ok_car["bhar"].mean()) if len(ok_car) else float("nan"))),
        )
        cols = ["event_id", "ticker", "day0", "car", "bhar", "t_stat", "p_value", "p_placebo"]
        per_event = car[cols].head(max_events).reset_index(drop=True)
        tests = self.tests[(self.tests["scope"] == "window")
                           & (self.tests["window_start"] == w[0])
                           & (self.tests["window_end"] == w[1])]
        tests = tests[["test", "statistic", "p_value"]].reset_index(drop=True)
        skipped = self.events.loc[self.events["status"] != "ok", ["event_id", "ticker", "reason"]]
        tables = [(f"Per-event CAR, window ({w[0]}, {w[1]})", per_event),
                  (f"Cross-sectional tests, window ({w[0]}, {w[1]})", tests)]
        if not skipped.empty:
            tables.append(("Skipped events", skipped.reset_index(drop=True)))
        notes = list(self.notes)
        if len(car) > max_events:
            notes.append(f"{len(car) - max_events} more events not shown; see result.car")
        notes.append("p_value: two-sided; t_stat uses the estimation-residual sigma "
                     "(market model: prediction-error corrected).")
        return Summary(title="Event study results", header=header, tables=tuple(tables),
                       notes=tuple(notes))
