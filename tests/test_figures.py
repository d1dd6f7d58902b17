"""Figures are pure functions returning labelled matplotlib Figures (Agg backend)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from research.claims import EvalParams, evaluate  # noqa: E402
from research.report import figures  # noqa: E402


@pytest.fixture(scope="module")
def c2():
    return evaluate("C2", EvalParams(placebo_draws=50))


def _check(fig):
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    assert ax.get_xlabel() and ax.get_ylabel() and ax.get_title()
    fig.canvas.draw()  # renders without error
    return ax


def test_price_paths_indexed_to_100(c2):
    st = c2.figures.study
    fig = figures.price_paths(st.closes[["MP", "USAR"]], st.day0, start="2025-09-15", end="2025-10-15")
    ax = _check(fig)
    y0 = [line.get_ydata()[0] for line in ax.get_lines()[:2]]
    assert y0 == pytest.approx([100.0, 100.0])
    mp = st.closes["MP"].loc["2025-09-15":"2025-10-15"]
    assert f"MP ({(mp.iloc[-1] / mp.iloc[0] - 1) * 100:+.0f}%)" in [t.get_text() for t in ax.get_legend().get_texts()]
    # events are numbered on the chart and named in a key (no bare event codes)
    texts = [t.get_text().strip() for t in ax.texts]
    assert "1" in texts and any(t.startswith("events: 1: ev11_mofcom_rare_earth") for t in texts)
    assert "= 100" in ax.get_ylabel()


def test_car_paths_with_bands(c2):
    st = c2.figures.study
    key = "ev11_mofcom_rare_earth|basket:rare_earth"
    ax = _check(figures.car_paths(st.result, [key], alpha=0.05))
    line = ax.get_lines()[0]
    expected = st.result.ar.loc[key].sort_index().fillna(0).cumsum().to_numpy()
    assert np.allclose(line.get_ydata(), expected)
    assert ax.collections, "confidence band missing"
    assert "%" in ax.get_ylabel() and "day 0" in ax.get_xlabel()


def test_day0_bars_marks_significance(c2):
    ax = _check(figures.day0_bars(c2.evidence, window=(0, 0), alpha=0.05, event_id="ev11_mofcom_rare_earth"))
    ev = c2.evidence.query("window_start == 0 and window_end == 0 and status == 'ok'")
    assert len(ax.patches) == len(ev)
    n_both = int(((ev["p_value"] < 0.05) & (ev["p_placebo"] < 0.05) & ev["car"].notna()).sum())
    assert sum(t.get_text() == "**" for t in ax.texts) == n_both
    assert f"{n_both} significant" in ax.get_title()


def test_ar_heatmap_tickers_by_events():
    v = evaluate("C3", EvalParams(placebo_draws=0))
    ax = _check(figures.ar_heatmap(v.evidence))
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert "MP" in labels and "basket:rare_earth" in labels
    assert len(ax.get_xticklabels()) == 3  # ev12, ev13, ev14


def test_rolling_chart_has_the_100_percent_line():
    v = evaluate("C8", EvalParams(placebo_draws=0))
    r = v.figures.rally
    ax = _check(figures.rolling_return_chart(r.rolling, threshold=1.0, start="2025-09-01", as_of=r.as_of))
    assert any(np.allclose(line.get_ydata(), 1.0) for line in ax.get_lines() if len(line.get_ydata()) == 2)
    assert "RGTI" in ax.get_title()


def test_rolling_chart_counts_only_the_rule_lookback():
    """Title counts tickers whose max rolling return inside the last `lookback` sessions
    exceeds the threshold - computed here from the rolling panel directly."""
    v = evaluate("C8", EvalParams(placebo_draws=0))
    r = v.figures.rally
    roll = r.rolling.sort_index().loc[:r.as_of].dropna(how="all")
    start = roll.index[-120]
    ax = _check(figures.rolling_return_chart(roll, threshold=1.0, start=start, as_of=r.as_of, lookback_sessions=30))
    inside = roll.iloc[-30:].max()
    expected = sorted(t for t in roll.columns if inside[t] > 1.0)
    assert ax.get_title().replace("\n", " ").startswith(f"{len(expected)} of {roll.shape[1]} tickers exceeded")
    assert f"({', '.join(expected)})" in ax.get_title().replace("\n", " ") or not expected


def test_heatmap_colour_scale_is_clipped_robustly():
    v = evaluate("C3", EvalParams(placebo_draws=0))
    ev = v.evidence
    ax = _check(figures.ar_heatmap(ev))
    vals = (ev[(ev.window_start == 0) & (ev.window_end == 0) & (ev.status == "ok")].dropna(subset=["car"])
            .drop_duplicates(["event_id", "ticker"])["car"].abs() * 100)
    mesh = ax.collections[0]
    assert mesh.norm.vmax == pytest.approx(np.quantile(vals, 0.95))
    assert mesh.norm.vmax < vals.max()  # one extreme cell does not set the scale
    sizes = {t.get_fontsize() for t in ax.texts}
    assert min(sizes) >= 9  # annotations readable


def test_dollar_signs_in_titles_are_literal():
    fig = figures.price_paths(pd.DataFrame({"X": [1.0, 2.0]}, index=pd.to_datetime(["2025-01-02", "2025-01-03"])),
                              title="a $1tn plan and $500bn more")
    fig.canvas.draw()  # mathtext would fail or swallow the text between the dollars
    assert "$1tn" in fig.axes[0].get_title().replace("\\", "")


def test_empty_inputs_raise_value_error():
    with pytest.raises(ValueError):
        figures.price_paths(pd.DataFrame({"X": [1.0]}, index=pd.to_datetime(["2025-01-02"])), start="2026-01-01")
