"""Kolari-Pynnönen r_bar: the exact pairwise mean and the O(N L) identity beyond it.

``mean_cross_correlation(method="auto")`` is the quadratic pairwise computation up to
``RBAR_EXACT_MAX`` events with ragged usable rows and the linear identity
``sum_{i != j} r_ij = (||sum_i z_i||^2 - sum_i ||z_i||^2) / (L - 1)`` beyond (and
whenever all events share their rows). Both are checked against an independent
computation: numpy's ``corrcoef`` on every pair.
"""

from __future__ import annotations

import numpy as np
import pytest

from research.eventstudy import stats


def _pairwise_mean(x: np.ndarray) -> float:
    """Mean of the pairwise-complete Pearson correlations, pair by pair (independent)."""
    n = x.shape[0]
    vals = []
    for i in range(n):
        for j in range(i + 1, n):
            m = np.isfinite(x[i]) & np.isfinite(x[j])
            vals.append(np.corrcoef(x[i, m], x[j, m])[0, 1])
    return float(np.mean(vals))


def _panel(n: int, days: int, rho: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    common = rng.normal(size=(1, days))
    return np.sqrt(rho) * common + np.sqrt(1 - rho) * rng.normal(size=(n, days))


def test_linear_identity_is_exact_on_a_balanced_panel_beyond_the_exact_size():
    x = _panel(stats.RBAR_EXACT_MAX + 150, 40, 0.1, seed=1)
    want = stats.mean_cross_correlation(x, method="exact")
    assert stats.mean_cross_correlation(x) == pytest.approx(want, rel=1e-10)
    assert stats.mean_cross_correlation(x, method="fast") == pytest.approx(want, rel=1e-10)
    small = x[:60]
    assert stats.mean_cross_correlation(small, method="fast") == pytest.approx(_pairwise_mean(small), rel=1e-10)


def test_auto_is_pairwise_up_to_the_exact_size_and_linear_beyond():
    x = _panel(stats.RBAR_EXACT_MAX + 1, 30, 0.2, seed=2)
    x[np.random.default_rng(3).random(x.shape) < 0.05] = np.nan  # ragged usable rows
    at_limit = x[: stats.RBAR_EXACT_MAX]
    assert stats.mean_cross_correlation(at_limit) == stats.mean_cross_correlation(at_limit, method="exact")
    assert stats.mean_cross_correlation(x) == stats.mean_cross_correlation(x, method="fast")
    sub = x[:80]
    assert stats.mean_cross_correlation(sub, method="exact") == pytest.approx(_pairwise_mean(sub), rel=1e-10)


def test_linear_identity_on_a_ragged_panel_is_close_to_the_pairwise_mean():
    # 5% missing days: each event standardised over its own rows, not each pair's
    x = _panel(300, 120, 0.15, seed=4)
    x[np.random.default_rng(5).random(x.shape) < 0.05] = np.nan
    exact = stats.mean_cross_correlation(x, method="exact")
    fast = stats.mean_cross_correlation(x, method="fast")
    assert exact == pytest.approx(0.15, abs=0.03)
    assert fast == pytest.approx(exact, abs=0.01)
    assert fast != exact  # an approximation here, not the same number
