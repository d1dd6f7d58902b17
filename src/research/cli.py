"""The ``research`` console script.

Commands
--------
``research data info``
    The snapshot's tickers: first/last date, rows, columns (ohlcv/close), the archive's
    adjustment and the snapshot's basis.
``research data build-snapshot --from ../shared/market-data [--out data]``
    (Re)build ``data/snapshot`` (+ ``data/README.md``).
``research data fetch TICKER... [--start D] [--end D]``
    Download tickers from Yahoo Finance into the yfinance cache (offline: serve them from
    it) and print what was loaded.
``research article new DIR``
    Write an article scaffold (article.yaml, claims.yaml with an example of every rule
    type, events.csv/facts.csv headers, layout.yaml) that passes ``check``.
``research article check DIR``
    Validate an article directory before any computation; every problem with file, line,
    claim and fix; each event's day 0. Exit 1 on errors.
``research report ...``
    Forwarded to :func:`research.report.cli.main`.

Exit codes: 0 success, 1 a :class:`research.errors.ResearchError` (message printed, no
traceback), 2 usage error or a path that cannot be used (:class:`research.errors.PathError`:
a file where a folder is needed or the reverse, an empty input, a read-only or full disk;
one line naming the path and the fix).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Sequence

from research.errors import PathError, ResearchError


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="research", description="Test a market article's claims against real prices.")
    sub = p.add_subparsers(dest="command", required=True, metavar="{data,article,report}")
    data = sub.add_parser("data", help="price snapshot and article data")
    dsub = data.add_subparsers(dest="data_command", required=True, metavar="{info,build-snapshot,fetch}")
    info = dsub.add_parser("info", help="print the snapshot's tickers and date ranges")
    info.add_argument("--data-dir", type=Path, default=None, help="data directory (default: repo data/ or $RESEARCH_DATA_DIR)")
    b = dsub.add_parser("build-snapshot", help="build data/snapshot from the market-data folder")
    b.add_argument("--from", dest="source", type=Path, required=True, help="market-data folder, e.g. ../shared/market-data")
    b.add_argument("--out", type=Path, default=None, help="data directory to write (default: repo data/)")
    f = dsub.add_parser("fetch", help="download tickers into the yfinance cache (offline: read them from it)")
    f.add_argument("tickers", nargs="+", help="Yahoo symbols, e.g. AAPL KO")
    f.add_argument("--start", default=None, help="first date, YYYY-MM-DD (default 2023-01-01)")
    f.add_argument("--end", default=None, help="last date, YYYY-MM-DD (default today)")
    _article_parser(sub)
    sub.add_parser("report", help="build the HTML reports (see `research report --help`)", add_help=False)
    return p


def _article_parser(sub: argparse._SubParsersAction) -> None:
    art = sub.add_parser("article", help="write or check an article directory (docs/ARTICLES.md)")
    asub = art.add_subparsers(dest="article_command", required=True, metavar="{new,check}")
    n = asub.add_parser("new", help="write an article scaffold that passes `check`")
    n.add_argument("directory", type=Path, help="the new article directory")
    n.add_argument("--market-proxy", default="SPY", help="default market proxy written into article.yaml")
    n.add_argument("--force", action="store_true", help="overwrite existing scaffold files")
    c = asub.add_parser("check", help="validate an article directory; exit 1 on errors")
    c.add_argument("directory", type=Path, help="the article directory")


def _schema_phase(directory: Path) -> int | None:
    """``article check``'s first phase: the YAML files against their schemas, with nothing
    heavy imported, so a typo is answered at once (exit 1); None when there is no such error."""
    from research.claims.schema import schema_problems

    d = directory.expanduser().resolve()
    if not d.is_dir():
        return None  # the full check names the missing directory
    errors = [p for p in schema_problems(d) if p.severity == "error"]
    if not errors:
        return None
    for p in errors:
        print(str(p), file=sys.stderr)
    print(f"{d}: {len(errors)} error(s) in the YAML files; fix them, then check again for the rest "
          "(events, facts, tickers, dates)", file=sys.stderr)
    return 1


def _article(args: argparse.Namespace) -> int:
    if args.article_command == "check":
        early = _schema_phase(args.directory)
        if early is not None:
            return early
    from research.claims.authoring import check_article, new_article

    if args.article_command == "new":
        for f in new_article(args.directory, market_proxy=args.market_proxy, force=args.force):
            print(f"wrote {f}")
        print(f"next: edit the files, then `research article check {args.directory}`")
        return 0
    rep = check_article(args.directory)
    if rep.day0:
        print("events (day 0 from each event's timing):")
        for line in rep.day0:
            print(f"  {line}")
    for p in rep.problems:
        print(str(p), file=sys.stderr if p.severity == "error" else sys.stdout)
    n_err, n_warn = len(rep.errors), len(rep.problems) - len(rep.errors)
    if rep.ok and rep.article is not None:
        a = rep.article
        print(f"{rep.path}: OK -- {len(a.claims)} claim(s), {len(a.events)} event(s), {len(a.facts)} fact(s), "
              f"{len(a.layout.pages)} page(s); {n_warn} warning(s)")
        return 0
    print(f"{rep.path}: {n_err} error(s), {n_warn} warning(s)", file=sys.stderr)
    return 1


def _info(data_dir: Path | None) -> int:
    from research.data.snapshot import load_snapshot
    from research.data import paths

    if data_dir is not None:
        paths.require_directory(data_dir, "--data-dir", "pass the data directory that holds snapshot/")
    snap = load_snapshot((data_dir / "snapshot") if data_dir is not None else paths.snapshot_dir())
    man = snap.manifest
    print(f"snapshot: {snap.directory}")
    print(f"basis:    {man['basis']} (Yahoo auto_adjust=True); close_raw = split-adjusted only")
    print(f"rows:     {man['rows']}  tickers: {len(man['tickers'])}  sha256: {man['sha256'][:16]}...")
    print(f"source:   {man['source']} (see SOURCES.md there)")
    print()
    head = f"{'ticker':<7} {'first':<10} {'last':<10} {'rows':>5}  {'columns':<7} {'source adj.':<11} {'divs':>4}  name"
    print(head)
    print("-" * len(head))
    for t, m in sorted(man["tickers"].items()):
        print(f"{t:<7} {m['first']:<10} {m['last']:<10} {m['rows']:>5}  {m['columns']:<7} "
              f"{m['source_adjustment']:<11} {m['dividends_applied']:>4}  {m['name']}")
    return 0


def _fetch(args: argparse.Namespace) -> int:
    from research.data.sources import load_prices

    df = load_prices(args.tickers, args.start, args.end, source="yfinance")
    for t, g in df.groupby("ticker", sort=False):
        print(f"{t:<7} {g['date'].iloc[0].date()} {g['date'].iloc[-1].date()} {len(g):>5} rows  "
              f"({df.attrs['source'][t]})")
    return 0


def _report(argv: list[str]) -> int:
    try:
        from research.report.cli import main as report_main
    except ImportError as exc:
        print(f"research report: the report module is not available ({exc}); "
              "is research.report.cli installed?", file=sys.stderr)
        return 1
    return int(report_main(argv) or 0)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code (0 ok, 1 ResearchError, 2 usage or unusable path)."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    try:
        if args_list and args_list[0] == "report":
            return _report(args_list[1:])
        try:
            args = _parser().parse_args(args_list)
        except SystemExit as exc:  # argparse: --help (0) or usage error (2)
            return int(exc.code or 0) if isinstance(exc.code, int) else 2
        if args.command == "article":
            return _article(args)
        if args.data_command == "info":
            return _info(args.data_dir)
        if args.data_command == "build-snapshot":
            from research.data.snapshot import build_snapshot

            r = build_snapshot(args.source, args.out)
            print(f"wrote {r.parquet} ({r.rows} rows, {r.tickers} tickers, sha256 {r.sha256[:16]}...)")
            print(f"wrote {r.manifest}")
            print(f"wrote {r.readme}")
            return 0
        if args.data_command == "fetch":
            return _fetch(args)
        return 2  # pragma: no cover - argparse requires a subcommand
    except PathError as exc:  # one line: the path and the fix
        print(f"research: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # e.g. `research data info | head`
        try:
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - silence the flush at exit
        except OSError:  # pragma: no cover
            pass
        return 0
    except OSError as exc:  # any other file-system refusal of a data/article command
        print(f"research: error: {exc.filename or 'a file'}: {exc.strerror or exc}; check that path "
              "(a folder where a file belongs, permissions, free space)", file=sys.stderr)
        return 2
    except ResearchError as exc:
        print(f"research: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
