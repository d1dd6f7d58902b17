"""Chunked processing: ``run_event_study(..., chunk_size=k)`` equals the one-shot run.

The one-shot run computes the battery with :func:`research.eventstudy.stats.battery` on
all events at once (the implementation the estudy2 / statsmodels / hand-worked tests
pin); the chunked run combines per-chunk shares
(:func:`research.eventstudy.stats.combine_parts`, GRANK's second pass). Every test's
statistic and p-value must agree to 1e-12 on real snapshot data, every per-event table
exactly. The Dask path (a ``LocalCluster``) must give the in-process chunked result.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from research.data import close_panel, load_prices, returns
from research.errors import SpecificationError
from research.eventstudy import EventStudySpec, run_event_study
from research.eventstudy import stats as es_stats

TICKERS = ["SPY", "MP", "IONQ", "RGTI", "QBTS", "NVDA", "AMD", "LMT", "NOC", "USAR", "OKLO", "CRML"]


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    return returns(close_panel(load_prices(TICKERS, source="snapshot")))


def _events(panel: pd.DataFrame, n: int, seed: int) -> pd.DataFrame:
    """``n`` events on snapshot tickers and sessions (late listers and early dates included,
    so some are skipped or estimated on fewer days), plus repeats of a (ticker, day 0),
    an unknown ticker and events on the market proxy itself (zero residual variance)."""
    rng = np.random.default_rng(seed)
    tick = rng.choice(TICKERS[1:], n)
    day = panel.index[rng.integers(150, len(panel) - 25, n)]
    ev = pd.DataFrame({"event_id": [f"e{i}" for i in range(n)], "ticker": tick, "day0": day})
    extra = pd.DataFrame({
        "event_id": ["rep1", "rep2", "unknown", "spy1", "spy2"],
        "ticker": [tick[3], tick[10], "NOPE", "SPY", "SPY"],
        "day0": [day[3], day[10], day[0], day[20], day[40]],
    })
    return pd.concat([ev, extra], ignore_index=True)


def _assert_tests_close(one: pd.DataFrame, other: pd.DataFrame, tol: float = 1e-12) -> None:
    keys = ["test", "scope", "day", "window_start", "window_end"]
    pd.testing.assert_frame_equal(one[keys], other[keys])
    assert set(one["test"]) == set(es_stats.DAY_TESTS) | {"skewness_corrected_bhar"}
    for col in ("statistic", "p_value"):
        a, b = one[col].to_numpy(), other[col].to_numpy()
        assert np.array_equal(np.isnan(a), np.isnan(b)), col
        bad = np.abs(a - b) > tol * np.maximum(1.0, np.abs(a))
        assert not bad.any(), one.loc[bad, keys + [col]].assign(chunked=b[bad])


def _assert_same_per_event(one, other) -> None:
    pd.testing.assert_frame_equal(one.events, other.events)
    pd.testing.assert_frame_equal(one.car, other.car)
    pd.testing.assert_frame_equal(one.ar, other.ar)
    pd.testing.assert_frame_equal(one.car_path, other.car_path)
    pd.testing.assert_frame_equal(one.aar, other.aar)
    assert one.notes == other.notes


@pytest.mark.parametrize("convention", ["textbook", "estudy2"])
def test_chunked_equals_one_shot_for_every_test(panel, convention):
    spec = EventStudySpec(convention=convention)
    ev = _events(panel, 240, seed=1)
    one = run_event_study(ev, spec, returns=panel, volume=False)
    assert (one.events["status"] == "skipped").any()  # the chunks see skipped events too
    assert one.tests["statistic"].notna().sum() > 0.9 * len(one.tests)
    for k in (1, 37, 100):
        chunked = run_event_study(ev, spec, returns=panel, volume=False, chunk_size=k)
        _assert_same_per_event(one, chunked)
        _assert_tests_close(one.tests, chunked.tests)


def test_chunked_subset_of_tests_and_mean_adjusted_model(panel):
    spec = EventStudySpec(model="mean_adjusted")
    ev = _events(panel, 120, seed=2)
    for tests in (("corrado_rank", "bmp_kp"), ("generalized_rank",), ("lamb", "wilcoxon")):
        one = run_event_study(ev, spec, returns=panel, volume=False, tests=tests)
        chunked = run_event_study(ev, spec, returns=panel, volume=False, tests=tests, chunk_size=29)
        assert sorted(set(chunked.tests["test"])) == sorted(tests)
        keys = ["test", "scope", "day", "window_start", "window_end"]
        pd.testing.assert_frame_equal(one.tests[keys], chunked.tests[keys])
        np.testing.assert_allclose(chunked.tests["statistic"], one.tests["statistic"], rtol=1e-12, atol=1e-12)


def test_chunked_past_the_exact_cross_correlation_size():
    """More than RBAR_EXACT_MAX events with ragged rows: r_bar uses the O(N L) identity,
    whose sums add across chunks."""
    rng = np.random.default_rng(5)
    days, tickers = 700, 60
    idx = pd.bdate_range("2015-01-01", periods=days)
    m = rng.normal(0, 0.01, days)
    y = m[:, None] * rng.uniform(0.5, 1.5, tickers) + rng.normal(0, 0.02, (days, tickers))
    y[rng.random(y.shape) < 0.01] = np.nan  # ragged usable rows
    pan = pd.DataFrame(np.column_stack([y, m]), index=idx, columns=[f"S{i}" for i in range(tickers)] + ["SPY"])
    n = es_stats.RBAR_EXACT_MAX + 200
    ev = pd.DataFrame({"event_id": [f"e{i}" for i in range(n)],
                       "ticker": pan.columns[rng.integers(0, tickers, n)],
                       "day0": idx[rng.integers(270, days - 25, n)]})
    tests = ("patell_kp", "bmp_kp", "generalized_rank", "modified_rank")
    one = run_event_study(ev, returns=pan, volume=False, tests=tests)
    chunked = run_event_study(ev, returns=pan, volume=False, tests=tests, chunk_size=333)
    np.testing.assert_allclose(chunked.tests["statistic"], one.tests["statistic"], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(chunked.tests["p_value"], one.tests["p_value"], rtol=1e-12, atol=1e-12)


def test_combine_parts_rbar_is_exact_pairwise_up_to_the_limit():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(90, 40)) + rng.normal(size=(1, 40))  # correlated rows
    x[rng.random(x.shape) < 0.1] = np.nan
    n = x.shape[0]

    def inp(rows):
        return es_stats.BatteryInput(ar=rng.normal(size=(len(rows), 3)), ar_est=x[rows], sigma=np.ones(len(rows)),
                                     pe=np.ones((len(rows), 3)), n_est=np.full(len(rows), 40), n_params=1)

    parts = [es_stats.battery_part(inp(np.arange(a, min(a + 25, n))), ("bmp_kp",)) for a in range(0, n, 25)]
    got = es_stats.combine_parts(parts)._cache["rbar"]
    assert got == pytest.approx(es_stats.mean_cross_correlation(x, method="exact"), rel=1e-12)


def test_chunk_size_must_be_a_positive_whole_number(panel):
    ev = _events(panel, 50, seed=4)
    for bad in (0, -3, 2.5, True):
        with pytest.raises(SpecificationError, match="chunk_size"):
            run_event_study(ev, returns=panel, volume=False, chunk_size=bad)


def test_dask_localcluster_gives_the_in_process_result(panel):
    distributed = pytest.importorskip("distributed", reason="dask[distributed] is in the test extra")
    ev = _events(panel, 150, seed=6)
    local = run_event_study(ev, returns=panel, volume=False, chunk_size=40)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        scatter, calls = client.scatter, []

        def counted(*args, **kwargs):  # the real scatter, counted
            calls.append(1)
            return scatter(*args, **kwargs)

        client.scatter = counted
        remote = run_event_study(ev, returns=panel, volume=False, chunk_size=40, client=client)
    assert len(calls) == 1  # the panel goes to the workers once: the GRANK round reuses it
    _assert_same_per_event(local, remote)
    pd.testing.assert_frame_equal(local.tests, remote.tests, check_exact=True)


def test_chunked_with_exact_placebo_and_volume_equals_one_shot():
    ev = pd.DataFrame({
        "event_id": ["a", "b", "c", "d", "e", "f", "g"],
        "ticker": ["MP", "MP", "IONQ", "RGTI", "NVDA", "IONQ", "MP"],
        "date": ["2025-07-10", "2024-06-12", "2025-03-03", "2025-01-08", "2024-11-20", "2025-03-03",
                 "2025-07-10"],
        "timing": ["pre_open", "pre_open", "after_close", "intraday", "after_close", "after_close",
                   "pre_open"],
    })
    kw = {"source": "snapshot", "placebo_method": "exact"}
    one = run_event_study(ev, **kw)
    chunked = run_event_study(ev, chunk_size=2, **kw)
    _assert_same_per_event(one, chunked)
    assert one.car["p_placebo"].notna().all()
    pd.testing.assert_frame_equal(one.placebo, chunked.placebo)
    pd.testing.assert_frame_equal(one.volume, chunked.volume)
    _assert_tests_close(one.tests, chunked.tests)


def test_resampled_placebo_and_volume_do_not_depend_on_their_event_chunk(panel):
    """The resampled placebo evaluates its draws ``chunk`` events at a time and abnormal
    volume reads estimation windows ``chunk`` events at a time (bounded memory): every
    chunk gives the one-chunk frames exactly. The placebo's p-values are also checked
    against a direct count: pseudo t-statistics of the event's own seeded draws."""
    from research.eventstudy.placebo import (
        candidate_positions,
        draw_key,
        event_rng,
        placebo_pvalues,
        pseudo_statistics,
    )
    from research.eventstudy.volume import abnormal_volume_panel

    spec = EventStudySpec()
    ev = _events(panel, 60, seed=4)
    res = run_event_study(ev, spec, returns=panel, volume=False, tests=())
    ok = (res.events["status"] == "ok").to_numpy()
    t = res.car["t_stat"].to_numpy().reshape(len(ev), len(spec.windows))
    cols = pd.Index(panel.columns)
    col = np.maximum(cols.get_indexer(ev["ticker"]), 0)
    pos0 = np.where(cols.get_indexer(ev["ticker"]) < 0, -1, panel.index.get_indexer(ev["day0"]))
    pev = res.events[["event_id", "ticker", "day0"]]
    y, x = panel.to_numpy(), panel[[spec.market]].to_numpy()
    one, p_one = placebo_pvalues(pev, pos0, col, ok, t, y, x, spec, n_draws=150, seed=5, chunk=10_000)
    assert np.isfinite(p_one).sum() > 100
    for chunk in (1, 7):
        other, p = placebo_pvalues(pev, pos0, col, ok, t, y, x, spec, n_draws=150, seed=5, chunk=chunk)
        pd.testing.assert_frame_equal(one, other, check_exact=True)
    import research.eventstudy.placebo as placebo_module

    real, rounds = placebo_module.pseudo_statistics, []

    def counted(*args, **kwargs):  # the real function, its calls counted (one per round)
        rounds.append(1)
        return real(*args, **kwargs)

    with pytest.MonkeyPatch.context() as mp:  # many draws per event: fewer events per round
        mp.setattr(placebo_module, "DRAWS_PER_ROUND", 1_000)
        mp.setattr(placebo_module, "pseudo_statistics", counted)
        other, _ = placebo_pvalues(pev, pos0, col, ok, t, y, x, spec, n_draws=150, seed=5, chunk=10_000)
    assert len(rounds) >= 5  # 6 events (900 draws) a round, not all events in one
    pd.testing.assert_frame_equal(one, other, check_exact=True)
    # an independent count for two events: their own draws through the pipeline one by one
    for i in np.flatnonzero(ok & np.isfinite(p_one).all(axis=1))[:2]:
        n_cand = int(one["n_candidates"].iat[i * len(spec.windows)])
        assert n_cand > 0
        same = (col == col[i]) & (pos0 >= 0)
        fin = np.isfinite(y[:, col[i]]) & np.isfinite(x).all(axis=1)
        cands = candidate_positions(fin, pos0[same], spec)
        draws = event_rng(5, draw_key(ev["ticker"].iat[i], ev["day0"].iat[i])).choice(cands, size=150)
        tp = pseudo_statistics(y, x, np.full(150, col[i]), draws, spec)
        valid = np.isfinite(tp)
        exceed = (valid & (np.abs(tp) >= np.abs(t[i]))).sum(axis=0)
        np.testing.assert_array_equal(p_one[i], (1 + exceed) / (1 + valid.sum(axis=0)))

    vol = close_panel(load_prices(TICKERS, source="snapshot"), field="volume")
    ev_v = res.events[["event_id", "ticker", "day0"]]
    base = abnormal_volume_panel(ev_v, vol, spec)
    assert (base["status"] == "ok").sum() > 0
    for chunk in (1, 13):
        pd.testing.assert_frame_equal(base, abnormal_volume_panel(ev_v, vol, spec, chunk=chunk), check_exact=True)


