"""`research report` checks everything the run needs before anything runs (exit 2, one line
per problem, nothing written): the robustness grid, `research article check`, parameters
that would change nothing, internal parameters; and a mistyped `-p` is answered without
importing the heavy modules.

Real shipped article and embedded snapshot; the CLI's own entry point (in-process, or a
real subprocess for the import check).
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.register_assert_rewrite("_report_sites")
from _report_sites import ROOT, run_cli  # noqa: E402
from research.report.cli import main  # noqa: E402

ARTICLE_FIXTURE = ROOT / "tests" / "fixtures" / "articles" / "chips-and-tariffs"
HEAVY = ("pandas", "papermill", "nbformat", "nbconvert", "matplotlib", "scipy", "research.claims")


def _refused(tmp_path: Path, *argv: str) -> str:
    out = tmp_path / "site"
    rc, stdout, stderr = run_cli(main, ["--output", str(out), "--no-progress", *argv])
    assert rc == 2, (stdout, stderr)
    assert not out.exists(), "something was written"
    assert not list(tmp_path.glob(".site.*")), "a lock or staging folder was made"
    assert "Traceback" not in stderr
    assert stderr.count("research report: error:") == 1, stderr  # printed once
    return stderr


@pytest.mark.parametrize("name, value, expected", [
    # the pages' own estimation window (250) fits; the grid's 500 sessions do not
    ("as_of", "2025-01-02", "estimation_length=500 does not fit"),
    ("event_windows", "[[0,400]]", "event window ending at +400 does not fit"),
])
def test_a_value_the_robustness_grid_cannot_hold_is_refused_up_front(tmp_path, name, value, expected):
    err = _refused(tmp_path, "-p", name, value)
    assert expected in err and "robustness grid" in err and "estimation length 500" in err
    assert "robustness.estimation_lengths in article.yaml" in err  # the fix
    lines = [ln for ln in err.splitlines() if ln.startswith("  - ")]
    assert len(lines) == 1, err  # one line per problem, not one per specification


def test_placebo_draws_under_the_exact_placebo_is_refused(tmp_path):
    err = _refused(tmp_path, "-p", "placebo_draws", "2000")
    assert "only applies to the resampled placebo" in err and "placebo_method: resample" in err


def test_a_market_proxy_that_is_no_ticker_is_refused_up_front(tmp_path):
    err = _refused(tmp_path, "-p", "market_proxy", "__import__('os')")
    assert "market_proxy" in err and "not in the snapshot" in err


@pytest.mark.parametrize("name, value", [("page", "shocks"), ("page", "nonexistent"),
                                         ("article", "/tmp"), ("verdict_path", "/tmp/x.json"),
                                         ("claim_parameters", "{}")])
def test_internal_parameters_cannot_be_set(tmp_path, name, value):
    err = _refused(tmp_path, "-p", name, value)
    assert f"parameter {name!r} is set by the report runner and cannot be given with -p" in err


def test_internal_parameters_are_not_listed():
    rc, stdout, stderr = run_cli(main, ["--list"])
    assert rc == 0, stderr
    listed = {ln.split(":")[0].strip() for ln in stdout.splitlines() if ln.startswith("    ")}
    assert {"estimation_length", "event_windows", "as_of", "market_proxy"} <= listed
    assert not listed & {"page", "article", "verdict_path", "claim_parameters"}, listed


def test_an_article_failing_article_check_is_refused_before_anything_runs(tmp_path):
    art = tmp_path / "article"
    shutil.copytree(ARTICLE_FIXTURE, art)
    rows = list(csv.reader(io.StringIO((art / "events.csv").read_text(encoding="utf-8"))))
    rows[1][rows[0].index("date")] = "2099-03-02"  # beyond the calendar: `article check` says so
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    (art / "events.csv").write_text(buf.getvalue(), encoding="utf-8")
    err = _refused(tmp_path, "--article", str(art))
    assert "research article check" in err and "2099-03-02" in err and "events.csv:2" in err


def test_a_mistyped_parameter_is_answered_without_heavy_imports(tmp_path):
    """Deterministic, not timed: the CLI refuses the typo, then we look at what it imported."""
    code = ("import sys\nfrom research.cli import main\n"
            f"rc = main(['report', '-o', {str(tmp_path / 'site')!r}, '-p', 'estimaton_length', '300'])\n"
            f"print('RESULT', rc, sorted(m for m in {HEAVY!r} if m in sys.modules))\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                       env={**__import__("os").environ, "PYTHONPATH": str(ROOT / "src")})
    line = [ln for ln in r.stdout.splitlines() if ln.startswith("RESULT")][0]
    assert line == "RESULT 2 []", (line, r.stderr)
    assert "did you mean 'estimation_length'?" in r.stderr
    assert not (tmp_path / "site").exists()


def test_argument_errors_import_nothing_heavy():
    code = ("import sys\nfrom research.cli import main\n"
            "rc = main(['report', '--jobs', 'x'])\n"
            f"print('RESULT', rc, sorted(m for m in {HEAVY!r} if m in sys.modules))\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                       env={**__import__("os").environ, "PYTHONPATH": str(ROOT / "src")})
    assert "RESULT 2 []" in r.stdout, (r.stdout, r.stderr)
    assert json.dumps(r.stderr).count("invalid int value") == 1
