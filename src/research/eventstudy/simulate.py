"""Size and power of the test battery by simulation (the Brown-Warner design).

Brown and Warner (1980, 1985) measure how often an event-study test rejects when there
is no event (its real *size*) and when an abnormal return of known size is injected (its
*power*): draw many samples of random pseudo-events from the returns themselves, run
the tests, count rejections. :func:`simulate` does that through the vectorised pipeline
(:mod:`research.eventstudy.pipeline`): all ``n_trials x n_events`` pseudo-events are
aligned, screened and estimated in stacked batches, then the cross-sectional battery of
:mod:`research.eventstudy.stats` runs once per trial on the trial's events.

Design
------
* Pseudo-events: a ticker drawn uniformly among ``tickers`` (default every column but
  the market proxy), then a day 0 uniformly among that ticker's admissible rows
  (:func:`research.eventstudy.placebo.admissible_rows`: full estimation window and event
  span inside its data). Draws are with replacement; trials run in blocks of ``block``
  (default 100), block ``b`` drawing from ``default_rng(SeedSequence([seed, b]))``: the
  same inputs give identical tables, in process or on a Dask cluster.

Past one machine
----------------
``simulate(..., client=dask.distributed.Client(...))`` sends the blocks to a Dask
cluster (``pip install 'research[dask]'``): the returns arrays are scattered once to
every worker and each block is one task. For a real cluster pass
``Client("tcp://scheduler:8786")``; every worker needs this package installed.
* Injection on day 0 (Brown-Warner 1985): the day-0 return becomes
  ``delta + sqrt(variance_factor) * R_0`` -- ``delta`` the abnormal return (return
  units), ``variance_factor`` >= 1 an event-induced variance increase.
* A trial's statistic is each test on the spec's first window (default (0, 0)); a
  rejection is a two-sided p-value below alpha.

The result has one row per test: the rejection rate at each alpha, the number of trials
with a defined statistic, and the binomial band (0.5% and 99.5% quantiles of
Binomial(n, alpha) / n) a well-specified test's rate falls in under the null.

References
----------
Brown, S. J. and Warner, J. B. (1980). Measuring security price performance. *J. Fin.
Econ.* 8, 205-258. Brown, S. J. and Warner, J. B. (1985). Using daily stock returns.
*J. Fin. Econ.* 14, 3-31.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as _sps

from research.errors import SpecificationError
from research.eventstudy import stats as _stats
from research.eventstudy.pipeline import (
    PanelSums,
    align_matrices,
    estimate,
    market_sums,
    regressor_array,
    risk_free,
    screen,
    validate_panel,
    window_index,
)
from research.eventstudy.placebo import admissible_rows
from research.eventstudy.spec import EventStudySpec

__all__ = ["simulate", "simulate_block", "PARAMETRIC_TESTS", "BLOCK_TRIALS", "draw_pseudo_events"]

#: Trials per block (each block has its own seeded generator; the unit of Dask work).
BLOCK_TRIALS = 100

#: Tests whose null distribution is parametric (t or normal), as opposed to rank/sign tests.
PARAMETRIC_TESTS: tuple[str, ...] = (
    "cross_sectional_t", "brown_warner_1980", "brown_warner_1985", "lamb", "patell", "patell_kp",
    "bmp", "bmp_kp", "skewness_corrected",
)


def draw_pseudo_events(admissible: dict[int, np.ndarray], n: int,
                       rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``n`` pseudo-events (column, day-0 row): a column uniformly among the keys of
    ``admissible`` (columns with at least one admissible row), then a row uniformly among
    that column's admissible rows (:func:`research.eventstudy.placebo.admissible_rows`)."""
    usable = np.array(sorted(c for c, a in admissible.items() if a.size), dtype=np.int64)
    if usable.size == 0:
        raise SpecificationError("no ticker has a full estimation window and event span in the data")
    pick = usable[rng.integers(0, usable.size, size=n)]
    u = rng.random(n)
    rows = np.empty(n, dtype=np.int64)
    for c in np.unique(pick):
        m = pick == c
        a = admissible[int(c)]
        rows[m] = a[np.minimum((u[m] * a.size).astype(np.int64), a.size - 1)]
    return pick, rows


@dataclass(frozen=True)
class _Design:
    """Everything one block of trials needs (sent once to every Dask worker)."""

    y: np.ndarray
    x: np.ndarray | None
    rf: np.ndarray | None
    admissible: dict[int, np.ndarray]
    spec: EventStudySpec
    n_events: int
    delta: float
    variance_factor: float
    tests: tuple[str, ...]
    seed: int
    sums: PanelSums | None = None


