"""Property tests of the Yahoo dividend adjustment (research.data.adjust)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

from research.data.adjust import dividend_factors
from research.errors import MalformedDataError


@settings(max_examples=80, deadline=None)
@given(
    closes=st.lists(st.floats(5.0, 500.0), min_size=3, max_size=40),
    data=st.data(),
)
def test_adjusted_returns_equal_yahoo_total_return(closes, data):
    n = len(closes)
    dates = pd.bdate_range("2024-01-01", periods=n)
    k = data.draw(st.lists(st.integers(1, n - 1), unique=True, max_size=4))
    divs = [data.draw(st.floats(0.0, 0.2)) * closes[i - 1] for i in k]
    f = dividend_factors(dates, np.array(closes), dates[k] if k else dates[:0], np.array(divs))
    adj = np.array(closes) * f
    ex = dict(zip(k, divs))
    for t in range(1, n):
        got = adj[t] / adj[t - 1] - 1.0
        if t in ex:  # ex-date: P_t / (P_{t-1} - D) - 1
            assert got == pytest.approx(closes[t] / (closes[t - 1] - ex[t]) - 1.0, rel=1e-9, abs=1e-12)
        else:
            assert got == pytest.approx(closes[t] / closes[t - 1] - 1.0, rel=1e-9, abs=1e-12)
    assert f[-1] == 1.0 and np.all(np.diff(f) >= -1e-15)  # non-decreasing toward 1


def test_dividend_on_non_session_applies_to_rows_before():
    dates = pd.DatetimeIndex(["2025-10-09", "2025-10-10", "2025-10-13"])
    f = dividend_factors(dates, np.array([100.0, 100.0, 100.0]), pd.DatetimeIndex(["2025-10-11"]), np.array([1.0]))
    np.testing.assert_allclose(f, [0.99, 0.99, 1.0])


def test_out_of_range_dividends_ignored_and_bad_dividend_rejected():
    dates = pd.DatetimeIndex(["2025-10-09", "2025-10-10"])
    f = dividend_factors(dates, np.array([10.0, 10.0]), pd.DatetimeIndex(["2025-10-09", "2025-10-14"]), np.array([1.0, 1.0]))
    np.testing.assert_array_equal(f, [1.0, 1.0])
    with pytest.raises(MalformedDataError, match="XYZ ex 2025-10-10"):
        dividend_factors(dates, np.array([10.0, 10.0]), pd.DatetimeIndex(["2025-10-10"]), np.array([12.0]), ticker="XYZ")
