"""One primary test per price claim, and multiple-testing control across the article.

An article makes many claims and the reports show hundreds of p-values; a claim is only
"supported" when its **primary test** -- one test, fixed by its rule before looking at the
numbers -- stays significant after adjusting for the number of claims tested. The primary
test of each price rule (each rule class names its own: ``Rule.primary_test`` in
:mod:`research.claims.rules`):

=====================  ====================================================================
rule                   primary test (p-value)
=====================  ====================================================================
basket_car             exact placebo p of the basket CAR over the rule window; with several
                       primary events, the largest (every event must pass:
                       intersection-union test)
pairs_car, each        exact placebo p of each pair's CAR; the largest (every pair must pass)
pairs_car, all         the joint placebo test of the pairs (Stouffer combination of the
                       pairs' placebo p-values, in the claimed direction)
=====================  ====================================================================

The exact placebo compares the event with every admissible non-event date of the same
stock, so it is valid under the stock's fat tails and event-induced variance where the
plain t-test is not (its real size on these stocks is shown with the evidence). Where the
placebo is unavailable (too little history) the pair's parametric p stands in, and the
verdict says so. Rules without a p-value (rolling returns, revenue growth, fact checks) are
not in the family.

Adjusted p-values across the article's primary tests: Holm (1979), which controls the
family-wise error rate and decides the verdict ("supported" needs ``p_holm < alpha``; a
claim that passes only unadjusted is capped at "partly supported"), and Benjamini-Hochberg
(1995) false discovery rate, shown beside it. Both are computed here in a few vectorised
lines (the specification grid adjusts hundreds of families, and statsmodels' Holm runs a
full garbage collection per call); the tests pin them equal to
``statsmodels.stats.multitest.multipletests`` (``method="holm"`` / ``"fdr_bh"``).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from research.vocab import finite as _finite

__all__ = ["adjust_pvalues", "holm", "benjamini_hochberg"]



def adjust_pvalues(pvalues: Mapping[str, float]) -> dict[str, dict[str, float]]:
    """Holm and Benjamini-Hochberg adjusted p-values of a family of primary tests.

    Parameters
    ----------
    pvalues : claim id -> raw p-value; NaN (untestable) entries are left out of the family.

    Returns
    -------
    dict claim id -> ``{"p_holm", "p_bh", "family_size"}`` (NaN for left-out entries).
    """
    ids = [k for k, p in pvalues.items() if _finite(p)]
    out = {k: {"p_holm": float("nan"), "p_bh": float("nan"), "family_size": len(ids)} for k in pvalues}
    if not ids:
        return out
    raw = np.array([float(pvalues[k]) for k in ids])
    for k, h, b in zip(ids, holm(raw), benjamini_hochberg(raw), strict=True):
        out[k] = {"p_holm": float(h), "p_bh": float(b), "family_size": len(ids)}
    return out


def holm(p: np.ndarray) -> np.ndarray:
    """Holm (1979) step-down adjusted p-values: sorted ascending, ``p_(k) * (m - k + 1)``
    (k = 1..m), made non-decreasing by a running maximum, capped at 1; input order."""
    p = np.asarray(p, dtype=float)
    m = p.size
    order = np.argsort(p, kind="stable")
    adj = np.minimum(np.maximum.accumulate(p[order] * np.arange(m, 0, -1)), 1.0)
    out = np.empty(m)
    out[order] = adj
    return out


def benjamini_hochberg(p: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg (1995) step-up adjusted p-values: sorted ascending,
    ``p_(k) * m / k``, made non-decreasing from the top by a running minimum, capped at 1;
    input order."""
    p = np.asarray(p, dtype=float)
    m = p.size
    order = np.argsort(p, kind="stable")
    scaled = p[order] * m / np.arange(1, m + 1)
    adj = np.minimum(np.minimum.accumulate(scaled[::-1])[::-1], 1.0)
    out = np.empty(m)
    out[order] = adj
    return out
