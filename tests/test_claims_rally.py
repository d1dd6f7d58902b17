"""C8 numbers against an independent pandas computation from the snapshot file."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from research.claims import EvalParams, evaluate
from research.claims.rally import calendar_month_return, rally, rolling_returns

ROOT = Path(__file__).resolve().parents[1]
TICKERS = ["RGTI", "QBTS", "IONQ", "QUBT"]
AS_OF = pd.Timestamp("2025-10-15")


@pytest.fixture(scope="module")
def closes() -> pd.DataFrame:
    """Adjusted closes read straight from the snapshot parquet (not through research.data)."""
    raw = pd.read_parquet(ROOT / "data" / "snapshot" / "prices.parquet")
    raw = raw[raw["ticker"].isin(TICKERS) & (raw["date"] <= AS_OF)]
    return raw.pivot(index="date", columns="ticker", values="close")[TICKERS].sort_index()


@pytest.fixture(scope="module")
def result():
    return rally(TICKERS, "2025-10-15", horizon=21, lookback_sessions=30, month="2025-09")


def test_rolling_returns_equal_pct_change(closes, result):
    expected = closes.pct_change(21, fill_method=None)
    got = result.rolling[TICKERS].iloc[21:]  # the first 21 rows lack a base close in the loaded history
    assert len(got) > 200
    pd.testing.assert_frame_equal(got, expected.loc[got.index], check_names=False, check_freq=False, rtol=1e-12)


def test_max_rolling_return_and_its_end(closes, result):
    r = closes.pct_change(21, fill_method=None).tail(30)
    for t in TICKERS:
        assert result.table.loc[t, "max_return"] == pytest.approx(r[t].max(), rel=1e-12)
        assert result.table.loc[t, "max_end"] == r[t].idxmax()
    assert result.as_of == AS_OF


def test_calendar_month_from_month_end_closes(closes, result):
    month_end = closes.groupby(closes.index.to_period("M")).last()
    sept = month_end.loc[pd.Period("2025-09")] / month_end.loc[pd.Period("2025-08")] - 1
    for t in TICKERS:
        assert result.table.loc[t, "month_return"] == pytest.approx(sept[t], rel=1e-12)


def test_september_agrees_with_the_press_figures(result):
    # facts.csv f51/f52: RGTI +83.6%, QBTS +58% in calendar September 2025 (press, rounded)
    assert result.table.loc["RGTI", "month_return"] == pytest.approx(0.836, abs=0.005)
    assert result.table.loc["QBTS", "month_return"] == pytest.approx(0.58, abs=0.005)


def test_nothing_after_as_of_is_used(result):
    assert result.closes.index.max() <= AS_OF
    assert result.rolling.index.max() <= AS_OF


def test_rolling_returns_hand_example():
    c = pd.DataFrame({"X": [10.0, 11.0, 12.0, 30.0, float("nan"), 15.0]},
                     index=pd.bdate_range("2025-01-01", periods=6))
    r = rolling_returns(c, 2)
    assert r["X"].iloc[2] == pytest.approx(12 / 10 - 1)
    assert r["X"].iloc[3] == pytest.approx(30 / 11 - 1)
    assert pd.isna(r["X"].iloc[4]) and r["X"].iloc[5] == pytest.approx(15 / 30 - 1)


def test_calendar_month_hand_example():
    idx = pd.to_datetime(["2025-08-28", "2025-08-29", "2025-09-02", "2025-09-30", "2025-10-01"])
    c = pd.DataFrame({"X": [9.0, 10.0, 12.0, 25.0, 30.0]}, index=idx)
    assert calendar_month_return(c, "2025-09")["X"] == pytest.approx(1.5)


def test_c8_verdict_key_numbers(closes):
    v = evaluate("C8", EvalParams(placebo_draws=0))
    r = closes.pct_change(21, fill_method=None).tail(30)
    for t in TICKERS:
        k = v.key_numbers[t]
        assert set(k) >= {"max_rolling_21d_return", "max_rolling_21d_end", "calendar_month_return_2025_09"}
        assert k["max_rolling_21d_return"] == pytest.approx(r[t].max(), rel=1e-12)
    both = all(r[t].max() > 1.0 for t in ("RGTI", "QBTS"))
    assert v.verdict == ("supported" if both else "partly supported" if any(r[t].max() > 1.0 for t in ("RGTI", "QBTS"))
                         else "not supported")
    d = v.to_dict()
    assert d["key_numbers"]["RGTI"]["max_rolling_21d_end"] == r["RGTI"].idxmax().strftime("%Y-%m-%d")
