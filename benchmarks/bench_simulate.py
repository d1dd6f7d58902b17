"""Size of the test battery on real stocks: the Brown-Warner simulation, timed.

Run::

    .venv/bin/python benchmarks/bench_simulate.py [--tickers IONQ RGTI QBTS QUBT] [--trials 1000]
                                                  [--events 50] [--seed 0]

Draws ``--trials`` samples of ``--events`` random pseudo-events (no event: size) from the
given snapshot tickers' own history (market model on SPY, window (0, 0)), runs the full
battery on each sample with :func:`research.eventstudy.simulate`, and prints the rejection
rate of every test at 1/5/10% beside the 99% binomial band of a well-specified test, plus
the wall time. A rate above the band's upper end means the test over-rejects for these
stocks (fat tails, event-induced variance): prefer a test inside its band.
"""

from __future__ import annotations

import argparse
import os
import time

from research.data import close_panel, load_prices, returns
from research.eventstudy import simulate


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tickers", nargs="+", default=["IONQ", "RGTI", "QBTS", "QUBT"])
    ap.add_argument("--market", default="SPY")
    ap.add_argument("--trials", type=int, default=1000)
    ap.add_argument("--events", type=int, default=50)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    panel = returns(close_panel(load_prices([*args.tickers, args.market], source="snapshot")))
    load = ", ".join(f"{v:.2f}" for v in os.getloadavg())
    t0 = time.perf_counter()
    table = simulate(panel, n_events=args.events, n_trials=args.trials, tickers=args.tickers,
                     seed=args.seed)
    secs = time.perf_counter() - t0
    print(f"# Size of the battery: {args.trials} trials x {args.events} pseudo-events from "
          f"{' '.join(args.tickers)} (market model on {args.market}, day 0), seed {args.seed}")
    print(f"wall time {secs:.1f} s (load average before: {load})\n")
    print("| test | parametric | trials | reject 1% | reject 5% | 99% band at 5% | reject 10% | within band at 5% |")
    print("|---|---|---:|---:|---:|---|---:|---|")
    for name, r in table.iterrows():
        inside = r["band_lo_0.05"] <= r["reject_0.05"] <= r["band_hi_0.05"]
        print(f"| {name} | {'yes' if r['parametric'] else 'no'} | {int(r['n_trials'])} | "
              f"{r['reject_0.01']:.3f} | {r['reject_0.05']:.3f} | "
              f"[{r['band_lo_0.05']:.3f}, {r['band_hi_0.05']:.3f}] | {r['reject_0.1']:.3f} | "
              f"{'yes' if inside else 'NO (over-rejects)' if r['reject_0.05'] > r['band_hi_0.05'] else 'NO (under-rejects)'} |")


if __name__ == "__main__":
    main()
