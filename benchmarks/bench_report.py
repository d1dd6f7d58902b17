"""Benchmark research.report: build the whole report site (5 notebooks on the snapshot)
serially and in parallel, and the HTML export / site steps alone. Prints figures; not a test.

Run: .venv/bin/python benchmarks/bench_report.py
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import nbformat

from research.report import build_reports, build_site, load_portfolio
from research.report.html import render_html


def main() -> None:
    pf = load_portfolio()
    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory() as tmp:
        print(f"{'run':<28}{'jobs':>5}{'seconds':>10}")
        for jobs in sorted({1, cores}):
            out = Path(tmp) / f"jobs{jobs}"
            t0 = time.perf_counter()
            result = build_reports(pf, output_dir=out, jobs=jobs, progress=False)
            dt = time.perf_counter() - t0
            status = "ok" if result.ok else f"failed: {', '.join(result.failed)}"
            print(f"{'build_reports (' + status + ')':<28}{jobs:>5}{dt:>10.1f}")
            for r in result.results:
                print(f"  {r.name:<26}{'':>5}{r.seconds:>10.1f}")
        out = Path(tmp) / f"jobs{cores}"
        for name in pf.names:
            nb = nbformat.read(out / "executed" / f"{name}.ipynb", as_version=4)
            t0 = time.perf_counter()
            html = render_html(nb, name=name)
            print(f"render_html {name:<24} {time.perf_counter() - t0:6.2f} s  {len(html) / 1e6:5.2f} MB")
        t0 = time.perf_counter()
        build_site(pf, out)
        print(f"build_site (index.html + claims.json): {time.perf_counter() - t0:.3f} s")


if __name__ == "__main__":
    main()
