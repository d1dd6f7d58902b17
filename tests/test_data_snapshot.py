"""Snapshot build, determinism, adjustment basis and integrity checks.

Independent checks read ../shared/market-data with the csv module (not pandas, not the
package) and compute Yahoo's dividend adjustment by hand.
"""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
from collections import defaultdict
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from _requirements import shared_root
from research.data import load_prices, paths
from research.data.snapshot import build_snapshot, clear_cache, load_snapshot, read_market_data
from research.errors import MalformedDataError, SnapshotIntegrityError

SHARED = shared_root() / "market-data"
# skip with the reason on a lone clone, fail under RESEARCH_REQUIRE_SHARED=1 (_requirements)
needs_shared = pytest.mark.usefixtures("shared_market_data")


def _raw_csv():
    """ticker -> list of (date, close) from prices_daily.csv, parsed with csv only."""
    rows = defaultdict(list)
    with open(SHARED / "prices_daily.csv", newline="") as fh:
        for r in csv.DictReader(fh):
            rows[r["ticker"]].append((r["date"], float(r["close"]), r["open"]))
    return rows


def _tickers_csv():
    with open(SHARED / "tickers.csv", newline="") as fh:
        return {r["ticker"]: r for r in csv.DictReader(fh)}


def _dividends_csv():
    out = defaultdict(list)
    with open(SHARED / "dividends.csv", newline="") as fh:
        for r in csv.DictReader(fh):
            out[r["ticker"]].append((r["date"], float(r["dividend"])))
    return out


@needs_shared
def test_rebuild_is_byte_identical_and_matches_committed(tmp_path):
    a = build_snapshot(SHARED, tmp_path / "a")
    b = build_snapshot(SHARED, tmp_path / "b")
    pa_bytes = (tmp_path / "a/snapshot/prices.parquet").read_bytes()
    assert pa_bytes == (tmp_path / "b/snapshot/prices.parquet").read_bytes()
    assert (tmp_path / "a/snapshot/MANIFEST.json").read_bytes() == (tmp_path / "b/snapshot/MANIFEST.json").read_bytes()
    assert a.sha256 == b.sha256 == hashlib.sha256(pa_bytes).hexdigest()
    # the committed snapshot is the build of the current shared data
    committed = (paths.REPO_ROOT / "data/snapshot/prices.parquet").read_bytes()
    assert committed == pa_bytes, "committed snapshot is stale: run `research data build-snapshot --from ../shared/market-data`"
    assert (paths.REPO_ROOT / "data/README.md").read_text() == (tmp_path / "a/README.md").read_text()
    # atomic writes leave no temp files behind
    assert sorted(p.name for p in (tmp_path / "a/snapshot").iterdir()) == ["MANIFEST.json", "prices.parquet"]


@needs_shared
def test_manifest_agrees_with_tickers_csv():
    man = json.loads((paths.REPO_ROOT / "data/snapshot/MANIFEST.json").read_text())
    tk = _tickers_csv()
    assert set(man["tickers"]) == set(tk)
    assert man["rows"] == sum(int(r["rows"]) for r in tk.values()) == 41696
    for t, r in tk.items():
        m = man["tickers"][t]
        assert (m["first"], m["last"], m["rows"]) == (r["first"], r["last"], int(r["rows"]))
        assert (m["columns"], m["source_adjustment"], m["name"]) == (r["columns"], r["adjustment"], r["name"])
    assert man["basis"] == "split+dividend adjusted"
    assert man["sha256"] == hashlib.sha256((paths.REPO_ROOT / "data/snapshot/prices.parquet").read_bytes()).hexdigest()


@needs_shared
def test_spy_total_return_across_ex_dates_by_hand():
    """Adjusted close return across an ex-date, from the raw archive by hand.

    Yahoo's factor 1 - D / P_{t-1} makes the adjusted return on an ex-date exactly
    P_t / (P_{t-1} - D) - 1; this differs from the textbook total return
    (P_t + D) / P_{t-1} - 1 only by the second-order term (D / P_{t-1}) x return.
    """
    raw = {d: c for d, c, _ in _raw_csv()["SPY"]}
    dates = sorted(raw)
    divs = [(d, v) for d, v in _dividends_csv()["SPY"] if dates[0] < d <= dates[-1]]
    assert len(divs) >= 12  # quarterly, 2023..2026
    df = load_prices("SPY", source="snapshot").set_index("date")
    for d, v in divs:
        p0, p1 = raw[dates[dates.index(d) - 1]], raw[d]
        got = df.loc[pd.Timestamp(d), "close"] / df.loc[pd.Timestamp(dates[dates.index(d) - 1]), "close"] - 1.0
        yahoo = p1 / (p0 - v) - 1.0
        total = (p1 + v) / p0 - 1.0
        raw_ret = p1 / p0 - 1.0
        assert got == pytest.approx(yahoo, abs=1e-12), d
        assert abs(got - total) <= (v / p0) * abs(total) * 1.01 + 1e-12, d
        assert got - raw_ret == pytest.approx(v / p0, rel=0.05), d  # the dividend really shows
    # between ex-dates the adjusted return equals the raw return
    ex = {d for d, _ in divs}
    for a, b in zip(dates[:-1], dates[1:]):
        if b not in ex:
            r_adj = df.loc[pd.Timestamp(b), "close"] / df.loc[pd.Timestamp(a), "close"] - 1.0
            assert r_adj == pytest.approx(raw[b] / raw[a] - 1.0, abs=1e-12)


