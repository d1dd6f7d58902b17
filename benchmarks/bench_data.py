"""Benchmark research.data: snapshot load (cold = checksum + validation, warm = cached),
load_prices, close_panel/returns, align_event. Prints figures; not a test.

Run: .venv/bin/python benchmarks/bench_data.py
"""

from __future__ import annotations

import time
import warnings

import research.data as d
from research.data.snapshot import clear_cache, load_snapshot


def timeit(fn, repeat: int = 5) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    def cold():
        clear_cache()
        load_snapshot()

    print(f"snapshot load, cold (sha256 + validation): {timeit(cold) * 1e3:8.1f} ms")
    load_snapshot()
    print(f"snapshot load, warm (in-process cache):    {timeit(load_snapshot) * 1e6:8.1f} us")
    every = d.available_tickers()
    print(f"load_prices 2 tickers, 2 months:           {timeit(lambda: d.load_prices(['RGTI', 'SPY'], '2025-09-01', '2025-10-31', source='snapshot')) * 1e3:8.2f} ms")
    print(f"load_prices all {len(every)} tickers, full range:    {timeit(lambda: d.load_prices(every, source='snapshot')) * 1e3:8.2f} ms")
    px = d.load_prices(every, source="snapshot")
    print(f"close_panel + returns (all tickers):       {timeit(lambda: d.returns(d.close_panel(px))) * 1e3:8.2f} ms")
    d.align_event("2025-10-10", "after_close")
    print(f"align_event (warm calendar):               {timeit(lambda: d.align_event('2025-10-11', 'weekend_or_holiday'), 50) * 1e6:8.1f} us")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t0 = time.perf_counter()
        d.load_prices("SPY", "2025-10-01", "2025-10-10")  # auto: probe (cached) + fallback
        print(f"load_prices auto (offline fallback):       {(time.perf_counter() - t0) * 1e3:8.2f} ms (first call includes the reachability probe)")


if __name__ == "__main__":
    main()