def _on_local_cluster(distributed, ev: pd.DataFrame, **kw) -> tuple:
    """``run_event_study(ev, client=..., **kw)`` on a one-worker ``LocalCluster``: the
    result and the names of the functions submitted as tasks (the real submit, counted)."""
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        submit, calls = client.submit, []

        def counted(*args, **kwargs):
            calls.append(args[0].__name__)
            return submit(*args, **kwargs)

        client.submit = counted
        return run_event_study(ev, client=client, **kw), calls


@pytest.mark.parametrize("method", ["resample", "exact"])
def test_dask_placebo_gives_the_in_process_result(panel, method):
    """With a client the placebo's pseudo statistics are Dask tasks (the resampled placebo
    computes every candidate date up front): the same p-values, counts and critical values."""
    distributed = pytest.importorskip("distributed", reason="dask[distributed] is in the test extra")
    ev = _events(panel, 45, seed=8)
    kw = {"returns": panel, "volume": False, "tests": (), "placebo_method": method,
          "placebo_draws": 120, "seed": 2}
    local = run_event_study(ev, **kw)
    assert local.placebo["p_placebo"].notna().sum() > 20
    remote, calls = _on_local_cluster(distributed, ev, **kw)
    assert "pseudo_chunk" in calls  # the pseudo statistics ran as tasks
    _assert_same_per_event(local, remote)
    pd.testing.assert_frame_equal(local.placebo, remote.placebo, check_exact=True)


