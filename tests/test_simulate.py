"""Brown-Warner simulation: on i.i.d. normal returns every parametric test rejects a true
null at its nominal rate (within the binomial band); an injected abnormal return is found."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from research.errors import SpecificationError
from research.eventstudy.simulate import PARAMETRIC_TESTS, simulate


def _iid_normal_panel(seed: int = 11, days: int = 1500, tickers: int = 30) -> pd.DataFrame:
    """Market ~ N(0, 1%), stock = beta * market + N(0, 2%): the market model holds exactly."""
    rng = np.random.default_rng(seed)
    idx = pd.bdate_range("2015-01-01", periods=days)
    m = rng.normal(0.0, 0.01, days)
    beta = rng.uniform(0.5, 1.5, tickers)
    y = m[:, None] * beta[None, :] + rng.normal(0.0, 0.02, (days, tickers))
    return pd.DataFrame(np.column_stack([y, m]), index=idx,
                        columns=[f"S{i:02d}" for i in range(tickers)] + ["SPY"])


@pytest.fixture(scope="module")
def size_table() -> pd.DataFrame:
    return simulate(_iid_normal_panel(), n_events=50, n_trials=1000, seed=3, tests=PARAMETRIC_TESTS)


def test_parametric_tests_have_nominal_size_on_iid_normal_returns(size_table):
    par = size_table[size_table["parametric"]]
    assert set(par.index) == set(PARAMETRIC_TESTS)
    assert (par["n_trials"] == 1000).all()
    n = 1000
    lo, hi = sps.binom.ppf(0.0005, n, 0.05) / n, sps.binom.ppf(0.9995, n, 0.05) / n  # 99.9% band
    bad = par[(par["reject_0.05"] < lo) | (par["reject_0.05"] > hi)]
    assert bad.empty, f"rejection rates outside [{lo}, {hi}]:\n{bad['reject_0.05']}"


def test_same_seed_same_table_and_a_real_effect_is_detected():
    panel = _iid_normal_panel()
    a = simulate(panel, n_events=20, n_trials=100, seed=3, tests=PARAMETRIC_TESTS)
    b = simulate(panel, n_events=20, n_trials=100, seed=3, tests=PARAMETRIC_TESTS)
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    assert not a.equals(simulate(panel, n_events=20, n_trials=100, seed=9, tests=PARAMETRIC_TESTS))
    power = simulate(panel, n_events=50, n_trials=200, seed=4, delta=0.01, tests=PARAMETRIC_TESTS)
    # 1% on day 0 over 50 events with 2% noise: z ~ 0.01 / (0.02 / sqrt(50)) = 3.5
    assert (power["reject_0.05"] > 0.8).all()
    nonpar = simulate(panel, n_events=50, n_trials=20, seed=5, tests=("corrado_rank", "sign"))
    assert not nonpar["parametric"].any() and (nonpar["n_trials"] == 20).all()


def test_bad_arguments():
    panel = _iid_normal_panel(days=400, tickers=3)
    with pytest.raises(SpecificationError, match="n_events"):
        simulate(panel, n_events=1)
    with pytest.raises(SpecificationError, match="variance_factor"):
        simulate(panel, variance_factor=0.5)
    with pytest.raises(SpecificationError, match="not columns"):
        simulate(panel, tickers=["NOPE"])


def test_dask_localcluster_gives_the_in_process_table():
    distributed = pytest.importorskip("distributed", reason="dask[distributed] is in the test extra")
    panel = _iid_normal_panel(days=700, tickers=8)
    here = simulate(panel, n_events=10, n_trials=60, block=20, seed=2, tests=PARAMETRIC_TESTS)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        there = simulate(panel, n_events=10, n_trials=60, block=20, seed=2, tests=PARAMETRIC_TESTS,
                         client=client)
    pd.testing.assert_frame_equal(there, here, check_exact=True)
    assert (here["n_trials"] == 60).all()
