"""One design for every page of the real site, and the whole site as one file.

* Every page (index included) carries the same sidebar: every page of the site and every
  claim of claims.json with its verdict's words on a badge; previous/next links chain the
  pages in the sidebar's order; index and pages share one stylesheet; the parameters are
  a table, not a kwargs string.
* In headless Chromium (1,400 px and 760 px wide) no page overflows the window
  horizontally, the sidebar does not make a page taller, and page heights are recorded.
* ``--single-file`` / ``python -m research.report.singlefile``: one HTML file whose
  ``#page-...`` address shows that page alone, whose ``#<page>--<id>`` anchors land on the
  page holding them, whose links all resolve inside the file, and which makes no network
  request (Chromium's network log).

The HTML is read with the stdlib parser, not with the code under test.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

pytest.register_assert_rewrite("_report_sites")
from _report_sites import FIXTURE_PORTFOLIO, Site, run_cli, site_problems
from _requirements import require_chromium

pytest_plugins = ["_report_sites"]

pytestmark = pytest.mark.slow


class _Nav(HTMLParser):
    """The links and badges inside ``<nav id="site-nav">`` and ``<nav class="rp-pager">``;
    the ``<style>`` blocks and the ``id`` of every element."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.depth = 0  # > 0 inside the sidebar
        self.pager = 0
        self.nav_links: list[str] = []
        self.current: list[str] = []
        self.claims: dict[str, str] = {}  # claim id -> badge text
        self._claim: str | None = None
        self._badge = False
        self.prev: str | None = None
        self.next: str | None = None
        self.styles: list[str] = []
        self._style = False
        self.ids: list[str] = []
        self.hrefs: list[str] = []
        self.loads: list[str] = []  # src/href that the browser would fetch

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get("id"):
            self.ids.append(a["id"])
        if tag == "a" and a.get("href") is not None:
            self.hrefs.append(a["href"])
        if tag in ("img", "script", "iframe", "source", "embed", "video", "audio") and a.get("src"):
            self.loads.append(a["src"])
        if tag == "link" and a.get("href"):
            self.loads.append(a["href"])
        if tag == "style":
            self._style = True
            self.styles.append("")
        if tag == "nav" and a.get("id") == "site-nav":
            self.depth = 1
        elif tag == "nav" and "rp-pager" in (a.get("class") or ""):
            self.pager = 1
        elif self.depth and tag == "nav":
            self.depth += 1
        if self.depth and tag == "a":
            self.nav_links.append(a.get("href") or "")
            if a.get("aria-current") == "page":
                self.current.append(a.get("href") or "")
        if self.depth and tag == "li" and a.get("data-claim"):
            self._claim = a["data-claim"]
            self.claims[self._claim] = ""
        if self.depth and tag == "span" and "badge" in (a.get("class") or "").split():
            self._badge = True
        if self.pager and tag == "a":
            if a.get("rel") == "prev":
                self.prev = a.get("href")
            if a.get("rel") == "next":
                self.next = a.get("href")

    def handle_endtag(self, tag):
        if tag == "style":
            self._style = False
        if tag == "nav" and self.depth:
            self.depth -= 1
        elif tag == "nav" and self.pager:
            self.pager = 0
        if tag == "span":
            self._badge = False
        if tag == "li":
            self._claim = None

    def handle_data(self, data):
        if self._style:
            self.styles[-1] += data
        if self._badge and self._claim:
            self.claims[self._claim] += data


def _parse(text: str) -> _Nav:
    p = _Nav()
    p.feed(text)
    return p


@pytest.fixture(scope="module")
def site(real_site: Site) -> Path:
    assert real_site.rc == 0, real_site.stderr
    return real_site.out


def _pages(site: Path) -> list[Path]:
    return sorted(site.glob("*.html"))


