"""Scale curve of the engine: seconds, microseconds per event and peak memory vs events.

Run::

    .venv/bin/python benchmarks/bench_scale.py [--sizes 10000 100000 1000000] [--tickers 1000]
                                               [--days 2000] [--battery both|yes|no]
                                               [--chunk-size 20000] [--placebo-draws 0]
                                               [--allocator default|kept|both]

A synthetic panel of realistic shape (``--tickers`` stocks x ``--days`` sessions of
i.i.d. normal market-model returns, seeded) and events drawn uniformly (ticker, day 0
with a full window). Each size runs in a fresh child process so its peak resident
memory (``ru_maxrss``) is its own; the table gives events, seconds, us/event, peak RSS
and RSS per event above the panel, with and without the cross-sectional battery.
``run_event_study(..., chunk_size=--chunk-size)`` estimates the events chunk by chunk
(0 = all at once), so the estimation arrays are bounded by the chunk; what still grows
with the number of events is the per-event output (AR, CAR path, CAR table) and the
battery's per-event O(T) input. ``--placebo-draws K`` adds the resampled placebo (K
pseudo dates per event, evaluated ``placebo.EVENT_CHUNK`` events at a time) to every run.

``--allocator kept`` runs the children with glibc's ``MALLOC_MMAP_THRESHOLD_`` and
``MALLOC_TRIM_THRESHOLD_`` raised (:data:`KEPT`): freed blocks stay in the process and are
reused, instead of every large temporary being a fresh ``mmap`` whose pages fault in
again; ``both`` runs each size both ways, one after the other, for a ratio within one run.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

import numpy as np
import pandas as pd

#: glibc settings of ``--allocator kept``: blocks up to 1 GiB come from the heap, and up
#: to 2 GiB of freed heap is kept for reuse rather than returned to the system
KEPT = {"MALLOC_MMAP_THRESHOLD_": str(1 << 30), "MALLOC_TRIM_THRESHOLD_": str(1 << 31)}


def _child(n: int, tickers: int, days: int, battery: bool, chunk: int, draws: int) -> None:
    from research.eventstudy import EventStudySpec, run_event_study

    rng = np.random.default_rng(7)
    idx = pd.bdate_range("2010-01-04", periods=days)
    m = rng.normal(0.0, 0.01, days)
    y = m[:, None] * rng.uniform(0.5, 1.5, tickers)[None, :] + rng.normal(0.0, 0.02, (days, tickers))
    panel = pd.DataFrame(np.column_stack([y, m]), index=idx,
                         columns=[f"S{i:04d}" for i in range(tickers)] + ["SPY"])
    spec = EventStudySpec()
    lo, hi = -spec.estimation.start, days - 1 - spec.event_span[1]
    ev = pd.DataFrame({"event_id": [f"e{i}" for i in range(n)],
                       "ticker": panel.columns[rng.integers(0, tickers, n)],
                       "day0": idx[rng.integers(lo, hi, n)]})
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    run_event_study(ev, spec, returns=panel, volume=False, tests=None if battery else (),
                    chunk_size=chunk or None, placebo_draws=draws)
    secs = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"n": n, "seconds": secs, "peak_mb": peak / 1024, "base_mb": base / 1024}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10000, 100000, 1000000])
    ap.add_argument("--tickers", type=int, default=1000)
    ap.add_argument("--days", type=int, default=2000)
    ap.add_argument("--battery", choices=("both", "yes", "no"), default="both")
    ap.add_argument("--chunk-size", type=int, default=20000, help="events per chunk (0: all at once)")
    ap.add_argument("--placebo-draws", type=int, default=0, help="resampled placebo draws per event (0: none)")
    ap.add_argument("--allocator", choices=("default", "kept", "both"), default="default",
                    help="glibc allocator settings of the children (kept: KEPT; both: each size both ways)")
    ap.add_argument("--child", nargs=6, type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        n, t, d, b, c, k = args.child
        _child(n, t, d, bool(b), c, k)
        return
    load = ", ".join(f"{v:.2f}" for v in os.getloadavg())
    print(f"# Scale curve: synthetic panel {args.tickers} tickers x {args.days} sessions, "
          f"chunk_size={args.chunk_size or 'all'}, placebo draws per event {args.placebo_draws} "
          f"(load average before: {load})\n")
    print("| events | battery | allocator | seconds | us/event | peak RSS (MB) | RSS above the panel (MB) "
          "| KB/event |")
    print("|---:|---|---|---:|---:|---:|---:|---:|")
    modes = {"both": (True, False), "yes": (True,), "no": (False,)}[args.battery]
    allocators = {"both": ("default", "kept"), "default": ("default",), "kept": ("kept",)}[args.allocator]
    for battery in modes:
        for n in args.sizes:
            for alloc in allocators:
                env = {k: v for k, v in os.environ.items() if k not in KEPT}
                env.update(KEPT if alloc == "kept" else {})
                out = subprocess.run([sys.executable, __file__, "--child", str(n), str(args.tickers),
                                      str(args.days), str(int(battery)), str(args.chunk_size),
                                      str(args.placebo_draws)],
                                     capture_output=True, text=True, env=env)
                head = f"| {n:,} | {'yes' if battery else 'no'} | {alloc} |"
                if out.returncode != 0:
                    print(f"{head} failed: {(out.stderr.strip().splitlines() or ['?'])[-1]} | | | | |")
                    continue
                r = json.loads(out.stdout.strip().splitlines()[-1])
                above = r["peak_mb"] - r["base_mb"]
                print(f"{head} {r['seconds']:.2f} | {1e6 * r['seconds'] / n:.0f} | {r['peak_mb']:,.0f} | "
                      f"{above:,.0f} | {1024 * above / n:.1f} |", flush=True)

if __name__ == "__main__":
    main()
