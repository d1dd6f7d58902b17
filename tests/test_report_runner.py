"""The batch runner end to end on the fixture notebooks (real papermill, kernels, nbconvert):
parallel execution, failures collected, index/claims.json, the CLI's exit codes."""

from __future__ import annotations

import json
import re
import sys

from pathlib import Path

import nbformat
import pytest

pytest.register_assert_rewrite("_report_sites")  # before the import (it is also a plugin)
from _report_sites import FIXTURE_PORTFOLIO, Site, parse_html, run_cli, site_problems

# the session-scoped site builds (one per session, shared by all modules)
pytest_plugins = ["_report_sites"]
from research.report.cli import main


def test_exit_code_1_names_the_failing_notebook(fixture_site: Site):
    assert fixture_site.rc == 1
    assert "1 notebook(s) failed: failing" in fixture_site.stderr
    assert "failing at In [" in fixture_site.stderr
    assert "deliberate failure for the runner test" in fixture_site.stderr
    assert "passing" not in fixture_site.stderr.split("failed:")[1].split("\n")[0]


def test_all_outputs_written(fixture_site: Site):
    out = fixture_site.out
    for name in ("passing", "failing", "typed"):
        assert (out / f"{name}.html").stat().st_size > 10_000
        executed = nbformat.read(out / "executed" / f"{name}.ipynb", as_version=4)
        # the run wrote into its staging copy beside the site, swapped in as ``out`` at the end
        vp = Path(executed.metadata["papermill"]["parameters"]["verdict_path"])
        assert vp.name == f"{name}.json" and vp.parent.name == ".verdicts"
        assert vp.parent.parent.parent == out.parent and vp.parent.parent.name.startswith(f".{out.name}.staging-")
    assert (out / "index.html").is_file() and (out / "claims.json").is_file()
    assert sorted(p.name for p in (out / ".verdicts").iterdir()) == ["passing.json", "typed.json"]
    leftovers = [p for p in out.rglob("*") if ".part" in p.name or p.name.startswith(".") and p.is_file()]
    assert leftovers == [out / ".research-site"], leftovers  # only the site marker
    assert list(out.parent.glob(f".{out.name}.staging-*")) == []


def test_notebooks_ran_concurrently_in_the_venv_kernel(fixture_site: Site):
    claims = {c["claim_id"]: c for c in json.loads((fixture_site.out / "claims.json").read_text())}
    a, b = claims["C1"]["run_window"], claims["C4"]["run_window"]
    # each notebook sleeps 1.5 s between these stamps; with 3 workers the intervals overlap
    assert a[0] < b[1] and b[0] < a[1], (a, b)
    assert claims["C1"]["kernel_executable"] == sys.executable


def test_typed_parameters_arrive_typed(fixture_site: Site):
    claims = {c["claim_id"]: c for c in json.loads((fixture_site.out / "claims.json").read_text())}
    got = claims["C4"]["parameters"]
    assert got["window"] == {"value": 120, "type": "int"}  # from portfolio.yml
    assert got["alpha"] == {"value": 0.1, "type": "float"}
    assert got["event_windows"] == {"value": [[0, 0], [0, 1], [-1, 1]], "type": "list"}
    assert got["tickers"] == {"value": ["RGTI", "IONQ"], "type": "list"}
    assert got["use_placebo"] == {"value": False, "type": "bool"}
    assert got["label"] == {"value": None, "type": "NoneType"}
    assert got["market_proxy"] == {"value": "SPY", "type": "str"}
    assert claims["C1"]["parameters"] == {"market_proxy": "SPY", "alpha": 0.1}


def test_claims_json_sorted_with_error_for_the_failed_owner(fixture_site: Site):
    claims = json.loads((fixture_site.out / "claims.json").read_text())
    assert [c["claim_id"] for c in claims] == ["C1", "C2", "C3", "C4"]
    c3 = claims[2]
    assert c3["verdict"] == "error" and c3["notebook"] == "failing"
    assert "deliberate failure" in c3["error"]
    # published claims are the sidecar objects unchanged
    side = json.loads((fixture_site.out / ".verdicts" / "passing.json").read_text())
    # each published claim is the sidecar's verdict plus the page that shows it
    assert claims[0] == {**side["verdicts"][0], "page": "passing"}
    assert claims[1] == {**side["verdicts"][1], "page": "passing"}
    assert "generated" not in (fixture_site.out / "claims.json").read_text().lower()


