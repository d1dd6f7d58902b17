"""Placebo (empirical) p-values: determinism, range, and an independent recomputation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from research.data import close_panel, load_prices, returns
from research.eventstudy import EventStudySpec, run_event_study
from research.eventstudy.placebo import candidate_positions, draw_key, event_rng

SPEC = EventStudySpec(windows=((0, 0), (0, 1)))


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    return returns(close_panel(load_prices(["MP", "LAC", "SPY"], source="snapshot")))


@pytest.fixture(scope="module")
def events() -> pd.DataFrame:
    return pd.DataFrame({
        "event_id": ["mp_dod", "mp_quiet", "lac_stake"],
        "ticker": ["MP", "MP", "LAC"],
        "date": ["2025-07-10", "2024-06-12", "2025-09-23"],
        "timing": ["pre_open", "pre_open", "after_close"],
    })


@pytest.fixture(scope="module")
def res(panel, events):
    return run_event_study(events, SPEC, returns=panel, placebo_draws=300, seed=7)


def test_same_seed_gives_identical_numbers(panel, events, res):
    again = run_event_study(events, SPEC, returns=panel, placebo_draws=300, seed=7)
    pd.testing.assert_frame_equal(again.car, res.car, check_exact=True)
    pd.testing.assert_frame_equal(again.placebo, res.placebo, check_exact=True)
    other = run_event_study(events, SPEC, returns=panel, placebo_draws=300, seed=8)
    assert not other.placebo["n_exceed"].equals(res.placebo["n_exceed"])


def test_draws_do_not_depend_on_event_order(panel, events, res):
    rev = run_event_study(events.iloc[::-1].reset_index(drop=True), SPEC, returns=panel,
                          placebo_draws=300, seed=7)
    a = rev.car.set_index(["event_id", "window_start"]).sort_index()["p_placebo"]
    b = res.car.set_index(["event_id", "window_start"]).sort_index()["p_placebo"]
    pd.testing.assert_series_equal(a, b, check_exact=True)


def test_p_placebo_in_unit_interval_and_formula(res):
    p = res.car["p_placebo"]
    assert p.notna().all()
    assert ((p > 0) & (p <= 1)).all()
    d = res.placebo
    expected = (1 + d["n_exceed"]) / (1 + d["n_valid"])
    np.testing.assert_allclose(d["p_placebo"], expected, rtol=0, atol=0)
    assert (d["n_valid"] > 250).all() and (d["n_valid"] <= 300).all()
    # the DoD deal day beats every pseudo date; the quiet date does not stand out
    car = res.car.set_index(["event_id", "window_end"])
    dod = d.set_index(["event_id", "window_end"]).loc[("mp_dod", 0)]
    assert dod["n_exceed"] == 0
    assert car.loc[("mp_dod", 0), "p_placebo"] == pytest.approx(1 / (1 + dod["n_valid"]))
    assert car.loc[("mp_quiet", 0), "p_placebo"] > 0.2


def test_placebo_statistic_recomputed_independently(panel, events, res):
    """Redraw the same pseudo dates and recompute |t| with statsmodels for a subset."""
    spec = SPEC
    idx = panel.index
    fin = panel["MP"].notna().to_numpy() & panel["SPY"].notna().to_numpy()
    actual = np.array([idx.get_loc(pd.Timestamp(d)) for d in ["2025-07-10", "2024-06-12"]])
    cands = candidate_positions(fin, actual, spec)
    # candidates keep the buffer around both actual MP events and the data edges
    assert np.abs(cands[:, None] - actual[None, :]).min() > 1
    assert cands.min() + spec.estimation.start >= 0
    draws = event_rng(7, draw_key("MP", "2024-06-12")).choice(cands, size=300, replace=True)
    t_actual = res.car.set_index(["event_id", "window_end"]).loc[("mp_quiet", 0), "t_stat"]
    ts = []
    for pos in draws:
        e = panel.iloc[pos - 260: pos - 10]
        keep = e["MP"].notna() & e["SPY"].notna()
        if keep.sum() < 120:
            continue
        fit = sm.OLS(e.loc[keep, "MP"].to_numpy(), sm.add_constant(e.loc[keep, "SPY"].to_numpy())).fit()
        x0 = np.array([1.0, panel["SPY"].iloc[pos]])
        ar = panel["MP"].iloc[pos] - x0 @ fit.params
        if not np.isfinite(ar):
            continue
        ts.append(ar / np.sqrt(fit.scale * (1 + x0 @ fit.normalized_cov_params @ x0)))
    ts = np.abs(np.asarray(ts))
    p_hand = (1 + np.sum(ts >= abs(t_actual))) / (1 + len(ts))
    got = res.car.set_index(["event_id", "window_end"]).loc[("mp_quiet", 0), "p_placebo"]
    assert got == pytest.approx(p_hand, abs=1e-12)


def test_no_placebo_by_default(panel, events):
    r = run_event_study(events, SPEC, returns=panel)
    assert r.placebo is None and r.car["p_placebo"].isna().all()


def test_short_history_is_flagged(panel, events):
    pos = panel.index.get_loc(pd.Timestamp("2025-07-10"))
    short = panel.iloc[pos - 300: pos + 40]
    r = run_event_study(events.iloc[[0]], SPEC, returns=short, placebo_draws=50, seed=1)
    assert r.placebo["n_candidates"].iat[0] < 100
    assert any("fewer than 100 distinct pseudo dates" in n for n in r.notes)
    full = run_event_study(events.iloc[[0]], SPEC, returns=panel, placebo_draws=50, seed=1)
    assert full.placebo["n_candidates"].iat[0] > 300
    assert not any("pseudo dates" in n for n in full.notes)


def test_same_stock_and_day_get_the_same_placebo_p(panel):
    ev = pd.DataFrame({"event_id": ["a", "b"], "ticker": ["MP", "MP"],
                       "day0": [pd.Timestamp("2025-10-13")] * 2})
    r = run_event_study(ev, SPEC, returns=panel, placebo_draws=200, seed=5)
    a = r.car[r.car["event_id"] == "a"]["p_placebo"].to_numpy()
    b = r.car[r.car["event_id"] == "b"]["p_placebo"].to_numpy()
    assert np.array_equal(a, b) and np.isfinite(a).all()
