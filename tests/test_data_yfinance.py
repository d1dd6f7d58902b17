"""The yfinance source: the real (failing, offline) network call, normalisation of
yfinance-1.7-shaped frames, and the per-ticker parquet cache.

There is no network to Yahoo here, so yfinance itself is called for real and must fail
fast and clearly. Normalisation and the cache are tested with frames shaped exactly
like yfinance 1.7 returns them, filled with real SPY bars from the snapshot.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import research.data as d
from research.data import paths, yahoo
from research.errors import EmptyDataError, MalformedDataError, SourceUnavailableError


@pytest.fixture(scope="module")
def spy():
    return d.load_prices("SPY", "2025-06-02", "2025-10-31", source="snapshot")


def yf_download_shape(rows: pd.DataFrame, ticker: str, *, group_by: str = "column") -> pd.DataFrame:
    """What ``yf.download(t, auto_adjust=False)`` returns in yfinance 1.7.

    Columns MultiIndex (Price, Ticker) sorted by price name (or (Ticker, Price) for
    ``group_by='ticker'``), index ``Date`` tz-naive (``ignore_tz`` for daily bars).
    Raw OHLC = adjusted / (Adj Close / Close).
    """
    ratio = (rows["close"] / rows["close_raw"]).to_numpy()
    data = {
        "Adj Close": rows["close"].to_numpy(),
        "Close": rows["close_raw"].to_numpy(),
        "High": rows["high"].to_numpy() / ratio,
        "Low": rows["low"].to_numpy() / ratio,
        "Open": rows["open"].to_numpy() / ratio,
        "Volume": rows["volume"].to_numpy().astype("int64"),
    }
    idx = pd.DatetimeIndex(rows["date"].to_numpy(), name="Date")
    frame = pd.DataFrame(data, index=idx)
    if group_by == "column":
        frame.columns = pd.MultiIndex.from_product([frame.columns, [ticker]], names=["Price", "Ticker"])
    else:
        frame.columns = pd.MultiIndex.from_product([[ticker], frame.columns], names=["Ticker", "Price"])
    return frame


def yf_history_shape(rows: pd.DataFrame, *, auto_adjust: bool) -> pd.DataFrame:
    """What ``yf.Ticker(t).history()`` returns: single-level columns, tz-aware NY index."""
    idx = pd.DatetimeIndex(rows["date"].to_numpy()).tz_localize("America/New_York").rename("Date")
    if auto_adjust:
        cols = {"Open": rows["open"], "High": rows["high"], "Low": rows["low"], "Close": rows["close"]}
    else:
        r = rows["close"] / rows["close_raw"]
        cols = {"Open": rows["open"] / r, "High": rows["high"] / r, "Low": rows["low"] / r,
                "Close": rows["close_raw"], "Adj Close": rows["close"]}
    cols |= {"Volume": rows["volume"].astype("int64"), "Dividends": 0.0, "Stock Splits": 0.0}
    return pd.DataFrame({k: np.asarray(v) for k, v in cols.items()}, index=idx)


# ----------------------------------------------------------------- real network (absent)
ONLINE = yahoo.probe().ok
offline_only = pytest.mark.skipif(ONLINE, reason="Yahoo is reachable: these check the offline behaviour")


@offline_only
def test_real_probe_reports_unreachable(monkeypatch):
    monkeypatch.setattr(yahoo, "_PROBE", None)
    monkeypatch.delenv("RESEARCH_OFFLINE", raising=False)
    r = yahoo.probe(refresh=True)
    assert r.ok is False and yahoo.PROBE_HOST in r.reason
    assert yahoo.probe() is r  # cached per process


def test_offline_env_skips_probe(monkeypatch):
    monkeypatch.setattr(yahoo, "_PROBE", None)
    monkeypatch.setenv("RESEARCH_OFFLINE", "1")
    assert yahoo.probe(refresh=True) == yahoo.Reachability(False, "RESEARCH_OFFLINE is set")


@offline_only
def test_real_yfinance_download_fails_clearly():
    """yfinance.download really runs; with no network it must raise, not return empty."""
    with pytest.raises(SourceUnavailableError, match=r"SPY.*source='snapshot'") as ei:
        yahoo.fetch_raw("SPY", pd.Timestamp("2025-10-01"), pd.Timestamp("2025-10-10"), timeout=3)
    assert not isinstance(ei.value, EmptyDataError)


@offline_only
def test_real_load_ticker_offline_leaves_no_cache(tmp_path):
    with pytest.raises(SourceUnavailableError):
        yahoo.load_ticker("SPY", pd.Timestamp("2025-10-01"), pd.Timestamp("2025-10-10"), cache=tmp_path)
    assert list(tmp_path.iterdir()) == []


# ----------------------------------------------------------------- normalisation
@pytest.mark.parametrize("group_by", ["column", "ticker"])
def test_normalise_download_multiindex(spy, group_by):
    out = yahoo.normalise(yf_download_shape(spy, "SPY", group_by=group_by), "SPY")
    pd.testing.assert_frame_equal(out, spy.reset_index(drop=True), check_exact=False, rtol=1e-12)


def test_normalise_history_tz_aware(spy):
    out = yahoo.normalise(yf_history_shape(spy, auto_adjust=False), "SPY")
    assert out["date"].dt.tz is None
    assert list(out["date"]) == list(spy["date"])  # midnight New York -> the session date
    np.testing.assert_allclose(out[["open", "high", "low", "close", "close_raw"]], spy[["open", "high", "low", "close", "close_raw"]], rtol=1e-12)


def test_normalise_utc_index_maps_to_new_york_session(spy):
    f = yf_history_shape(spy, auto_adjust=True)
    f.index = f.index.tz_convert("UTC")  # 04:00/05:00 UTC
    out = yahoo.normalise(f, "SPY")
    assert list(out["date"]) == list(spy["date"])
    assert out["close_raw"].isna().all()  # auto-adjusted history: raw close unknown
    np.testing.assert_allclose(out["close"], spy["close"], rtol=1e-12)


def test_normalise_empty_and_wrong_ticker(spy):
    empty = pd.DataFrame(columns=pd.MultiIndex.from_product(
        [["Adj Close", "Close", "High", "Low", "Open", "Volume"], ["SPY"]], names=["Price", "Ticker"]))
    with pytest.raises(EmptyDataError, match="empty frame for SPY"):
        yahoo.normalise(empty, "SPY")
    with pytest.raises(MalformedDataError, match="no columns for QQQ"):
        yahoo.normalise(yf_download_shape(spy, "SPY"), "QQQ")
    nan_only = yf_download_shape(spy.iloc[:3], "SPY") * np.nan
    with pytest.raises(EmptyDataError):
        yahoo.normalise(nan_only, "SPY")


# ----------------------------------------------------------------- cache
class FakeYahoo:
    """Serves yfinance-shaped frames of real snapshot rows, recording each request."""

    def __init__(self, rows: pd.DataFrame, scale: float = 1.0):
        self.rows, self.scale, self.calls = rows, scale, []

    def __call__(self, ticker, start, end):
        self.calls.append((start, end))
        part = self.rows[(self.rows["date"] >= start) & (self.rows["date"] <= end)].copy()
        part["close"] *= self.scale
        for c in ("open", "high", "low"):
            part[c] *= self.scale
        if part.empty:
            raise EmptyDataError(f"no rows for {ticker}")
        return yf_download_shape(part, ticker)


def test_cache_incremental_refresh(spy, tmp_path):
    yf = FakeYahoo(spy)
    a = yahoo.load_ticker("SPY", pd.Timestamp("2025-06-02"), pd.Timestamp("2025-08-29"), cache=tmp_path, fetch=yf)
    assert yf.calls == [(pd.Timestamp("2025-06-02"), pd.Timestamp("2025-08-29"))]
    assert (tmp_path / "SPY.parquet").is_file()
    # same range again: served from the cache, no download
    b = yahoo.load_ticker("SPY", pd.Timestamp("2025-07-01"), pd.Timestamp("2025-08-29"), cache=tmp_path, fetch=yf)
    assert len(yf.calls) == 1
    pd.testing.assert_frame_equal(b, a[a["date"] >= "2025-07-01"].reset_index(drop=True))
    # later end: only the sessions after the last cached one (+ that one as overlap)
    c = yahoo.load_ticker("SPY", pd.Timestamp("2025-06-02"), pd.Timestamp("2025-10-31"), cache=tmp_path, fetch=yf)
    assert yf.calls[1] == (pd.Timestamp("2025-08-29"), pd.Timestamp("2025-10-31"))
    pd.testing.assert_frame_equal(c, spy.reset_index(drop=True), check_exact=False, rtol=1e-12)
    cached = yahoo.read_cache("SPY", tmp_path)
    assert cached["date"].is_unique and len(cached) == len(spy)


def test_cache_full_refresh_when_yahoo_rebases(spy, tmp_path):
    yahoo.load_ticker("SPY", pd.Timestamp("2025-06-02"), pd.Timestamp("2025-08-29"), cache=tmp_path, fetch=FakeYahoo(spy))
    rebased = FakeYahoo(spy, scale=0.99)  # a new dividend rescales all earlier adjusted prices
    out = yahoo.load_ticker("SPY", pd.Timestamp("2025-06-02"), pd.Timestamp("2025-10-31"), cache=tmp_path, fetch=rebased)
    assert rebased.calls == [(pd.Timestamp("2025-08-29"), pd.Timestamp("2025-10-31")),
                             (pd.Timestamp("2025-06-02"), pd.Timestamp("2025-10-31"))]
    np.testing.assert_allclose(out["close"], spy["close"] * 0.99, rtol=1e-12)
    np.testing.assert_allclose(yahoo.read_cache("SPY", tmp_path)["close"], spy["close"] * 0.99, rtol=1e-12)


def test_earlier_start_refetches_whole_span(spy, tmp_path):
    yf = FakeYahoo(spy)
    yahoo.load_ticker("SPY", pd.Timestamp("2025-08-01"), pd.Timestamp("2025-08-29"), cache=tmp_path, fetch=yf)
    yahoo.load_ticker("SPY", pd.Timestamp("2025-06-02"), pd.Timestamp("2025-07-31"), cache=tmp_path, fetch=yf)
    assert yf.calls[1] == (pd.Timestamp("2025-06-02"), pd.Timestamp("2025-08-29"))
    cached = yahoo.read_cache("SPY", tmp_path)
    assert (cached["date"].min(), cached["date"].max()) == (pd.Timestamp("2025-06-02"), pd.Timestamp("2025-08-29"))


def test_corrupt_cache_is_redownloaded(spy, tmp_path):
    (tmp_path / "SPY.parquet").write_bytes(b"half-written garbage")
    yf = FakeYahoo(spy)
    with pytest.warns(yahoo.CacheWarning, match="not readable parquet"):
        out = yahoo.load_ticker("SPY", pd.Timestamp("2025-06-02"), pd.Timestamp("2025-06-30"), cache=tmp_path, fetch=yf)
    assert len(yf.calls) == 1 and len(out) == 20  # June 2025: 21 weekdays - Juneteenth


def test_cache_write_is_atomic(spy, tmp_path, monkeypatch):
    yahoo.load_ticker("SPY", pd.Timestamp("2025-06-02"), pd.Timestamp("2025-06-30"), cache=tmp_path, fetch=FakeYahoo(spy))
    before = (tmp_path / "SPY.parquet").read_bytes()

    def crash(src, dst):
        raise OSError("simulated crash during rename")

    monkeypatch.setattr(paths.os, "replace", crash)
    with pytest.raises(OSError, match="simulated crash"):
        yahoo.load_ticker("SPY", pd.Timestamp("2025-06-02"), pd.Timestamp("2025-07-31"), cache=tmp_path, fetch=FakeYahoo(spy))
    assert (tmp_path / "SPY.parquet").read_bytes() == before  # old file intact
    assert [p.name for p in tmp_path.iterdir()] == ["SPY.parquet"]  # no temp file left


def test_cache_dir_env(monkeypatch, tmp_path):
    monkeypatch.setenv("RESEARCH_CACHE_DIR", str(tmp_path / "c"))
    assert yahoo.cache_path("BRK.B") == tmp_path / "c" / "BRK.B.parquet"
    monkeypatch.delenv("RESEARCH_CACHE_DIR")
    assert paths.cache_dir() == paths.REPO_ROOT / ".cache" / "yfinance"


def test_empty_range_from_yfinance(spy, tmp_path):
    with pytest.raises(EmptyDataError):
        yahoo.load_ticker("SPY", pd.Timestamp("2025-10-11"), pd.Timestamp("2025-10-12"), cache=tmp_path, fetch=FakeYahoo(spy))


def test_incremental_refresh_with_nothing_new_keeps_cache(spy, tmp_path):
    yf = FakeYahoo(spy)
    yahoo.load_ticker("SPY", pd.Timestamp("2025-06-02"), pd.Timestamp("2025-06-30"), cache=tmp_path, fetch=yf)
    before = (tmp_path / "SPY.parquet").read_bytes()

    def nothing(ticker, start, end):
        raise EmptyDataError("no rows")

    out = yahoo.load_ticker("SPY", pd.Timestamp("2025-06-02"), pd.Timestamp("2025-07-01"), cache=tmp_path, fetch=nothing)
    assert out["date"].max() == pd.Timestamp("2025-06-30") and len(out) == 20
    assert (tmp_path / "SPY.parquet").read_bytes() == before
