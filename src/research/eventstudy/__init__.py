"""Event studies: expected-return models, abnormal returns, the test battery.

Three lines from a notebook::

    from research.eventstudy import EventStudySpec, run_event_study
    res = run_event_study(events_df, EventStudySpec(market="SPY"))
    res.summary()

Public API
----------
EstimationWindow, EventStudySpec     frozen specifications (``spec``)
run_event_study                      the engine (``engine``)
expand_tickers                       article events (space-separated tickers) -> one row per ticker
EventStudyResult, Summary            the result object (``result``)
portfolio_event_study                equal-weighted basket as one event (``portfolio``)
placebo_pvalues                      empirical p-values from pseudo-event dates (``placebo``)
abnormal_volume_panel, aggregate_volume   abnormal log volume (``volume``)
"""

from research.eventstudy.engine import expand_tickers, run_event_study
from research.eventstudy.placebo import placebo_pvalues
from research.eventstudy.portfolio import basket_returns, portfolio_event_study
from research.eventstudy.result import EventStudyResult, Summary
from research.eventstudy.spec import EstimationWindow, EventStudySpec
from research.eventstudy.volume import abnormal_volume_panel, aggregate_volume

__all__ = [
    "EstimationWindow",
    "EventStudyResult",
    "EventStudySpec",
    "Summary",
    "abnormal_volume_panel",
    "aggregate_volume",
    "basket_returns",
    "expand_tickers",
    "placebo_pvalues",
    "portfolio_event_study",
    "run_event_study",
]
