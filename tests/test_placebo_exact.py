"""Exact placebo: every admissible pseudo date, checked against a brute-force loop of
per-pseudo-date statsmodels OLS on a real snapshot ticker (MP, market model on SPY)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from research.data import close_panel, load_prices, returns
from research.errors import SpecificationError
from research.eventstudy import EventStudySpec, run_event_study
from research.eventstudy.placebo import admissible_rows

SPEC = EventStudySpec(windows=((0, 0), (0, 1)))
CATALOGUE = {"MP": ["2025-07-10", "2025-10-13", "2024-06-12"]}  # the "article's" MP events
UNTIL = "2025-10-31"


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    return returns(close_panel(load_prices(["MP", "LAC", "SPY"], source="snapshot")))


def _exact(events, panel, **kw):
    kw = {"placebo_exclude": CATALOGUE, "placebo_until": UNTIL, **kw}
    return run_event_study(events, SPEC, returns=panel, volume=False, placebo_method="exact", **kw)


def _brute_force(panel: pd.DataFrame, day0: str, min_gap: int, until: str) -> dict[int, tuple[float, int]]:
    """(p, n) per window end, from a plain loop: admissibility written out date by date,
    one statsmodels OLS per pseudo date, CAR variance sigma^2 (L + s' (X'X)^-1 s)."""
    idx = panel.index
    fin = (panel["MP"].notna() & panel["SPY"].notna()).to_numpy()
    first = int(np.flatnonzero(fin)[0])
    last = min(int(np.flatnonzero(fin)[-1]), int(idx.searchsorted(pd.Timestamp(until), side="right")) - 1)
    excluded = [int(idx.searchsorted(pd.Timestamp(d))) for d in CATALOGUE["MP"] + [day0]]
    own = int(idx.get_loc(pd.Timestamp(day0)))

    def stat(pos: int) -> dict[int, float]:
        e = panel.iloc[pos - 260: pos - 10]
        keep = e["MP"].notna() & e["SPY"].notna()
        if keep.sum() < 120:
            return {}
        fit = sm.OLS(e.loc[keep, "MP"].to_numpy(), sm.add_constant(e.loc[keep, "SPY"].to_numpy())).fit()
        out = {}
        for end in (0, 1):
            x0 = np.column_stack([np.ones(end + 1), panel["SPY"].iloc[pos: pos + end + 1].to_numpy()])
            ar = panel["MP"].iloc[pos: pos + end + 1].to_numpy() - x0 @ fit.params
            s = x0.sum(axis=0)
            var = fit.scale * (end + 1 + s @ fit.normalized_cov_params @ s)
            out[end] = ar.sum() / np.sqrt(var) if np.isfinite(ar).all() else np.nan
        return out

    actual = stat(own)
    pseudo = []
    for pos in range(len(idx)):
        if pos - 260 < first or pos > last:  # estimation window in the data, day 0 by the last row
            continue
        if any(abs(pos - q) < min_gap for q in excluded):
            continue
        pseudo.append((pos, stat(pos)))
    res = {}
    for end in (0, 1):  # each window counts the pseudo dates whose own window ends by the last row
        ts = np.array([d[end] for pos, d in pseudo if d and pos + end <= last and np.isfinite(d[end])])
        res[end] = ((1 + np.sum(np.abs(ts) >= abs(actual[end]))) / (1 + ts.size), ts.size)
    return res


def test_exact_p_equals_brute_force_statsmodels_loop(panel):
    day0 = "2024-06-12"
    ev = pd.DataFrame({"event_id": ["q"], "ticker": ["MP"], "day0": [pd.Timestamp(day0)]})
    r = _exact(ev, panel)
    span = SPEC.event_span[1] - SPEC.event_span[0] + 1
    want = _brute_force(panel, day0, span, UNTIL)
    d = r.placebo.set_index("window_end")
    for end in (0, 1):
        p, n = want[end]
        assert n > 300  # a real history, not a handful of dates
        assert int(d.loc[end, "n_valid"]) == n
        assert d.loc[end, "p_placebo"] == pytest.approx(p, abs=1e-12)
        assert d.loc[end, "p_floor"] == pytest.approx(1 / (1 + n), abs=1e-15)
    assert (d["method"] == "exact").all()
    car = r.car.set_index("window_end")["p_placebo"]
    np.testing.assert_array_equal(car.to_numpy(), d["p_placebo"].to_numpy())


def test_same_ticker_day_window_spec_gives_same_p_whatever_else_is_in_the_call(panel):
    one = pd.DataFrame({"event_id": ["x"], "ticker": ["MP"], "day0": [pd.Timestamp("2025-10-13")]})
    many = pd.DataFrame({"event_id": ["a", "x", "b", "c"], "ticker": ["LAC", "MP", "MP", "MP"],
                         "day0": pd.to_datetime(["2025-09-24", "2025-10-13", "2025-07-10", "2023-03-01"])})
    p1 = _exact(one, panel).placebo.set_index(["event_id", "window_end"])
    p2 = _exact(many, panel).placebo.set_index(["event_id", "window_end"])
    pd.testing.assert_frame_equal(p1, p2.loc[["x"]], check_exact=True)
    # the deal day beats every admissible date: p is at its floor
    assert p1.loc[("x", 0), "n_exceed"] == 0 or p1.loc[("x", 0), "p_placebo"] < 0.05


def test_admissibility_rules(panel):
    fin = (panel["MP"].notna() & panel["SPY"].notna()).to_numpy()
    rows = admissible_rows(fin, SPEC)
    first, last = np.flatnonzero(fin)[[0, -1]]
    assert rows.min() == first + 260 and rows.max() == last - 1  # span (0, 1)
    excl = [rows[100], rows[300]]
    cut = admissible_rows(fin, SPEC, exclude_rows=excl, min_gap=20, last_row=int(rows[500]))
    assert np.abs(cut[:, None] - np.array(excl)[None, :]).min() == 20
    assert cut.max() == rows[500] - 1
    assert set(cut) <= set(rows) and len(cut) == len(rows[rows + 1 <= rows[500]]) - 2 * 39
    with pytest.raises(SpecificationError, match="min_gap"):
        admissible_rows(fin, SPEC, min_gap=-1)


def test_until_none_uses_all_history_and_exclusions_shrink_n(panel):
    ev = pd.DataFrame({"event_id": ["q"], "ticker": ["MP"], "day0": [pd.Timestamp("2024-06-12")]})
    base = _exact(ev, panel, placebo_exclude=None, placebo_until=None).placebo
    cut = _exact(ev, panel).placebo
    assert (base["n_valid"] > cut["n_valid"]).all()
    assert (base["p_floor"] < cut["p_floor"]).all()


def test_resample_stays_an_explicit_option(panel):
    ev = pd.DataFrame({"event_id": ["q"], "ticker": ["MP"], "day0": [pd.Timestamp("2024-06-12")]})
    r = run_event_study(ev, SPEC, returns=panel, volume=False, placebo_draws=100, seed=3,
                        placebo_method="resample")
    assert (r.placebo["method"] == "resample").all() and (r.placebo["n_valid"] <= 100).all()
    with pytest.raises(SpecificationError, match="placebo_method"):
        run_event_study(ev, SPEC, returns=panel, placebo_method="bootstrap")
