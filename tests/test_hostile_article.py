"""A hostile article directory: nothing it names is read from outside it, no parser can be
made to exhaust memory or raise a traceback, caches are not trusted, and a published page
loads nothing from the network.

Every case builds a real article directory (a copy of the fixture article, or a
``research article new`` scaffold) with real links, FIFOs and sparse files, and runs the
real ``research article check`` / ``load_article``; the page test renders a real report
page and opens it in headless Chromium against a local HTTP server that counts requests.
"""

from __future__ import annotations

import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from _requirements import require_chromium

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "fixtures" / "articles" / "chips-and-tariffs"
SECRET = "SECRET-7f3a-do-not-publish"
GIB = 1 << 30


# ---- helpers ------------------------------------------------------------------------------
def _article(tmp_path: Path) -> Path:
    art = tmp_path / "art"
    shutil.copytree(FIXTURE, art)
    return art


def _secret(tmp_path: Path) -> Path:
    f = tmp_path / "secret.md"
    f.write_text(f"{SECRET}\n", encoding="utf-8")
    return f


def _check(art: Path) -> tuple[int, str]:
    """``research article check DIR`` in this process: (exit code, stdout + stderr)."""
    from _report_sites import run_cli
    from research.cli import main

    rc, out, err = run_cli(main, ["article", "check", str(art)])
    return rc, out + err


