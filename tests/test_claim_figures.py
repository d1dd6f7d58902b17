"""Every claim's figures agree with its verdict: the numbers a title states are the
verdict's own key numbers (read from ``Verdict.key_numbers`` here, not from the figure
code), the chart covers the rule's window (shaded), and event codes are replaced by names."""

from __future__ import annotations

import re

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402

from research.claims import EvalParams, evaluate  # noqa: E402
from research.claims.article import load_claims  # noqa: E402
from research.report.claimfigures import figures_for  # noqa: E402
from research.report.pages import event_names  # noqa: E402

PARAMS = EvalParams(placebo_draws=200)
CLAIMS = [c.id for c in load_claims()]


@pytest.fixture(scope="module")
def names():
    return event_names()


def _pct(text: str) -> float:
    return float(text.rstrip("%")) / 100.0


def _p(text: str) -> float:
    return 0.0 if text == "<0.001" else float(text)


@pytest.mark.parametrize("cid", CLAIMS)
def test_figure_titles_state_the_verdicts_numbers(cid, names):
    v = evaluate(cid, PARAMS)
    figs = figures_for(v, names=names, alpha=PARAMS.alpha)
    kn = v.key_numbers
    if not figs:
        assert v.evidence.empty or v.evidence.get("car") is None or v.evidence["car"].notna().sum() == 0 \
            or v.verdict.startswith("not testable"), f"{cid} has price evidence but no figure"
        return
    title = figs[0].figure.axes[0].get_title().replace("\n", " ").replace("\\$", "$")
    assert not re.search(r"\bev\d\d_", title), f"{cid}: raw event code in the title: {title}"
    basket_keys = [k for k in kn if k.endswith(".basket_car")]
    if basket_keys and not v.verdict.startswith("not testable"):
        m = re.search(r"CAR\(([+-]\d+),([+-]\d+)\) ([+-][\d.]+%) \(t-test p ([<\d.]+), placebo p ([<\d.]+)\)", title)
        assert m, title
        window = [int(m.group(1)), int(m.group(2))]
        assert window == list(kn["window"])
        event = next(k.split(".")[0] for k in basket_keys)
        assert names[event].split(",")[0][:20] in title  # the event by name, not code
        assert _pct(m.group(3)) == pytest.approx(kn[f"{event}.basket_car"], abs=0.0006)
        assert _p(m.group(4)) == pytest.approx(kn[f"{event}.basket_p_value"], abs=0.0006)
        assert _p(m.group(5)) == pytest.approx(kn[f"{event}.basket_p_placebo"], abs=0.0006)
        ax = figs[0].figure.axes[0]
        spans = [p for p in ax.patches if "rule window" in str(p.get_label())]
        assert spans, f"{cid}: the rule window is not shaded"
    if "tickers_above_threshold" in kn:
        m = re.match(r"(\d+) of (\d+) tickers exceeded \+(\d+)% over (\d+) sessions in the (\d+) sessions", title)
        assert m, title
        assert int(m.group(1)) == kn["tickers_above_threshold"]
        assert int(m.group(2)) == kn["required"]  # the tickers the verdict counts, not every ticker drawn
        assert float(m.group(3)) / 100 == pytest.approx(kn["threshold"])
        assert int(m.group(5)) == kn["lookback_sessions"]
    if "pairs_significant_all_tests" in kn and kn["pairs"] > 1:
        m = re.search(r"(\d+) of (\d+) positive, (\d+) significant under both tests", title)
        assert m, title
        assert int(m.group(2)) == kn["pairs"] - kn["pairs_not_estimated"]
        pairs = {k: d for k, d in kn.items() if isinstance(d, dict) and "car" in d}
        assert int(m.group(1)) == sum(d["car"] is not None and d["car"] > 0 for d in pairs.values())
        both = sum(d["p_value"] is not None and d["p_value"] < PARAMS.alpha and d["p_placebo"] is not None
                   and d["p_placebo"] < PARAMS.alpha for d in pairs.values())
        assert int(m.group(3)) == both
    if "pairs" in kn and kn["pairs"] == 1:
        (k, d), = [(k, d) for k, d in kn.items() if isinstance(d, dict) and "car" in d]
        m = re.search(r"CAR\(([+-]\d+),([+-]\d+)\) ([+-][\d.]+%)", title)
        assert m and [int(m.group(1)), int(m.group(2))] == list(d["window"])
        assert _pct(m.group(3)) == pytest.approx(d["car"], abs=0.0006)
