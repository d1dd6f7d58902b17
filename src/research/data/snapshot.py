"""Build, read and validate the embedded price snapshot.

The snapshot is ``data/snapshot/prices.parquet`` (tidy, one row per ticker and session)
plus ``data/snapshot/MANIFEST.json`` (per-ticker coverage and metadata, row count, the
parquet's sha256, the adjustment basis and the source files' sha256). It is built from
``../shared/market-data`` (daily bars as published by Yahoo Finance, archived public
copies; see that folder's ``SOURCES.md``) by ``research data build-snapshot``.

Basis: every ticker is put on Yahoo's ``auto_adjust=True`` basis (split **and** dividend
adjusted). Tickers archived ``raw`` (split-adjusted only) are dividend-adjusted here
from ``dividends.csv`` the way Yahoo does it (see :mod:`research.data.adjust`); their raw
close is kept as ``close_raw``. Tickers archived ``adjusted`` keep their prices;
``close_raw`` equals ``close`` for the non-dividend payers listed in ``SOURCES.md`` and is
NaN for dividend payers (their raw closes cannot be recovered without a dividend list).
"""

from __future__ import annotations

import hashlib
import html
import io
import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from research.atomic import temp_path_beside
from research.cache import file_digest
from research.data import paths
from research.data.adjust import adjust_ohlc
from research.data.validate import price_problems, read_allowed_jumps
from research.errors import MalformedDataError, PathError, SnapshotIntegrityError

BASIS = "split+dividend adjusted"
BASIS_STATEMENT = (
    "All open/high/low/close are split- and dividend-adjusted on Yahoo Finance's "
    "auto_adjust=True basis: prices before each ex-dividend date are multiplied by "
    "1 - dividend / previous close (factors cumulate). close_raw is the split-adjusted, "
    "not dividend-adjusted close (Yahoo 'Close' with auto_adjust=False), NaN where it is "
    "not known. volume is in shares (split-adjusted). Close-only tickers have NaN "
    "open/high/low/volume."
)
COLUMNS: tuple[str, ...] = ("date", "ticker", "open", "high", "low", "close", "close_raw", "volume")
FLOAT_COLUMNS: tuple[str, ...] = ("open", "high", "low", "close", "close_raw", "volume")
REBUILD_HINT = "rebuild it with `research data build-snapshot --from ../shared/market-data`"

#: ``adjusted`` tickers that pay no dividend, so their adjusted close *is* the raw close
#: (SOURCES.md: "identical either way (verified: 0.0000% difference)"; TMQ: "No
#: dividends: identical to raw prices").
NON_DIVIDEND_PAYERS: frozenset[str] = frozenset(
    "RGTI QBTS IONQ QUBT MP USAR CRML LAC AMD PLTR AMZN OKLO SMR UUUU UAMY NB TMC KTOS "
    "ARQQ QMCO LAES AVAV TMQ".split()
)
#: ``raw`` tickers whose distributions are missing from dividends.csv (SOURCES.md: SMH
#: "has no dividend record here ... treat it as price-only").
PRICE_ONLY: frozenset[str] = frozenset({"SMH"})

_TICKER_COLS = ("ticker", "name", "theme", "columns", "adjustment", "first", "last", "rows")
_PRICE_COLS = ("date", "ticker", "open", "high", "low", "close", "volume")
_DIV_COLS = ("date", "ticker", "dividend")


# ----------------------------------------------------------------------------- reading CSV
def _read_csv(path: Path, required: tuple[str, ...], *, rows: bool = False) -> pd.DataFrame:
    """``path`` as text columns; ``rows``: it must hold at least one data row."""
    paths.require_file_slot(path, "the market-data file", "point --from at the market-data folder")
    if not path.is_file():
        raise MalformedDataError(f"{path} does not exist; point --from at the market-data folder")
    empty = f"{path} is empty; re-copy it from the market-data archive (header {','.join(required)})"
    if path.stat().st_size == 0:
        raise PathError(empty)
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
    except pd.errors.EmptyDataError as exc:  # whitespace only
        raise PathError(empty) from exc
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise MalformedDataError(f"{path} is not a readable CSV ({exc}); fix or re-copy the file") from exc
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise MalformedDataError(
            f"{path} lacks column(s) {missing}; expected header {','.join(required)}"
        )
    if rows and df.empty:
        raise PathError(f"{path} has a header but no rows; re-copy it from the market-data archive")
    return df


