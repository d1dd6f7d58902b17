"""Event studies: expected-return models, abnormal returns, the test battery.

Three lines from a notebook::

    from research.eventstudy import EventStudySpec, run_event_study
    res = run_event_study(events_df, EventStudySpec(market="SPY"))
    res.summary()

Public API
----------
EstimationWindow, EventStudySpec     frozen specifications (``spec``)
run_event_study                      the engine (``engine``): a composition of the pipeline;
                                     ``chunk_size=`` / ``client=`` run it in chunks, in process
                                     or on dask.distributed (``chunks``), battery combined exactly
pipeline                             align -> screen -> estimate -> AR -> window statistics
expand_tickers, combined_id          article events -> one row per ticker; the one id format (``events``)
EventStudyResult, Summary            the result object (``result``)
portfolio_event_study                equal-weighted basket as one event (``portfolio``)
exact_placebo, placebo_pvalues       placebo p-values: every admissible date / seeded draws (``placebo``)
abnormal_volume_panel, aggregate_volume   abnormal log volume (``volume``)
simulate                             Brown-Warner size/power of the battery (``simulate``)
"""

from research.eventstudy import pipeline
from research.eventstudy.engine import run_event_study
from research.eventstudy.events import combined_id, expand_tickers
from research.eventstudy.placebo import exact_placebo, placebo_pvalues
from research.eventstudy.portfolio import basket_returns, portfolio_event_study
from research.eventstudy.result import EventStudyResult, Summary
from research.eventstudy.simulate import simulate
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
    "combined_id",
    "exact_placebo",
    "expand_tickers",
    "pipeline",
    "placebo_pvalues",
    "portfolio_event_study",
    "run_event_study",
    "simulate",
]