def test_every_page_has_the_same_sidebar_with_every_page_and_claim(site: Path):
    claims = {c["claim_id"]: c for c in json.loads((site / "claims.json").read_text(encoding="utf-8"))}
    names = {p.name for p in _pages(site)}
    assert len(names) >= 5 and "index.html" in names
    sidebars = {}
    for page in _pages(site):
        nav = _parse(page.read_text(encoding="utf-8"))
        linked = {h.split("#")[0] for h in nav.nav_links}
        assert linked == names, (page.name, names ^ linked)
        assert nav.current == [page.name], (page.name, nav.current)
        # every claim, its badge showing the verdict's words (never colour alone)
        assert {k: v.strip() for k, v in nav.claims.items()} == {k: c["verdict"] for k, c in claims.items()}, page.name
        for cid, c in claims.items():
            assert f"{c['page']}.html#{cid}" in nav.nav_links, (page.name, cid)
        sidebars[page.name] = [h for h in nav.nav_links]
    assert len({tuple(v) for v in sidebars.values()}) == 1  # the same links everywhere


def test_previous_and_next_chain_the_pages_in_sidebar_order(site: Path):
    order = list(dict.fromkeys(h.split("#")[0] for h in _parse((site / "index.html").read_text()).nav_links))
    assert order[0] == "index.html"
    for i, name in enumerate(order):
        nav = _parse((site / name).read_text(encoding="utf-8"))
        assert nav.prev == (order[i - 1] if i else None), name
        assert nav.next == (order[i + 1] if i + 1 < len(order) else None), name


def test_one_stylesheet_and_no_external_asset(site: Path):
    shared = set()
    for page in _pages(site):
        styles = [s for s in _parse(page.read_text(encoding="utf-8")).styles if ".rp-sidebar" in s]
        assert len(styles) == 1, page.name
        shared.add(styles[0].strip())
        assert "@media print" in styles[0] and "@media (max-width" in styles[0]
    assert len(shared) == 1  # the index and the pages: the very same stylesheet
    assert site_problems(site) == []
    for page in _pages(site):
        text = page.read_text(encoding="utf-8")
        assert not re.search(r"@import|url\(\s*['\"]?(https?:)?//", text), page.name


def test_parameters_are_a_table_on_the_index(site: Path):
    text = (site / "index.html").read_text(encoding="utf-8")
    block = re.search(r'id="parameters">(.*?)</div>', text, re.S).group(1)
    assert "<table" in block and "event windows" in html.unescape(block)
    assert "event_windows=[[" not in html.unescape(text)


# --------------------------------------------------------------------------------------
# in the browser
# --------------------------------------------------------------------------------------
_LAYOUT_PROBE = """<script>
window.addEventListener('load', function () {
  var nav = document.getElementById('site-nav'), main = document.querySelector('main.rp-content');
  var r = nav.getBoundingClientRect(), m = main.getBoundingClientRect();
  document.body.setAttribute('data-layout', JSON.stringify({
    doc: document.documentElement.scrollHeight, main_bottom: m.bottom + scrollY,
    nav_h: r.height, nav_left: r.left, main_left: m.left, main_top: m.top + scrollY, nav_bottom: r.bottom + scrollY,
    inner_h: innerHeight}));
});
</script>"""


def _chromium_dom(exe: str, url: str, profile: Path, width: int, *extra: str) -> str:
    cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--hide-scrollbars", "--disable-background-networking", "--disable-component-update",
           "--disable-sync", f"--user-data-dir={profile}", f"--window-size={width},900",
           "--virtual-time-budget=10000", *extra, "--dump-dom", url]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


def _attr(dom: str, name: str) -> str:
    m = re.search(rf'{name}="([^"]*)"', dom)
    assert m, f"probe attribute {name} missing"
    return html.unescape(m.group(1))


@pytest.fixture(scope="module")
def shots(site: Path, tmp_path_factory):
    exe = require_chromium()
    from research.report.screenshots import screenshot_site

    dest = tmp_path_factory.mktemp("design_shots")
    return exe, dest, screenshot_site(site, dest=dest, width=1400, exe=exe)


