"""Benchmark: the vectorised event-study engine vs a per-event statsmodels loop.

Run::

    .venv/bin/python benchmarks/bench_eventstudy.py [--sizes 100 1000 10000] [--repeat 5]

Events are drawn (seeded) from the real snapshot: a ticker from the snapshot's tickers
and a day 0 among its sessions with a full 250-day estimation window ([-260, -11]) and
event span (-5, +20) inside the data. Both sides start from the same in-memory returns
panel (data loading is not timed) and the same events.

* engine: ``run_event_study(events, EventStudySpec(), returns=panel)`` - calendar
  alignment, aligned matrices, one market-model fit, AR/CAR/BHAR, single-event t for 6
  windows and the full cross-sectional battery for every day and window. The
  Kolari-Pynnönen cross-correlation (quadratic in N) is timed separately and reported.
* loop: for each event, ``statsmodels.OLS`` on the estimation window, then AR, CAR and
  the CAR t-test for the same 6 windows (no cross-sectional battery at all), measured on
  every size up to ``--loop-max`` (default 10,000: all events, nothing extrapolated).
* bound: the memory-bandwidth floor -- the bytes the engine must read at least
  (events x (estimation + event days) x 2 series x 8 B) over this machine's measured
  read bandwidth (a ``sum`` over a 512 MB array).
* peer: ``eventstudy`` 0.1a12 (``pip install eventstudy==0.1a12`` into ``.venv-bench``,
  never a dependency of the package) on the first ``--peer-events`` events (default
  100) whose returns are complete (the peer cannot skip a missing day; the engine is
  re-timed on the same events), through ``benchmarks/peer_eventstudy.py`` in that interpreter; skipped with a
  note when ``.venv-bench`` is absent.

Prints markdown tables (paste into the README's performance section). Times are the best
of ``--repeat`` wall-clock runs; the header records the machine's load average and the
OpenBLAS environment (``OPENBLAS_CORETYPE`` slows a current numpy where it is set: to
compare, run once as is and once with ``env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from research.data import available_tickers, close_panel, load_prices, returns
from research.eventstudy import EventStudySpec, run_event_study
from research.eventstudy import stats as es_stats
from research.eventstudy.pipeline import align_matrices, estimate, screen

HERE = Path(__file__).resolve().parent
PEER_PYTHON = HERE.parent / ".venv-bench" / "bin" / "python"


def draw_events(panel: pd.DataFrame, n: int, seed: int, spec: EventStudySpec) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    tickers = [t for t in panel.columns if t != spec.market]
    tmin, tmax = spec.event_span
    rows = []
    fin = panel.notna().to_numpy()
    lo_hi = {}
    for j, t in enumerate(panel.columns):
        r = np.flatnonzero(fin[:, j])
        lo_hi[t] = (r[0] - spec.estimation.start, r[-1] - tmax)
    picks = rng.choice(len(tickers), size=n)
    u = rng.random(n)
    for k in range(n):
        t = tickers[picks[k]]
        lo, hi = lo_hi[t]
        pos = int(lo + u[k] * (hi - lo))
        rows.append((f"e{k}", t, panel.index[pos]))
    ev = pd.DataFrame(rows, columns=["event_id", "ticker", "date"])
    ev["timing"] = "pre_open"
    return ev


def loop_statsmodels(events: pd.DataFrame, panel: pd.DataFrame, spec: EventStudySpec) -> float:
    import statsmodels.api as sm
    from scipy import stats as sps

    t0 = time.perf_counter()
    idx = panel.index
    est = spec.estimation
    out = []
    for row in events.itertuples(index=False):
        pos = idx.get_loc(pd.Timestamp(row.date))
        e = panel.iloc[pos + est.start: pos + est.end + 1]
        y, x = e[row.ticker], e[spec.market]
        keep = y.notna() & x.notna()
        X = sm.add_constant(x[keep].to_numpy())
        res = sm.OLS(y[keep].to_numpy(), X).fit()
        for a, b in spec.windows:
            w = panel.iloc[pos + a: pos + b + 1]
            x0 = np.column_stack([np.ones(len(w)), w[spec.market].to_numpy()])
            ar = w[row.ticker].to_numpy() - x0 @ res.params
            var = res.scale * (np.eye(len(w)) + x0 @ res.normalized_cov_params @ x0.T).sum()
            t = ar.sum() / np.sqrt(var)
            out.append((ar.sum(), t, 2 * sps.t.sf(abs(t), res.df_resid)))
    return time.perf_counter() - t0


def time_engine(events, panel, spec, repeat: int, tests=None) -> tuple[float, object]:
    best = np.inf
    res = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        res = run_event_study(events, spec, returns=panel, volume=False, tests=tests)
        best = min(best, time.perf_counter() - t0)
    return best, res


def complete_events(events: pd.DataFrame, panel: pd.DataFrame, spec: EventStudySpec) -> pd.DataFrame:
    """Events whose stock and market returns are finite over the whole estimation window
    and event span (the peer cannot skip a missing day)."""
    pos = panel.index.get_indexer(pd.DatetimeIndex(events["date"]))
    lo, hi = spec.estimation.start, spec.event_span[1]
    fin = panel.notna().to_numpy()
    m = panel.columns.get_loc(spec.market)
    col = panel.columns.get_indexer(events["ticker"])
    keep = [fin[p + lo: p + hi + 1, [c, m]].all() for p, c in zip(pos, col, strict=True)]
    return events[np.asarray(keep)]


def read_bandwidth() -> float:
    """Bytes per second of a streaming read (best of 5 ``sum`` over 512 MB)."""
    a = np.ones(64 * 1024 * 1024)
    best = np.inf
    for _ in range(5):
        t0 = time.perf_counter()
        a.sum()
        best = min(best, time.perf_counter() - t0)
    return a.nbytes / best


def floors(n: int, spec: EventStudySpec, repeat: int) -> dict[str, float]:
    """Seconds of steps any engine returning the same tables pays at ``n`` events, each
    measured alone on random data of the engine's shapes (best of ``repeat``):

    * ``p_values``: the ``n x W`` two-sided Student-t p-values of the single-event CAR
      tests (``stats.two_sided_t_p``: ``scipy.special.stdtr`` over the cores);
    * ``row_sort``: one ``np.argsort`` of the ``n x (L + T)`` abnormal returns by row,
      the ranking every rank test (Corrado, GRANK, Wilcoxon) needs;
    * ``grank_count``: GRANK's comparisons, one ``n x L`` uint8 comparison and column sum
      per test window (``T`` days + ``W`` windows), at numpy's SIMD speed.
    """
    rng = np.random.default_rng(0)
    w, t_len = len(spec.windows), spec.event_span[1] - spec.event_span[0] + 1
    l_est = spec.estimation.length
    t = rng.standard_normal((n, w))
    df = np.full((n, 1), float(l_est - 2))
    ar = rng.standard_normal((n, l_est + t_len))
    pos = rng.integers(0, l_est, (n, l_est)).astype(np.uint8)
    thr = rng.integers(0, l_est, (n, 1)).astype(np.uint8)

    def grank_count():
        for _ in range(t_len + w):
            np.add.reduce((pos > thr).view(np.uint8), axis=0, dtype=np.uint16)

    out = {}
    for name, fn in (("p_values", lambda: es_stats.two_sided_t_p(t, df)),
                     ("row_sort", lambda: np.argsort(ar, axis=1)), ("grank_count", grank_count)):
        best = np.inf
        for _ in range(repeat):
            t0 = time.perf_counter()
            fn()
            best = min(best, time.perf_counter() - t0)
        out[name] = best
    return out


def peer_eventstudy(events: pd.DataFrame, panel: pd.DataFrame, spec: EventStudySpec) -> dict | None:
    """Time ``eventstudy`` 0.1a12 on ``events`` in its own interpreter (None if absent)."""
    if not PEER_PYTHON.exists():
        return None
    with tempfile.TemporaryDirectory() as tmp:
        rets = panel.copy()
        rets.index = rets.index.strftime("%Y-%m-%d")
        rets.index.name = "date"
        rets.to_csv(Path(tmp) / "returns.csv")
        events.assign(date=pd.DatetimeIndex(events["date"]).strftime("%Y-%m-%d"))[
            ["ticker", "date"]].to_csv(Path(tmp) / "events.csv", index=False)
        est = spec.estimation
        tmin, tmax = spec.event_span
        out = subprocess.run(
            [str(PEER_PYTHON), str(HERE / "peer_eventstudy.py"), tmp, spec.market, str(tmin), str(tmax),
             str(est.length), str(tmin - est.end - 1)],
            capture_output=True, text=True, check=False, timeout=1800)
    if out.returncode != 0:
        return {"error": out.stderr.strip().splitlines()[-1] if out.stderr.strip() else "failed"}
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 10000])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--seed", type=int, default=20251015)
    ap.add_argument("--loop-max", type=int, default=10000,
                    help="largest size on which the statsmodels loop is measured (default 10000)")
    ap.add_argument("--peer-events", type=int, default=100, help="events for the peer comparison (0: skip it)")
    args = ap.parse_args()

    spec = EventStudySpec()
    prices = load_prices(available_tickers(), source="snapshot")
    panel = returns(close_panel(prices), kind="simple")
    load = ", ".join(f"{v:.2f}" for v in os.getloadavg())
    blas_env = ", ".join(f"{k}={os.environ.get(k, 'unset')}"
                         for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS"))
    bw = read_bandwidth()
    days = spec.estimation.length + (spec.event_span[1] - spec.event_span[0] + 1)
    print(f"# Event-study benchmark ({platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} cores, numpy {np.__version__}, pandas {pd.__version__})")
    print(f"load average before the run: {load}; {blas_env}")
    print(f"returns panel: {panel.shape[0]} sessions x {panel.shape[1]} tickers; "
          f"estimation window {spec.estimation.length} days; {len(spec.windows)} CAR windows; "
          f"{len(es_stats.DAY_TESTS)} cross-sectional tests per day and per window; "
          f"measured read bandwidth {bw / 1e9:.1f} GB/s\n")
    rows = []
    peer = None
    for n in args.sizes:
        ev = draw_events(panel, n, args.seed + n, spec)
        # warm-up (imports, calendar) then best of `repeat`
        run_event_study(ev.head(50), spec, returns=panel, volume=False)
        t_eng, res = time_engine(ev, panel, spec, args.repeat)
        no_kp = tuple(t for t in es_stats.DAY_TESTS if t not in ("patell_kp", "bmp_kp"))
        t_nokp, _ = time_engine(ev, panel, spec, args.repeat, tests=no_kp)
        t_core, _ = time_engine(ev, panel, spec, args.repeat, tests=())
        ok = res.events["status"] == "ok"
        # KP mean cross-correlation alone, on the same estimation residuals
        col = pd.Index(panel.columns).get_indexer(ev["ticker"])
        pos0 = panel.index.get_indexer(pd.DatetimeIndex(ev["date"]))
        al = align_matrices(panel.to_numpy(), panel[[spec.market]].to_numpy(), col, pos0, spec)
        good, _ = screen(al, spec)
        est = estimate(al.take(good), spec)
        t0 = time.perf_counter()
        es_stats.mean_cross_correlation(est.ar_est)
        t_kp = time.perf_counter() - t0
        t_loop = loop_statsmodels(ev, panel, spec) if n <= args.loop_max else np.nan
        bound = n * days * 2 * 8 / bw
        if peer is None and args.peer_events > 0 and n >= args.peer_events:
            pe = complete_events(ev, panel, spec).head(args.peer_events)
            peer = (len(pe), peer_eventstudy(pe, panel, spec), time_engine(pe, panel, spec, args.repeat)[0])
        rows.append(dict(n=n, ok=int(ok.sum()), t_eng=t_eng, t_nokp=t_nokp, t_core=t_core,
                         t_kp=t_kp, t_loop=t_loop, bound=bound))
    print("| events | estimated | engine, full battery (s) | events/s | engine without KP tests (s) "
          "| engine, no battery (s) | events/s (no battery) | KP mean cross-corr. alone (s) "
          "| statsmodels loop (s, measured) | speed-up (full) | speed-up (like for like) "
          "| memory-bandwidth bound (ms) |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['n']:,} | {r['ok']:,} | {r['t_eng']:.3f} | {r['n'] / r['t_eng']:,.0f} | "
              f"{r['t_nokp']:.3f} | {r['t_core']:.3f} | {r['n'] / r['t_core']:,.0f} | {r['t_kp']:.3f} | "
              f"{r['t_loop']:.2f} | {r['t_loop'] / r['t_eng']:,.0f}x | "
              f"{r['t_loop'] / r['t_core']:,.0f}x | {1e3 * r['bound']:.2f} |")
    fl = floors(rows[-1]["n"], spec, args.repeat)
    print(f"\nFixed steps at {rows[-1]['n']:,} events, each timed alone: the single-event CAR "
          f"p-values {1e3 * fl['p_values']:.1f} ms, one row sort of the AR matrix (rank tests) "
          f"{1e3 * fl['row_sort']:.1f} ms, GRANK's per-window comparisons {1e3 * fl['grank_count']:.1f} ms.")
    print("\nThe statsmodels loop computes only per-event OLS, AR, CAR and the CAR t-test "
          "(no cross-sectional battery); 'like for like' compares it with the engine without the "
          "battery. The bound is the time to read the aligned returns once at the measured bandwidth.")
    if peer is not None:
        n_peer, got, t_ours = peer
        if got is None:
            print("\npeer: .venv-bench absent (python -m venv .venv-bench && .venv-bench/bin/pip install "
                  "eventstudy==0.1a12); not compared")
        elif "error" in got:
            print(f"\npeer: eventstudy {got.get('version', '0.1a12')} failed: {got['error']}")
        else:
            print(f"\n| tool, {n_peer} events | seconds | events/s |\n|---|---:|---:|\n"
                  f"| research engine, full battery | {t_ours:.3f} | {n_peer / t_ours:,.0f} |\n"
                  f"| eventstudy {got['version']} (market model, CAR t only) | {got['seconds']:.3f} | "
                  f"{got['events'] / got['seconds']:,.0f} |")
            print("\nVariance: the engine's CAR variance is sigma^2 (L + s'(X'X)^-1 s), the exact "
                  "prediction-error variance with the estimation error's covariance across days; "
                  "eventstudy 0.1a12 uses sigma^2 * L (residual variance times window length, "
                  "no estimation-error term), so its t-statistics are slightly larger.")


if __name__ == "__main__":
    main()
