"""Abnormal trading volume (interest), Campbell-Wasley (1996) style.

Measure
-------
Daily log volume ``v_t = ln(1 + V_t)`` with ``V_t`` in shares. The ``+1`` keeps days
with zero volume finite (Campbell and Wasley add a small constant to turnover for the
same reason); for the snapshot's tickers (millions of shares a day) it is immaterial.
Over the event's own estimation window (the spec's ``EstimationWindow``, relative
trading days, e.g. [-260, -11]) we take the mean ``m`` and sample standard deviation
``s`` (ddof=1) of ``v_t``; the **abnormal log volume** is ``alv_t = v_t - m`` (roughly the
log ratio of volume to its normal level: 0.69 = twice normal volume) and the
**standardised abnormal volume** ``sav_t = alv_t / s``. Under the null of no abnormal
interest ``sav_t`` is approximately N(0, 1) for a single day; across events the engine
reports the mean SAV and a cross-sectional t per day (:func:`aggregate_volume`).

Tickers without volume (close-only series in the snapshot) are reported with
``status="skipped"`` and ``reason="no volume"``; never silently dropped.

Reference
---------
Campbell, C. J. and Wasley, C. E. (1996). Measuring abnormal daily trading volume for
samples of NYSE/ASE and NASDAQ securities using parametric and nonparametric test
statistics. *Review of Quantitative Finance and Accounting* 6, 309-326.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from research.eventstudy.chunks import chunk_bounds, run_chunks, share
from research.eventstudy.spec import EventStudySpec

__all__ = ["abnormal_volume_panel", "aggregate_volume", "VOLUME_COLUMNS", "EVENT_CHUNK",
           "window_values", "estimation_moments"]

VOLUME_COLUMNS = ("event_id", "ticker", "day", "volume", "log_volume", "abnormal_log_volume",
                  "sav", "status", "reason")


#: events whose estimation-window volumes are read at once (:func:`abnormal_volume_panel`)
EVENT_CHUNK = 20_000


def window_values(v: np.ndarray, pos0: np.ndarray, col: np.ndarray, rel: np.ndarray) -> np.ndarray:
    """(N, R) values of the panel ``v`` (sessions x tickers) at rows ``pos0 + rel`` in
    columns ``col``; NaN outside the panel, for ``pos0 < 0`` and for ``col < 0``."""
    d = v.shape[0]
    rows = pos0[:, None] + rel[None, :]
    inside = (rows >= 0) & (rows < d) & (pos0[:, None] >= 0) & (col[:, None] >= 0)
    out = v[np.clip(rows, 0, d - 1), np.clip(col, 0, None)[:, None]]
    return np.where(inside, out, np.nan)


def estimation_moments(v: np.ndarray, pos0: np.ndarray, col: np.ndarray,
                       rel_est: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each event's estimation-window log volumes (relative days ``rel_est``): the count
    of finite values, their mean and sample standard deviation (ddof=1; NaN below 2)."""
    v_est = window_values(v, pos0, col, rel_est)
    n_valid = np.isfinite(v_est).sum(axis=1)
    with np.errstate(all="ignore"):
        m = np.where(n_valid > 0, np.nansum(v_est, axis=1) / np.maximum(n_valid, 1), np.nan)
        s = np.sqrt(np.nansum((v_est - m[:, None]) ** 2, axis=1) / (n_valid - 1))
    return n_valid, m, s