def test_index_marks_the_failure_and_states_source_and_date(fixture_site: Site):
    text = (fixture_site.out / "index.html").read_text()
    rows = dict(re.findall(r'<tr id="report-(\w+)"[^>]*data-status="([\w ]+)"', text))
    assert rows == {"passing": "ok", "failing": "failed", "typed": "ok"}
    assert re.search(r'id="report-failing".*?FAILED at In \[\d+\]', text, re.S)
    verdicts = dict(re.findall(r'data-claim="(C\d+)" data-verdict="([\w ]+)"', text))
    claims = {c["claim_id"]: c["verdict"] for c in json.loads((fixture_site.out / "claims.json").read_text())}
    assert verdicts == claims and verdicts["C3"] == "error"
    assert re.search(r'id="data-source"><b>Data source:</b> fixture<', text)
    assert re.search(r'id="as-of"><b>As of:</b> 2025-10-15<', text)
    assert text.count("Generated:") == 1
    ids = parse_html(fixture_site.out / "index.html")
    assert {"passing.html#C1", "passing.html#C2", "failing.html#report-failed", "typed.html#C4"} <= set(ids.hrefs)


def test_key_numbers_on_the_index_are_the_published_ones(fixture_site: Site):
    text = (fixture_site.out / "index.html").read_text()
    claims = {c["claim_id"]: c for c in json.loads((fixture_site.out / "claims.json").read_text())}
    cell = re.search(r'id="claim-C1".*?<td class="key"[^>]*>([^<]*)</td>', text, re.S).group(1)
    name, value = cell.split(" = ")
    assert name == "last_value"
    assert float(value) == pytest.approx(claims["C1"]["key_numbers"]["last_value"], rel=1e-3)


def test_failed_page_shows_banner_cell_and_traceback(fixture_site: Site):
    text = (fixture_site.out / "failing.html").read_text()
    assert 'id="report-failed"' in text
    banner = re.search(r'<div class="report-banner"[^>]*>(.*?)</div>', text, re.S).group(1)
    assert "failing" in banner and re.search(r"In \[\d+\]", banner)
    assert "ValueError: deliberate failure for the runner test" in banner
    assert "before the failure" in text  # output of the cell that ran
    assert "Traceback" in text or "ValueError" in text.split("</div>", 1)[1]
    assert 'id="report-failed"' not in (fixture_site.out / "passing.html").read_text()


def _text_of(path) -> str:
    """The page's text without tags (code is split into highlighting spans)."""
    import html

    return html.unescape(re.sub(r"<[^>]+>", "", path.read_text()))


def test_html_hides_input_by_default(fixture_site: Site):
    text = _text_of(fixture_site.out / "passing.html")
    assert "default_rng(7)" not in text  # code of the notebook
    assert "mean increment" in text  # its printed output
    assert 'class="highlight' not in (fixture_site.out / "passing.html").read_text()


def test_partial_rerun_keeps_other_results_and_show_input(fixture_site: Site, tmp_path):
    import shutil

    out = tmp_path / "site"
    shutil.copytree(fixture_site.out, out)
    before = (out / "claims.json").read_text()
    rc, stdout, stderr = run_cli(main, ["--portfolio", str(FIXTURE_PORTFOLIO), "--output", str(out),
                                        "--notebook", "typed", "--show-input", "--jobs", "1",
                                        "-p", "alpha", "0.1", "-p", "event_windows", "[[0,0],[0,1],[-1,1]]",
                                        "-p", "tickers", "RGTI,IONQ", "-p", "use_placebo", "no"])
    assert rc == 0, stderr
    assert "typed" in stdout and "passing" not in stdout
    assert "received = {k:" in _text_of(out / "typed.html")  # input shown
    text = (out / "index.html").read_text()
    assert 'id="report-failing" class="row-failed" data-status="failed"' in text  # last run kept
    after = json.loads((out / "claims.json").read_text())
    old = json.loads(before)
    assert [c["claim_id"] for c in after] == ["C1", "C2", "C3", "C4"]
    assert after[0] == old[0] and after[2]["verdict"] == "error"


def test_parameter_error_exit_2_and_nothing_written(tmp_path):
    out = tmp_path / "site"
    rc, stdout, stderr = run_cli(main, ["--portfolio", str(FIXTURE_PORTFOLIO), "--output", str(out),
                                        "-p", "window", "abc"])
    assert rc == 2
    assert "cannot use 'abc' as an integer" in stderr and "valid parameters" in stderr
    assert not out.exists()
    rc, _, stderr = run_cli(main, ["--portfolio", str(FIXTURE_PORTFOLIO), "--output", str(out), "-p", "alpha"])
    assert rc == 2 and "expected 2 arguments" in stderr
    assert not out.exists()


def test_list_shows_notebooks_and_parameters():
    rc, stdout, _ = run_cli(main, ["--portfolio", str(FIXTURE_PORTFOLIO), "--list"])
    assert rc == 0
    assert "typed" in stdout and "claims: C4" in stdout
    assert "window: int = 250" in stdout and "alpha: float = 0.05" in stdout
    assert "verdict_path" not in stdout  # set by the runner, not with -p: not listed


