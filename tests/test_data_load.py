"""load_prices / close_panel / returns / coverage on the embedded snapshot, and the auto fallback."""

from __future__ import annotations

import csv
import math
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

import research.data as d
from research.data import yahoo
from research.errors import CalendarError, DataError, DateRangeError, SourceUnavailableError, UnknownTickerError


def test_contract_shape_and_dtypes():
    df = d.load_prices(["SPY", "RGTI"], "2025-09-01", "2025-10-31", source="snapshot")
    assert list(df.columns) == ["date", "ticker", "open", "high", "low", "close", "close_raw", "volume"]
    assert isinstance(df.index, pd.RangeIndex)
    assert str(df["date"].dtype) == "datetime64[ns]"
    assert pd.api.types.is_string_dtype(df["ticker"])
    for c in ["open", "high", "low", "close", "close_raw", "volume"]:
        assert df[c].dtype == np.float64
    assert df["ticker"].tolist() == sorted(df["ticker"].tolist())  # sorted by ticker then date
    for _, g in df.groupby("ticker"):
        assert g["date"].is_monotonic_increasing
    # 2025-09-01 is Labor Day: first session 09-02; 44 sessions to 10-31 (XNYS)
    assert df.groupby("ticker").size().to_dict() == {"RGTI": 44, "SPY": 44}
    assert df["date"].min() == pd.Timestamp("2025-09-02")
    assert df.attrs == {"source": {"SPY": "snapshot", "RGTI": "snapshot"}, "basis": "split+dividend adjusted"}


def test_values_equal_archive_for_non_payer(shared_market_data):
    # RGTI pays no dividend: every field equals the archive's CSV row (read with csv)
    src = shared_market_data / "prices_daily.csv"
    with open(src, newline="") as fh:
        row = next(r for r in csv.DictReader(fh) if r["ticker"] == "RGTI" and r["date"] == "2025-10-13")
    got = d.load_prices("RGTI", "2025-10-13", "2025-10-13", source="snapshot").iloc[0]
    for c in ["open", "high", "low", "close", "volume"]:
        assert got[c] == float(row[c])
    assert got["close_raw"] == float(row["close"])


def test_unknown_ticker_is_named_with_nearest():
    with pytest.raises(UnknownTickerError) as ei:
        d.load_prices(["SPY", "QUANTINUUM"], source="snapshot")
    msg = str(ei.value)
    assert msg.startswith("QUANTINUUM is not in the snapshot (private company")
    assert "nearest available:" in msg and "QUBT" in msg
    with pytest.raises(UnknownTickerError, match=r"RGTX is not in the snapshot.*nearest available: .*RGTI"):
        d.load_prices("RGTX", source="snapshot")


def test_unknown_ticker_offline_auto_is_still_named():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(UnknownTickerError, match="QUANTINUUM"):
            d.load_prices("QUANTINUUM")


def test_start_after_end():
    with pytest.raises(DateRangeError, match="start 2025-10-31 is after end 2025-09-01"):
        d.load_prices("SPY", "2025-10-31", "2025-09-01", source="snapshot")


def test_range_outside_data_states_available_range():
    with pytest.raises(DateRangeError, match=r"USAR has no rows in 2024-01-01\.\.2024-12-31; the snapshot covers USAR from 2025-03-14 to 2026-05-29"):
        d.load_prices(["SPY", "USAR"], "2024-01-01", "2024-12-31", source="snapshot")
    with pytest.raises(DateRangeError, match="2026-06-01"):
        d.load_prices("SPY", "2026-06-01", None, source="snapshot")
    with pytest.raises(DateRangeError):  # a weekend-only range
        d.load_prices("SPY", "2025-10-11", "2025-10-12", source="snapshot")


@pytest.mark.parametrize("bad", ["2025-13-01", "yesterday-ish", "2025/10/45", 12.5])
def test_unparseable_dates(bad):
    with pytest.raises(CalendarError):
        d.load_prices("SPY", bad, "2025-10-31", source="snapshot")


def test_bad_arguments():
    with pytest.raises(DataError, match="no tickers"):
        d.load_prices([], source="snapshot")
    with pytest.raises(DataError, match="source 'bloomberg'"):
        d.load_prices("SPY", source="bloomberg")


def test_late_lister_has_no_rows_before_listing_and_no_forward_fill():
    df = d.load_prices(["SPY", "USAR", "OKLO", "CRML"], "2024-01-02", "2025-12-31", source="snapshot")
    first = df.groupby("ticker")["date"].min()
    assert first["USAR"] == pd.Timestamp("2025-03-14")
    assert first["OKLO"] == pd.Timestamp("2024-05-10")
    assert first["CRML"] == pd.Timestamp("2024-02-28")
    panel = d.close_panel(df)
    assert panel.index.name == "date" and list(panel.columns) == ["CRML", "OKLO", "SPY", "USAR"]
    assert panel.loc[: "2025-03-13", "USAR"].isna().all()
    assert panel.loc["2025-03-14":, "USAR"].notna().all()
    r = d.returns(panel)
    assert r.loc[: "2025-03-14", "USAR"].isna().all()  # first listed day has no return either
    assert r.loc["2025-03-17":, "USAR"].notna().all()


