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
expand_tickers, combined_id          article events -> one row per ticker; the engine's event:ticker ids (``events``)
EventStudyResult, Summary            the result object (``result``)
portfolio_event_study                equal-weighted basket as one event (``portfolio``)
exact_placebo, placebo_pvalues       placebo p-values: every admissible date / seeded draws (``placebo``)
abnormal_volume_panel, aggregate_volume   abnormal log volume (``volume``)
simulate                             Brown-Warner size/power of the battery (``simulate``)
"""

from __future__ import annotations

from typing import Any

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

# the names above load their module on first use (PEP 562), so a light module of this
# package (``models`` for a parameter check, say) can be imported without the engine,
# the test battery and scipy
_LAZY = {
    "EstimationWindow": "research.eventstudy.spec",
    "EventStudySpec": "research.eventstudy.spec",
    "EventStudyResult": "research.eventstudy.result",
    "Summary": "research.eventstudy.result",
    "abnormal_volume_panel": "research.eventstudy.volume",
    "aggregate_volume": "research.eventstudy.volume",
    "basket_returns": "research.eventstudy.portfolio",
    "portfolio_event_study": "research.eventstudy.portfolio",
    "combined_id": "research.eventstudy.events",
    "expand_tickers": "research.eventstudy.events",
    "exact_placebo": "research.eventstudy.placebo",
    "placebo_pvalues": "research.eventstudy.placebo",
    "run_event_study": "research.eventstudy.engine",
    "simulate": "research.eventstudy.simulate",
}


def __getattr__(name: str) -> Any:
    import importlib

    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
    elif name == "pipeline":
        value = importlib.import_module("research.eventstudy.pipeline")
    else:
        raise AttributeError(f"module 'research.eventstudy' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