def test_screenshots_of_every_page_fit_the_window(site: Path, shots):
    exe, dest, taken = shots
    assert sorted(s.page for s in taken) == [p.name for p in _pages(site)]
    heights = json.loads((dest / "heights.json").read_text())
    assert heights == {s.page: s.height for s in taken}
    for s in taken:
        assert s.png.stat().st_size > 10_000, s.page
        assert s.overflow == 0, f"{s.page} is {s.overflow} px wider than the 1400 px window"
    print("page heights at 1400 px:", heights)


@pytest.mark.parametrize("width", [1400, 760])
def test_sidebar_beside_or_above_the_content_and_never_taller_than_it(site: Path, tmp_path, width):
    exe = require_chromium()
    from research.report.screenshots import measure_page

    for page in _pages(site):
        m = measure_page(page, exe=exe, profile=tmp_path / "p", width=width)
        assert m.overflow == 0, f"{page.name} overflows the {width} px window by {m.overflow} px"
        probe = page.with_name(f".layout_{page.name}")
        probe.write_text(page.read_text(encoding="utf-8").replace("</body>", _LAYOUT_PROBE + "</body>", 1),
                         encoding="utf-8")
        try:
            lay = json.loads(_attr(_chromium_dom(exe, probe.as_uri(), tmp_path / "p", width), "data-layout"))
        finally:
            probe.unlink()
        # the page is as tall as its content column: the sidebar adds no height
        assert lay["doc"] <= lay["main_bottom"] + 2, (page.name, lay)
        if width >= 1000:  # a sidebar to the left of the content, at most one screen tall
            assert lay["nav_left"] < lay["main_left"] and lay["nav_h"] <= lay["inner_h"] + 1, (page.name, lay)
        else:  # a top bar above the content
            assert lay["nav_bottom"] <= lay["main_top"] + 1, (page.name, lay)


# --------------------------------------------------------------------------------------
# the single file
# --------------------------------------------------------------------------------------
_SECTIONS_PROBE = """<script>
window.addEventListener('load', function () {
  var s = [].map.call(document.querySelectorAll('section.rp-page'), function (x) {
    return [x.id, x.getBoundingClientRect().height > 0 && getComputedStyle(x).display !== 'none'];
  });
  document.body.setAttribute('data-sections', JSON.stringify({sections: s, y: scrollY}));
});
</script>"""


