"""The figures of one verdict, chosen by what its rule tests, with titles stating the
finding from the verdict's own numbers.

==================  =====================================================================
rule looks at       figures (first = main, shown; the rest collapsed on the page)
==================  =====================================================================
a basket's CAR      CAR path of the basket on its primary event with the rule window
                    shaded (title: CAR over the rule window with both p-values, and where
                    the CAR stands on the last day shown); members' bars at that window
(event, ticker)     bars of every pair at its own rule window (title: how many positive,
pairs               how many significant under both tests); CAR paths
rolling returns     rolling returns with the rule's look-back shaded and the threshold line
                    (title: how many tickers crossed it inside the look-back)
descriptive only    bars of the evidence at day 0, titled "for description only"
==================  =====================================================================

A price verdict judged across the specification grid (``Verdict.robustness``) also gets
its specification curve, second: the estimate under every specification, sorted, with
the verdict under each (title: the share agreeing with the headline verdict).

:func:`figure_html` embeds a figure as a ``data:`` PNG (self-contained pages).
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Mapping
from dataclasses import dataclass
import pandas as pd
from matplotlib.figure import Figure

from research.claims.verdict import Verdict
from research.errors import FigureError
from research.report import figures as F
from research.vocab import NOT_TESTABLE, engine_id, is_basket, p_short, parse_series, pct

__all__ = ["ClaimFigure", "figure_html", "figures_for"]


@dataclass(frozen=True)
class ClaimFigure:
    """A figure of a claim and the numbers its title states (for checking)."""

    figure: Figure
    alt: str
    numbers: Mapping[str, float]
    kind: str = ""  # "specification_curve" for the grid's curve (shown beside the main figure)


def figure_html(fig: Figure, alt: str = "", *, dpi: int = 90) -> str:
    """The figure as an embedded PNG ``<img>`` (alt text escaped); the figure is closed."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return (f"<img src='data:image/png;base64,{data}' alt='{html.escape(alt, quote=True)}' "
            "style='max-width:100%;height:auto'>")


def _rule_windows(v: Verdict) -> list[tuple[int, int]]:
    return [(int(a), int(b)) for a, b in v.rule_windows]




def _basket(v: Verdict, names: Mapping[str, str], alpha: float) -> list[ClaimFigure]:
    study = v.figures.study
    if study is None:
        return []
    ev = v.evidence
    wins = _rule_windows(v)
    rows = ev[ev["ticker"].astype(str).map(is_basket) & (ev["status"] == "ok")]
    rows = rows[[(int(a), int(b)) in wins for a, b in zip(rows["window_start"], rows["window_end"], strict=True)]]
    if rows.empty:
        return []
    r = rows.iloc[0]
    eid, label, w = str(r["event_id"]), str(r["ticker"]), (int(r["window_start"]), int(r["window_end"]))
    key = engine_id(eid, label)
    out = []
    nice = parse_series(label)[0].replace("_", " ") + " basket"
    ename = names.get(eid, eid)
    if study.result is not None and key in set(study.result.events["event_id"]):
        path = study.result.car_path["car"].loc[key]
        if w[0] > int(path.index.min()):
            path = path.loc[w[0]:] - path.loc[w[0] - 1]  # accumulated from the rule window's start
        last_day = int(path.dropna().index.max())
        last = float(path.loc[last_day])
        title = (f"{nice}, {ename}: CAR({w[0]:+d},{w[1]:+d}) {pct(float(r['car']))} "
                 f"(t-test p {p_short(r['p_value'])}, placebo p {p_short(r['p_placebo'])}); "
                 f"CAR({w[0]:+d},{last_day:+d}) {pct(last)}")
        same = ev[(ev["event_id"] == eid) & (ev["ticker"] == label) & (ev["window_start"] == w[0])]
        se_points = {key: {int(b): float(s) for b, s in zip(same["window_end"], same["car_se"], strict=True)}}
        fig = F.car_paths(study.result, [key], alpha=alpha, labels={key: nice}, shade=w, title=title,
                          start=w[0], se_points=se_points)
        out.append(ClaimFigure(fig, title, {"car": float(r["car"]), "p_value": float(r["p_value"]),
                                            "p_placebo": float(r["p_placebo"]) if pd.notna(r["p_placebo"])
                                            else float("nan"), "last": last}))
    try:
        bars = F.day0_bars(ev, window=w, event_id=eid, alpha=alpha, names=names)
        out.append(ClaimFigure(bars, bars.axes[0].get_title(), {}))
    except FigureError:
        pass
    return out


