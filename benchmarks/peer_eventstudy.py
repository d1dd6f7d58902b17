"""Time the peer package ``eventstudy`` (0.1a12) on events written by bench_eventstudy.py.

Runs in its own interpreter (``.venv-bench/bin/python``), never with the package's
dependencies. Usage::

    .venv-bench/bin/python benchmarks/peer_eventstudy.py DIR MARKET TMIN TMAX EST_SIZE BUFFER

``DIR`` holds ``returns.csv`` (date + one column per ticker) and ``events.csv`` (ticker,
date). Prints one JSON line: version, events, seconds (import of the returns excluded,
best of 3 runs of ``Multiple.from_list`` with the market model).
"""

from __future__ import annotations

import csv
import json
import sys
import time
from importlib.metadata import version
from pathlib import Path

import numpy as np

import eventstudy as es


def main() -> None:
    d, market, tmin, tmax, est_size, buffer = sys.argv[1:7]
    es.Single.import_returns(str(Path(d) / "returns.csv"))
    with open(Path(d) / "events.csv") as fh:
        rows = list(csv.DictReader(fh))
    events = [{"security_ticker": r["ticker"], "market_ticker": market,
               "event_date": np.datetime64(r["date"])} for r in rows]
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        agg = es.Multiple.from_list(events, es.Single.market_model, event_window=(int(tmin), int(tmax)),
                                    estimation_size=int(est_size), buffer_size=int(buffer), ignore_errors=True)
        best = min(best, time.perf_counter() - t0)
    print(json.dumps({"version": version("eventstudy"), "events": len(events), "seconds": best,
                      "estimated": len(agg.sample)}))


if __name__ == "__main__":
    main()
