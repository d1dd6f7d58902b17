"""A report run evaluates the article once, in its own process, before any page; page
kernels only load that evaluation (issue 20).

Every :func:`research.claims.evaluation.evaluate_article` call appends ``pid key
computed|loaded|memory`` to the file named by ``RESEARCH_EVALUATION_LOG``; the report runs
here as a real process (``python -m research.cli report``) with real kernels, and the log
is read back.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from research.cache import EVALUATION_FORBIDDEN_ENV, EVALUATION_LOG_ENV

ROOT = Path(__file__).resolve().parents[1]
PAGES = ["00_overview", "03_security_resilience", "01_quantum_rally"]


def _report(out: Path, log: Path, *extra: str) -> subprocess.CompletedProcess:
    env = {**os.environ, EVALUATION_LOG_ENV: str(log), "PYTHONPATH": str(ROOT / "src")}
    env.pop(EVALUATION_FORBIDDEN_ENV, None)
    argv = [sys.executable, "-m", "research.cli", "report", "--output", str(out), "--no-progress", "--jobs", "2"]
    for p in PAGES:
        argv += ["--notebook", p]
    return subprocess.run(argv + list(extra), env=env, capture_output=True, text=True, timeout=1500, cwd=ROOT)


def _lines(log: Path) -> list[tuple[int, str, str]]:
    return [(int(p), k, w) for p, k, w in (ln.split() for ln in log.read_text().splitlines())]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    base = tmp_path_factory.mktemp("one_evaluation")
    log = base / "evaluations.log"
    done = _report(base / "site", log)
    return base, log, done


def test_one_evaluation_per_report_run_and_none_in_the_pages(run):
    base, log, done = run
    assert done.returncode == 0, done.stderr[-2000:]
    lines = _lines(log)
    parent = {pid for pid, _, what in lines if what == "computed"} | {lines[0][0]}
    assert len(parent) == 1, lines  # computed (or loaded from the cache) in one process only
    (runner,) = parent
    keys = {k for _, k, _ in lines}
    assert len(keys) == 1, lines  # one ArticleEvaluation for the run (the pages share parameters)
    assert len([1 for pid, _, what in lines if pid == runner and what in ("computed", "loaded")]) == 1
    kernels = [(pid, what) for pid, _, what in lines if pid != runner]
    assert kernels and all(what in ("loaded", "memory") for _, what in kernels), lines  # pages load, never compute
    assert len({pid for pid, _ in kernels}) >= len(PAGES)  # every page loaded it in its own kernel


def test_a_page_kernel_cannot_evaluate(tmp_path):
    """The guard itself: with the kernels' environment, evaluating parameters the report did
    not compute fails with a clear error instead of computing."""
    code = ("from research.claims import EvalParams, evaluate\n"
            "try:\n    evaluate('C1', EvalParams(alpha=0.0123))\n"
            "except Exception as exc:\n    print(type(exc).__name__, exc)\n")
    env = {**os.environ, EVALUATION_FORBIDDEN_ENV: "1", "PYTHONPATH": str(ROOT / "src"),
           "RESEARCH_RESULTS_CACHE": str(tmp_path / "cache")}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert done.stdout.startswith("EvaluationForbidden"), done.stdout + done.stderr
    assert "may not evaluate" in done.stdout


def test_a_notebook_run_with_other_parameters_computes_only_those(run):
    base, log, _ = run
    log2 = base / "evaluations-iwm.log"
    done = subprocess.run(
        [sys.executable, "-m", "research.cli", "report", "--output", str(base / "site"), "--no-progress",
         "--notebook", "01_quantum_rally", "-p", "market_proxy", "IWM"],
        env={**os.environ, EVALUATION_LOG_ENV: str(log2), "PYTHONPATH": str(ROOT / "src")},
        capture_output=True, text=True, timeout=1500, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    lines = _lines(log2)
    computed = {k for _, k, what in lines if what == "computed"}
    first = {k for _, k, _ in _lines(log)}
    assert len(computed) <= 1 and not computed & first, lines  # only the new parameters are computed
    assert all(what != "computed" for pid, _, what in lines if pid != lines[0][0])


def test_live_prices_are_left_to_the_page():
    """An evaluation from live prices is not cached (the key cannot hold the prices), so the
    report hands none over and the page (not forbidden) evaluates them itself."""
    from research.report import pages
    from research.report.runner import _kernel_environment

    assert pages.prepare_evaluation({"source": "yfinance", "page": "x", "verdict_path": ""}) == ""
    with _kernel_environment(False):
        assert not os.environ.get(EVALUATION_FORBIDDEN_ENV)
    with _kernel_environment(True):
        assert os.environ.get(EVALUATION_FORBIDDEN_ENV) == "1"
    assert not os.environ.get(EVALUATION_FORBIDDEN_ENV)