def _pairs(v: Verdict, names: Mapping[str, str], alpha: float) -> list[ClaimFigure]:
    targets = [t for t in v.key.targets if not t.basket and t.window is not None]
    triples = [(t.event_id, t.name, t.window) for t in targets if t.window is not None]
    if not triples:
        return []
    out = []
    if len(triples) == 1:  # one pair: its CAR path is the picture, a single bar says nothing more
        e, t, w = triples[0]
        r = v.evidence[(v.evidence["event_id"] == e) & (v.evidence["ticker"] == t) & (v.evidence["window_start"] == w[0])
                       & (v.evidence["window_end"] == w[1])]
        study = v.figures.study
        if not r.empty and study is not None and study.result is not None:
            r = r.iloc[0]
            key = engine_id(e, t)
            path = study.result.car_path["car"].loc[key]
            if w[0] > int(path.index.min()):
                path = path.loc[w[0]:] - path.loc[w[0] - 1]
            last_day = int(path.dropna().index.max())
            last = float(path.loc[last_day])
            title = (f"{t}, {names.get(e, e)}: CAR({w[0]:+d},{w[1]:+d}) {pct(float(r['car']))} "
                     f"(t-test p {p_short(r['p_value'])}, placebo p {p_short(r['p_placebo'])}); "
                     f"CAR({w[0]:+d},{last_day:+d}) {pct(last)}")
            same = v.evidence[(v.evidence["event_id"] == e) & (v.evidence["ticker"] == t)
                              & (v.evidence["window_start"] == w[0])]
            se_points = {key: {int(b): float(s) for b, s in zip(same["window_end"], same["car_se"], strict=True)}}
            fig = F.car_paths(study.result, [key], alpha=alpha, labels={key: t}, shade=w, title=title,
                              start=w[0], se_points=se_points)
            return [ClaimFigure(fig, title, {"car": float(r["car"]), "p_value": float(r["p_value"]),
                                             "p_placebo": float(r["p_placebo"]) if pd.notna(r["p_placebo"])
                                             else float("nan"), "last": last})]
    try:
        fig = F.day0_bars(v.evidence, rows=triples, alpha=alpha, names=names)
        out.append(ClaimFigure(fig, fig.axes[0].get_title(),
                               {"pairs_significant_all_tests": float(sum(bool(t.significant_all_tests)
                                                                         for t in targets))}))
    except FigureError:
        pass
    study = v.figures.study
    if study is not None and study.result is not None:
        keys = [engine_id(e, t) for e, t, _ in triples]
        labels = {engine_id(e, t): f"{t}, {names.get(e, e)}" for e, t, _ in triples}
        try:
            fig = F.car_paths(study.result, keys, alpha=alpha, labels=labels)
            out.append(ClaimFigure(fig, fig.axes[0].get_title(), {}))
        except FigureError:
            pass
    return out


def _rolling(v: Verdict) -> list[ClaimFigure]:
    """The rolling-return chart; its title counts what the verdict counts (the rule's
    ``tickers_above_threshold`` of its ``required`` tickers), the other tickers drawn for
    context."""
    r = v.figures.rally
    if r is None:
        return []
    kn = v.key
    lookback = int(kn.get("lookback_sessions") or r.lookback_sessions)
    thr = float(kn.get("threshold", 1.0))
    above, judged = kn.get("tickers_above_threshold"), kn.get("required")
    count = (int(above), int(judged)) if above is not None and judged is not None else None
    start = r.rolling.index[max(0, len(r.rolling.loc[:r.as_of]) - 4 * lookback)]
    fig = F.rolling_return_chart(r.rolling, threshold=thr, horizon=r.horizon, start=start, as_of=r.as_of,
                                 lookback_sessions=lookback, judged=v.figures.judged or None, count=count)
    numbers = {"tickers_above_threshold": float(count[0]), "required": float(count[1])} if count else {}
    return [ClaimFigure(fig, fig.axes[0].get_title(), numbers)]


def _descriptive(v: Verdict, names: Mapping[str, str], alpha: float) -> list[ClaimFigure]:
    ev = v.evidence
    if ev.empty or "car" not in ev.columns or ev["car"].notna().sum() == 0:
        return []
    try:
        fig = F.day0_bars(ev, window=(0, 0), all_events=True, alpha=alpha, names=names)
    except FigureError:
        return []
    t = "For description only (no verdict rests on it): " + fig.axes[0].get_title()
    fig.axes[0].set_title(F.safe_text(t), fontsize=F.LABEL_SIZE + 1)
    return [ClaimFigure(fig, t, {})]


def figures_for(v: Verdict, *, names: Mapping[str, str] | None = None, alpha: float = 0.05) -> list[ClaimFigure]:
    """The figures of verdict ``v`` (a :class:`research.claims.Verdict` with its :class:`FigureData`),
    main figure first; empty for a claim with no price evidence."""
    names = dict(names or {})
    if v.figures.rally is not None:
        return _rolling(v)
    if v.figures.study is None or v.evidence.empty:
        return []
    if v.verdict == NOT_TESTABLE:
        return _descriptive(v, names, alpha)
    if any(t.basket for t in v.key.targets) or v.key.get("basket"):
        figs = _basket(v, names, alpha)
    else:
        figs = _pairs(v, names, alpha) or _descriptive(v, names, alpha)
    curve = _spec_curve(v)
    return figs[:1] + curve + figs[1:]


def _spec_curve(v: Verdict) -> list[ClaimFigure]:
    """The specification curve of a verdict carrying its grid (``Verdict.robustness``)."""
    rob = v.robustness.to_dict() if v.robustness is not None else {}
    if not rob.get("grid"):
        return []
    grid = pd.DataFrame(rob["grid"])
    for c in ("estimate", "ci_low", "ci_high"):
        grid[c] = grid[c].astype("float64")
    try:
        fig = F.specification_curve(grid, headline_verdict=str(rob["headline_verdict"]),
                                    statistic=str(rob["statistic"]), share=float(rob["share"]),
                                    threshold=float(rob["threshold"]))
    except FigureError:
        return []
    title = fig.axes[0].get_title().replace("\n", " ")
    return [ClaimFigure(fig, "Specification curve: " + title,
                        {"share": float(rob["share"]), "n_specs": float(rob["n_specs"])}, "specification_curve")]