def _parse_dates(df: pd.DataFrame, path: Path, col: str = "date") -> pd.Series:
    parsed = pd.to_datetime(df[col], format="%Y-%m-%d", errors="coerce")
    bad = parsed.isna()
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise MalformedDataError(
            f"{path} row {i + 2}: {col}={df[col].iloc[i]!r} is not a YYYY-MM-DD date; fix that row"
        )
    return parsed.astype("datetime64[ns]")


def _parse_floats(df: pd.DataFrame, path: Path, col: str, *, allow_empty: bool) -> pd.Series:
    raw = df[col].str.strip()
    empty = raw == ""
    num = pd.to_numeric(raw.where(~empty, "nan"), errors="coerce").astype("float64")
    bad = num.isna() & ~empty if allow_empty else num.isna()
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise MalformedDataError(
            f"{path} row {i + 2}: {col}={df[col].iloc[i]!r} is not a number; fix that row"
        )
    return num


def read_market_data(source: Path) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Read and type-check ``prices_daily.csv``, ``tickers.csv`` and ``dividends.csv``.

    Raises
    ------
    MalformedDataError
        A file is missing, lacks a column, or has an unparseable value (names file and row).
    """
    source = Path(source)
    if source.exists() and not source.is_dir():
        raise PathError(f"--from {source} is a file, not a directory; point --from at the market-data "
                        "folder (prices_daily.csv, tickers.csv, dividends.csv)")
    tk = _read_csv(source / "tickers.csv", _TICKER_COLS, rows=True)
    for col in ("columns", "adjustment"):
        allowed = {"columns": {"ohlcv", "close"}, "adjustment": {"raw", "adjusted"}}[col]
        bad = ~tk[col].isin(allowed)
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise MalformedDataError(
                f"{source / 'tickers.csv'} row {i + 2}: {col}={tk[col].iloc[i]!r} not in {sorted(allowed)}"
            )
    tk["rows"] = _parse_floats(tk, source / "tickers.csv", "rows", allow_empty=False).astype("int64")
    if tk["ticker"].duplicated().any():
        raise MalformedDataError(f"{source / 'tickers.csv'} lists a ticker twice")

    px_path = source / "prices_daily.csv"
    px = _read_csv(px_path, _PRICE_COLS, rows=True)
    out = pd.DataFrame({"date": _parse_dates(px, px_path), "ticker": px["ticker"].astype(str)})
    for col in ("open", "high", "low", "close", "volume"):
        out[col] = _parse_floats(px, px_path, col, allow_empty=col != "close")
    unknown = sorted(set(out["ticker"]) - set(tk["ticker"]))
    if unknown:
        raise MalformedDataError(f"{px_path} has tickers {unknown} missing from tickers.csv")

    dv_path = source / "dividends.csv"
    dv = _read_csv(dv_path, _DIV_COLS)
    div = pd.DataFrame(
        {
            "date": _parse_dates(dv, dv_path),
            "ticker": dv["ticker"].astype(str),
            "dividend": _parse_floats(dv, dv_path, "dividend", allow_empty=False),
        }
    )
    return out, tk, div


# ----------------------------------------------------------------------------- building
def _sha256_bytes(payload: bytes) -> str:
    return hashlib.sha256(payload).hexdigest()


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def build_frame(prices: pd.DataFrame, tickers: pd.DataFrame, dividends: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Put every ticker on the split+dividend basis; return (tidy frame, per-ticker meta)."""
    frames: list[pd.DataFrame] = []
    meta: dict[str, Any] = {}
    for row in tickers.sort_values("ticker").itertuples(index=False):
        t = row.ticker
        g = prices[prices["ticker"] == t].sort_values("date").reset_index(drop=True)
        if g.empty:
            raise MalformedDataError(f"tickers.csv lists {t} but prices_daily.csv has no rows for it")
        if g["date"].duplicated().any():
            d = g.loc[g["date"].duplicated(), "date"].iloc[0]
            raise MalformedDataError(f"prices_daily.csv has duplicate rows for {t} on {d.date()}")
        n_div = 0
        if row.adjustment == "raw":
            dv = dividends[dividends["ticker"] == t].sort_values("date")
            in_range = dv[(dv["date"] > g["date"].iloc[0]) & (dv["date"] <= g["date"].iloc[-1])]
            n_div = len(in_range)
            g = adjust_ohlc(g, in_range, ticker=t)
            raw_note = "raw close from the archive (split-adjusted only)"
            if t in PRICE_ONLY:
                raw_note += "; no dividend records: distributions not reflected (price-only)"
        else:
            g = g.copy()
            if t in NON_DIVIDEND_PAYERS:
                g["close_raw"] = g["close"]
                raw_note = "equal to close (pays no dividend)"
            else:
                g["close_raw"] = np.nan
                raw_note = "unknown (archived adjusted; dividend payer)"
        if row.columns == "close":
            g["open"] = np.nan
            g["high"] = np.nan
            g["low"] = np.nan
            g["volume"] = np.nan
        first, last = g["date"].iloc[0].date().isoformat(), g["date"].iloc[-1].date().isoformat()
        if (first, last, len(g)) != (row.first, row.last, int(row.rows)):
            raise MalformedDataError(
                f"tickers.csv says {t} covers {row.first}..{row.last} ({row.rows} rows) but "
                f"prices_daily.csv has {first}..{last} ({len(g)} rows); fix tickers.csv"
            )
        meta[t] = {
            "name": row.name,
            "theme": row.theme,
            "columns": row.columns,
            "source_adjustment": row.adjustment,
            "first": first,
            "last": last,
            "rows": int(len(g)),
            "dividends_applied": int(n_div),
            "close_raw": raw_note,
        }
        frames.append(g[list(COLUMNS)])
    df = pd.concat(frames, ignore_index=True)
    df["date"] = df["date"].astype("datetime64[ns]")
    for col in FLOAT_COLUMNS:
        df[col] = df[col].astype("float64")
    return df, meta