def test_research_console_entry_forwards_report(tmp_path):
    from research.cli import main as research_main

    rc, stdout, _ = run_cli(research_main, ["report", "--portfolio", str(FIXTURE_PORTFOLIO), "--list"])
    assert rc == 0 and "passing" in stdout


def _notebook(path, *sources):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    for i, src in enumerate(sources):
        cell = nbformat.v4.new_code_cell(src)
        if i == 0:
            cell.metadata["tags"] = ["parameters"]
        nb.cells.append(cell)
    nbformat.write(nb, path)


def test_hung_cell_times_out_and_missing_notebook_fails_alone(tmp_path):
    from research.report import build_reports, load_portfolio

    _notebook(tmp_path / "slow.ipynb", 'verdict_path = ""', "print('started')", "import time\ntime.sleep(60)")
    yml = tmp_path / "p.yml"
    yml.write_text("notebooks:\n  - {name: slow, path: slow.ipynb}\n"
                   "  - {name: gone, path: gone.ipynb, claims: [C7]}\n")
    out = tmp_path / "site"
    result = build_reports(load_portfolio(yml), output_dir=out, cell_timeout=3, jobs=1, keep_going=True)
    assert result.failed == ("slow", "gone")
    by = {r.name: r for r in result.results}
    assert "timed out" in by["slow"].error and by["slow"].failed_cell == "In [4]"  # cell 4: sleep
    assert "not found" in by["gone"].error
    slow = (out / "slow.html").read_text()
    assert 'id="report-failed"' in slow and "started" in slow
    assert 'id="report-failed"' in (out / "gone.html").read_text()
    assert site_problems(out) == []  # no dangling "jump to the error" link on a timeout page
    claims = json.loads((out / "claims.json").read_text())
    assert claims == [claims[0]] and claims[0]["claim_id"] == "C7" and claims[0]["notebook"] == "gone"
    assert claims[0]["verdict"] == "error"


def test_site_rebuild_is_deterministic(fixture_site: Site, tmp_path):
    """Same run records -> byte-identical claims.json; index.html differs only in the
    generation time (one line)."""
    import shutil

    from research.report import build_site, load_portfolio

    out = tmp_path / "site"
    shutil.copytree(fixture_site.out, out)
    claims, index = (out / "claims.json").read_bytes(), (out / "index.html").read_text()
    build_site(load_portfolio(FIXTURE_PORTFOLIO), out, generated="2000-01-01 00:00:00 UTC")
    assert (out / "claims.json").read_bytes() == claims
    new = (out / "index.html").read_text()
    diff = [(a, b) for a, b in zip(index.splitlines(), new.splitlines()) if a != b]
    assert len(index.splitlines()) == len(new.splitlines())
    assert len(diff) == 1 and "2000-01-01 00:00:00 UTC" in diff[0][1] and 'id="generated"' in diff[0][1]


def test_dead_kernel_fails_only_its_notebook(tmp_path):
    """A kernel that dies (segfault, OOM kill: here os._exit) fails its notebook; the
    next notebook still runs and the site is built."""
    from research.report import build_reports, load_portfolio

    _notebook(tmp_path / "dies.ipynb", 'verdict_path = ""', "print('alive')", "import os\nos._exit(3)")
    _notebook(tmp_path / "fine.ipynb", 'verdict_path = ""',
              "from research.report import publish\n"
              "publish([{'claim_id': 'C2', 'verdict': 'supported', 'data_source': 'x', 'as_of': 'y'}], verdict_path)")
    yml = tmp_path / "p.yml"
    yml.write_text("notebooks:\n  - {name: dies, path: dies.ipynb, claims: [C1]}\n"
                   "  - {name: fine, path: fine.ipynb, claims: [C2]}\n")
    out = tmp_path / "site"
    result = build_reports(load_portfolio(yml), output_dir=out, jobs=1, keep_going=True)
    assert result.failed == ("dies",)
    assert "DeadKernel" in result.results[0].error or "died" in result.results[0].error
    claims = json.loads((out / "claims.json").read_text())
    assert [(c["claim_id"], c["verdict"]) for c in claims] == [("C1", "error"), ("C2", "supported")]
    assert "alive" in (out / "dies.html").read_text()


def test_one_notebook_into_a_fresh_folder_marks_the_others_not_run(tmp_path):
    out = tmp_path / "site"
    rc, stdout, stderr = run_cli(main, ["--portfolio", str(FIXTURE_PORTFOLIO), "--output", str(out),
                                        "--notebook", "passing", "--jobs", "1"])
    assert rc == 0, stderr
    claims = {c["claim_id"]: c for c in json.loads((out / "claims.json").read_text())}
    assert claims["C1"]["verdict"] not in ("error", "not run")
    assert claims["C3"]["verdict"] == "not run" and "has not been run" in claims["C3"]["error"]
    assert claims["C4"]["verdict"] == "not run"
