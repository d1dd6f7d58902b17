"""Property tests (hypothesis) of the claim computations that are not event studies."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from research.claims.rally import calendar_month_return, rolling_returns
from research.claims.rules import judge_pairs

daily = st.lists(st.floats(min_value=-0.5, max_value=1.0, allow_nan=False), min_size=30, max_size=80)


@settings(max_examples=60, deadline=None)
@given(daily, st.integers(min_value=1, max_value=25), st.floats(min_value=0.5, max_value=500))
def test_rolling_return_is_compounded_daily_returns(rets, h, p0):
    r = np.asarray(rets)
    prices = p0 * np.cumprod(np.r_[1.0, 1.0 + r])
    idx = pd.bdate_range("2025-01-01", periods=len(prices))
    out = rolling_returns(pd.DataFrame({"X": prices}, index=idx), h)["X"].to_numpy()
    for t in range(h, len(prices)):
        expected = np.prod(1.0 + r[t - h:t]) - 1.0
        assert np.isclose(out[t], expected, rtol=1e-9, atol=1e-12)
    assert np.isnan(out[:h]).all()


@settings(max_examples=40, deadline=None)
@given(daily, st.floats(min_value=0.01, max_value=1000))
def test_returns_do_not_depend_on_the_price_scale(rets, k):
    prices = 10 * np.cumprod(np.r_[1.0, 1.0 + np.asarray(rets)])
    idx = pd.bdate_range("2025-08-01", periods=len(prices))
    a = pd.DataFrame({"X": prices}, index=idx)
    b = a * k
    assert np.allclose(rolling_returns(a, 5), rolling_returns(b, 5), equal_nan=True)
    assert np.isclose(calendar_month_return(a, "2025-09")["X"], calendar_month_return(b, "2025-09")["X"])


pair = st.tuples(st.floats(min_value=-0.5, max_value=0.5, allow_nan=False),
                 st.floats(min_value=0, max_value=1, allow_nan=False),
                 st.floats(min_value=0, max_value=1, allow_nan=False))


@settings(max_examples=80, deadline=None)
@given(st.lists(pair, min_size=1, max_size=6), st.sampled_from([0.01, 0.05, 0.1]))
def test_pairs_rule_matches_its_definition(specs, alpha):
    rows = pd.DataFrame([{"event_id": f"e{i}", "ticker": f"T{i}", "car": c, "t_stat": 0.0, "p_value": p,
                          "p_placebo": q, "window_start": 0, "window_end": 0} for i, (c, p, q) in enumerate(specs)])
    both = [c > 0 and p < alpha and q < alpha for c, p, q in specs]
    one = [c > 0 and (p < alpha or q < alpha) for c, p, q in specs]
    expected = "supported" if all(both) else "partly supported" if any(one) else "not supported"
    assert judge_pairs(rows, alpha=alpha).verdict == expected
