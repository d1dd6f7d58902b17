"""Issue 9 inference: exact placebo in the claims, the primary test per claim with
Holm/Benjamini-Hochberg control, power (minimum detectable CAR), the pre-event run-up, and
the timing rule for an unknown release hour.

Expected values are derived here from the data or by hand, never from the code under test:
Holm and BH are written out from their definitions; the cap is decided from the family's
raw p-values; the placebo critical value is checked against the p-value formula itself.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from research.claims import EvalParams, evaluate_all, load_article
from hypothesis import given, settings
from hypothesis import strategies as st

from research.claims.multiplicity import adjust_pvalues, benjamini_hochberg, holm
from research.claims.power import minimum_detectable
from research.claims.studies import RUNUP_WINDOW, day0_table
from research.data import align_event
from research.eventstudy.placebo import placebo_critical_values


def holm_by_hand(p: list[float]) -> list[float]:
    m = len(p)
    order = sorted(range(m), key=lambda i: p[i])
    out, running = [0.0] * m, 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[i]))
        out[i] = running
    return out


def bh_by_hand(p: list[float]) -> list[float]:
    m = len(p)
    order = sorted(range(m), key=lambda i: p[i], reverse=True)
    out, running = [0.0] * m, 1.0
    for k, i in enumerate(order):
        rank = m - k  # 1-based rank in ascending order
        running = min(running, p[i] * m / rank)
        out[i] = running
    return out


def test_holm_and_bh_match_their_definitions():
    raw = {"a": 0.01, "b": 0.04, "c": 0.03, "d": 0.005, "e": float("nan")}
    adj = adjust_pvalues(raw)
    ids = ["a", "b", "c", "d"]
    holm = holm_by_hand([raw[k] for k in ids])
    bh = bh_by_hand([raw[k] for k in ids])
    for k, h, b in zip(ids, holm, bh, strict=True):
        assert adj[k]["p_holm"] == pytest.approx(h, rel=1e-12)
        assert adj[k]["p_bh"] == pytest.approx(b, rel=1e-12)
        assert adj[k]["family_size"] == 4
    assert math.isnan(adj["e"]["p_holm"])  # untestable entries are left out of the family


@pytest.fixture(scope="module")
def verdicts():
    return {v.claim_id: v for v in evaluate_all(EvalParams())}


@pytest.fixture(scope="module")
def verdicts_strict():
    return {v.claim_id: v for v in evaluate_all(EvalParams(alpha=0.01))}


def _family(vs):
    return {k: v.inference.p_value for k, v in vs.items() if v.inference}


@pytest.mark.parametrize("which", ["verdicts", "verdicts_strict"])
def test_supported_needs_the_holm_adjusted_primary_p(which, request):
    """A claim whose primary test passes only unadjusted is capped at 'partly supported'.
    At alpha 0.01 the MP/DoD claim's placebo p (at its floor, about 0.003) passes, but six
    primary tests make its Holm p about 0.017: capped. At 0.05 it stays supported."""
    vs = request.getfixturevalue(which)
    alpha = 0.05 if which == "verdicts" else 0.01
    fam = _family(vs)
    ids = sorted(fam)
    holm = dict(zip(ids, holm_by_hand([fam[k] for k in ids]), strict=True))
    capped = 0
    for k in ids:
        v = vs[k]
        assert v.inference.p_holm == pytest.approx(holm[k], rel=1e-9)
        if holm[k] >= alpha:
            assert v.verdict != "supported", k
        if fam[k] < alpha <= holm[k] and any("capped at 'partly supported'" in n and "Holm" in n for n in v.notes):
            capped += 1
            assert v.verdict == "partly supported"
    if which == "verdicts_strict":
        assert capped >= 1  # the construction above: at least one claim is capped by Holm alone


def test_one_placebo_p_per_ticker_day_window_everywhere(verdicts):
    """The exact placebo's admissible dates do not depend on the claim: the same (ticker,
    day 0, window) has one placebo p-value in every claim that shows it."""
    rows = pd.concat([v.evidence.assign(claim=k) for k, v in verdicts.items() if not v.evidence.empty])
    rows = rows[rows["status"] == "ok"].dropna(subset=["p_placebo"])
    key = ["ticker", "day0", "window_start", "window_end"]
    shared = rows.groupby(key).filter(lambda g: g["claim"].nunique() > 1)
    assert not shared.empty
    spread = shared.groupby(key)["p_placebo"].agg(lambda s: s.max() - s.min())
    assert (spread == 0).all(), spread[spread > 0]
    # and every placebo p carries its n and floor, with p >= floor = 1/(1+n)
    assert np.allclose(rows["p_placebo_floor"], 1.0 / (1.0 + rows["p_placebo_n"]), rtol=1e-12)
    assert (rows["p_placebo"] >= rows["p_placebo_floor"] - 1e-15).all()


def test_placebo_critical_value_is_where_the_p_value_crosses_alpha():
    rng = np.random.default_rng(7)
    for n in (5, 19, 80, 368):
        a = np.abs(rng.standard_t(4, size=n))
        for lev, c in zip((0.01, 0.05, 0.10), placebo_critical_values(a, (0.01, 0.05, 0.10)), strict=True):
            p_at = lambda x: (1 + np.sum(a >= x)) / (1 + n)  # noqa: E731 (the p-value formula)
            if math.isinf(c):
                assert 1 / (1 + n) > lev  # even the largest |t| cannot reach the level
            else:
                assert p_at(np.nextafter(c, np.inf)) <= lev  # just above c: significant
                assert p_at(c) > lev  # at c: not (ties count as exceeding)


def test_minimum_detectable_car_is_the_t_critical_value_times_the_se(verdicts):
    se, dof = np.array([0.02, 0.05]), np.array([248.0, 130.0])
    assert minimum_detectable(se, dof, 0.05) == pytest.approx(stats.t.ppf(0.975, dof) * se, rel=1e-12)
    v = verdicts["C13"]
    ev = v.evidence.set_index(["ticker", "window_start", "window_end"])
    nv = ev.loc[("NVDA", 0, 0)]
    assert nv["p_placebo"] > 0.05  # NVDA's day-0 rise is not significant on its own ...
    note = next(n for n in v.notes if n.startswith("Power: NVDA"))
    assert f"{nv['car']:+.1%}" in note and f"±{nv['mde']:.1%}" in note  # ... and the note says how big it had to be
    # the MDE matches the significance boundary: |t| at the MDE equals the critical t
    assert nv["mde"] / nv["car_se"] == pytest.approx(stats.t.ppf(0.975, 250 - 2), rel=2e-2)


def test_runup_window_is_in_the_evidence_and_flagged_only_when_significant(verdicts):
    a, b = RUNUP_WINDOW
    for k, v in verdicts.items():
        if v.evidence.empty or not v.inference:
            continue
        pre = v.evidence[(v.evidence["window_start"] == a) & (v.evidence["window_end"] == b)
                         & (v.evidence["status"] == "ok")]
        assert not pre.empty, k
        flagged = {(n.split(" before ")[1].split(" (p")[0], n.split(" moved ")[0].removeprefix("Run-up: "))
                   for n in v.notes if n.startswith("Run-up:")}
        for r in pre.itertuples():
            p = r.p_placebo if np.isfinite(r.p_placebo) else r.p_value
            if (r.event_id, r.ticker) in flagged:
                assert p < 0.05, (k, r.event_id, r.ticker)


def test_unknown_hour_on_a_session_means_day_0_or_1():
    a = align_event("2025-06-16", "unknown")  # a Monday: before the open, during, or after the close
    assert (a.day0, a.uncertain, a.window) == (pd.Timestamp("2025-06-16"), True, (0, 1))
    w = align_event("2025-06-14", "unknown")  # a Saturday: the next session, whatever the hour
    assert (w.day0, w.uncertain, w.window) == (pd.Timestamp("2025-06-16"), False, None)
    d = align_event("2025-06-16", "unknown_date")
    assert (d.day0, d.uncertain, d.window) == (pd.Timestamp("2025-06-16"), True, (-1, 1))
    known = align_event("2025-06-16", "pre_open")
    assert (known.uncertain, known.window) == (False, None)


def test_auto_window_of_an_unknown_hour_is_0_to_plus_1():
    """The CRML EXIM letter (release hour unknown, a Monday): the claim's CAR counts day 0
    and day +1, not the session before the letter."""
    art = load_article()
    d0 = day0_table(article=art)
    unknown = d0[d0["timing"] == "unknown"]
    assert not unknown.empty
    for eid, r in unknown.iterrows():
        on_session = align_event(r["date"], "pre_open").day0 == pd.Timestamp(r["date"])
        assert r["uncertain_window"] == ((0, 1) if on_session else None), eid


@given(st.lists(st.floats(min_value=0.0, max_value=1.0, allow_nan=False), min_size=1, max_size=40))
@settings(max_examples=300, deadline=None)
def test_holm_and_bh_equal_statsmodels_multipletests(p):
    """The vectorised Holm and BH of research.claims.multiplicity equal statsmodels'
    ``multipletests(p, method="holm")`` / ``"fdr_bh"`` on any family, ties included."""
    from statsmodels.stats.multitest import multipletests

    raw = np.array(p)
    np.testing.assert_allclose(holm(raw), multipletests(raw, method="holm")[1], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(benjamini_hochberg(raw), multipletests(raw, method="fdr_bh")[1], rtol=1e-12,
                               atol=1e-15)