@needs_shared
def test_every_raw_ticker_matches_yahoo_formula_by_hand():
    """For all raw tickers: hand-computed cumulative factors reproduce the snapshot."""
    raw, divs, tk = _raw_csv(), _dividends_csv(), _tickers_csv()
    snap = load_prices([t for t in tk if tk[t]["adjustment"] == "raw"], source="snapshot")
    for t in (t for t in tk if tk[t]["adjustment"] == "raw"):
        rows = raw[t]
        dates = [d for d, _, _ in rows]
        closes = [c for _, c, _ in rows]
        factor = [1.0] * len(rows)
        for d, v in divs.get(t, []):
            if not (dates[0] < d <= dates[-1]):
                continue
            k = next(i for i, x in enumerate(dates) if x >= d)  # first row on/after ex-date
            f = 1.0 - v / closes[k - 1]
            for i in range(k):
                factor[i] *= f
        g = snap[snap["ticker"] == t]
        np.testing.assert_allclose(g["close"].to_numpy(), np.array(closes) * np.array(factor), rtol=1e-12)
        np.testing.assert_allclose(g["close_raw"].to_numpy(), closes, rtol=0, atol=0)
        assert g["close"].iloc[-1] == closes[-1]  # no ex-date after the last row


@needs_shared
def test_close_raw_and_close_only_columns():
    tk = _tickers_csv()
    df = load_prices(list(tk), source="snapshot")
    for t, r in tk.items():
        g = df[df["ticker"] == t]
        if r["columns"] == "close":
            assert g[["open", "high", "low", "volume"]].isna().all().all(), t
        else:
            assert g[["open", "high", "low", "volume"]].notna().all().all(), t
    # adjusted dividend payers: raw close unknown; adjusted non-payers: raw == close
    assert df.loc[df["ticker"] == "AA", "close_raw"].isna().all()
    mp = df[df["ticker"] == "MP"]
    assert (mp["close_raw"] == mp["close"]).all()
    # adjusted prices below raw before SPY's last ex-date, equal after
    spy = df[df["ticker"] == "SPY"]
    assert (spy["close"].iloc[:100] < spy["close_raw"].iloc[:100]).all()


# ---------------------------------------------------------------- malformed source CSVs
def _copy_shared(tmp_path: Path) -> Path:
    dst = tmp_path / "md"
    shutil.copytree(SHARED, dst)
    return dst


def _rewrite_line(path: Path, lineno: int, fn) -> None:
    lines = path.read_text().splitlines(keepends=True)
    lines[lineno - 1] = fn(lines[lineno - 1])
    path.write_text("".join(lines))


@needs_shared
def test_malformed_price_value_names_file_and_row(tmp_path):
    src = _copy_shared(tmp_path)
    _rewrite_line(src / "prices_daily.csv", 7, lambda s: s.rsplit(",", 2)[0] + ",abc," + s.rsplit(",", 1)[1])
    with pytest.raises(MalformedDataError, match=r"prices_daily\.csv row 7: close='abc'"):
        build_snapshot(src, tmp_path / "out")
    assert not (tmp_path / "out/snapshot/prices.parquet").exists()


@needs_shared
def test_malformed_date_and_missing_column(tmp_path):
    src = _copy_shared(tmp_path)
    _rewrite_line(src / "prices_daily.csv", 3, lambda s: "2023-02-30" + s[10:])
    with pytest.raises(MalformedDataError, match=r"row 3: date='2023-02-30'"):
        read_market_data(src)
    src2 = tmp_path / "md2"
    shutil.copytree(SHARED, src2)
    (src2 / "dividends.csv").write_text("date,ticker,amount\n2023-03-21,AVGO,0.46\n")
    with pytest.raises(MalformedDataError, match=r"dividends\.csv lacks column\(s\) \['dividend'\]"):
        read_market_data(src2)