def _bounded(code: str, *, mem: int = GIB, timeout: float = 30) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter limited to ``mem`` bytes of address space."""
    pre = f"import resource\nresource.setrlimit(resource.RLIMIT_AS, ({mem}, {mem}))\n"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT / "tests")])}
    return subprocess.run([sys.executable, "-c", pre + code], capture_output=True, text=True, timeout=timeout,
                          env=env)


def _set_intro(art: Path, intro: str) -> None:
    lay = art / "layout.yaml"
    text = lay.read_text(encoding="utf-8")
    assert "intro: intro-shocks.md" in text
    lay.write_text(text.replace("intro: intro-shocks.md", f"intro: {json.dumps(intro)}"), encoding="utf-8")


def _refused(rc: int, out: str, *names: str) -> None:
    assert rc == 1, out
    for n in names:
        assert n in out, out
    assert SECRET not in out
    assert "root:x:0" not in out
    assert "Traceback" not in out


# ---- 1. nothing outside the article is read -------------------------------------------------
@pytest.mark.parametrize("intro", ["../secret.md", "ABSOLUTE", "/etc/passwd", "/proc/self/environ",
                                   "pages/../../secret.md"])
def test_an_intro_outside_the_article_is_refused(tmp_path, intro):
    art, secret = _article(tmp_path), _secret(tmp_path)
    intro = str(secret) if intro == "ABSOLUTE" else intro
    _set_intro(art, intro)
    rc, out = _check(art)
    _refused(rc, out, "layout.yaml", intro, "leaves the article directory")


@pytest.mark.parametrize("name", ["intro-shocks.md", "prose/deepseek-selloff.md", "pages/what_happened_next.md",
                                  "article.md", "events.csv", "claims.yaml", "layout.yaml"])
def test_a_symlink_to_a_file_outside_is_refused(tmp_path, name):
    from research.claims import load_article
    from research.errors import ClaimError

    art, secret = _article(tmp_path), _secret(tmp_path)
    (art / name).parent.mkdir(exist_ok=True)
    (art / name).unlink(missing_ok=True)
    (art / name).symlink_to(secret)
    rc, out = _check(art)
    _refused(rc, out, name, "symbolic link")
    with pytest.raises(ClaimError) as exc:  # what `research report` loads the article with
        load_article(art, check_tickers=False)
    assert name in str(exc.value) and SECRET not in str(exc.value)


def test_a_symlinked_directory_on_the_path_is_refused(tmp_path):
    art, outside = _article(tmp_path), tmp_path / "outside"
    outside.mkdir()
    (outside / "intro.md").write_text(SECRET, encoding="utf-8")
    (art / "sub").symlink_to(outside, target_is_directory=True)
    _set_intro(art, "sub/intro.md")
    rc, out = _check(art)
    _refused(rc, out, "layout.yaml", "sub/intro.md", "links are refused")


def test_a_fifo_is_refused_without_blocking(tmp_path):
    art = _article(tmp_path)
    os.mkfifo(art / "fifo.md")
    _set_intro(art, "fifo.md")
    # a blocking open of a FIFO with no writer would hang: the timeout makes that a failure
    proc = _bounded(f"from research.cli import main\nraise SystemExit(main(['article', 'check', {str(art)!r}]))",
                    mem=4 * GIB, timeout=120)
    _refused(proc.returncode, proc.stdout + proc.stderr, "fifo.md", "FIFO")


def test_an_oversized_intro_is_refused(tmp_path):
    from research.data.sandbox import TEXT_LIMIT

    art = _article(tmp_path)
    (art / "big.md").write_text("a" * (TEXT_LIMIT + 1), encoding="utf-8")
    _set_intro(art, "big.md")
    rc, out = _check(art)
    _refused(rc, out, "big.md", "larger than")
    (art / "big.md").write_text("a" * TEXT_LIMIT, encoding="utf-8")  # at the limit: accepted
    assert _check(art)[0] == 0


@pytest.mark.parametrize("how", ["regular", "symlink"])
def test_a_huge_sparse_file_is_refused_without_reading_it(tmp_path, how):
    art, huge = _article(tmp_path), tmp_path / "huge.md"
    with open(huge, "wb") as fh:
        fh.truncate(3 * GIB)  # sparse: no disk used
    if how == "regular":
        huge = huge.rename(art / "huge.md")
    else:
        (art / "huge.md").symlink_to(huge)
    _set_intro(art, "huge.md")
    code = ("from research.claims import inspect_article\n"
            f"art, probs = inspect_article({str(art)!r}, tickers=False)\n"
            "print('\\n'.join(str(p) for p in probs))\n")
    proc = _bounded(code, mem=GIB, timeout=60)  # reading 3 GiB would exceed the 1 GiB address space
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "huge.md" in proc.stdout
    assert ("larger than" if how == "regular" else "symbolic link") in proc.stdout


def test_files_the_article_does_not_name_are_not_read_for_the_cache_key(tmp_path):
    art = _article(tmp_path)
    with open(art / "notes.bin", "wb") as fh:
        fh.truncate(3 * GIB)
    (art / "elsewhere.md").symlink_to(_secret(tmp_path))
    code = ("from research.claims import load_article\n"
            "from research.claims.gridcache import grid_key\n"
            "from research.claims.params import EvalParams\n"
            "from research.claims.robustness import SpecificationGrid\n"
            f"art = load_article({str(art)!r}, check_tickers=False)\n"
            "print(grid_key(art, EvalParams(), SpecificationGrid()))\n")
    proc = _bounded(code, mem=GIB, timeout=60)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert re.fullmatch(r"[0-9a-f]{64}\n", proc.stdout)


def test_the_key_changes_with_a_file_the_article_reads(tmp_path):
    from research.claims import load_article

    art = _article(tmp_path)
    before = load_article(art, check_tickers=False).fingerprint
    (art / "prose" / "deepseek-selloff.md").write_text("changed prose\n", encoding="utf-8")
    after = load_article(art, check_tickers=False)
    assert after.fingerprint != before
    assert after.claim_prose("deepseek-selloff") == "changed prose\n"


# ---- 2. YAML --------------------------------------------------------------------------------
BOMB = "\n".join(
    [f'l0: &l0 [{", ".join(["lol"] * 9)}]']
    + [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]" for i in range(1, 10)]
) + "\n"


def test_a_yaml_bomb_is_refused_fast_with_bounded_memory(tmp_path):
    art = _article(tmp_path)
    (art / "claims.yaml").write_text(BOMB, encoding="utf-8")
    code = ("from research.claims import inspect_article\n"
            f"art, probs = inspect_article({str(art)!r}, tickers=False)\n"
            "print('\\n'.join(str(p) for p in probs))\n")
    proc = _bounded(code, mem=GIB, timeout=20)  # unbounded, this runs out of memory after minutes
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "claims.yaml:1: error: anchors and aliases" in proc.stdout


@pytest.mark.parametrize("text, expect", [
    ("claims: &c [*c]\n", "claims.yaml:1: error: anchors and aliases"),
    ("claims: " + "[" * 5000 + "]" * 5000 + "\n", "nested deeper than"),
    ("".join(" " * (2 * i) + "k:\n" for i in range(300)) + " " * 600 + "v\n", "nested deeper than"),
    ("base: &b {x: 1}\nclaims:\n  - <<: *b\n", "claims.yaml:1: error: anchors and aliases"),
])
def test_aliases_and_deep_nesting_are_refused(tmp_path, text, expect):
    art = _article(tmp_path)
    (art / "claims.yaml").write_text(text, encoding="utf-8")
    rc, out = _check(art)
    _refused(rc, out, expect)


def test_a_key_given_twice_names_both_lines(tmp_path):
    art = _article(tmp_path)
    path = art / "claims.yaml"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    first = next(i for i, ln in enumerate(lines) if ln.strip().startswith("direction:"))
    lines.insert(first + 1, lines[first].replace("down", "up"))
    path.write_text("".join(lines), encoding="utf-8")
    rc, out = _check(art)
    _refused(rc, out, f"claims.yaml:{first + 2}:", f"'direction' is given twice (lines {first + 1} and {first + 2})")

    art2 = tmp_path / "b"
    shutil.copytree(FIXTURE, art2)
    text = (art2 / "article.yaml").read_text(encoding="utf-8")
    one = text.splitlines().index(next(ln for ln in text.splitlines() if ln.startswith("as_of:"))) + 1
    (art2 / "article.yaml").write_text(text + "as_of: 2025-01-02\n", encoding="utf-8")
    last = len((art2 / "article.yaml").read_text(encoding="utf-8").splitlines())
    rc, out = _check(art2)
    _refused(rc, out, f"'as_of' is given twice (lines {one} and {last})")


def test_the_other_yaml_readers_have_the_same_limits(tmp_path):
    import yaml

    from research.claims.schema import YAMLLimitError, parse_yaml
    from research.errors import ReportError
    from research.report.portfolio import load_portfolio

    (tmp_path / "p.yaml").write_text(BOMB, encoding="utf-8")
    with pytest.raises(ReportError, match="anchors and aliases"):
        load_portfolio(tmp_path / "p.yaml")
    with pytest.raises(YAMLLimitError, match="nested deeper"):
        parse_yaml("[" * 5000 + "]" * 5000)
    assert parse_yaml("a: [1, {b: 2}]")[0] == yaml.safe_load("a: [1, {b: 2}]")


# ---- 3. dates and encodings ------------------------------------------------------------------
@pytest.mark.parametrize("date", ["0001-01-01", "9999-12-31"])
def test_an_as_of_outside_the_era_is_a_problem_not_a_traceback(tmp_path, date):
    art = _article(tmp_path)
    p = art / "article.yaml"
    p.write_text(re.sub(r"(?m)^as_of: .*$", f"as_of: {date}", p.read_text(encoding="utf-8")), encoding="utf-8")
    rc, out = _check(art)
    _refused(rc, out, "article.yaml:", f"as_of: {date} is outside the dates an article may name")
    assert "OutOfBounds" not in out


@pytest.mark.parametrize("date", ["0001-01-01", "9999-12-31"])
def test_an_event_date_outside_the_era_is_a_problem(tmp_path, date):
    art = _article(tmp_path)
    p = art / "events.csv"
    p.write_text(p.read_text(encoding="utf-8").replace(",2025-01-27,", f",{date},", 1), encoding="utf-8")
    rc, out = _check(art)
    _refused(rc, out, "events.csv", f"{date} is outside the dates")
    assert "OutOfBounds" not in out


def test_a_byte_order_mark_in_the_csvs_is_accepted(tmp_path):
    from research.claims import load_article

    plain = load_article(FIXTURE, check_tickers=False)
    art = _article(tmp_path)
    for name in ("events.csv", "facts.csv"):
        (art / name).write_bytes(b"\xef\xbb\xbf" + (art / name).read_bytes())
    rc, out = _check(art)
    assert rc == 0, out
    got = load_article(art, check_tickers=False)
    assert got.events == plain.events and got.facts == plain.facts


# ---- 4. the grid cache is not trusted ---------------------------------------------------------
def _tamper(raw: bytes) -> bytes:
    """The entry with one number changed and its header (with the MAC) kept."""
    head, _, body = raw.partition(b"\n")
    doc = json.loads(body)
    rec = next(iter(doc.values()))
    row = rec["grid"][0]
    row["estimate"] = (row["estimate"] or 0.0) + 0.5  # well-formed, plausible, wrong
    return head + b"\n" + json.dumps(doc, sort_keys=True).encode()


@pytest.mark.parametrize("bad", ["null", "list", "nested", "tampered", "key-swap"])
def test_a_malformed_or_tampered_cache_entry_is_recomputed(tmp_path, monkeypatch, caplog, bad):
    from research.claims import gridcache, load_article
    from research.claims.params import EvalParams
    from research.claims.robustness import SpecificationGrid, run_grid

    monkeypatch.setenv("RESEARCH_RESULTS_CACHE", str(tmp_path / "cache"))
    art = load_article(FIXTURE)
    grid = SpecificationGrid(proxies=("SPY",), models=("market",), estimation_lengths=(250,), windows=((0, 1),))
    fresh = {k: r.to_dict() for k, r in run_grid(art, EvalParams(), grid).items()}
    gridcache._MEMORY.clear()  # noqa: SLF001 - the disk entry is what is under test
    gridcache.cached_grid(art, EvalParams(), grid)
    folder = tmp_path / "cache" / "grid"
    (entry,) = folder.glob("*.json")
    assert (folder / ".hmac-key").stat().st_mode & 0o777 == 0o600
    if bad == "null":
        entry.write_text("null", encoding="utf-8")
    elif bad == "list":
        entry.write_text("[1, 2, 3]", encoding="utf-8")
    elif bad == "nested":
        entry.write_text("[" * 200_000 + "]" * 200_000, encoding="utf-8")
    elif bad == "tampered":
        entry.write_bytes(_tamper(entry.read_bytes()))
    else:  # a valid entry of another key, copied over this one
        other = EvalParams(alpha=0.1)
        gridcache.cached_grid(art, other, grid)
        src = folder / f"{gridcache.grid_key(art, other, grid)}.json"
        shutil.copyfile(src, entry)
    gridcache._MEMORY.clear()  # noqa: SLF001
    caplog.clear()
    with caplog.at_level("WARNING", logger="research.cache"):
        got = {k: r.to_dict() for k, r in gridcache.cached_grid(art, EvalParams(), grid).items()}
    assert json.dumps(got, sort_keys=True) == json.dumps(fresh, sort_keys=True)
    warned = [r for r in caplog.records if r.name == "research.cache"]
    assert len(warned) == 1 and "recomputing" in warned[0].getMessage()
    assert "\n" not in warned[0].getMessage()
    # the recomputed entry replaced the bad one and is served from disk without a warning
    gridcache._MEMORY.clear()  # noqa: SLF001
    caplog.clear()
    with caplog.at_level("WARNING", logger="research.cache"):
        again = {k: r.to_dict() for k, r in gridcache.cached_grid(art, EvalParams(), grid).items()}
    assert again == got and not caplog.records


# ---- 5. a published page loads nothing from outside ------------------------------------------
class _Counter(http.server.BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self):  # noqa: N802 - the http.server API
        type(self).hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.end_headers()

    def log_message(self, *args):
        pass


def _png() -> bytes:
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00")) + chunk(b"IEND", b""))


def _chromium_dom(exe: str, page: Path, profile: Path) -> str:
    cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           f"--user-data-dir={profile}", "--virtual-time-budget=10000", "--dump-dom", page.as_uri()]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


_LOADING = re.compile(r"<(?!a[\s>])(\w+)\b[^>]*?\s(?:src|href|srcset|poster|data|action|background)\s*=\s*"
                      r"[\"']?\s*(?:https?:)?//", re.I)


@pytest.mark.slow
def test_a_rendered_page_makes_no_network_request(tmp_path):
    from _report_sites import run_cli
    from research.cli import main

    exe = require_chromium()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Counter)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    _Counter.hits = []
    try:
        art, site = tmp_path / "x", tmp_path / "site"
        assert run_cli(main, ["article", "new", str(art)])[0] == 0
        (art / "prose").mkdir()
        (art / "pages").mkdir()
        (art / "pages" / "dot.png").write_bytes(_png())
        (art / "prose" / "outlook.md").write_text(
            f"Prose. ![beacon]({base}/prose.png) ![local](pages/dot.png) [a source]({base}/link) "
            f"<{base}/autolink> ![proto](//127.0.0.1:{server.server_address[1]}/proto.png)\n"
            f"<img src=\"{base}/raw.png\">\n", encoding="utf-8")
        (art / "pages" / "intro.md").write_text(f"Intro ![beacon]({base}/intro.png)\n", encoding="utf-8")
        lay = art / "layout.yaml"
        lay.write_text(lay.read_text(encoding="utf-8").replace("    claims: [outlook]",
                                                               "    intro: pages/intro.md\n    claims: [outlook]"),
                       encoding="utf-8")
        rc, out = _check(art)
        assert rc == 0, out
        rc, out, err = run_cli(main, ["report", "--article", str(art), "--notebook", "overview", "--output",
                                      str(site), "--no-progress"])
        assert rc == 0, out + err
        page = site / "overview.html"
        html = page.read_text(encoding="utf-8")
        assert f"{base}/prose.png" in html  # the prose is on the page, as a link
        (img,) = re.findall(r'<img [^>]*alt="local"[^>]*>', html)  # nbconvert may reorder attributes
        assert 'src="data:image/png;base64,' in img
        (link,) = re.findall(rf'<a [^>]*href="{re.escape(base)}/link"[^>]*>', html)
        assert 'class="rp-external"' in link and 'rel="noopener noreferrer nofollow"' in link
        for f in site.rglob("*.html"):
            text = f.read_text(encoding="utf-8")
            assert not _LOADING.findall(text), (f.name, _LOADING.findall(text))
            assert not re.search(r"url\(\s*[\"']?(?:https?:)?//|@import\s+[\"']?(?:https?:)?//", text), f.name
        dom = _chromium_dom(exe, page, tmp_path / "profile")
        assert "rp-external" in dom and 'alt="local"' in dom  # the page did render
        assert _Counter.hits == []
        # the probe can fail: the same page with one live image does hit the server
        probe = site / "probe.html"
        probe.write_text(html.replace("</body>", f'<img src="{base}/probe.png"></body>', 1), encoding="utf-8")
        _chromium_dom(exe, probe, tmp_path / "profile2")
        assert "/probe.png" in _Counter.hits
    finally:
        server.shutdown()
