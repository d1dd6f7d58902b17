"""Full-page screenshots of every page of the real site in headless Chromium (what
``make reports`` keeps under reports/screenshots/): each is a real rendered page, its
height is recorded, and no page is taller than a reader can take in.

Without Chromium these tests skip with the reason (a lone clone); with
RESEARCH_REQUIRE_BROWSER=1 (CI) a missing Chromium is a failure."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

pytest.register_assert_rewrite("_report_sites")
from _report_sites import Site

pytest_plugins = ["_report_sites"]

from _requirements import require_chromium  # noqa: E402
from research.report.screenshots import WIDTH, find_chromium, main  # noqa: E402

pytestmark = pytest.mark.slow

#: Tallest page allowed (CSS px at WIDTH = 1400 px wide): about four laptop screens.
MAX_PAGE_HEIGHT = 7000


@pytest.fixture(scope="module")
def shots(real_site: Site, tmp_path_factory):
    if find_chromium() is None:
        if os.environ.get("RESEARCH_REQUIRE_BROWSER") == "1":
            pytest.fail("RESEARCH_REQUIRE_BROWSER=1 but headless Chromium is not on PATH")
        pytest.skip("headless Chromium is not installed (apt-get install -y chromium)")
    from research.report.screenshots import screenshot_site

    assert real_site.rc == 0, real_site.stderr
    dest = tmp_path_factory.mktemp("shots")
    return dest, screenshot_site(real_site.out, dest=dest)


def test_every_page_has_a_full_height_screenshot(shots, real_site: Site):
    dest, taken = shots
    pages = sorted(p.name for p in real_site.out.glob("*.html"))
    assert sorted(s.page for s in taken) == pages
    heights = json.loads((dest / "heights.json").read_text())
    for s in taken:
        img = np.asarray(Image.open(s.png).convert("RGB")).astype(float)
        assert img.shape[1] == WIDTH and img.shape[0] == min(s.height, 30_000), s.page
        assert img.std() > 5, f"{s.page}: blank screenshot"
        assert (img.mean(axis=2) < 100).sum() > 2000, f"{s.page}: no text rendered"
        assert heights[s.page] == s.height


def test_no_page_is_taller_than_it_needs_to_be(shots):
    _, taken = shots
    too_tall = {s.page: s.height for s in taken if s.height > MAX_PAGE_HEIGHT}
    assert not too_tall, too_tall


def test_without_chromium_make_reports_says_so_in_one_line(tmp_path):
    env = dict(os.environ, PATH=str(tmp_path))  # no chromium on this PATH
    proc = subprocess.run([sys.executable, "-m", "research.report.screenshots", str(tmp_path)],
                          capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0
    assert proc.stdout.strip().count("\n") == 0 and "Chromium is not installed" in proc.stdout
    assert main([str(tmp_path)]) == 0


def test_make_reports_relative_site_path(tmp_path, monkeypatch):
    """`make reports` runs ``python -m research.report.screenshots reports``: a path
    relative to the working directory, which has no file:// URI until it is resolved."""
    require_chromium()
    site = tmp_path / "reports"
    site.mkdir()
    (site / "index.html").write_text("<!doctype html><html><body><h1>Index</h1>"
                                     + "<p>text</p>" * 40 + "</body></html>", encoding="utf-8")
    (site / "page.html").write_text("<!doctype html><html><body><h1>Page</h1></body></html>",
                                    encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert main(["reports"]) == 0
    pngs = sorted(p.name for p in (site / "screenshots").glob("*.png"))
    assert pngs == ["index.png", "page.png"]
    assert all((site / "screenshots" / p).stat().st_size > 0 for p in pngs)
    assert sorted(json.loads((site / "screenshots/heights.json").read_text())) == ["index.html", "page.html"]