def test_returns_simple_and_log_against_numpy():
    df = d.load_prices(["SPY", "NVDA"], "2025-01-02", "2025-03-31", source="snapshot")
    panel = d.close_panel(df)
    p = panel.to_numpy()
    simple = d.returns(panel, "simple").to_numpy()
    logr = d.returns(panel, "log").to_numpy()
    assert np.isnan(simple[0]).all() and np.isnan(logr[0]).all()
    np.testing.assert_allclose(simple[1:], p[1:] / p[:-1] - 1.0, rtol=1e-13)
    np.testing.assert_allclose(logr[1:], np.log(p[1:]) - np.log(p[:-1]), atol=1e-13)
    with pytest.raises(DataError):
        d.returns(panel, "pct")


@settings(max_examples=30, deadline=None)
@given(st.lists(st.one_of(st.none(), st.floats(0.5, 500.0)), min_size=2, max_size=30))
def test_returns_never_fill_gaps(prices):
    idx = pd.bdate_range("2025-01-01", periods=len(prices), name="date")
    panel = pd.DataFrame({"X": [np.nan if v is None else v for v in prices]}, index=idx)
    r = d.returns(panel)["X"].to_numpy()
    for i in range(1, len(prices)):
        a, b = prices[i - 1], prices[i]
        if a is None or b is None:
            assert math.isnan(r[i])
        else:
            assert r[i] == pytest.approx(b / a - 1.0, rel=1e-12)


def test_close_panel_fields_and_errors():
    df = d.load_prices(["SPY", "ITA"], "2025-10-01", "2025-10-10", source="snapshot")
    vol = d.close_panel(df, "volume")
    assert vol["ITA"].isna().all() and vol["SPY"].notna().all()  # ITA is close-only
    with pytest.raises(DataError, match="field 'adj'"):
        d.close_panel(df, "adj")
    with pytest.raises(DataError, match="lacks column"):
        d.close_panel(df.drop(columns=["ticker"]))


def test_coverage_and_available_tickers():
    cov = d.coverage()
    assert list(cov.columns[:8]) == ["ticker", "name", "theme", "first", "last", "rows", "columns", "source_adjustment"]
    assert len(cov) == 50 and d.available_tickers() == sorted(cov["ticker"])
    row = cov.set_index("ticker").loc["OKLO"]
    assert (row["first"], row["last"], row["rows"]) == (pd.Timestamp("2024-05-10"), pd.Timestamp("2026-05-29"), 514)
    # coverage agrees with what load_prices returns
    full = d.load_prices(["OKLO", "ITA"], source="snapshot")
    for t, g in full.groupby("ticker"):
        c = cov.set_index("ticker").loc[t]
        assert (g["date"].min(), g["date"].max(), len(g)) == (c["first"], c["last"], c["rows"])
    assert set(cov["columns"]) == {"ohlcv", "close"} and set(cov["source_adjustment"]) == {"raw", "adjusted"}


ONLINE = yahoo.probe().ok
offline_only = pytest.mark.skipif(ONLINE, reason="Yahoo is reachable: the offline fallback needs a machine without network")


@offline_only
def test_auto_really_falls_back_with_one_warning():
    """No network here: auto probes Yahoo for real, fails, and serves the snapshot."""
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        df = d.load_prices(["RGTI", "SPY"], "2025-09-01", "2025-10-31")
    ours = [w for w in rec if issubclass(w.category, d.DataSourceWarning)]
    assert len(ours) == 1
    msg = str(ours[0].message)
    assert yahoo.probe().reason in msg
    assert "RGTI 2025-09-02..2025-10-31 (44 rows)" in msg and "SPY 2025-09-02..2025-10-31 (44 rows)" in msg
    assert df.attrs["source"] == {"RGTI": "snapshot", "SPY": "snapshot"}
    pd.testing.assert_frame_equal(df, d.load_prices(["RGTI", "SPY"], "2025-09-01", "2025-10-31", source="snapshot"))


@offline_only
def test_yfinance_source_offline_is_a_clear_error():
    with pytest.raises(SourceUnavailableError, match="Yahoo Finance is unreachable.*source='snapshot'"):
        d.load_prices("SPY", "2025-10-01", "2025-10-10", source="yfinance")


@offline_only
def test_issue_command_runs_offline():
    import subprocess
    import sys

    code = "import research.data as d; print(d.load_prices(['RGTI','SPY'],'2025-09-01','2025-10-31').tail())"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "2025-10-31" in out.stdout and "SPY" in out.stdout
    assert "DataSourceWarning" in out.stderr


def test_range_with_no_session_inside_the_data_says_so():
    with pytest.raises(DateRangeError, match=r"no session falls in it \(weekend or market holiday\)"):
        d.load_prices(["SPY"], "2025-10-11", "2025-10-12", source="snapshot")


def test_multi_session_returns_by_hand():
    px = d.close_panel(d.load_prices(["RGTI"], "2025-08-01", "2025-10-15", source="snapshot"))
    r21 = d.returns(px, periods=21)["RGTI"]
    closes = px["RGTI"].tolist()
    assert r21.iloc[:21].isna().all()
    for i in (21, 30, len(closes) - 1):
        assert r21.iloc[i] == pytest.approx(closes[i] / closes[i - 21] - 1, rel=1e-12)
    lg = d.returns(px, "log", periods=5)["RGTI"]
    assert lg.iloc[10] == pytest.approx(math.log(closes[10] / closes[5]), rel=1e-12)
    with pytest.raises(DataError, match="periods"):
        d.returns(px, periods=0)
