"""Benchmark: the specification grid of every price claim (research.claims.robustness).

Run::

    .venv/bin/python benchmarks/bench_grid.py [--article DIR] [--repeat 3]

Times :func:`research.claims.robustness.run_grid` (no cache) on the article's price
claims with its own grid, and prints per claim the specifications judged, the event
studies run (one per model x proxy x estimation length: the windows share a run) and the
time; then the whole grid's best-of-``repeat`` wall time, specifications per second, and
the same grid the naive way for one claim (a full ``evaluate()`` per specification,
extrapolated from ``--naive`` specifications) as the ratio. Not a test.
"""

from __future__ import annotations

import argparse
import os
import time

from research.claims import EvalParams, evaluate, load_article
from research.claims.robustness import SpecificationGrid, price_claims, run_grid


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--article", default=None)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--naive", type=int, default=2, help="specifications timed the naive way (one claim)")
    args = ap.parse_args()
    art = load_article(args.article)
    grid = SpecificationGrid.from_mapping(art.robustness)
    params = EvalParams()
    run_grid(art, params, grid, claim_ids=[price_claims(art.claims)[0].id])  # warm data caches
    print(f"# specification grid: {art.id}; load average {os.getloadavg()[0]:.2f}")
    print(f"grid: proxies {grid.proxies} + theme, models {grid.models}, lengths {grid.estimation_lengths}, "
          f"windows rule + {grid.windows}\n")
    best, res = float("inf"), {}
    for _ in range(max(args.repeat, 1)):
        t0 = time.perf_counter()
        res = run_grid(art, params, grid)
        best = min(best, time.perf_counter() - t0)
    print("| claim | specifications | estimable | event-study runs | share | fragile |")
    print("|---|---:|---:|---:|---:|---|")
    n_all = 0
    for cid, r in res.items():
        runs = len(r.table.drop_duplicates(["model", "market_proxy", "estimation_length"]))
        n_all += len(r.table)
        print(f"| {cid} | {len(r.table)} | {r.n_specs} | {runs} | {r.share:.0%} | {'yes' if r.fragile else 'no'} |")
    print(f"\nwhole grid, {len(res)} claims, {n_all} specifications: {best:.2f} s (best of {args.repeat}), "
          f"{n_all / best:.0f} specifications/s")
    cid = next(iter(res))
    claim = art.claim(cid)
    specs = grid.specifications(claim, params.resolve(art).override(claim.spec))[: args.naive]
    t0 = time.perf_counter()
    for s in specs:
        evaluate(cid, s.params(params.resolve(art)), article=art)
    naive = (time.perf_counter() - t0) / len(specs)
    print(f"naive (a full evaluate() per specification, {cid}, {len(specs)} timed): {naive:.2f} s per "
          f"specification -> {naive * n_all:.0f} s for the grid, {naive * n_all / best:.0f}x the grid run")


if __name__ == "__main__":
    main()