def parquet_bytes(df: pd.DataFrame) -> bytes:
    """A tidy price frame as deterministic parquet bytes (the snapshot's and the yfinance cache's format)."""
    schema = pa.schema(
        [("date", pa.timestamp("ns")), ("ticker", pa.string())]
        + [(c, pa.float64()) for c in FLOAT_COLUMNS]
    )
    table = pa.Table.from_pandas(df[list(COLUMNS)], schema=schema, preserve_index=False)
    table = table.replace_schema_metadata(None)  # no pandas/version metadata: deterministic
    buf = io.BytesIO()
    pq.write_table(table, buf, compression="zstd", compression_level=9, use_dictionary=["ticker"],
                   write_statistics=True, row_group_size=1 << 20)
    return buf.getvalue()


@dataclass(frozen=True)
class BuildResult:
    """What :func:`build_snapshot` wrote."""

    parquet: Path
    manifest: Path
    readme: Path
    rows: int
    tickers: int
    sha256: str


def build_snapshot(source: Path | str | None = None, out: Path | str | None = None) -> BuildResult:
    """Build ``<out>/snapshot/{prices.parquet,MANIFEST.json}`` and ``<out>/README.md``.

    Parameters
    ----------
    source : the market-data folder (default ``<repo>/../shared/market-data``).
    out : the data directory to write into (default :func:`paths.data_dir`).

    Every price passes :func:`research.data.validate.price_problems` first, with the
    sessions listed in ``allowed_jumps.csv`` beside the market data and in ``out``
    (recorded in the manifest when there are any). Output is deterministic: the same
    inputs give byte-identical files. The three files are written all or nothing: each is
    staged beside its destination first, and only when all are on disk do they replace
    the previous ones.

    Raises
    ------
    MalformedDataError
        Unparseable or impossible prices (nothing is written).
    PathError
        ``out`` cannot hold the files (a file in the way, read-only, full): nothing is replaced.
    """
    source = Path(source) if source is not None else paths.shared_market_data()
    out = Path(out) if out is not None else paths.data_dir()
    snap = out / "snapshot"
    pq_path, man_path, readme = snap / paths.SNAPSHOT_FILE, snap / paths.MANIFEST_FILE, out / "README.md"
    paths.require_directory(out, "--out", "pass a data directory (it is created if missing)")
    paths.require_directory(snap, "the snapshot folder", "remove that file or pass another --out")
    for f in (pq_path, man_path, readme):
        paths.require_file_slot(f, "the snapshot output", "remove it or pass another --out")
    prices, tickers, dividends = read_market_data(source)
    df, meta = build_frame(prices, tickers, dividends)
    allowed = {**read_allowed_jumps(out / paths.ALLOWED_JUMPS_FILE),
               **read_allowed_jumps(source / paths.ALLOWED_JUMPS_FILE)}
    problems = price_problems(df, allowed_jumps=allowed)
    if problems:  # checked before anything is written: the previous snapshot stays
        raise MalformedDataError(
            f"impossible prices in {source / 'prices_daily.csv'} (nothing was written; the previous "
            "snapshot is kept):\n  - " + "\n  - ".join(problems) + "\nfix those rows and build again")
    payload = parquet_bytes(df)
    digest = _sha256_bytes(payload)
    manifest = {
        "format": 1,
        "file": paths.SNAPSHOT_FILE,
        "sha256": digest,
        "rows": int(len(df)),
        "columns": list(COLUMNS),
        "basis": BASIS,
        "basis_statement": BASIS_STATEMENT,
        "source": _display_path(source),
        "source_files": {
            name: sha256_file(source / name)
            for name in ("prices_daily.csv", "tickers.csv", "dividends.csv", "SOURCES.md",
                         paths.ALLOWED_JUMPS_FILE)
            if (source / name).is_file()
        },
        "provenance": "Daily bars as published by Yahoo Finance, archived public copies; "
                      "see ../shared/market-data/SOURCES.md (copied in data/README.md).",
        "tickers": meta,
    }
    if allowed:  # only when there are any: a build without exceptions stays byte-identical
        manifest["allowed_jumps"] = [{"ticker": t, "date": d, "reason": r} for (t, d), r in sorted(allowed.items())]
    _commit({
        pq_path: payload,
        man_path: (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode("utf-8"),
        readme: render_readme(manifest).encode("utf-8"),
    })
    return BuildResult(pq_path, man_path, readme, int(len(df)), len(meta), digest)


def _commit(files: dict[Path, bytes]) -> None:
    """Write every file or none: stage each beside its destination (flushed to disk),
    then move them all into place. A failure (full disk, read-only folder) removes the
    staged files and leaves every destination as it was."""
    staged: list[tuple[Path, Path]] = []
    current = next(iter(files))
    try:
        for dest, payload in files.items():
            current = dest
            tmp = temp_path_beside(dest, suffix=".part")
            staged.append((tmp, dest))
            with open(tmp, "wb") as fh:
                fh.write(payload)
                fh.flush()
                os.fsync(fh.fileno())
        for tmp, dest in staged:
            os.replace(tmp, dest)
    except OSError as exc:
        raise PathError(
            f"cannot write {exc.filename or current}: {exc.strerror or exc}; nothing was replaced (the "
            "previous snapshot is kept): free space there or pass a writable --out") from exc
    finally:
        for tmp, _ in staged:
            if tmp.exists():
                tmp.unlink()


def _display_path(p: Path) -> str:
    """``p`` relative to the repository (``../shared/market-data``) when it lies beside it.

    Symlinks are not resolved: a ``../shared`` that links elsewhere still reads as
    ``../shared``, so a rebuild is byte-identical wherever the shared folder really lives.
    """
    rel = os.path.relpath(os.path.abspath(p), os.path.abspath(paths.REPO_ROOT))
    return rel if rel.startswith("..") and not rel.startswith(os.path.join("..", "..")) else str(p)


def render_readme(manifest: dict[str, Any]) -> str:
    """``data/README.md``: provenance, basis and the coverage table (generated)."""
    lines = [
        "# Data",
        "",
        "<!-- Generated by `research data build-snapshot`; do not edit by hand. -->",
        "",
        "## Provenance",
        "",
        "`snapshot/prices.parquet` holds **daily bars as published by Yahoo Finance**, taken "
        "from archived public copies (GitHub repositories that stored yfinance / Yahoo chart "
        "downloads). No value was invented, interpolated or forward-filled. Repositories, "
        "commits, cross-checks and caveats per ticker: `../shared/market-data/SOURCES.md` "
        f"(built from `{manifest['source']}`; source file sha256 in `snapshot/MANIFEST.json`).",
        "",
        "`articles/<id>/` holds each article's directory (text, claims, events, facts, report "
        "layout; `docs/ARTICLES.md`); the shipped one was built from `../shared/article/`.",
        "",
        "## Adjustment basis",
        "",
        f"**{manifest['basis']}.** {manifest['basis_statement']}",
        "",
        "Per ticker, `source adj.` says how the archive stored it: `raw` tickers were "
        "dividend-adjusted here from the archive's dividend list (`divs` = ex-dates applied); "
        "`adjusted` tickers are used as archived (Yahoo auto-adjusted as of the archive's "
        "download date, so a fresh yfinance download can differ by a constant factor but "
        "gives the same returns).",
        "",
        "## Coverage",
        "",
        f"{len(manifest['tickers'])} tickers, {manifest['rows']} rows, sha256 "
        f"`{manifest['sha256']}`. Series end on different dates and late listers start late; "
        "no ticker has a missing session inside its first..last range.",
        "",
        "| ticker | name | theme | columns | source adj. | divs | first | last | rows | close_raw |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for t, m in sorted(manifest["tickers"].items()):
        lines.append(
            f"| {t} | {m['name']} | {m['theme']} | {m['columns']} | {m['source_adjustment']} | "
            f"{m['dividends_applied']} | {m['first']} | {m['last']} | {m['rows']} | {m['close_raw']} |"
        )
    lines += [
        "",
        "## Caveats (details in SOURCES.md)",
        "",
        "- SMH is archived raw but no distribution record was found: it is price-only "
        "(its small annual distribution is not reflected).",
        "- HON's archive carries Yahoo's Solstice spin-off factor (x0.942507 before "
        "2025-10-30), so there is no price drop at the spin-off; its dividends are on that basis.",
        "- ALB and AA end early (2026-03-06 / 2026-03-04): later archived rows mixed "
        "adjustment bases and were dropped. METC carries a split-type factor 1.0241.",
        "- `adjusted` dividend payers (AA, ALB, CCJ, ITA, METC, QTUM, REMX, XBI, XLI) were "
        "adjusted by Yahoo as of their archive's download date; their returns are on the "
        "same total-return basis, their levels may differ from a fresh download by a constant factor.",
        "- Close-only tickers (13) have no open/high/low/volume: volume-based analyses skip them.",
        "",
        "## Implausible jumps and `allowed_jumps.csv`",
        "",
        "Every build (and every load, yfinance download and yfinance cache read) refuses a close "
        "that jumps beyond the ticker's plausibility bound (5x its 99.9th-percentile absolute daily "
        "log move, estimated robustly from the median move; at least +28%) when the jump either "
        "reverts within 5 sessions (a bad print) or steps the whole level by a common split ratio "
        "(2, 3, 4, 5, 8, 10, 15, 20, 25, 30, 50 or their inverses: a split the source did not "
        "adjust for), unless that day's volume was at least 3x the median of the 20 sessions "
        "before and after (only for jumps up to x5). The error names the row (ticker, date, "
        "closes before and after, the ratio) and the fix. Genuine moves (a +50% day on a "
        "government deal, a quantum small cap doubling) neither revert nor move the level by an "
        "exact split ratio, and pass.",
        "",
        "A jump that is real although it looks like one of these is listed, with the reason, in "
        "`allowed_jumps.csv` beside the market data (`--from`) or in this data directory "
        "(`--out`, default `data/`; yfinance downloads and the cache read this one):",
        "",
        "```",
        "ticker,date,reason",
        "XYZ,2024-06-18,halted on news; reopened x0.5 and stayed there (exchange notice 2024-06-18)",
        "```",
        "",
        "`date` is the session whose close jumped (YYYY-MM-DD); the reason must not be empty "
        "(quote it if it holds commas). The exceptions a snapshot was built with are recorded "
        "in `snapshot/MANIFEST.json` (`allowed_jumps`) and honoured when it is loaded.",
        "",
    ]
    for e in manifest.get("allowed_jumps", []):
        lines.append(f"- allowed: {html.escape(e['ticker'])} {html.escape(e['date'])}: "
                     f"{html.escape(' '.join(e['reason'].split()))}")
    if manifest.get("allowed_jumps"):
        lines.append("")
    lines += [
        "Rebuild (byte-identical for the same inputs): "
        "`research data build-snapshot --from ../shared/market-data`.",
        "",
    ]
    return "\n".join(lines)


# ----------------------------------------------------------------------------- reading
@dataclass(frozen=True)
class Snapshot:
    """A validated, loaded snapshot (read-only: do not mutate ``frame``)."""

    frame: pd.DataFrame
    manifest: dict[str, Any]
    directory: Path
    slices: dict[str, tuple[int, int]]  # ticker -> [start, stop) row positions

    def ticker_frame(self, ticker: str) -> pd.DataFrame:
        a, b = self.slices[ticker]
        return self.frame.iloc[a:b]


_CACHE: dict[tuple[str, int, str], Snapshot] = {}
_LOCK = threading.Lock()


def _integrity(msg: str, directory: Path) -> SnapshotIntegrityError:
    return SnapshotIntegrityError(f"snapshot in {directory} is invalid: {msg}; {REBUILD_HINT}")


def read_manifest(directory: Path | str | None = None) -> dict[str, Any]:
    """Parse ``MANIFEST.json`` (raises :class:`SnapshotIntegrityError` if missing/invalid)."""
    directory = Path(directory) if directory is not None else paths.snapshot_dir()
    path = directory / paths.MANIFEST_FILE
    if not path.is_file():
        raise _integrity(f"{path.name} is missing", directory)
    try:
        man = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise _integrity(f"{path.name} is not valid JSON ({exc})", directory) from exc
    for key in ("sha256", "rows", "tickers", "basis"):
        if not isinstance(man, dict) or key not in man:
            raise _integrity(f"{path.name} lacks '{key}'", directory)
    problem = _manifest_problem(man) or _allowed_problem(man.get("allowed_jumps", []))
    if problem:
        raise _integrity(f"{path.name}: {problem}", directory)
    return man


_TICKER_FIELDS: dict[str, type | tuple[type, ...]] = {
    "name": str, "theme": str, "columns": str, "source_adjustment": str, "first": str, "last": str,
    "rows": int, "dividends_applied": int, "close_raw": str,
}


def _count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _manifest_problem(man: dict[str, Any]) -> str | None:
    """The first way ``man`` does not follow the manifest schema (None when it does)."""
    sha = man["sha256"]
    if not (isinstance(sha, str) and len(sha) == 64 and all(c in "0123456789abcdef" for c in sha)):
        return f"'sha256' must be 64 lowercase hex digits, got {sha!r}"
    if not _count(man["rows"]):
        return f"'rows' must be a non-negative integer, got {man['rows']!r}"
    if not isinstance(man["basis"], str):
        return f"'basis' must be a string, got {man['basis']!r}"
    tickers = man["tickers"]
    if not isinstance(tickers, dict) or not tickers:
        return f"'tickers' must be a non-empty mapping ticker -> coverage, got {tickers!r:.60}"
    for t, m in tickers.items():
        if not isinstance(m, dict):
            return f"tickers.{t} must be a mapping, got {m!r:.60}"
        for key, kind in _TICKER_FIELDS.items():
            if key not in m:
                return f"tickers.{t} lacks '{key}'"
            ok = _count(m[key]) if kind is int else isinstance(m[key], kind)
            if not ok:
                want = "a non-negative integer" if kind is int else "a string"
                return f"tickers.{t}.{key} must be {want}, got {m[key]!r:.60}"
    return None


def _allowed_problem(entries: object) -> str | None:
    """How the manifest's ``allowed_jumps`` is not a list of {ticker, date, reason} strings."""
    ok = isinstance(entries, list) and all(
        isinstance(e, dict) and set(e) == {"ticker", "date", "reason"} and all(isinstance(x, str) for x in e.values())
        for e in entries)
    return None if ok else f"'allowed_jumps' must be a list of {{ticker, date, reason}} strings, got {entries!r:.60}"


def allowed_jumps(manifest: dict[str, Any]) -> dict[tuple[str, str], str]:
    """The (ticker, date) -> reason exceptions the snapshot was built with (its manifest)."""
    return {(e["ticker"], e["date"]): e["reason"] for e in manifest.get("allowed_jumps", [])}


def load_snapshot(directory: Path | str | None = None) -> Snapshot:
    """Read and validate the snapshot; cached in-process (keyed by path, size and mtime).

    Checks: sha256 of the parquet equals the manifest's; columns and dtypes; no duplicate
    (ticker, date); no weekend rows; rows and tickers agree with the manifest.

    Raises
    ------
    SnapshotIntegrityError
        Any check fails (the message names it and how to rebuild).
    """
    directory = Path(directory) if directory is not None else paths.snapshot_dir()
    paths.require_directory(directory, "the snapshot folder", "pass the data directory that holds snapshot/")
    pq_path = directory / paths.SNAPSHOT_FILE
    man_path = directory / paths.MANIFEST_FILE
    paths.require_file_slot(pq_path, "the snapshot file", REBUILD_HINT)
    if not pq_path.is_file():
        raise _integrity(f"{pq_path.name} is missing", directory)
    # keyed on content: the manifest's digest (it pins the data file's sha256, checked on the
    # first load below) and the data file's size -- not on file times
    key = (str(pq_path.resolve()), pq_path.stat().st_size, file_digest(man_path))
    with _LOCK:
        hit = _CACHE.get(key)
    if hit is not None:
        return hit
    man = read_manifest(directory)
    digest = sha256_file(pq_path)
    if digest != man["sha256"]:
        raise _integrity(
            f"checksum mismatch: {pq_path.name} has sha256 {digest[:16]}... but "
            f"{paths.MANIFEST_FILE} expects {str(man['sha256'])[:16]}...", directory
        )
    try:
        table = pq.read_table(pq_path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise _integrity(f"{pq_path.name} is not readable parquet ({exc})", directory) from exc
    df = validate_frame(table.to_pandas(), directory, allowed_jumps(man))
    if len(df) != int(man["rows"]):
        raise _integrity(f"{len(df)} rows but the manifest says {man['rows']}", directory)
    tick = df["ticker"].to_numpy()
    starts = np.flatnonzero(np.r_[True, tick[1:] != tick[:-1]])
    stops = np.r_[starts[1:], len(df)]
    slices = {str(tick[a]): (int(a), int(b)) for a, b in zip(starts, stops)}
    if sorted(slices) != sorted(man["tickers"]):
        raise _integrity("tickers in the parquet differ from the manifest", directory)
    snap = Snapshot(df, man, directory, slices)
    with _LOCK:
        while len(_CACHE) >= 4:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[key] = snap
    return snap


def validate_frame(df: pd.DataFrame, directory: Path | str = "?",
                   allowed: dict[tuple[str, str], str] | None = None) -> pd.DataFrame:
    """Schema/dtype/duplicate/weekend/sort checks of a tidy price frame, then
    :func:`research.data.validate.price_problems` (``allowed``: the sessions whose jump
    is known to be real, from the manifest); returns it."""
    directory = Path(directory)
    if list(df.columns) != list(COLUMNS):
        raise _integrity(f"columns {list(df.columns)} != expected {list(COLUMNS)}", directory)
    if not pd.api.types.is_datetime64_dtype(df["date"]) or getattr(df["date"].dt, "tz", None) is not None:
        raise _integrity(f"date column has dtype {df['date'].dtype}, expected tz-naive datetime64", directory)
    if not pd.api.types.is_string_dtype(df["ticker"]):
        raise _integrity(f"ticker column has dtype {df['ticker'].dtype}, expected str", directory)
    for col in FLOAT_COLUMNS:
        if df[col].dtype != np.float64:
            raise _integrity(f"column {col} has dtype {df[col].dtype}, expected float64", directory)
    df = df.assign(date=df["date"].astype("datetime64[ns]"))
    if df["close"].isna().any():
        raise _integrity("some rows have no close", directory)
    dup = df.duplicated(["ticker", "date"])
    if dup.any():
        r = df[dup].iloc[0]
        raise _integrity(f"duplicate (ticker, date) rows, e.g. {r['ticker']} {r['date'].date()}", directory)
    wk = df["date"].dt.day_of_week >= 5
    if wk.any():
        r = df[wk].iloc[0]
        raise _integrity(f"weekend rows, e.g. {r['ticker']} {r['date'].date()}", directory)
    order = df.sort_values(["ticker", "date"], kind="stable").index
    if not (order == df.index).all():
        raise _integrity("rows are not sorted by ticker then date", directory)
    problems = price_problems(df, allowed_jumps=allowed or {})
    if problems:
        raise _integrity("impossible prices: " + "; ".join(problems), directory)
    return df.reset_index(drop=True)


def clear_cache() -> None:
    """Forget cached snapshots (tests; after a rebuild in the same process)."""
    with _LOCK:
        _CACHE.clear()


__all__ = [
    "BASIS", "BASIS_STATEMENT", "COLUMNS", "BuildResult", "Snapshot", "allowed_jumps", "build_snapshot",
    "load_snapshot", "read_manifest", "read_market_data", "render_readme",
    "parquet_bytes", "sha256_file", "validate_frame", "clear_cache",
]
