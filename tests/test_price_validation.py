"""Impossible prices never pass: one check (research.data.validate.price_problems) on the
snapshot build (nothing written, previous snapshot kept), on load, on every yfinance
download and on every cached file (rejected and downloaded again, with a warning).

Every case starts from real rows (the embedded snapshot or the ../shared archive) with
one impossible value put in; the expected problem is stated from the calendar and the
definition of a price (a close is > 0 and finite, high >= low), not read from the code.
"""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import research.data as d
from research.data import paths, yahoo
from research.data.snapshot import build_snapshot, clear_cache, load_snapshot
from research.data.validate import price_problems
from research.errors import MalformedDataError, SnapshotIntegrityError, SourceUnavailableError
from test_data_yfinance import FakeYahoo, yf_download_shape

# independence day 2025 (Friday) and a Saturday: no XNYS session on either
HOLIDAY, SATURDAY = "2025-07-04", "2025-07-05"


@pytest.fixture(scope="module")
def spy():
    return d.load_prices("SPY", "2025-06-02", "2025-07-31", source="snapshot")


def _with(rows: pd.DataFrame, i: int, **values) -> pd.DataFrame:
    out = rows.copy()
    for k, v in values.items():
        out.loc[i, k] = pd.Timestamp(v) if k == "date" else v
    return out.sort_values(["ticker", "date"]).reset_index(drop=True)


CASES = {
    "negative close": (dict(close=-12.5), "close is zero, negative or infinite"),
    "zero close": (dict(close=0.0), "close is zero, negative or infinite"),
    "infinite close": (dict(close=np.inf), "close missing or infinite"),
    "close 1e300": (dict(close=1e300), "close above"),
    "high below low": (dict(high=100.0, low=200.0), "high/low do not bracket"),
    "holiday row": (dict(date=HOLIDAY), "exchange was closed"),
    "weekend row": (dict(date=SATURDAY), "exchange was closed"),
}


def test_real_data_has_no_problem():
    assert price_problems(load_snapshot().frame) == []


@pytest.mark.parametrize("case", list(CASES))
def test_each_impossible_value_is_named_with_its_row(spy, case):
    values, message = CASES[case]
    i = 5
    bad = _with(spy, i, **values)
    problems = price_problems(bad, ticker="SPY")
    assert len(problems) >= 1 and any(message in p for p in problems), problems
    day = pd.Timestamp(values.get("date", spy.loc[i, "date"])).date()
    assert any(f"SPY {day}" in p for p in problems), problems


def test_another_tickers_rows_text_prices_and_bad_dates(spy):
    other = spy.assign(ticker="RGTI")
    assert any("rows of other tickers ['RGTI'] in the data of SPY" in p for p in price_problems(other, ticker="SPY"))
    text = spy.assign(close=spy["close"].map(lambda x: f"{x:.2f}"))
    (only,) = price_problems(text)
    assert only.startswith("close is stored as ") and only.endswith("(text?), not numbers")
    dates = spy.assign(date=["2025-13-45"] + [str(x.date()) for x in spy["date"].iloc[1:]])
    (only,) = price_problems(dates)
    assert only.startswith("dates are stored as ") and only.endswith("not dates, e.g. '2025-13-45'")


# ---------------------------------------------------------------- build: nothing replaced
@pytest.fixture(scope="module")
def good_build(tmp_path_factory):
    from _requirements import require_shared

    src = require_shared("market-data")
    out = tmp_path_factory.mktemp("good") / "data"
    build_snapshot(src, out)
    return src, out


