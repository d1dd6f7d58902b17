"""Batch execution of the research notebooks and the HTML report site.

Public API
----------
publish(verdicts, path)
    Called by each notebook's last cell: write the verdict sidecar the runner collects.
build_reports(portfolio=None, *, parameters=None, notebooks=None, output_dir=None,
              show_input=False, jobs=None, progress=None) -> BuildResult
    Run a portfolio's notebooks (default: the shipped article's pages) with papermill (in parallel) and write
    ``reports/``: executed notebooks, HTML pages, ``index.html`` and ``claims.json``.
load_portfolio(path=None) -> Portfolio
    The declarative list of notebooks, titles, owned claims and parameter overrides.
plan_runs(portfolio, ...) -> (plans, missing)
    Validate all parameters without running anything (raises ParameterError).
inspect_parameters(notebook) -> dict[str, NotebookParameter]
build_site(portfolio, output_dir) -> (index.html, claims.json)

``publish`` is imported eagerly (notebooks need only it); the rest loads papermill and
nbconvert lazily on first use.
"""

from __future__ import annotations

from typing import Any

from research.report.publish import publish

__all__ = [
    "BuildResult",
    "NotebookResult",
    "Portfolio",
    "NotebookSpec",
    "build_reports",
    "build_site",
    "inspect_parameters",
    "load_portfolio",
    "plan_runs",
    "publish",
]

_LAZY = {
    "BuildResult": "research.report.runner",
    "NotebookResult": "research.report.runner",
    "build_reports": "research.report.runner",
    "plan_runs": "research.report.runner",
    "Portfolio": "research.report.portfolio",
    "NotebookSpec": "research.report.portfolio",
    "load_portfolio": "research.report.portfolio",
    "inspect_parameters": "research.report.parameters",
    "build_site": "research.report.site",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'research.report' has no attribute {name!r}")
