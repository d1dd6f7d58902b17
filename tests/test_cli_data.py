"""The `research` console script: data info, build-snapshot, report forwarding."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from research import cli
from research.data import paths

SCRIPT = Path(sys.executable).parent / "research"


def test_data_info_lists_every_ticker(capsys):
    assert cli.main(["data", "info"]) == 0
    out = capsys.readouterr().out
    man = json.loads((paths.REPO_ROOT / "data/snapshot/MANIFEST.json").read_text())
    assert "split+dividend adjusted" in out
    lines = {ln.split()[0]: ln.split() for ln in out.splitlines() if ln.split() and ln.split()[0] in man["tickers"]}
    assert set(lines) == set(man["tickers"])
    for t, m in man["tickers"].items():
        assert lines[t][1:6] == [m["first"], m["last"], str(m["rows"]), m["columns"], m["source_adjustment"]]


def test_console_script_runs():
    r = subprocess.run([str(SCRIPT), "data", "info"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "USAR    2025-03-14 2026-05-29" in r.stdout


@pytest.mark.parametrize("argv", [[], ["data"], ["data", "frobnicate"], ["nonsense"],
                                  ["data", "build-snapshot"]])
def test_usage_errors_exit_2(argv, capsys):
    assert cli.main(argv) == 2
    assert "usage:" in capsys.readouterr().err


def test_research_error_exit_1_without_traceback(tmp_path):
    r = subprocess.run([str(SCRIPT), "data", "build-snapshot", "--from", str(tmp_path / "nope"),
                        "--out", str(tmp_path / "out")], capture_output=True, text=True, timeout=120)
    assert r.returncode == 1
    assert "research: error:" in r.stderr and "tickers.csv does not exist" in r.stderr
    assert "Traceback" not in r.stderr


def test_info_on_corrupt_snapshot_exit_1(tmp_path, capsys):
    import shutil

    shutil.copytree(paths.REPO_ROOT / "data/snapshot", tmp_path / "snapshot")
    p = tmp_path / "snapshot/prices.parquet"
    p.write_bytes(p.read_bytes()[:-10] + b"0123456789")
    assert cli.main(["data", "info", "--data-dir", str(tmp_path)]) == 1
    assert "build-snapshot --from ../shared/market-data" in capsys.readouterr().err


def test_build_snapshot(tmp_path, capsys, shared_market_data):
    """build-snapshot writes the snapshot and the data README, nothing else (articles are
    directories of their own under data/articles/, never copied by the data layer)."""
    assert cli.main(["data", "build-snapshot", "--from", str(shared_market_data), "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "41696 rows, 50 tickers" in out
    assert (tmp_path / "snapshot/prices.parquet").read_bytes() == (paths.REPO_ROOT / "data/snapshot/prices.parquet").read_bytes()
    assert (tmp_path / "README.md").read_bytes() == (paths.REPO_ROOT / "data/README.md").read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["README.md", "snapshot"]


def test_report_is_forwarded(capsys, monkeypatch):
    """`research report ARGS` calls research.report.cli.main(ARGS) and returns its code."""
    import types

    seen = []
    fake = types.ModuleType("research.report.cli")
    fake.main = lambda argv: seen.append(argv) or 7
    monkeypatch.setitem(sys.modules, "research.report.cli", fake)
    assert cli.main(["report", "--only", "c8", "--jobs", "2"]) == 7
    assert seen == [["--only", "c8", "--jobs", "2"]]


def test_report_missing_module_is_clear(capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "research.report.cli", None)  # import fails
    assert cli.main(["report"]) == 1
    assert "report module is not available" in capsys.readouterr().err
