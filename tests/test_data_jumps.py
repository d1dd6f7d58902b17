"""Implausible close jumps are refused by the snapshot build, the loader and the yfinance
cache (research.data.validate.jump_problems inside price_problems), and real moves pass.

The injected errors are the two a data file really carries: a one-session close x10 that
comes back the next session (a bad print) and a 10-for-1 split the source did not adjust
for (every close from a date on divided by 10). They go into a copy of the real archive
(four tickers, to stay fast); the expected row is the one we changed, not one read from
the code. The same rows listed in ``allowed_jumps.csv`` build.
"""

from __future__ import annotations

import csv
import json
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from research.data import paths, yahoo
from research.data.snapshot import build_frame, build_snapshot, clear_cache, load_snapshot, read_market_data
from research.data.validate import jump_problems, price_problems, read_allowed_jumps
from research.errors import MalformedDataError

SUBSET = ("MP", "MSFT", "RGTI", "SPY")
SPIKE = ("MSFT", "2024-06-12")  # a mid-history MSFT session (raw archive, with dividends)
SPLIT = ("SPY", "2025-02-03")  # every SPY close from here on divided by 10


def _read(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with open(path, newline="") as fh:
        r = csv.DictReader(fh)
        return list(r.fieldnames or []), list(r)


def _write(path: Path, head: list[str], rows: list[dict[str, str]]) -> None:
    with open(path, "w", newline="") as fh:
        w = csv.DictWriter(fh, head, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)


def _subset(shared: Path, dst: Path) -> Path:
    """The archive's files, cut to SUBSET (rows untouched)."""
    dst.mkdir()
    for name in ("prices_daily.csv", "tickers.csv", "dividends.csv"):
        head, rows = _read(shared / name)
        _write(dst / name, head, [r for r in rows if r["ticker"] in SUBSET])
    return dst


def _scale(src: Path, ticker: str, day: str, factor: float, *, onward: bool) -> tuple[float, float]:
    """Multiply ``ticker``'s bar on ``day`` (and every later one if ``onward``) by ``factor``;
    return the raw closes of the session before and of ``day`` after the change."""
    head, rows = _read(src / "prices_daily.csv")
    mine = [r for r in rows if r["ticker"] == ticker]
    for r in mine:
        if r["date"] == day or (onward and r["date"] > day):
            for col in ("open", "high", "low", "close"):
                if r[col]:
                    r[col] = f"{float(r[col]) * factor:.6f}"
    _write(src / "prices_daily.csv", head, rows)
    k = next(i for i, r in enumerate(mine) if r["date"] == day)
    return float(mine[k - 1]["close"]), float(mine[k]["close"])


@pytest.fixture()
def subset(shared_market_data, tmp_path):
    return _subset(shared_market_data, tmp_path / "md")


def test_subset_builds_clean(subset, tmp_path):
    r = build_snapshot(subset, tmp_path / "out")
    assert r.tickers == len(SUBSET)
    assert "allowed_jumps" not in json.loads(r.manifest.read_text())


def test_one_day_x10_that_reverts_is_refused_naming_the_row(subset, tmp_path):
    before, after = _scale(subset, *SPIKE, 10.0, onward=False)
    out = tmp_path / "out"
    with pytest.raises(MalformedDataError) as ei:
        build_snapshot(subset, out)
    msg = str(ei.value)
    line = next(ln for ln in msg.splitlines() if f"{SPIKE[0]} {SPIKE[1]}" in ln)
    assert "reverts" in line and f"{SPIKE[0]},{SPIKE[1]},<reason>" in line and "allowed_jumps.csv" in line
    # the ratio named is the one we made: the raw closes' (x10 times that day's own move;
    # the dividend factor is the same on both sessions)
    ratio = float(re.search(r"x([0-9.]+) in one session", line).group(1))
    assert ratio == pytest.approx(after / before, rel=1e-3) and 9 < ratio < 11
    assert "nothing was written" in msg
    assert not out.exists()


def test_missed_10_for_1_split_is_refused_naming_the_row(subset, tmp_path):
    _scale(subset, *SPLIT, 0.1, onward=True)
    out = tmp_path / "out"
    with pytest.raises(MalformedDataError) as ei:
        build_snapshot(subset, out)
    line = next(ln for ln in str(ei.value).splitlines() if f"{SPLIT[0]} {SPLIT[1]}" in ln)
    ratio = float(re.search(r"x([0-9.]+) in one session", line).group(1))
    assert 0.09 < ratio < 0.11 and "split ratio 1/10" in line and "10-for-1 split" in line
    assert f"divide every close before {SPLIT[1]} by 10" in line
    assert not out.exists()


@pytest.mark.parametrize("where", ["source", "out"])
def test_listed_jumps_build_and_load(subset, tmp_path, where):
    _scale(subset, *SPIKE, 10.0, onward=False)
    _scale(subset, *SPLIT, 0.1, onward=True)
    out = tmp_path / "out"
    folder = subset if where == "source" else out
    folder.mkdir(exist_ok=True)
    (folder / paths.ALLOWED_JUMPS_FILE).write_text(
        "ticker,date,reason\n"
        f"{SPIKE[0]},{SPIKE[1]},test: a listed x10 print\n"
        f'{SPLIT[0]},{SPLIT[1]},"test: a listed 10-for-1 step, kept"\n')
    r = build_snapshot(subset, out)
    man = json.loads(r.manifest.read_text())
    assert man["allowed_jumps"] == [
        {"ticker": SPIKE[0], "date": SPIKE[1], "reason": "test: a listed x10 print"},
        {"ticker": SPLIT[0], "date": SPLIT[1], "reason": "test: a listed 10-for-1 step, kept"},
    ]
    assert "allowed: SPY 2025-02-03: test: a listed 10-for-1 step, kept" in r.readme.read_text()
    clear_cache()
    snap = load_snapshot(out / "snapshot")  # the loader honours the manifest's list
    spy = snap.ticker_frame("SPY").set_index("date")["close"]
    assert spy[SPLIT[1]] / spy[:SPLIT[1]].iloc[-2] < 0.11
    # the same frame without the list is refused on load
    assert price_problems(snap.frame) and not price_problems(snap.frame, allowed_jumps=man_keys(man))
    clear_cache()


def man_keys(man: dict) -> set[tuple[str, str]]:
    return {(e["ticker"], e["date"]) for e in man["allowed_jumps"]}


def test_allowed_jumps_file_is_checked(tmp_path):
    f = tmp_path / paths.ALLOWED_JUMPS_FILE
    assert read_allowed_jumps(f) == {}
    f.write_text("ticker,date,reason\nspy,2025-02-03,ok\n\n")
    assert read_allowed_jumps(f) == {("SPY", "2025-02-03"): "ok"}
    for bad in ("ticker,date,reason\nSPY,2025-02-30,x\n", "ticker,date,reason\nSPY,2025-02-03,\n",
                "ticker,day,why\nSPY,2025-02-03,x\n"):
        f.write_text(bad)
        with pytest.raises(MalformedDataError, match=str(f)):
            read_allowed_jumps(f)


# ------------------------------------------------------------------- real data passes
@pytest.mark.parametrize("folder", ["market-data", "market-data-long"])
def test_real_archives_pass_including_their_big_moves(folder):
    from _requirements import require_shared

    src = require_shared(folder)
    df, _ = build_frame(*read_market_data(src))
    assert price_problems(df) == []
    # the check has real big moves to pass: MP's +50% on the DoD deal and a quantum
    # small cap more than doubling in one session
    close = df.set_index(["ticker", "date"])["close"]
    mp = close["MP"]
    assert mp[pd.Timestamp("2025-07-10")] / mp[pd.Timestamp("2025-07-09")] > 1.45
    qbts = close["QBTS"]
    assert (qbts / qbts.shift(1)).max() > 2.0


def test_committed_snapshot_passes():
    assert jump_problems(load_snapshot().frame) == []


# ------------------------------------------------------------------- yfinance cache
def test_cached_file_with_a_spike_is_not_served(tmp_path):
    spy = load_snapshot().ticker_frame("SPY").reset_index(drop=True).copy()
    i = len(spy) // 2
    for col in ("open", "high", "low", "close", "close_raw"):
        spy.loc[i, col] = spy.loc[i, col] * 10
    yahoo.write_cache(spy, "SPY", tmp_path)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        assert yahoo.read_cache("SPY", tmp_path) is None
    day = spy.loc[i, "date"].date()
    assert any(f"SPY {day}" in str(x.message) and "reverts" in str(x.message) for x in w)
    assert np.isfinite(spy["close"]).all()
