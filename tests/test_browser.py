"""Open the report site in headless Chromium: the pages render, every image loads,
links are not broken, and a screenshot of index.html shows a real page.

Chromium is the Debian package ``chromium`` (``apt-get install -y chromium``; .ci/run
installs it and sets ``RESEARCH_REQUIRE_BROWSER=1``). Without it these tests are skipped
with the reason on a lone clone, and FAIL where the browser is required (``_requirements``).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

pytest.register_assert_rewrite("_report_sites")  # before the import (it is also a plugin)
from _report_sites import Site, site_problems
from _requirements import require_chromium

# the session-scoped site builds (one per session, shared by all modules)
pytest_plugins = ["_report_sites"]

pytestmark = pytest.mark.slow

_CHECK_SCRIPT = """
<script>
window.addEventListener('load', function () {
  var imgs = Array.prototype.slice.call(document.images);
  var bad = imgs.filter(function (i) { return !(i.complete && i.naturalWidth > 0); })
                .map(function (i) { return (i.getAttribute('src') || '').slice(0, 60); });
  document.body.setAttribute('data-imgcheck', JSON.stringify({n: imgs.length, bad: bad}));
});
</script>
"""


def _chromium() -> str:
    return require_chromium()


@pytest.fixture(autouse=True)
def _needs_chromium() -> None:
    """Decide skip/fail before the (slow) site fixtures are built."""
    require_chromium()


def _run(args: list[str], profile: Path) -> subprocess.CompletedProcess:
    cmd = [_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           f"--user-data-dir={profile}", *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, f"chromium failed ({proc.returncode}): {proc.stderr[-2000:]}"
    return proc


@pytest.fixture(params=["fixture_site", "real_site"])
def site_copy(request, tmp_path) -> Path:
    """A private copy of a built site (the checks add files next to the pages)."""
    site: Site = request.getfixturevalue(request.param)
    assert (site.out / "index.html").is_file(), f"{request.param} built no index.html:\n{site.stderr}"
    dest = tmp_path / "site"
    shutil.copytree(site.out, dest)
    return dest


def _loaded_dom(page: Path, profile: Path) -> str:
    """The DOM of ``page`` after load, with an image check injected (copy beside it)."""
    probe = page.with_name(f"_probe_{page.name}")
    probe.write_text(page.read_text(encoding="utf-8").replace("</body>", _CHECK_SCRIPT + "</body>", 1),
                     encoding="utf-8")
    try:
        proc = _run(["--virtual-time-budget=15000", "--dump-dom", probe.as_uri()], profile)
    finally:
        probe.unlink()
    return proc.stdout


def test_every_page_renders_with_all_images_loaded(site_copy: Path, tmp_path):
    pages = sorted(site_copy.glob("*.html"))
    assert "index.html" in [p.name for p in pages] and len(pages) >= 2
    for page in pages:
        dom = _loaded_dom(page, tmp_path / "profile")
        m = re.search(r"data-imgcheck=\"([^\"]*)\"", dom)
        assert m, f"{page.name}: the load check did not run; DOM starts {dom[:300]!r}"
        check = json.loads(m.group(1).replace("&quot;", '"'))
        assert check["bad"] == [], f"{page.name}: images that did not load: {check['bad']}"
        if page.name != "index.html":
            assert "jp-Notebook" in dom


def test_index_dom_has_the_scoreboard(site_copy: Path, tmp_path):
    dom = _loaded_dom(site_copy / "index.html", tmp_path / "profile")
    claims = json.loads((site_copy / "claims.json").read_text())
    shown = dict(re.findall(r'data-claim="(C\d+)" data-verdict="([^"]+)"', dom))
    assert shown == {c["claim_id"]: c["verdict"] for c in claims}


def test_no_missing_images_or_broken_links(site_copy: Path):
    assert site_problems(site_copy) == []


def test_index_screenshot_is_a_real_page(site_copy: Path, tmp_path):
    shot = site_copy / "index.png"  # kept under the (temporary) output dir
    _run(["--window-size=1280,2000", f"--screenshot={shot}", (site_copy / "index.html").as_uri()],
         tmp_path / "profile")
    assert shot.stat().st_size > 20_000
    img = np.asarray(Image.open(shot).convert("RGB")).astype(float)
    assert img.shape == (2000, 1280, 3)
    assert img.std() > 5  # not a blank (single-colour) page
    # the verdict badges are coloured: some strongly saturated pixels exist
    saturation = img.max(axis=2) - img.min(axis=2)
    assert (saturation > 80).sum() > 200
    # text rendered: many dark pixels in the top band (title, source, as-of lines)
    assert (img[:300].mean(axis=2) < 100).sum() > 2000
