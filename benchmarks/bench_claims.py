"""Benchmark research.claims: evaluate() per claim and evaluate_all() with the published
parameters (1,000 placebo draws). Prints figures; not a test.

Run: .venv/bin/python benchmarks/bench_claims.py
"""

from __future__ import annotations

import time

from research.claims import EvalParams, evaluate, evaluate_all, load_claims, reported_vs_computed


def main() -> None:
    params = EvalParams()
    evaluate("C6", EvalParams(placebo_draws=0))  # warm the snapshot and calendar caches
    print(f"{'claim':<6}{'rule':<16}{'evidence rows':>14}{'seconds':>10}")
    for c in load_claims():
        t0 = time.perf_counter()
        v = evaluate(c, params)
        dt = time.perf_counter() - t0
        print(f"{c.id:<6}{c.rule.type:<16}{len(v.evidence):>14}{dt:>10.2f}")
    t0 = time.perf_counter()
    evaluate_all(params)
    print(f"evaluate_all (15 claims, placebo_draws={params.placebo_draws}): {time.perf_counter() - t0:.2f} s")
    t0 = time.perf_counter()
    reported_vs_computed(as_of=params.as_of)
    print(f"reported_vs_computed: {time.perf_counter() - t0:.2f} s")


if __name__ == "__main__":
    main()
