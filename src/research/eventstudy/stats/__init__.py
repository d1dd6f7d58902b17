"""The cross-event test battery: pure numpy over stacked (events x days) arrays.

Inputs are a :class:`BatteryInput`: event-window abnormal returns ``ar (N, T)``,
estimation-window abnormal returns ``ar_est (N, L)``, residual sigma ``sigma (N,)``,
prediction-error factors ``pe (N, T)`` (``Var(AR_it) = sigma_i^2 pe_it``, see
:func:`research.eventstudy.models.prediction_factor`), the usable estimation rows
``n_est (N,)`` and the number of model parameters. Rows of ``ar_est`` / columns of ``ar``
are trading days relative to each event; events that share a calendar date share
positions, which is what the Brown-Warner 1985, Lamb, rank and Kolari-Pynnönen
statistics pool over. ``NaN`` = missing; an event whose ``sigma`` is not finite and
positive (a failed fit) is left out of every statistic.

Every test is available per event day (``window=None``: arrays of length T) and for the
cumulative abnormal return over an inclusive window of day indices
(``window=(start_idx, end_idx)``: scalars). All p-values are two-sided; the reference
distribution of each test is given in its docstring (N = standard normal, t(df) =
Student t). :func:`day_tests` and :func:`window_tests` run the whole battery and return
long data frames; :func:`battery` runs it on every day and a list of windows at once
(arrays; what the engine uses). Derived arrays (ranks, sorted rows, standardized CARs,
the generalized rank test's setup and results) are memoised on the frozen input, so
days and windows share them.

Conventions
-----------
``convention="textbook"`` (default) follows the cited papers. ``convention="estudy2"``
reproduces the R package estudy2 (0.10) where it departs from them (used by the
reference-value tests; the corresponding Patell/BMP/BW1980 inputs come from
``models.fit(..., convention="estudy2")``):

* Lamb: the portfolio prediction error uses ``1/mean(n_est)`` instead of the mean of
  ``1/n_est`` (exact only with one common market regressor, as in estudy2);
* Corrado rank / modified rank / Corrado sign: day sums over the available events are
  rescaled by ``N / n_t`` on days where events are missing (estudy2 computes them as
  ``rowMeans(..., na.rm=TRUE) * ncol``) and the variance is averaged over
  ``mean(M_i)`` (mean count of usable days per event) instead of the number of days;
* Cowan (1992) CAR rank test: ranks centred by the common mean expected rank;
* generalized sign: ``p_hat`` pooled over all estimation observations instead of the
  mean over events of each event's fraction of positive abnormal returns.

Units: abnormal returns in the units of the input returns (simple or log, per trading
day); the statistics are unit-free.
"""

from __future__ import annotations

from research.eventstudy.stats.inputs import (  # noqa: F401
    BatteryInput,
    cached,
    check_convention,
    CONVENTIONS,
    count_finite,
    nanmean,
    nanstd,
    p_norm,
    test_stat,
    TestStat,
    valid_ar,
    valid_ar_est,
    Window,
    window_bounds,
)
from research.eventstudy.stats.parallel import (  # noqa: F401
    argsort_rows,
    avg_ranks_sorted,
    flat_index,
    over_blocks,
    PARALLEL_MIN,
    PARALLEL_MIN_SPECIAL,
    rank_rows,
    scatter_rows,
    sort_rows,
    two_sided_t_p,
    usable_cores,
)
from research.eventstudy.stats.car import (  # noqa: F401
    aar_est_parts,
    aar_est_sd,
    bhar,
    bhar_windows,
    car,
    car_moments,
    car_variance_factor,
    moments,
    standardized_ar,
    standardized_car,
    window_matrix,
)
from research.eventstudy.stats.rank import (  # noqa: F401
    corrado_rank,
    corrado_sign,
    full_sorted,
    generalized_rank,
    generalized_sign,
    grank_scale,
    grank_sums,
    grank_windows,
    modified_rank,
    p_hat_parts,
    rank_parts,
    RANK_SCORES,
    set_grank,
    sign,
    wilcoxon,
    window_from_days,
)
from research.eventstudy.stats.parametric import (  # noqa: F401
    bmp,
    bmp_kp,
    brown_warner_1980,
    brown_warner_1985,
    cross_sectional_t,
    lamb,
    mean_cross_correlation,
    patell,
    patell_kp,
    RBAR_EXACT_MAX,
    rbar_of,
    RbarParts,
    skewness_adjusted_t,
    skewness_corrected,
)
from research.eventstudy.stats.battery import (  # noqa: F401
    add_grank_sums,
    battery,
    battery_part,
    BatteryPart,
    BatteryResult,
    combine_parts,
    DAY_TESTS,
    day_tests,
    single_event_tests,
    WINDOW_TESTS,
    window_tests,
)

__all__ = [
    "BatteryInput",
    "BatteryPart",
    "RBAR_EXACT_MAX",
    "add_grank_sums",
    "battery_part",
    "combine_parts",
    "grank_scale",
    "grank_sums",
    "set_grank",
    "argsort_rows",
    "car_moments",
    "window_matrix",
    "two_sided_t_p",
    "BatteryResult",
    "battery",
    "DAY_TESTS",
    "TestStat",
    "WINDOW_TESTS",
    "bhar",
    "bhar_windows",
    "bmp",
    "bmp_kp",
    "brown_warner_1980",
    "brown_warner_1985",
    "car",
    "car_variance_factor",
    "corrado_rank",
    "corrado_sign",
    "cross_sectional_t",
    "day_tests",
    "generalized_rank",
    "generalized_sign",
    "lamb",
    "mean_cross_correlation",
    "modified_rank",
    "patell",
    "patell_kp",
    "rank_rows",
    "sign",
    "single_event_tests",
    "skewness_adjusted_t",
    "skewness_corrected",
    "wilcoxon",
    "window_tests",
]