def simulate_block(design: _Design, block: int, n_trials: int) -> np.ndarray:
    """(n_trials, K) two-sided p-values of the block's trials (K = ``design.tests``).

    The block's draws come from ``default_rng(SeedSequence([seed, block]))``: a block
    gives the same numbers wherever it runs (in process or on any Dask worker)."""
    spec = design.spec
    rng = np.random.default_rng(np.random.SeedSequence([int(design.seed) & 0xFFFFFFFF, int(block)]))
    col, pos0 = draw_pseudo_events(design.admissible, n_trials * design.n_events, rng)
    al = align_matrices(design.y, design.x, col, pos0, spec, design.rf, design.sums)
    d0 = -spec.event_span[0]
    if design.delta != 0.0 or design.variance_factor != 1.0:
        al.y_evt[:, d0] = design.delta + np.sqrt(design.variance_factor) * al.y_evt[:, d0]
    ok, _ = screen(al, spec)
    est = estimate(al.take(np.flatnonzero(ok)), spec)
    trial = (np.arange(col.size) // design.n_events)[ok]
    starts, ends = window_index(spec)
    window = (int(starts[0]), int(ends[0]))
    p = np.full((n_trials, len(design.tests)), np.nan)
    bounds = np.searchsorted(trial, np.arange(n_trials + 1))
    for k in range(n_trials):
        a, b = bounds[k], bounds[k + 1]
        if b - a < 2:
            continue
        res = _stats.battery(est.take(np.arange(a, b)).battery_input(spec), [window],
                             convention=spec.convention, tests=list(design.tests))
        p[k] = res.window_p_value[0]
    return p


def simulate(
    returns: pd.DataFrame,
    spec: EventStudySpec | None = None,
    *,
    n_events: int = 50,
    n_trials: int = 1000,
    delta: float = 0.0,
    variance_factor: float = 1.0,
    tickers: Sequence[str] | None = None,
    alphas: Sequence[float] = (0.01, 0.05, 0.10),
    tests: Sequence[str] | None = None,
    seed: int = 0,
    block: int = BLOCK_TRIALS,
    client: Any = None,
) -> pd.DataFrame:
    """Rejection rates of the battery on random pseudo-events (see the module docstring).

    Parameters
    ----------
    returns : pandas.DataFrame
        Daily returns (sessions x tickers, ``spec.return_type`` units) with the market proxy.
    spec : EventStudySpec, optional
        Default ``EventStudySpec(windows=((0, 0),))``; the first window is tested.
    n_events, n_trials : events per sample and number of samples (default 50 x 1000).
    delta : abnormal return added on day 0 (return units, default 0: size).
    variance_factor : day-0 variance multiplier (default 1).
    tickers : columns to draw from (default all but the market proxy).
    alphas : significance levels (default 1%, 5%, 10%).
    tests : battery tests (default all of ``stats.DAY_TESTS``).
    seed : int, the draws' seed.
    block : trials per block (default 100); each block has its own seeded generator, so
        the table depends on ``seed`` and ``block``, not on where blocks run.
    client : ``dask.distributed.Client``, optional
        Run the blocks on its cluster (the design is scattered once to every worker);
        the result is identical to the in-process run (None, the default).

    Returns
    -------
    pandas.DataFrame indexed by test: ``parametric`` (bool), ``n_trials`` (with a
    defined statistic), and per alpha ``reject_<alpha>`` (rate), ``band_lo_<alpha>``,
    ``band_hi_<alpha>`` (99% binomial band under a well-specified null).
    """
    spec = EventStudySpec(windows=((0, 0),)) if spec is None else spec
    for name, v, lo in (("n_events", n_events, 2), ("n_trials", n_trials, 1), ("block", block, 1)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < lo:
            raise SpecificationError(f"{name} must be a whole number >= {lo}, got {v!r}")
    if not np.isfinite(delta) or not (variance_factor >= 1.0):
        raise SpecificationError(f"delta must be finite and variance_factor >= 1, got {delta!r}, "
                                 f"{variance_factor!r}")
    returns = validate_panel(returns, "returns")
    x = regressor_array(returns.index, returns, spec)
    y = returns.to_numpy(dtype=float)
    names = list(returns.columns)
    pool = [t for t in (tickers if tickers is not None else names) if not (spec.uses_market and t == spec.market)]
    missing = [t for t in pool if t not in names]
    if missing or not pool:
        raise SpecificationError(f"tickers {missing or pool} are not columns of returns; choose from {names[:20]}")
    finite = np.isfinite(y) if x is None else np.isfinite(y) & np.isfinite(x).all(axis=1)[:, None]
    admissible = {names.index(t): admissible_rows(finite[:, names.index(t)], spec) for t in pool}
    names_t = tuple(_stats.DAY_TESTS if tests is None else tests)
    rf = risk_free(returns.index, spec)
    design = _Design(y, x, rf, admissible, spec, int(n_events), float(delta), float(variance_factor),
                     names_t, int(seed), market_sums(y, x, spec, rf))
    sizes = [min(block, n_trials - a) for a in range(0, n_trials, block)]
    if client is None:
        parts = [simulate_block(design, b, m) for b, m in enumerate(sizes)]
    else:
        shared = client.scatter(design, broadcast=True)
        parts = client.gather(client.map(simulate_block, [shared] * len(sizes), range(len(sizes)), sizes,
                                         pure=False))
    p = np.concatenate(parts, axis=0)
    return _table(p, names_t, alphas)


def _table(p: np.ndarray, names_t: Sequence[str], alphas: Sequence[float]) -> pd.DataFrame:
    defined = np.isfinite(p)
    n_def = defined.sum(axis=0)
    out = pd.DataFrame({"parametric": [t in PARAMETRIC_TESTS for t in names_t], "n_trials": n_def},
                       index=pd.Index(list(names_t), name="test"))
    for alpha in alphas:
        with np.errstate(invalid="ignore"):
            rate = np.where(n_def > 0, (defined & (p < alpha)).sum(axis=0) / np.maximum(n_def, 1), np.nan)
        out[f"reject_{alpha:g}"] = rate
        out[f"band_lo_{alpha:g}"] = _sps.binom.ppf(0.005, n_def, alpha) / np.maximum(n_def, 1)
        out[f"band_hi_{alpha:g}"] = _sps.binom.ppf(0.995, n_def, alpha) / np.maximum(n_def, 1)
    return out
