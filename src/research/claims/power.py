"""Power: the smallest abnormal return a single event could have shown as significant.

A single stock on a single day is a noisy witness: a real but modest move can fail a
test because the stock's own day-to-day noise is as large. Beside every result that is
not significant, the verdict says how large a move would have had to be to count:

* parametric: ``mde = t_{1 - alpha/2, dof} * se(CAR)`` -- the critical value of the
  prediction-error-corrected t-test times the CAR's standard error (from the estimation
  window's residual sigma);
* placebo: the placebo's critical |t| (the smallest |t| whose exact placebo p-value is at
  most alpha, :func:`research.eventstudy.placebo.placebo_critical_values`) times the same
  standard error: the move that would have beaten the stock's own non-event days.

Both are magnitudes of a CAR (simple-return units, 0.03 = 3%), for the claim's window.
"""

from __future__ import annotations


import numpy as np
from scipy import stats

from research.vocab import finite as _finite

__all__ = ["minimum_detectable", "power_note"]


def minimum_detectable(car_se: np.ndarray | float, dof: np.ndarray | float, alpha: float) -> np.ndarray:
    """Minimum detectable |CAR| of the two-sided t-test at ``alpha``.

    Parameters
    ----------
    car_se : standard error of the CAR (simple-return units).
    dof : degrees of freedom of the t-test (estimation observations minus parameters).
    alpha : two-sided significance level, e.g. 0.05.

    Returns
    -------
    numpy.ndarray : ``t.ppf(1 - alpha/2, dof) * car_se`` (NaN where either is missing).
    """
    se = np.asarray(car_se, dtype=float)
    df = np.asarray(dof, dtype=float)
    with np.errstate(invalid="ignore"):
        crit = np.where(df > 0, stats.t.ppf(1.0 - alpha / 2.0, np.where(df > 0, df, 1.0)), np.nan)
    return crit * se



def power_note(row: dict, alpha: float) -> str:
    """One sentence for an evidence row that is not significant: its CAR and t, and the
    size of move the stock's noise hides ("" when the row has no minimum detectable CAR).

    ``row`` needs ``ticker, window_start, window_end, car, t_stat, mde`` and optionally
    ``mde_placebo``.
    """
    if not _finite(row.get("mde")) or not _finite(row.get("car")):
        return ""
    a, b = int(row["window_start"]), int(row["window_end"])
    span = "on one day" if a == b else f"over CAR({a:+d},{b:+d})"
    mp = row.get("mde_placebo")
    placebo = (f" (against its own non-event days: ±{float(mp):.1%})"
               if _finite(mp) else "")
    t = f", t {float(row['t_stat']):.2f}" if _finite(row.get("t_stat")) else ""
    return (f"power: {row['ticker']} {float(row['car']):+.1%}{t}; moves smaller than ±{float(row['mde']):.1%} "
            f"{span} can't be told from this stock's noise at alpha {alpha:g}{placebo}.")
