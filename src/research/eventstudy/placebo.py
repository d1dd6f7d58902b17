"""Empirical (placebo) p-values from seeded pseudo-event dates.

For every estimated event we draw ``n_draws`` pseudo day-0 sessions from the same
ticker's own history and recompute exactly the same statistic as for the real event:
the single-event CAR t-statistic of each window, each pseudo-event with its **own**
estimation window (relative days ``[start, end]`` of the spec, its own alpha, beta and
sigma). All pseudo-events of all events go through :func:`models.fit` as one stacked
batch (in chunks to bound memory). A pseudo-event is fully determined by its ticker and
day-0 row, so each distinct (ticker, row) pair is estimated once and shared by every
draw that hits it (draws repeat: they are with replacement, and a ticker's events share
its candidate dates); the numbers are identical to estimating every draw separately.

Candidate pseudo dates for ticker ``k`` are rows ``p`` of the returns panel with

* a full estimation window inside the ticker's data: ``p + est.start`` on or after the
  ticker's first finite return, and the event span ``[p + tmin, p + tmax]`` on or before
  its last finite return (``tmin, tmax`` = union of the event windows);
* no overlap with any actual event of that ticker in the events table:
  ``|p - q| > buffer`` for each actual day-0 row ``q`` (default ``buffer = tmax - tmin``,
  so the pseudo and actual event spans are disjoint).

Draws are uniform **with replacement** among the candidates. Pseudo-events that cannot
be estimated (fewer than ``min_obs`` valid returns) or whose window has a missing
return are discarded; ``n_valid`` counts the rest.

p-value (two-sided, Davison-Hinkley / North et al. 2002 "+1" estimator, never 0)::

    p_placebo = (1 + #{ |t_pseudo| >= |t_actual| }) / (1 + n_valid)

so ``p_placebo`` lies in ``(0, 1]``; with 1000 draws the smallest attainable value is
about 0.001. The candidates come from the rows of the returns panel given to the
engine: pass the ticker's full history (not just a window around the event), otherwise
few candidate dates remain; the engine adds a note when an event has fewer than
:data:`MIN_CANDIDATES` distinct candidate dates.

Determinism: the draws of an event come from
``numpy.random.default_rng(SeedSequence([seed, crc32("TICKER|day0")]))``; the same seed,
ticker and day 0 give identical draws whatever the other events or their order (and two
article events on the same stock and day get the same p-value).

References
----------
North, B. V., Curtis, D. and Sham, P. C. (2002). A note on the calculation of empirical
P values from Monte Carlo procedures. *Am. J. Human Genetics* 71, 439-441.
Brown, S. J. and Warner, J. B. (1980, 1985): simulation with pseudo-event dates.
"""

from __future__ import annotations

import zlib

import numpy as np
import pandas as pd

from research.errors import SpecificationError
from research.eventstudy.spec import EventStudySpec

__all__ = ["placebo_pvalues", "event_rng", "draw_key", "candidate_positions", "DEFAULT_DRAWS"]

DEFAULT_DRAWS = 1000
MIN_CANDIDATES = 100
_CHUNK = 20_000


def draw_key(ticker: str, day0: object) -> str:
    """Identity of an event for its draws: ``"TICKER|YYYY-MM-DD"`` (ticker and day 0)."""
    return f"{ticker}|{pd.Timestamp(day0):%Y-%m-%d}"


def event_rng(seed: int, key: str) -> np.random.Generator:
    """The seeded generator of one event's draws (independent of other events).

    ``key`` is :func:`draw_key` of the event, so two events with the same ticker and
    day 0 (same t-statistic) get the same draws and the same ``p_placebo``.
    """
    key = zlib.crc32(str(key).encode("utf-8"))
    return np.random.default_rng(np.random.SeedSequence([int(seed) & 0xFFFFFFFF, key]))


def candidate_positions(finite: np.ndarray, actual_pos: np.ndarray, spec: EventStudySpec,
                        buffer: int | None = None) -> np.ndarray:
    """Admissible pseudo day-0 rows for one ticker (see the module docstring).

    Parameters
    ----------
    finite : (D,) bool, the ticker's finite returns by panel row.
    actual_pos : day-0 rows of the ticker's actual events (>= 0).
    """
    tmin, tmax = spec.event_span
    buf = (tmax - tmin) if buffer is None else int(buffer)
    rows = np.flatnonzero(finite)
    if rows.size == 0:
        return rows
    first, last = rows[0], rows[-1]
    d = finite.shape[0]
    p = np.arange(d)
    ok = (p + spec.estimation.start >= first) & (p + tmax <= last) & (p + tmin >= 0)
    if actual_pos.size:
        dist = np.abs(p[:, None] - actual_pos[None, :]).min(axis=1)
        ok &= dist > buf
    return p[ok]