def _csv_rows(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with open(path, newline="") as fh:
        r = csv.DictReader(fh)
        return list(r.fieldnames or []), list(r)


@pytest.mark.parametrize("case", ["negative close", "close 1e300", "high below low", "holiday row", "weekend row"])
def test_failed_build_leaves_the_previous_snapshot_untouched(good_build, tmp_path, case):
    src, good = good_build
    out = tmp_path / "data"
    shutil.copytree(good, out)
    before = {p.name: p.read_bytes() for p in (out / "snapshot").iterdir()}
    md = tmp_path / "md"
    shutil.copytree(src, md)
    head, rows = _csv_rows(md / "prices_daily.csv")
    # an RGTI row in mid-2025 (RGTI is archived with full OHLCV)
    i = next(k for k, r in enumerate(rows) if r["ticker"] == "RGTI" and r["date"] == "2025-07-03")
    if case == "negative close":
        rows[i]["close"] = "-4.5"
    elif case == "close 1e300":
        rows[i]["close"] = "1e300"
    elif case == "high below low":
        rows[i]["high"], rows[i]["low"] = rows[i]["low"], rows[i]["high"]
    else:  # one more row on a day the exchange was closed (tickers.csv still agrees)
        extra = dict(rows[i], date=HOLIDAY if case == "holiday row" else SATURDAY)
        rows.insert(i + 1, extra)
        tk_head, tk = _csv_rows(md / "tickers.csv")
        for r in tk:
            if r["ticker"] == "RGTI":
                r["rows"] = str(int(r["rows"]) + 1)
        with open(md / "tickers.csv", "w", newline="") as fh:
            w = csv.DictWriter(fh, tk_head, lineterminator="\n")
            w.writeheader()
            w.writerows(tk)
    with open(md / "prices_daily.csv", "w", newline="") as fh:
        w = csv.DictWriter(fh, head, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    with pytest.raises(MalformedDataError, match=r"impossible prices .*previous snapshot is kept") as ei:
        build_snapshot(md, out)
    assert "RGTI 2025-07-0" in str(ei.value)
    assert {p.name: p.read_bytes() for p in (out / "snapshot").iterdir()} == before
    clear_cache()
    assert len(load_snapshot(out / "snapshot").frame) > 40000  # still loads


# ---------------------------------------------------------------- load
def test_load_rejects_impossible_prices_even_with_a_matching_checksum(tmp_path):
    snap = tmp_path / "snapshot"
    shutil.copytree(paths.REPO_ROOT / "data/snapshot", snap)
    df = load_snapshot(snap).frame.copy()
    i = int(np.flatnonzero((df["ticker"] == "MP").to_numpy())[100])
    df.loc[i, "close"] = -df.loc[i, "close"]
    table = pa.Table.from_pandas(df, preserve_index=False)
    pq.write_table(table, snap / "prices.parquet")
    man = json.loads((snap / "MANIFEST.json").read_text())
    man["sha256"] = hashlib.sha256((snap / "prices.parquet").read_bytes()).hexdigest()
    (snap / "MANIFEST.json").write_text(json.dumps(man))
    clear_cache()
    with pytest.raises(SnapshotIntegrityError, match=r"impossible prices: close is zero, negative.*MP .*build-snapshot"):
        load_snapshot(snap)
    clear_cache()


# ---------------------------------------------------------------- yfinance download and cache
def test_impossible_download_is_rejected_and_not_cached(spy, tmp_path):
    bad = _with(spy, 3, close=-1.0)

    def fetch(ticker, start, end):
        return yf_download_shape(bad, ticker)

    with pytest.raises(MalformedDataError, match="yfinance returned impossible prices for SPY"):
        yahoo.load_ticker("SPY", pd.Timestamp("2025-06-02"), pd.Timestamp("2025-06-30"), cache=tmp_path, fetch=fetch)
    assert list(tmp_path.iterdir()) == []


def _write_raw_cache(df: pd.DataFrame, path: Path) -> None:
    pq.write_table(pa.Table.from_pandas(df, preserve_index=False), path)


@pytest.mark.parametrize("what, message", [
    ("another ticker's rows", "rows of other tickers"),
    ("text-typed closes", "close is stored as"),
    ("unparseable dates", "dates are stored as"),
    ("a negative close", "close is zero, negative"),
])
def test_bad_cache_file_is_never_used_and_is_refetched(spy, tmp_path, what, message):
    rgti = d.load_prices("RGTI", "2025-06-02", "2025-07-31", source="snapshot")
    if what == "another ticker's rows":
        bad = rgti
    elif what == "text-typed closes":
        bad = spy.assign(close=spy["close"].map(str))
    elif what == "unparseable dates":
        bad = spy.assign(date=["not a date"] * len(spy))
    else:
        bad = _with(spy, 2, close=-5.0)
    _write_raw_cache(bad, yahoo.cache_path("SPY", tmp_path))
    yf = FakeYahoo(spy)
    with pytest.warns(yahoo.CacheWarning, match=message):
        out = yahoo.load_ticker("SPY", pd.Timestamp("2025-06-02"), pd.Timestamp("2025-06-30"), cache=tmp_path, fetch=yf)
    assert len(yf.calls) == 1  # downloaded again
    expected = spy[spy["date"] <= "2025-06-30"].reset_index(drop=True)
    np.testing.assert_allclose(out["close"], expected["close"], rtol=1e-12)
    assert (out["ticker"] == "SPY").all()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the rewritten cache is valid: no warning now
        assert yahoo.read_cache("SPY", tmp_path) is not None


@pytest.fixture()
def offline(monkeypatch):
    monkeypatch.setenv("RESEARCH_OFFLINE", "1")
    monkeypatch.setattr(yahoo, "_PROBE", None)


def test_offline_yfinance_is_served_from_a_covering_cache_and_says_so(spy, tmp_path, offline):
    yahoo.load_ticker("SPY", pd.Timestamp("2025-06-02"), pd.Timestamp("2025-07-31"), cache=tmp_path, fetch=FakeYahoo(spy))
    with pytest.warns(d.DataSourceWarning, match=r"unreachable .*served from the yfinance cache .*SPY 2025-06-09..2025-06-27"):
        got = d.load_prices("SPY", "2025-06-09", "2025-06-27", source="yfinance", cache_dir=tmp_path)
    assert got.attrs["source"] == {"SPY": "yfinance cache"}
    want = spy[(spy["date"] >= "2025-06-09") & (spy["date"] <= "2025-06-27")].reset_index(drop=True)
    np.testing.assert_allclose(got["close"], want["close"], rtol=1e-12)
    assert list(got["date"]) == list(want["date"])
    # a range the cache does not cover is still an error, naming the cache
    with pytest.raises(SourceUnavailableError, match=r"unreachable .*does not cover the range for SPY"):
        d.load_prices("SPY", "2025-05-01", "2025-06-27", source="yfinance", cache_dir=tmp_path)
