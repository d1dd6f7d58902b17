"""Direction (up / down / any) and the "all rose" rule on constructed evidence: the joint
test equals scipy's Stouffer combination, and mirroring every sign mirrors the verdict."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from research.claims.rules import joint_z, judge_basket, judge_pairs, judge_pairs_all, judge_rolling


def pairs(*specs):
    """specs: (ticker, car, t, p_value, p_placebo), one event per ticker."""
    return pd.DataFrame([{"event_id": f"ev-{t}", "ticker": t, "car": c, "t_stat": ts, "p_value": p, "p_placebo": q,
                          "window_start": 0, "window_end": 0, "day0": pd.Timestamp("2025-01-02")}
                         for t, c, ts, p, q in specs])


def mirror(df):
    out = df.copy()
    out["car"] = -out["car"]
    out["t_stat"] = -out["t_stat"]
    return out


def test_joint_z_is_stouffers_combination():
    df = pairs(("A", 0.10, 4.0, 1e-4, 0.001), ("B", 0.03, 1.35, 0.18, 0.15), ("C", -0.01, -0.4, 0.69, 0.7))
    recs = df.to_dict(orient="records")
    z, p, n = joint_z(recs, "parametric")
    assert n == 3 and z == pytest.approx((4.0 + 1.35 - 0.4) / math.sqrt(3))
    assert p == pytest.approx(2 * stats.norm.sf(abs(z)))
    # placebo: two-sided p and the CAR's sign -> one-sided p in the up direction; scipy's Stouffer
    one_sided = [q / 2 if c > 0 else 1 - q / 2 for c, q in zip(df["car"], df["p_placebo"], strict=True)]
    ref = stats.combine_pvalues(one_sided, method="stouffer")
    zp, pp, _ = joint_z(recs, "placebo")
    assert zp == pytest.approx(ref.statistic)
    assert pp == pytest.approx(2 * min(ref.pvalue, 1 - ref.pvalue))


def test_all_rose_supported_with_a_power_note_where_each_is_only_partly():
    df = pairs(("A", 0.10, 4.0, 1e-4, 0.001), ("B", 0.03, 1.35, 0.18, 0.15), ("C", 0.2, 9.0, 1e-9, 0.001))
    j = judge_pairs_all(df, alpha=0.05, tests=("parametric", "placebo"))
    assert j.verdict == "supported"
    assert any("B rose" in r and "not a refutation" in r for r in j.reasons)
    assert judge_pairs(df, alpha=0.05, tests=("parametric", "placebo")).verdict == "partly supported"


def test_all_rose_with_a_member_that_fell_is_at_most_partly():
    df = pairs(("A", 0.10, 4.0, 1e-4, 0.001), ("B", -0.03, -1.35, 0.18, 0.15), ("C", 0.2, 9.0, 1e-9, 0.001))
    assert judge_pairs_all(df, alpha=0.05).verdict == "partly supported"
    weak = pairs(("A", 0.01, 0.5, 0.6, 0.6), ("B", 0.01, 0.4, 0.7, 0.7))
    assert judge_pairs_all(weak, alpha=0.05).verdict == "not supported"


def test_down_claims_need_a_fall_and_any_takes_either():
    fall = pd.DataFrame([{"event_id": "ev", "ticker": "basket:x", "car": -0.10, "t_stat": -5.4, "p_value": 1e-6,
                          "p_placebo": 0.001, "window_start": 0, "window_end": 0, "day0": pd.Timestamp("2025-01-27")}])
    assert judge_basket(fall, alpha=0.05, window=(0, 0), direction="up").verdict == "not supported"
    assert judge_basket(fall, alpha=0.05, window=(0, 0), direction="down").verdict == "supported"
    assert judge_basket(fall, alpha=0.05, window=(0, 0), direction="any").verdict == "supported"
    j = judge_basket(fall, alpha=0.05, window=(0, 0), direction="down")
    assert "-10.00%" in j.headline and "p <0.0001" in j.headline and "claimed: fell" in j.headline


def test_rolling_directions():
    table = pd.DataFrame({"max_return": [0.05, 0.30], "max_end": pd.to_datetime(["2025-03-01", "2025-03-02"]),
                          "min_return": [-0.25, -0.02], "min_end": pd.to_datetime(["2025-03-03", "2025-03-04"])},
                         index=["A", "B"])
    kw = dict(threshold=0.2, lookback_sessions=30, horizon=21)
    assert judge_rolling(table, required=["A"], direction="down", **kw).verdict == "supported"
    assert judge_rolling(table, required=["A"], direction="up", **kw).verdict == "not supported"
    assert judge_rolling(table, required=["A", "B"], direction="down", **kw).verdict == "partly supported"
    assert judge_rolling(table, required=["A", "B"], direction="any", **kw).verdict == "supported"


finite_t = st.floats(min_value=-12, max_value=12, allow_nan=False)
prob = st.floats(min_value=1e-6, max_value=1.0, allow_nan=False)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(finite_t, prob, prob), min_size=1, max_size=6))
def test_mirroring_every_sign_mirrors_the_verdict(specs):
    df = pairs(*[(f"T{i}", t / 100 if t != 0 else 1e-4, t if t != 0 else 1e-4, p, q)
                 for i, (t, p, q) in enumerate(specs)])
    for judge in (judge_pairs, judge_pairs_all):
        up = judge(df, alpha=0.05, direction="up").verdict
        down = judge(mirror(df), alpha=0.05, direction="down").verdict
        assert up == down
    rows = df.iloc[:1].assign(ticker="basket:x")
    assert (judge_basket(rows, alpha=0.05, window=(0, 0), direction="up").verdict
            == judge_basket(mirror(rows), alpha=0.05, window=(0, 0), direction="down").verdict)
    # "any" never gives a worse verdict than the direction the data took
    order = {"supported": 0, "partly supported": 1, "not supported": 2, "not testable with price data": 3}
    assert order[judge_pairs(df, alpha=0.05, direction="any").verdict] <= min(
        order[judge_pairs(df, alpha=0.05, direction=d).verdict] for d in ("up", "down")) or len(df) > 1
    assert np.isfinite(joint_z(df.to_dict(orient="records"), "parametric")[0])
