"""``research report``: build the notebook reports from the command line.

Usage::

    research report [--article DIR] [-p NAME VALUE]... [--notebook NAME]... [--show-input]
                    [--output DIR] [--force] [--jobs N] [--timeout S] [--list] [--portfolio FILE]
                    [--keep-going] [--single-file PATH]

``--article DIR`` renders any article directory (``research article new DIR`` writes one)
with the page templates in ``notebooks/``; without it, the shipped article.

Exit status: 0 when every notebook succeeded; 1 when any failed (stderr names them; the
previous site is kept byte-identical and the failed build is left at ``<output>.failed/``,
unless ``--keep-going`` publishes it) or the output file system failed (one line: path and
reason; the previous site is kept); 2 for usage errors, invalid parameters (checked against
everything the run needs: the robustness grid, ``research article check``), an unusable
output folder (a symbolic link is refused) or a folder another run is building (nothing is
run then); 128+N when stopped by signal N (SIGINT, SIGTERM, SIGHUP; the previous site is
kept).

Argument errors and a mistyped ``-p`` name or value are answered before the data, the
claims and the notebook machinery (pandas, papermill, nbconvert) are imported.
"""

from __future__ import annotations

import argparse
import math
import signal
import sys
import threading
from collections.abc import Sequence

from research.errors import DataError, ParameterError, ReportError
from research.report.singlefile import write_single_file

__all__ = ["main"]


def _timeout(text: str) -> int:
    """``--timeout``: whole seconds >= 1, or 0 for no limit."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not math.isfinite(value) or value < 0 or value != int(value):
        raise argparse.ArgumentTypeError(
            f"must be a whole number of seconds (1, 2, ...; 0 for no limit), got {text!r}")
    return int(value)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="research report",
        description="Run the research notebooks with papermill and build the HTML report site "
                    "(reports/index.html, reports/<notebook>.html, reports/claims.json).",
    )
    p.add_argument("-p", "--parameter", nargs=2, action="append", metavar=("NAME", "VALUE"),
                   default=[], help="set a notebook parameter in every selected notebook that "
                   "declares it (repeatable), e.g. -p market_proxy IWM -p event_windows '[[0,0],[0,1]]'")
    p.add_argument("--notebook", "-n", action="append", default=[], metavar="NAME",
                   help="run only this notebook (repeatable); default: all in the portfolio")
    p.add_argument("--show-input", action="store_true", help="keep code cells in the HTML")
    p.add_argument("--output", "-o", metavar="DIR", default=None,
                   help="report directory (default: <repo>/reports)")
    p.add_argument("--jobs", "-j", type=int, default=None, metavar="N",
                   help="notebooks run in parallel (default: number of CPU cores)")
    p.add_argument("--force", action="store_true",
                   help="write into a non-empty folder that is not a report site (default: refuse)")
    p.add_argument("--timeout", type=_timeout, default=1800, metavar="SECONDS",
                   help="fail a notebook when one cell runs longer than this (default 1800; 0: no limit)")
    p.add_argument("--list", action="store_true",
                   help="list the notebooks and their parameters, then exit")
    p.add_argument("--article", "-a", metavar="DIR", default=None,
                   help="article directory to render (default: the shipped article); its layout.yaml "
                        "says which page shows which claims. Default output: reports/<article id>")
    p.add_argument("--portfolio", metavar="FILE", default=None,
                   help="portfolio YAML instead of an article's layout (tests and custom notebook sets)")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="progress bar on stderr (default: only on a terminal)")
    p.add_argument("--keep-going", action="store_true",
                   help="publish the site even when a page fails (its page shows the error); default: "
                        "keep the previous site and leave the failed build at <output>.failed/")
    p.add_argument("--single-file", metavar="PATH", default=None,
                   help="also write the whole site (index, pages, charts, navigation) as ONE "
                        "self-contained HTML file, to share by e-mail or chat")
    return p


def _list(portfolio, names: Sequence[str]) -> int:
    from research.report.parameters import inspect_parameters
    from research.report.runner import INTERNAL_PARAMETERS

    for spec in portfolio.select(names):
        claims = ", ".join(spec.claims) or "-"
        print(f"{spec.name}  ({spec.path})\n  {spec.title}\n  claims: {claims}")
        if not spec.path.is_file():
            print("  (notebook file missing)")
            continue
        for prm in inspect_parameters(spec.path).values():
            if prm.name not in INTERNAL_PARAMETERS:  # set by the report, not with -p
                print(f"    {prm.describe()}")
    return 0


class _Stopped(KeyboardInterrupt):
    """SIGTERM/SIGHUP, raised in the main thread so the build stops and cleans up."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _stop(signum: int, _frame: object) -> None:
    raise _Stopped(signum)


def _refresh_stale_pages(portfolio, result, args):
    """After a partial run, re-run the pages that show its claims with other numbers (e.g.
    the overview's table of every claim), each with the owners' parameters for those
    claims, so every page agrees; a page that cannot be refreshed stays marked stale."""
    import dataclasses
    import json

    from research.report.runner import build_reports
    from research.report.site import refresh_plan

    if not result.published:
        return result
    plan = refresh_plan(portfolio, result.output_dir)
    for name, params in plan.items():
        print(f"refreshing {name}: it shows claims recomputed with other parameters", file=sys.stderr)
        again = build_reports(portfolio, internal={k: v if isinstance(v, str) else json.dumps(v)
                                                   for k, v in params.items()},
                              notebooks=[name], output_dir=result.output_dir, show_input=args.show_input,
                              jobs=1, progress=args.progress, keep_going=args.keep_going,
                              cell_timeout=int(args.timeout) if args.timeout else None)
        done = {r.name: r for r in again.results}
        result = dataclasses.replace(result, results=tuple(done.get(r.name, r) for r in result.results)
                                     + tuple(r for r in again.results
                                             if r.name not in {x.name for x in result.results}),
                                     kept_at=again.kept_at or result.kept_at)
    return result