@pytest.fixture(scope="module")
def single(site: Path, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("single") / "site.html"
    proc = subprocess.run([sys.executable, "-m", "research.report.singlefile", str(site), str(out)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "single file:" in proc.stdout
    return out


def test_single_file_is_whole_and_self_contained(site: Path, single: Path):
    text = single.read_text(encoding="utf-8")
    p = _parse(text)
    pages = [q.stem if q.name != "index.html" else "index" for q in _pages(site)]
    sections = re.findall(r'<section id="page-([^"]+)"', text)
    assert sorted(sections) == sorted(pages) and sections[0] == "index"
    assert len(p.styles) == 1 and text.count("<style") == 1
    assert not re.search(r"<section[^>]*\shidden", text)  # without scripts every page shows
    assert all(src.startswith("data:") for src in p.loads), [s[:60] for s in p.loads if not s.startswith("data:")]
    assert not re.search(r"@import|url\(\s*['\"]?(https?:)?//", text)
    ids = set(p.ids)
    assert len(ids) == len(p.ids), "duplicate element ids"
    for href in p.hrefs:  # every link inside the file resolves; pages are anchors now
        assert not href.endswith(".html") and ".html#" not in href, href
        if href.startswith("#"):
            assert href[1:] in ids, href
    # every claim of every page is reachable, and the data files travel along
    for c in json.loads((site / "claims.json").read_text(encoding="utf-8")):
        assert f"{c['page']}--{c['claim_id']}" in ids
    assert any(h.startswith("data:application/json") for h in p.hrefs)


@pytest.mark.parametrize("fragment, shown", [("page-01_quantum_rally", "page-01_quantum_rally"),
                                             ("02_rare_earth_shock--C5", "page-02_rare_earth_shock"),
                                             ("", "page-index")])
def test_single_file_shows_the_addressed_page_alone(single: Path, tmp_path, fragment, shown):
    exe = require_chromium()
    probe = single.with_name(f".probe_{fragment or 'none'}_{single.name}")
    probe.write_text(single.read_text(encoding="utf-8").replace("</body>", _SECTIONS_PROBE + "</body>", 1),
                     encoding="utf-8")
    try:
        dom = _chromium_dom(exe, probe.as_uri() + (f"#{fragment}" if fragment else ""), tmp_path / "p", 1400)
    finally:
        probe.unlink()
    state = json.loads(_attr(dom, "data-sections"))
    visible = [sid for sid, vis in state["sections"] if vis]
    assert visible == [shown], state
    assert len(state["sections"]) >= 5
    if "--" in fragment:  # scrolled down to the claim's section on its page
        assert state["y"] > 200, state


def _page_requests(netlog: Path) -> list[str]:
    """URLs of network requests the page made (not the browser's own background ones)."""
    d = json.loads(netlog.read_text(encoding="utf-8"))
    start = d["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    return [ev["params"]["url"] for ev in d["events"]
            if ev["type"] == start and "file://" in str(ev["params"].get("network_isolation_key", ""))
            and not ev["params"]["url"].startswith(("file:", "data:"))]


def test_single_file_makes_no_network_request(single: Path, tmp_path):
    exe = require_chromium()
    control = tmp_path / "control.html"  # the check can fail: a page that does load something
    control.write_text('<html><body><img src="http://example.invalid/x.png"></body></html>', encoding="utf-8")
    for page, expect in ((control, ["http://example.invalid/x.png"]), (single, [])):
        log = tmp_path / f"{page.stem}.netlog.json"
        _chromium_dom(exe, page.as_uri() + "#page-02_rare_earth_shock", tmp_path / f"p-{page.stem}", 1400,
                      f"--log-net-log={log}")
        assert _page_requests(log) == expect, page.name


def test_report_single_file_option_writes_one_file(tmp_path):
    """``research report --single-file PATH`` on a one-page fixture build."""
    from research.report.cli import main

    out, single = tmp_path / "site", tmp_path / "share" / "site.html"
    single.parent.mkdir()
    rc, stdout, stderr = run_cli(main, ["--portfolio", str(FIXTURE_PORTFOLIO), "--output", str(out),
                                        "--notebook", "passing", "--no-progress", "--single-file", str(single)])
    assert rc == 0, stderr
    assert f"single file: {single}" in stdout
    text = single.read_text(encoding="utf-8")
    assert '<section id="page-index"' in text and '<section id="page-passing"' in text
    assert "passing--C1" in text and 'href="#passing--C1"' in text
    assert [p.name for p in single.parent.iterdir()] == ["site.html"]  # no temporary file left


def test_single_file_refuses_a_page_that_is_not_self_contained(site: Path, tmp_path):
    from research.errors import ReportError
    from research.report.singlefile import write_single_file

    copy = tmp_path / "site"
    shutil.copytree(site, copy, ignore=shutil.ignore_patterns("executed", "screenshots"))
    page = copy / "what_happened_next.html"
    page.write_text(page.read_text(encoding="utf-8").replace("</main>", '<img src="chart.png"></main>', 1),
                    encoding="utf-8")
    dest = tmp_path / "single.html"
    with pytest.raises(ReportError, match="not embedded"):
        write_single_file(copy, dest)
    assert not dest.exists()
    assert subprocess.run([sys.executable, "-m", "research.report.singlefile", str(tmp_path / "nope"),
                           str(dest)], capture_output=True, text=True).returncode == 1