def abnormal_volume_panel(events: pd.DataFrame, volume: pd.DataFrame,
                          spec: EventStudySpec, *, chunk: int | None = None,
                          client: Any = None) -> pd.DataFrame:
    """Abnormal log volume for each event and relative day of the event span.

    Parameters
    ----------
    events : pandas.DataFrame
        Prepared events (``event_id, ticker, day0``; see ``engine.prepare_events``).
    volume : pandas.DataFrame
        Share volume, DatetimeIndex of sessions x tickers (NaN = not traded / unknown).
    spec : EventStudySpec
        Its estimation window (and ``min_obs``) and event span are used.
    chunk : int, optional
        Events whose estimation windows (``chunk x L`` volumes) are read at once
        (default :data:`EVENT_CHUNK`); the result does not depend on it.
    client : dask.distributed.Client, optional
        Read the estimation windows as Dask tasks (:func:`estimation_moments` on each
        chunk; the log-volume panel is scattered once); the result is the in-process one.

    Returns
    -------
    pandas.DataFrame
        Long table, one row per event x relative day (``VOLUME_COLUMNS``). Skipped events
        carry NaNs, ``status="skipped"`` and a reason.
    """
    volume = volume.sort_index()
    est = spec.estimation
    tmin, tmax = spec.event_span
    rel_evt = np.arange(tmin, tmax + 1)
    rel_est = np.arange(est.start, est.end + 1)
    n, t_len = len(events), len(rel_evt)
    cols = pd.Index([str(c) for c in volume.columns])
    col = cols.get_indexer(events["ticker"].astype(str))
    pos0 = volume.index.get_indexer(pd.DatetimeIndex(events["day0"]))
    with np.errstate(all="ignore"):
        v = np.log1p(volume.to_numpy(dtype=float))
    v = np.where(np.isfinite(v), v, np.nan)
    has_vol = np.zeros(len(cols) + 1, bool)
    has_vol[:-1] = np.isfinite(v).any(axis=0)
    v_evt = window_values(v, pos0, col, rel_evt)
    bounds = chunk_bounds(n, chunk or EVENT_CHUNK)  # the estimation windows, a chunk of events at a time
    parts = list(run_chunks(estimation_moments, bounds, share(v, client),
                            lambda a, b: (pos0[a:b], col[a:b], rel_est), client))
    n_valid, m, s = (np.concatenate([p[k] for p in parts]) for k in range(3))
    reason = np.full(n, "", dtype=object)
    no_vol = (col < 0) | ~has_vol[np.where(col < 0, -1, col)]
    reason[(n_valid < est.min_obs)] = (
        f"fewer than min_obs={est.min_obs} valid estimation-window volumes")
    reason[~(s > 0) & (n_valid >= est.min_obs)] = "constant volume in the estimation window"
    reason[pos0 < 0] = "day 0 not in the volume data"
    reason[no_vol] = "no volume"
    ok = reason == ""
    alv = np.where(ok[:, None], v_evt - m[:, None], np.nan)
    sav = alv / np.where(ok, s, np.nan)[:, None]
    vol_raw = np.where(ok[:, None], np.expm1(v_evt), np.nan)
    out = pd.DataFrame({
        "event_id": np.repeat(events["event_id"].astype(str).to_numpy(), t_len),
        "ticker": np.repeat(events["ticker"].astype(str).to_numpy(), t_len),
        "day": np.tile(rel_evt, n),
        "volume": vol_raw.ravel(),
        "log_volume": np.where(ok[:, None], v_evt, np.nan).ravel(),
        "abnormal_log_volume": alv.ravel(),
        "sav": sav.ravel(),
        "status": np.repeat(np.where(ok, "ok", "skipped").astype(str), t_len),
        "reason": np.repeat(reason.astype(str), t_len),
    })
    for c in ("event_id", "ticker", "status", "reason"):
        out[c] = out[c].astype("str")
    return out


def aggregate_volume(volume_table: pd.DataFrame) -> pd.DataFrame:
    """Cross-event mean standardised abnormal volume per relative day.

    ``t = mean(sav) / (sd(sav) / sqrt(n))`` over events with status "ok" (cross-sectional
    t, two-sided p from Student t with n-1 df).

    Returns
    -------
    pandas.DataFrame indexed by ``day`` with ``mean_alv, mean_sav, n, t_stat, p_value``.
    """
    from scipy import stats as sps

    ok = volume_table[volume_table["status"] == "ok"]
    g = ok.groupby("day", sort=True)
    out = pd.DataFrame({
        "mean_alv": g["abnormal_log_volume"].mean(),
        "mean_sav": g["sav"].mean(),
        "n": g["sav"].count(),
        "sd_sav": g["sav"].std(ddof=1),
    })
    with np.errstate(all="ignore"):
        out["t_stat"] = out["mean_sav"] / (out["sd_sav"] / np.sqrt(out["n"]))
        out["p_value"] = 2.0 * sps.t.sf(np.abs(out["t_stat"]), out["n"] - 1)
    return out.drop(columns="sd_sav")