def _quick_check(args: argparse.Namespace) -> None:
    """``-p`` names and values against the article page templates' parameters cells, before
    the article (and with it pandas and the claims) is loaded: a typo is answered at once.
    The full check (selected pages, the data, the robustness grid) follows in planning."""
    if args.portfolio or not args.parameter:
        return
    from research.report.parameters import inspect_parameters
    from research.report.portfolio import REPO_ROOT, TEMPLATES
    from research.report.runner import check_overrides

    declared = {kind: inspect_parameters(REPO_ROOT / path) for kind, path in TEMPLATES.items()
                if (REPO_ROOT / path).is_file()}
    problems = check_overrides(declared, [tuple(pv) for pv in args.parameter])
    if problems:
        raise ParameterError("invalid report parameters (nothing was run):\n  - "
                             + "\n  - ".join(dict.fromkeys(problems))
                             + "\n(`research report --list` shows every page's parameters)")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``research report``; returns the exit status (0, 1, 2 or 128+signal)."""
    parser = _parser()
    try:
        args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    except SystemExit as exc:  # argparse: --help (0) or a usage error (2)
        return int(exc.code or 0)
    try:
        if args.article and args.portfolio:
            raise ParameterError("give either --article or --portfolio, not both")
        _quick_check(args)
        from research.report.portfolio import load_portfolio, portfolio_from_article
        from research.report.runner import build_reports

        portfolio = (portfolio_from_article(args.article) if args.article else load_portfolio(args.portfolio))
        if args.article and args.output is None:
            from research.claims import load_article
            from research.report.runner import default_output_dir

            args.output = str(default_output_dir() / load_article(args.article).id)
        if args.list:
            unknown = [n for n in args.notebook if n not in portfolio.names]
            if unknown:
                raise ParameterError(f"unknown notebook(s) {unknown}; choose from: {', '.join(portfolio.names)}")
            return _list(portfolio, args.notebook)
        in_main = threading.current_thread() is threading.main_thread()  # signal() needs it
        previous = {s: signal.signal(s, _stop) for s in (signal.SIGTERM, signal.SIGHUP)} if in_main else {}
        try:
            result = build_reports(
                portfolio, parameters=[tuple(pv) for pv in args.parameter], notebooks=args.notebook or None,
                output_dir=args.output, show_input=args.show_input, jobs=args.jobs, progress=args.progress,
                cell_timeout=args.timeout or None, force=args.force, keep_going=args.keep_going,
            )
            result = _refresh_stale_pages(portfolio, result, args)
        finally:
            for s, handler in previous.items():
                signal.signal(s, handler)
    except KeyboardInterrupt as exc:
        signum = exc.signum if isinstance(exc, _Stopped) else signal.SIGINT
        print(f"research report: stopped by {signal.Signals(signum).name}; the previous reports "
              "were left as they were", file=sys.stderr)
        return 128 + int(signum)
    except OSError as exc:  # the output file system: full, read-only, ...
        where = exc.filename or (args.output or "the report folder")
        print(f"research report: error: {where}: {exc.strerror or exc}; the previous reports "
              "were left as they were", file=sys.stderr)
        return 1
    except ParameterError as exc:
        print(f"research report: error: {exc}", file=sys.stderr)
        return 2
    except DataError as exc:
        print(f"research report: error: the price data cannot be used (nothing was run): {exc}",
              file=sys.stderr)
        return 2
    except ReportError as exc:
        print(f"research report: error: {exc}", file=sys.stderr)
        return 2
    site = result.output_dir if result.published else result.kept_at
    for r in result.results:
        mark = "ok    " if r.ok else "FAILED"
        print(f"{mark} {r.name:<28} {r.seconds:7.1f}s  {site / r.html}")
    print(f"index: {result.index_html}\nclaims: {result.claims_json}")
    if args.single_file and result.published:
        try:
            print(f"single file: {write_single_file(result.output_dir, args.single_file)}")
        except (ReportError, OSError) as exc:
            print(f"research report: error: --single-file {args.single_file}: {exc}", file=sys.stderr)
            return 1
    if result.failed:
        print(f"research report: {len(result.failed)} notebook(s) failed: {', '.join(result.failed)}",
              file=sys.stderr)
        for r in result.results:
            if not r.ok:
                where = f" at {r.failed_cell}" if r.failed_cell else ""
                print(f"  {r.name}{where}: {r.error}", file=sys.stderr)
        if not result.published:
            print(f"research report: the previous site {result.output_dir} was left as it was; the failed "
                  f"build is in {result.kept_at} (pass --keep-going to publish a site with failed pages)",
                  file=sys.stderr)
        elif result.kept_at is not None:
            print(f"research report: a refreshed page failed; its build is in {result.kept_at}", file=sys.stderr)
        return 1
    return 0