def test_dask_abnormal_volume_gives_the_in_process_result(panel):
    """With a client, abnormal volume's estimation windows are read as Dask tasks (one per
    chunk of events): the volume table equals the in-process one exactly, and a
    hand-computed event's estimation mean and sd (ddof=1, ln(1 + V)) agree with it."""
    distributed = pytest.importorskip("distributed", reason="dask[distributed] is in the test extra")
    import research.eventstudy.volume as volume_module

    vol = close_panel(load_prices(TICKERS, source="snapshot"), field="volume")
    ev = _events(panel, 45, seed=9)
    kw = {"returns": panel, "volume": vol, "tests": ()}
    local = run_event_study(ev, **kw)
    ok = local.volume[local.volume["status"] == "ok"]
    assert ok["event_id"].nunique() > 30 and (local.volume["status"] == "skipped").any()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(volume_module, "EVENT_CHUNK", 7)  # several chunks, so several tasks
        remote, calls = _on_local_cluster(distributed, ev, **kw)
    assert calls.count("estimation_moments") == -(-len(ev) // 7)
    pd.testing.assert_frame_equal(local.volume, remote.volume, check_exact=True)
    # one event by hand: its estimation sessions [-260, -11] before day 0
    d0 = ok[(ok["day"] == 0) & ok["log_volume"].notna()].iloc[0]
    day0 = local.events.set_index("event_id").loc[d0["event_id"], "day0"]
    p0 = vol.index.get_loc(day0)
    est = np.log1p(vol[d0["ticker"]].iloc[p0 - 260: p0 - 10].to_numpy(dtype=float))
    est = est[np.isfinite(est)]
    assert est.size >= 120
    assert d0["abnormal_log_volume"] == pytest.approx(d0["log_volume"] - est.mean(), abs=1e-12)
    assert d0["sav"] == pytest.approx((d0["log_volume"] - est.mean()) / est.std(ddof=1), rel=1e-10)