@needs_shared
def test_tickers_csv_disagreeing_with_prices_is_rejected(tmp_path):
    src = _copy_shared(tmp_path)
    text = (src / "tickers.csv").read_text().replace("USAR,USA Rare Earth,rare_earth,ohlcv,raw,2025-03-14", "USAR,USA Rare Earth,rare_earth,ohlcv,raw,2025-03-13")
    (src / "tickers.csv").write_text(text)
    with pytest.raises(MalformedDataError, match="USAR"):
        build_snapshot(src, tmp_path / "out")


# ---------------------------------------------------------------- integrity on load
@pytest.fixture()
def snap_copy(tmp_path):
    """A temporary copy of the committed snapshot (never modify the committed one)."""
    d = tmp_path / "snapshot"
    shutil.copytree(paths.REPO_ROOT / "data/snapshot", d)
    yield d
    clear_cache()


def _write_table(df: pd.DataFrame, d: Path) -> None:
    from research.data.snapshot import parquet_bytes

    payload = parquet_bytes(df)
    (d / "prices.parquet").write_bytes(payload)
    man = json.loads((d / "MANIFEST.json").read_text())
    man["sha256"] = hashlib.sha256(payload).hexdigest()
    man["rows"] = len(df)
    (d / "MANIFEST.json").write_text(json.dumps(man))


def test_checksum_mismatch(snap_copy):
    b = bytearray((snap_copy / "prices.parquet").read_bytes())
    b[len(b) // 2] ^= 0xFF
    (snap_copy / "prices.parquet").write_bytes(bytes(b))
    with pytest.raises(SnapshotIntegrityError, match=r"checksum mismatch.*build-snapshot --from \.\./shared/market-data"):
        load_snapshot(snap_copy)


def test_duplicate_rows_rejected(snap_copy):
    df = load_snapshot(snap_copy).frame
    dup = pd.concat([df.iloc[:1], df], ignore_index=True)
    _write_table(dup, snap_copy)
    with pytest.raises(SnapshotIntegrityError, match="duplicate"):
        load_snapshot(snap_copy)


def test_weekend_rows_rejected(snap_copy):
    df = load_snapshot(snap_copy).frame.copy()
    df.loc[0, "date"] = pd.Timestamp("2023-01-01")  # a Sunday, still sorted first
    _write_table(df, snap_copy)
    with pytest.raises(SnapshotIntegrityError, match="weekend rows, e.g. AA 2023-01-01"):
        load_snapshot(snap_copy)


def test_wrong_schema_rejected(snap_copy):
    df = load_snapshot(snap_copy).frame
    table = pa.Table.from_pandas(df.drop(columns=["close_raw"]), preserve_index=False)
    pq.write_table(table, snap_copy / "prices.parquet")
    man = json.loads((snap_copy / "MANIFEST.json").read_text())
    man["sha256"] = hashlib.sha256((snap_copy / "prices.parquet").read_bytes()).hexdigest()
    (snap_copy / "MANIFEST.json").write_text(json.dumps(man))
    with pytest.raises(SnapshotIntegrityError, match="columns"):
        load_snapshot(snap_copy)


def test_malformed_parquet_rejected(snap_copy):
    junk = b"PAR1 this is not a parquet file"
    (snap_copy / "prices.parquet").write_bytes(junk)
    man = json.loads((snap_copy / "MANIFEST.json").read_text())
    man["sha256"] = hashlib.sha256(junk).hexdigest()
    (snap_copy / "MANIFEST.json").write_text(json.dumps(man))
    with pytest.raises(SnapshotIntegrityError, match="not readable parquet"):
        load_snapshot(snap_copy)


def test_missing_manifest_rejected(snap_copy):
    (snap_copy / "MANIFEST.json").unlink()
    with pytest.raises(SnapshotIntegrityError, match="MANIFEST.json is missing"):
        load_snapshot(snap_copy)


def test_load_prices_uses_data_dir_env(snap_copy, monkeypatch):
    b = bytearray((snap_copy / "prices.parquet").read_bytes())
    b[100] ^= 0x01
    (snap_copy / "prices.parquet").write_bytes(bytes(b))
    monkeypatch.setenv("RESEARCH_DATA_DIR", str(snap_copy.parent))
    with pytest.raises(SnapshotIntegrityError):
        load_prices("SPY", source="snapshot")


def test_snapshot_is_cached_in_process():
    assert load_snapshot() is load_snapshot()