def placebo_pvalues(
    events: pd.DataFrame,
    pos0: np.ndarray,
    col: np.ndarray,
    ok: np.ndarray,
    t_actual: np.ndarray,
    y_panel: np.ndarray,
    x_panel: np.ndarray | None,
    spec: EventStudySpec,
    *,
    n_draws: int = DEFAULT_DRAWS,
    seed: int = 0,
    rf: np.ndarray | None = None,
    buffer: int | None = None,
) -> tuple[pd.DataFrame, np.ndarray]:
    """Placebo p-values of the CAR t-statistic for every event x window.

    Parameters
    ----------
    events : prepared events (``event_id``, ``ticker``), N rows.
    pos0, col : (N,) day-0 row and ticker column of each event in ``y_panel``.
    ok : (N,) events that were estimated (others get NaN).
    t_actual : (N, W) actual CAR t-statistics.
    y_panel : (D, M) returns; x_panel : (D, K) regressors or None; rf : (D,) or None.
    spec : the study's spec (same model, windows and estimation window).
    n_draws : pseudo-events per event (default 1000). seed : int.
    buffer : minimum distance in sessions from any actual event of the ticker
        (default: the event span's length minus one).

    Returns
    -------
    (detail frame, p (N, W))
        The frame has ``event_id, window_start, window_end, t_actual, n_draws,
        n_candidates`` (distinct admissible pseudo dates), ``n_valid, n_exceed,
        p_placebo`` (one row per event x window).
    """
    from research.eventstudy.engine import _estimate, align_matrices, car_tests, screen

    if isinstance(n_draws, bool) or not isinstance(n_draws, (int, np.integer)) or n_draws < 1:
        raise SpecificationError(
            f"placebo draws must be a positive whole number (default 1000), got {n_draws!r}"
        )
    n, w = t_actual.shape
    finite_cols = np.isfinite(y_panel)
    if x_panel is not None:
        finite_cols &= np.isfinite(x_panel).all(axis=1)[:, None]
    tickers = events["ticker"].astype(str).to_numpy()
    ids = events["event_id"].astype(str).to_numpy()
    has_pos = pos0 >= 0
    todo = np.flatnonzero(ok)
    cand_cache: dict[int, np.ndarray] = {}
    draws = np.full((todo.size, n_draws), -1, dtype=np.int64)
    n_cand = np.zeros(n, dtype=np.int64)
    for j, i in enumerate(todo):  # one rng per event (cheap); statistics are batched below
        c = int(col[i])
        if c not in cand_cache:
            same = has_pos & (tickers == tickers[i])
            cand_cache[c] = candidate_positions(finite_cols[:, c], pos0[same], spec, buffer)
        cands = cand_cache[c]
        n_cand[i] = cands.size
        if cands.size:
            rng = event_rng(seed, draw_key(tickers[i], events["day0"].iat[i]))
            draws[j] = rng.choice(cands, size=n_draws, replace=True)
    # A pseudo event is fully determined by (ticker column, day-0 row): compute each
    # distinct pair once (draws repeat: with replacement, and across a ticker's events).
    d_rows = y_panel.shape[0]
    key = (np.repeat(col[todo], n_draws).astype(np.int64) * (d_rows + 1) + draws.ravel())
    live = draws.ravel() >= 0
    uniq, inverse = np.unique(np.where(live, key, -1), return_inverse=True)
    u_col = uniq // (d_rows + 1)
    u_pos = uniq % (d_rows + 1)
    u_pos = np.where(uniq < 0, -1, u_pos)
    u_col = np.where(uniq < 0, 0, u_col)
    t_u = np.full((uniq.size, w), np.nan)
    for a in range(0, uniq.size, _CHUNK):
        b = min(a + _CHUNK, uniq.size)
        al = align_matrices(y_panel, x_panel, u_col[a:b], u_pos[a:b], spec, rf)
        good, _ = screen(al, spec)
        gi = np.flatnonzero(good)
        if gi.size == 0:
            continue
        sub = (lambda arr: None if arr is None else arr[gi])  # noqa: E731
        core = _estimate(al.y_est[gi], sub(al.x_est), al.y_evt[gi], sub(al.x_evt), spec)
        ct = car_tests(core, al.y_evt[gi], sub(al.x_evt), spec)
        t_u[a + gi] = ct["t_stat"]
    t_pseudo = t_u[inverse.ravel()].reshape(todo.size, n_draws, w)
    valid = np.isfinite(t_pseudo)
    n_valid = valid.sum(axis=1)  # (n_ok, W)
    ta = t_actual[todo]  # (n_ok, W)
    exceed = (valid & (np.abs(t_pseudo) >= np.abs(ta)[:, None, :])).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        p_ok = (1.0 + exceed) / (1.0 + n_valid)
    p_ok = np.where(np.isfinite(ta) & (n_valid > 0), p_ok, np.nan)
    p = np.full((n, w), np.nan)
    p[todo] = p_ok
    nv = np.zeros((n, w), dtype=np.int64)
    nv[todo] = n_valid
    ne = np.zeros((n, w), dtype=np.int64)
    ne[todo] = exceed
    frame = pd.DataFrame({
        "event_id": pd.array(np.repeat(ids, w), dtype="str"),
        "window_start": np.tile([s for s, _ in spec.windows], n),
        "window_end": np.tile([e for _, e in spec.windows], n),
        "t_actual": t_actual.ravel(),
        "n_draws": np.where(np.repeat(ok, w), n_draws, 0),
        "n_candidates": np.repeat(n_cand, w),
        "n_valid": nv.ravel(),
        "n_exceed": ne.ravel(),
        "p_placebo": p.ravel(),
    })
    return frame, p
