"""Fault injection on `research report`: real processes killed mid-run, concurrent runs,
unusable output folders, bad --timeout values and a really full file system.

Every run is the real console script on a small real portfolio written here (papermill
notebooks with a real kernel); nothing is mocked. A run's processes (the CLI, its pool
workers, their notebook kernels) all inherit one environment tag, which is how the tests
find orphans in /proc.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import nbformat
import pytest

pytestmark = pytest.mark.slow

SCRIPT = Path(sys.executable).parent / "research"

_PARAMS = '''label = "old"  # written into every verdict
pause = 0.0  # seconds to sleep after announcing the start
started_dir = ""  # folder where the notebook announces that it runs
release = ""  # when set, wait (up to 10 min) until this file exists before publishing
verdict_path = ""
'''
_BODY = '''import os, time
from research.report import publish
if started_dir:
    open(os.path.join(started_dir, "{name}"), "w").close()
time.sleep(pause)
deadline = time.time() + 600
while release and not os.path.exists(release) and time.time() < deadline:
    time.sleep(0.1)
print(f"run label: {{label}}")
_ = publish([{{"claim_id": "{claim}", "title": "fault fixture {name}", "verdict": "supported",
          "rule": "fixture", "data_source": "fixture", "as_of": "2025-10-15",
          "parameters": {{"label": label}}, "evidence": [], "key_numbers": {{"label_len": len(label)}},
          "notes": [label], "confounders": []}}], verdict_path)
'''


def _notebook(path: Path, name: str, claim: str) -> None:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_markdown_cell(f"# {name}"),
                nbformat.v4.new_code_cell(_PARAMS, metadata={"tags": ["parameters"]}),
                nbformat.v4.new_code_cell(_BODY.format(name=name, claim=claim))]
    nbformat.write(nb, path)


@pytest.fixture(scope="module")
def portfolio(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("fault_portfolio")
    _notebook(d / "first.ipynb", "first", "C1")
    _notebook(d / "second.ipynb", "second", "C2")
    (d / "portfolio.yml").write_text(
        "title: Fault fixture\nnotebooks:\n"
        "  - {name: first, path: first.ipynb, title: First, claims: [C1]}\n"
        "  - {name: second, path: second.ipynb, title: Second, claims: [C2]}\n")
    return d / "portfolio.yml"


def _argv(portfolio: Path, out: Path, label: str, pause: float = 0.0, started: Path | None = None,
          *extra: str, jobs: int = 1) -> list[str]:
    """A run of the fault portfolio (``jobs=1`` runs the notebooks in the CLI process;
    the kill tests use 2 pool workers)."""
    argv = [str(SCRIPT), "report", "--portfolio", str(portfolio), "-o", str(out), "--jobs", str(jobs),
            "--no-progress", "-p", "label", label, "-p", "pause", str(pause)]
    if started is not None:
        argv += ["-p", "started_dir", str(started)]
    return argv + list(extra)


def _env(tag: str) -> dict[str, str]:
    return {**os.environ, "RESEARCH_FAULT_TAG": tag}


def _run(argv: list[str], tag: str = "", timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=_env(tag or uuid.uuid4().hex))


def _tagged(tag: str) -> list[int]:
    """Pids of live processes whose environment carries ``RESEARCH_FAULT_TAG=tag``."""
    needle = f"RESEARCH_FAULT_TAG={tag}".encode()
    pids = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/environ", "rb") as fh:
                env = fh.read().split(b"\0")
            with open(f"/proc/{entry.name}/stat", "rb") as fh:
                state = fh.read().rsplit(b")", 1)[1].split()[0]
        except OSError:
            continue
        if needle in env and state != b"Z":
            pids.append(int(entry.name))
    return pids


def _wait_no_orphans(tag: str, seconds: float = 20) -> list[int]:
    deadline = time.monotonic() + seconds
    while (left := _tagged(tag)) and time.monotonic() < deadline:
        time.sleep(0.2)
    return left


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _assert_consistent(site: Path, label: str) -> None:
    """Every published verdict and every run record is from the same run (``label``)."""
    claims = json.loads((site / "claims.json").read_text())
    assert [c["claim_id"] for c in claims] == ["C1", "C2"]
    assert [c["verdict"] for c in claims] == ["supported", "supported"], claims
    assert {c["parameters"]["label"] for c in claims} == {label}
    for name in ("first", "second"):
        status = json.loads((site / ".status" / f"{name}.json").read_text())
        assert status["status"] == "ok" and status["parameters"]["label"] == label
        assert f"run label: {label}" in (site / f"{name}.html").read_text()
    index = (site / "index.html").read_text()
    assert index.count('data-verdict="supported"') == 2 and f"<th>label</th><td>{label}</td>" in index
    assert not [p for p in site.rglob(".*") if p.name not in (".research-site", ".status", ".verdicts")
                and not p.parent.name.startswith(".")], "temporary files left in the site"


def _leftovers(site: Path) -> list[str]:
    return sorted(p.name for p in site.parent.glob(f".{site.name}.staging-*"))


@pytest.fixture(scope="module")
def built_site(portfolio, tmp_path_factory) -> Path:
    site = tmp_path_factory.mktemp("built") / "site"
    r = _run(_argv(portfolio, site, "old"))
    assert r.returncode == 0, r.stderr
    _assert_consistent(site, "old")
    return site


@pytest.fixture()
def old_site(built_site, tmp_path) -> Path:
    """A private copy of a complete site built with label "old"."""
    site = tmp_path / "site"
    shutil.copytree(built_site, site)
    return site


# ------------------------------------------------------------------------ kills mid-run
@pytest.mark.parametrize("how", ["SIGTERM", "SIGKILL to the process group", "SIGKILL to the parent only"])
def test_killed_run_leaves_old_site_byte_identical_and_no_process(portfolio, old_site, tmp_path, how):
    before = _files(old_site)
    started = tmp_path / "started"
    started.mkdir()
    tag = uuid.uuid4().hex
    proc = subprocess.Popen(_argv(portfolio, old_site, "new", 120, started, jobs=2), env=_env(tag),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + 300  # start-up only: generous for a loaded 2-core machine
        while len(list(started.iterdir())) < 2:  # both notebooks are running in their kernels
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the notebooks never started"
            time.sleep(0.1)
        assert len(_tagged(tag)) >= 5  # CLI, 2 workers, 2 kernels (+ resource tracker)
        if how == "SIGTERM":
            proc.send_signal(signal.SIGTERM)
        elif how == "SIGKILL to the process group":
            os.killpg(proc.pid, signal.SIGKILL)
        else:
            proc.send_signal(signal.SIGKILL)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    if how == "SIGTERM":
        assert proc.returncode == 128 + signal.SIGTERM, err
        assert "previous reports were left as they were" in err and "Traceback" not in err
        assert _leftovers(old_site) == []  # a clean stop removes its staging folder
    else:
        assert proc.returncode == -signal.SIGKILL
        # the dying workers and the resource tracker say nothing (the pipe closes when they exit)
        for noise in ("Traceback", "Exception in initializer", "_WorkerStopped", "leaked semaphore"):
            assert noise not in err, err
        assert len(err.strip().splitlines()) <= 1, err
    assert _wait_no_orphans(tag) == [], "processes of the killed run are still running"
    assert _files(old_site) == before, "the published site changed"
    # what a killed run of an earlier version left inside the site: a papermill temp file
    # and a .part file; the rerun removes them with the staging folder a SIGKILL left
    (old_site / "executed" / ".first.abc123.ipynb").write_text("{}")
    (old_site / ".claims.xyz.part").write_text("partial")
    r = _run(_argv(portfolio, old_site, "new"))
    assert r.returncode == 0, r.stderr
    _assert_consistent(old_site, "new")
    assert _leftovers(old_site) == []
    assert not (old_site / "executed" / ".first.abc123.ipynb").exists()
    assert not (old_site / ".claims.xyz.part").exists()


# ------------------------------------------------------------------------ failed pages
def test_failing_page_keeps_the_previous_site_byte_identical(portfolio, old_site):
    """A page that really fails (``time.sleep(-1)`` raises in the notebook): exit 1, the
    published site is byte-identical, and the failed build is kept beside it."""
    before = _files(old_site)
    failed = old_site.parent / f"{old_site.name}.failed"
    failed.mkdir()
    (failed / "stale.txt").write_text("an earlier failed build")  # replaced by this one
    r = _run(_argv(portfolio, old_site, "broken", -1))
    assert r.returncode == 1, r.stderr
    assert _files(old_site) == before, "the published site changed"
    assert f"the failed build is in {failed}" in r.stderr and "--keep-going" in r.stderr
    assert "Traceback" not in r.stderr.split("failed:")[0]
    assert not (failed / "stale.txt").exists()
    status = json.loads((failed / ".status" / "first.json").read_text())
    assert status["status"] == "failed" and "sleep length must be non-negative" in status["error"]
    assert "sleep length must be non-negative" in (failed / "first.html").read_text()
    assert not list(old_site.rglob("*.failed")) and _leftovers(old_site) == []


def test_keep_going_publishes_the_site_with_its_failed_page(portfolio, old_site):
    r = _run(_argv(portfolio, old_site, "broken", -1, None, "--keep-going", "--notebook", "first"))
    assert r.returncode == 1, r.stderr
    assert "1 notebook(s) failed: first" in r.stderr and ".failed" not in r.stderr
    claims = {c["claim_id"]: c for c in json.loads((old_site / "claims.json").read_text())}
    assert claims["C1"]["verdict"] == "error"  # the failed page is published on purpose
    assert claims["C2"]["verdict"] == "supported" and claims["C2"]["parameters"]["label"] == "old"
    assert 'id="report-failed"' in (old_site / "first.html").read_text()
    assert not (old_site.parent / f"{old_site.name}.failed").exists()


# ------------------------------------------------------------------------ concurrency
def test_second_concurrent_run_is_refused_and_the_site_stays_consistent(portfolio, old_site, tmp_path):
    started = tmp_path / "started"
    started.mkdir()
    tag = uuid.uuid4().hex
    release = tmp_path / "release"
    first = subprocess.Popen(_argv(portfolio, old_site, "first-run", 0, started, "-p", "release", str(release)),
                             env=_env(tag), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             start_new_session=True)
    try:
        deadline = time.monotonic() + 300
        while not list(started.iterdir()):  # the first run is inside its notebook, holding the lock
            assert first.poll() is None, first.communicate()
            assert time.monotonic() < deadline
            time.sleep(0.1)
        second = _run(_argv(portfolio, old_site, "second-run"))
        release.touch()
        out, err = first.communicate(timeout=300)
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
    assert second.returncode == 2
    assert f"another `research report` (pid {first.pid}) is building {old_site}" in second.stderr
    assert "Traceback" not in second.stderr
    assert first.returncode == 0, err
    _assert_consistent(old_site, "first-run")


def test_two_runs_started_together_end_with_one_consistent_site(portfolio, tmp_path):
    site = tmp_path / "site"
    procs = [subprocess.Popen(_argv(portfolio, site, label, 1), env=_env(uuid.uuid4().hex),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for label in ("one", "two")]
    results = [(p.wait(timeout=300), p.stderr.read()) for p in procs]
    codes = sorted(rc for rc, _ in results)
    assert codes in ([0, 0], [0, 2]), results
    winner = "two" if json.loads((site / "claims.json").read_text())[0]["parameters"]["label"] == "two" else "one"
    _assert_consistent(site, winner)
    for rc, err in results:
        if rc == 2:
            assert "is building" in err


# ------------------------------------------------------------------------ output folder
def _cli(*argv: str) -> tuple[int, str]:
    r = subprocess.run([str(SCRIPT), "report", *argv], capture_output=True, text=True, timeout=120)
    return r.returncode, r.stderr


@pytest.mark.parametrize("target", ["file", "/dev/null"])
def test_output_at_a_file_is_a_clear_error_before_anything_runs(portfolio, tmp_path, target):
    out = tmp_path / "a-file.txt" if target == "file" else Path("/dev/null")
    if target == "file":
        out.write_text("keep me")
    rc, err = _cli("--portfolio", str(portfolio), "-o", str(out), "--no-progress")
    assert rc == 2 and "Traceback" not in err
    assert f"--output {out} is" in err and "give a folder" in err
    if target == "file":
        assert out.read_text() == "keep me"
        assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file.txt"]


def test_root_folder_is_refused():
    rc, err = _cli("-o", "/", "--no-progress")
    assert rc == 2 and "refusing to publish reports into /" in err and "Traceback" not in err
    assert not Path("/claims.json").exists()


def test_nonempty_folder_that_is_not_a_site_needs_force(portfolio, tmp_path):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "thesis.tex").write_text("precious")
    rc, err = _cli("--portfolio", str(portfolio), "-o", str(folder), "--no-progress")
    assert rc == 2 and "is not empty and is not a report site" in err and "--force" in err
    assert sorted(p.name for p in folder.iterdir()) == ["thesis.tex"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine"]
    r = _run(_argv(portfolio, folder, "forced", 0, None, "--force"))
    assert r.returncode == 0, r.stderr
    assert (folder / "thesis.tex").read_text() == "precious"
    _assert_consistent(folder, "forced")
    # now it is a site (marker written): no --force needed any more
    r = _run(_argv(portfolio, folder, "again"))
    assert r.returncode == 0, r.stderr


@pytest.mark.parametrize("value, message", [
    ("nan", "got 'nan'"), ("inf", "got 'inf'"), ("-5", "got '-5'"), ("0.5", "got '0.5'"),
    ("soon", "not a number of seconds"),
])
def test_bad_timeout_is_a_usage_error(value, message):
    rc, err = _cli("--timeout", value, "--no-progress")
    assert rc == 2 and message in err and "Traceback" not in err


# ------------------------------------------------------------------------ real mounts (root)
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


def test_read_only_folder_is_refused_before_anything_runs(portfolio, mount):
    point = mount("size=1m,ro")
    rc, err = _cli("--portfolio", str(portfolio), "-o", str(point / "site"), "--no-progress")
    assert rc == 2 and "cannot write" in err and "Read-only file system" in err
    assert "Traceback" not in err


def test_mount_point_is_refused(portfolio, mount):
    point = mount("size=1m")
    rc, err = _cli("--portfolio", str(portfolio), "-o", str(point), "--no-progress")
    assert rc == 2 and "is a mount point" in err


def test_full_disk_is_one_line_and_keeps_the_previous_site(portfolio, built_site, mount):
    size = sum(len(b) for b in _files(built_site).values())
    point = mount(f"size={size + (1 << 20)}")  # the site and 1 MiB to spare
    site = point / "site"
    shutil.copytree(built_site, site)
    before = _files(site)
    filler = point / "filler"
    try:  # fill the file system up to the last block
        with open(filler, "wb") as fh:
            while True:
                fh.write(b"\0" * 4096)
                fh.flush()
    except OSError as exc:
        assert exc.errno == 28  # ENOSPC
    r = _run(_argv(portfolio, site, "new"))
    assert r.returncode == 1
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith(f"research report: error: {point}") and "No space left on device" in lines[0]
    assert _files(site) == before
    assert _leftovers(site) == []
    filler.unlink()
    r = _run(_argv(portfolio, site, "new"))
    assert r.returncode == 0, r.stderr
    _assert_consistent(site, "new")


# ------------------------------------------------------------------------ parameters vs data
@pytest.mark.parametrize("name, value, message", [
    ("estimation_length", "99999999999999999999999999", "the longest that fits is 688"),
    ("estimation_length", "1000000", "the longest that fits is 688"),
    ("event_windows", "[[0,100000]]", "the latest window end that fits is +593"),
])
def test_windows_the_data_cannot_hold_are_parameter_errors(tmp_path, name, value, message):
    # SPY in the snapshot: 2023-01-03 .. 2026-05-29 = 854 XNYS sessions, 699 of them up to
    # as_of 2025-10-15: estimation_length <= 699 - 11 = 688; a window end <= 854 - 250 - 11
    rc, err = _cli("-o", str(tmp_path / "site"), "--no-progress", "-p", name, value)
    assert rc == 2 and message in err and "Traceback" not in err, err
    assert "invalid report parameters (nothing was run)" in err
    assert not (tmp_path / "site").exists()


def test_corrupt_snapshot_is_reported_as_data_with_the_rebuild_command(tmp_path):
    from research.data import paths

    data = tmp_path / "data"
    shutil.copytree(paths.REPO_ROOT / "data", data)
    pq_file = data / "snapshot" / "prices.parquet"
    raw = bytearray(pq_file.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    pq_file.write_bytes(bytes(raw))
    r = subprocess.run([str(SCRIPT), "report", "-o", str(tmp_path / "site"), "--no-progress"],
                       capture_output=True, text=True, timeout=300,
                       env={**os.environ, "RESEARCH_DATA_DIR": str(data)})
    assert r.returncode == 2, r.stderr
    assert "the price data cannot be used (nothing was run)" in r.stderr
    assert "checksum mismatch" in r.stderr and "build-snapshot --from ../shared/market-data" in r.stderr
    assert "invalid report parameters" not in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "site").exists()


@pytest.mark.parametrize("field, value, message", [
    ("rows", "many", "'rows' must be a non-negative integer, got 'many'"),
    ("tickers", None, "'tickers' must be a non-empty mapping"),
    ("sha256", 42, "'sha256' must be 64 lowercase hex digits"),
    ("tickers.SPY.first", None, "tickers.SPY.first must be a string, got None"),
])
def test_data_info_validates_the_manifest_schema(tmp_path, field, value, message):
    from research.data import paths

    snap = tmp_path / "snapshot"
    shutil.copytree(paths.REPO_ROOT / "data" / "snapshot", snap)
    man = json.loads((snap / "MANIFEST.json").read_text())
    *path, last = field.split(".")
    node = man
    for k in path:
        node = node[k]
    node[last] = value
    (snap / "MANIFEST.json").write_text(json.dumps(man))
    r = subprocess.run([str(SCRIPT), "data", "info", "--data-dir", str(tmp_path)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 1 and "Traceback" not in r.stderr, r.stderr
    assert message in r.stderr and "build-snapshot" in r.stderr
