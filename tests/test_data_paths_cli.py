"""A path that cannot be used is one line naming it and the fix, exit 2, no traceback:
`research data ...`, `research article new` and the yfinance cache, through the real
console script in a subprocess. Full and read-only file systems are real tmpfs mounts
(root; skipped with the reason where mounting is not permitted)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from research.data import paths

SRC = Path(__file__).resolve().parents[1] / "src"


def _cli(*args: str, **env: str) -> tuple[int, str]:
    e = {**os.environ, "PYTHONPATH": str(SRC), "RESEARCH_OFFLINE": "1", **env}
    r = subprocess.run([sys.executable, "-m", "research.cli", *args], capture_output=True, text=True,
                       timeout=300, env=e)
    return r.returncode, r.stderr


def _one_line(rc: int, err: str, path: Path) -> str:
    assert rc == 2, err
    assert "Traceback" not in err, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert str(path) in lines[0], err
    return lines[0]


@pytest.fixture()
def market_copy(shared_market_data, tmp_path):
    dst = tmp_path / "md"
    shutil.copytree(shared_market_data, dst)
    return dst


@pytest.fixture()
def mount(tmp_path):
    """Mount a small tmpfs (options given by the test); unmounted afterwards."""
    mounted: list[Path] = []

    def _mount(options: str) -> Path:
        point = tmp_path / f"mnt{len(mounted)}"
        point.mkdir()
        if shutil.which("mount") is None:
            pytest.skip("needs the mount command (util-linux) to mount a tmpfs")
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(point)],
                           capture_output=True, text=True)
        if r.returncode != 0:
            pytest.skip(f"needs permission to mount a tmpfs (root): {r.stderr.strip()}")
        mounted.append(point)
        return point

    yield _mount
    for point in reversed(mounted):
        subprocess.run(["umount", "-l", str(point)], capture_output=True)


def test_zero_byte_prices_csv(market_copy, tmp_path):
    f = market_copy / "prices_daily.csv"
    f.write_bytes(b"")
    line = _one_line(*_cli("data", "build-snapshot", "--from", str(market_copy), "--out", str(tmp_path / "o")), f)
    assert "is empty" in line and "re-copy" in line
    assert not (tmp_path / "o").exists()


def test_header_only_prices_csv(market_copy, tmp_path):
    f = market_copy / "prices_daily.csv"
    f.write_text(f.read_text().splitlines()[0] + "\n")
    line = _one_line(*_cli("data", "build-snapshot", "--from", str(market_copy), "--out", str(tmp_path / "o")), f)
    assert "header but no rows" in line


def test_out_is_a_file(shared_market_data, tmp_path):
    f = tmp_path / "a-file"
    f.write_text("keep me\n")
    line = _one_line(*_cli("data", "build-snapshot", "--from", str(shared_market_data), "--out", str(f)), f)
    assert "is a file" in line and "--out" in line
    assert f.read_text() == "keep me\n"


def test_data_dir_is_a_file(tmp_path):
    f = tmp_path / "a-file"
    f.write_text("x")
    _one_line(*_cli("data", "info", "--data-dir", str(f)), f)


def test_article_new_into_a_file(tmp_path):
    f = tmp_path / "article"
    f.write_text("keep me\n")
    line = _one_line(*_cli("article", "new", str(f)), f)
    assert "is a file" in line and f.read_text() == "keep me\n"
    line = _one_line(*_cli("article", "new", str(f / "sub")), f / "sub")
    assert f"inside {f}" in line


def test_cache_dir_is_a_file(tmp_path):
    f = tmp_path / "cache-file"
    f.write_text("x")
    line = _one_line(*_cli("data", "fetch", "SPY", RESEARCH_CACHE_DIR=str(f)), f)
    assert "RESEARCH_CACHE_DIR" in line


def test_cache_file_is_a_directory(tmp_path):
    d = tmp_path / "cache" / "SPY.parquet"
    d.mkdir(parents=True)
    line = _one_line(*_cli("data", "fetch", "SPY", RESEARCH_CACHE_DIR=str(tmp_path / "cache")), d)
    assert "is a directory" in line and "remove it" in line


def test_read_only_output(shared_market_data, mount):
    point = mount("size=1m,ro")
    out = point / "data"
    line = _one_line(*_cli("data", "build-snapshot", "--from", str(shared_market_data), "--out", str(out)), out)
    assert "Read-only file system" in line
    line = _one_line(*_cli("article", "new", str(point / "art")), point / "art")
    assert "Read-only file system" in line


def test_full_disk_keeps_the_previous_snapshot(shared_market_data, mount):
    committed = paths.REPO_ROOT / "data"
    size = sum(p.stat().st_size for p in (committed / "snapshot").iterdir()) + (committed / "README.md").stat().st_size
    point = mount(f"size={size + (128 << 10)}")  # the snapshot and 128 KiB: not a second copy
    out = point / "data"
    shutil.copytree(committed / "snapshot", out / "snapshot")
    shutil.copy2(committed / "README.md", out / "README.md")
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    line = _one_line(*_cli("data", "build-snapshot", "--from", str(shared_market_data), "--out", str(out)), out)
    assert "No space left on device" in line and "previous snapshot is kept" in line
    after = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert after == before  # same files, same bytes, no staged leftovers
