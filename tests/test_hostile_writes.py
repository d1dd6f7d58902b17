"""`research report` never writes through a symbolic link: a planted lock-file link, an
``executed/`` link inside an existing site and an output folder that is a link are each
refused with a one-line error, and the files they point at are left as they were
(content and modification time).

Real CLI runs on the fixture portfolio; each is refused before any notebook runs.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

pytest.register_assert_rewrite("_report_sites")
from _report_sites import FIXTURE_PORTFOLIO, run_cli  # noqa: E402
from research.report.cli import main  # noqa: E402


def _victim(tmp_path: Path) -> tuple[Path, bytes, int]:
    """A file of the user running the report, outside the output folder."""
    victim = tmp_path / "elsewhere" / "precious.txt"
    victim.parent.mkdir()
    victim.write_bytes(b"keep me exactly as I am\n")
    os.utime(victim, ns=(1_000_000_000_000_000_000, 1_000_000_000_000_000_000))
    return victim, victim.read_bytes(), victim.stat().st_mtime_ns


def _report(out: Path) -> tuple[int, str, str]:
    return run_cli(main, ["--portfolio", str(FIXTURE_PORTFOLIO), "--output", str(out), "--jobs", "1",
                          "--no-progress", "--notebook", "passing"])


def _one_line_refusal(rc: int, stdout: str, stderr: str, *words: str) -> None:
    assert rc == 2, (stdout, stderr)
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("research report: error:"), stderr
    assert "symbolic link" in lines[0] and "Traceback" not in stderr
    for w in words:
        assert w in lines[0], lines[0]
    assert "ok " not in stdout  # nothing ran


def test_planted_lock_symlink_does_not_touch_its_target(tmp_path):
    victim, content, mtime = _victim(tmp_path)
    out = tmp_path / "site"
    (tmp_path / ".site.lock").symlink_to(victim)
    rc, stdout, stderr = _report(out)
    _one_line_refusal(rc, stdout, stderr, ".site.lock")
    assert victim.read_bytes() == content and victim.stat().st_mtime_ns == mtime
    assert (tmp_path / ".site.lock").is_symlink()  # left for the user to inspect and remove
    assert not out.exists()


def test_dangling_lock_symlink_creates_nothing(tmp_path):
    out = tmp_path / "site"
    target = tmp_path / "elsewhere" / "created-by-the-report"
    target.parent.mkdir()
    (tmp_path / ".site.lock").symlink_to(target)
    rc, stdout, stderr = _report(out)
    _one_line_refusal(rc, stdout, stderr, ".site.lock")
    assert not target.exists()


def test_executed_symlink_inside_a_site_is_refused(tmp_path):
    victim, content, mtime = _victim(tmp_path)
    out = tmp_path / "site"
    out.mkdir()
    (out / ".research-site").write_text("a report site\n")
    (out / "executed").symlink_to(victim.parent, target_is_directory=True)
    before = sorted(p.name for p in victim.parent.iterdir())
    rc, stdout, stderr = _report(out)
    _one_line_refusal(rc, stdout, stderr, str(out / "executed"))
    assert sorted(p.name for p in victim.parent.iterdir()) == before  # no notebook written there
    assert victim.read_bytes() == content and victim.stat().st_mtime_ns == mtime


def test_output_folder_that_is_a_symlink_is_refused(tmp_path):
    real = tmp_path / "real-site"
    real.mkdir()
    (real / "keep.txt").write_text("keep")
    out = tmp_path / "site"
    out.symlink_to(real, target_is_directory=True)
    rc, stdout, stderr = _report(out)
    _one_line_refusal(rc, stdout, stderr, "--output")
    assert sorted(p.name for p in real.iterdir()) == ["keep.txt"]
    assert out.is_symlink()


def test_failed_build_folder_that_is_a_symlink_is_refused(tmp_path):
    victim, content, mtime = _victim(tmp_path)
    out = tmp_path / "site"
    (tmp_path / "site.failed").symlink_to(victim.parent, target_is_directory=True)
    rc, stdout, stderr = _report(out)
    _one_line_refusal(rc, stdout, stderr, "site.failed")
    assert victim.read_bytes() == content and victim.stat().st_mtime_ns == mtime
