"""Full-page screenshots of a report site in headless Chromium.

``screenshot_site(site_dir)`` measures each page in the browser (the page is loaded with a
probe script that records ``document.documentElement.scrollHeight``, and ``scrollWidth``
against ``innerWidth``: a page wider than the window overflows horizontally) and writes a
PNG of the whole page into ``<site>/screenshots/<page>.png``, plus
``screenshots/heights.json`` (page -> height in CSS pixels at the given width, details
collapsed as a reader first sees them).

Chromium is the Debian package ``chromium`` (``apt-get install -y chromium``). Without
it :func:`find_chromium` returns None and ``research report --screenshots`` says so in
one line and carries on.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from research.atomic import atomic_write_text
from research.errors import ReportError

__all__ = ["WIDTH", "PageMetrics", "PageShot", "chromium_command", "find_chromium", "measure_page", "page_height",
           "screenshot_site"]

#: Browser window width of the screenshots, CSS pixels (a laptop screen).
WIDTH = 1400
#: Tallest screenshot taken; a longer page is cut there (its height is still recorded).
MAX_HEIGHT = 30_000

_PROBE = """
<script>
window.addEventListener('load', function () {
  document.body.setAttribute('data-page-height',
    String(Math.max(document.documentElement.scrollHeight, document.body.scrollHeight)));
  document.body.setAttribute('data-page-width',
    String(document.documentElement.scrollWidth) + ' ' + String(window.innerWidth));
});
</script>
"""


@dataclass(frozen=True)
class PageMetrics:
    """A page measured in the browser (CSS px): its height, the width of its content
    (``scrollWidth``) and the window's (``innerWidth``)."""

    height: int
    scroll_width: int
    window_width: int

    @property
    def overflow(self) -> int:
        """How far the page sticks out of the window to the right (0: it fits)."""
        return max(0, self.scroll_width - self.window_width)


@dataclass(frozen=True)
class PageShot:
    """One page's screenshot: the page file name, its height (CSS px), the PNG and how far
    it overflows the window horizontally (px)."""

    page: str
    height: int
    png: Path
    overflow: int = 0


def find_chromium() -> str | None:
    """The Chromium executable on PATH (``chromium`` or ``chromium-browser``), or None."""
    return shutil.which("chromium") or shutil.which("chromium-browser")


def chromium_command(exe: str, profile: Path, *args: str) -> list[str]:
    """The headless Chromium command line used for every page (offline, no sandbox)."""
    return [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--hide-scrollbars", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", f"--user-data-dir={profile}", *args]


def _run(cmd: list[str]) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
    if proc.returncode != 0:
        raise ReportError(f"chromium failed ({proc.returncode}): {proc.stderr.strip()[-500:]}")
    return proc


def measure_page(page: Path, *, exe: str, profile: Path, width: int = WIDTH, fragment: str = "") -> PageMetrics:
    """Measure ``page`` (opened at ``#fragment`` when given) in headless Chromium ``width``
    CSS px wide: its height and whether it fits the window horizontally."""
    page = page.resolve()
    probe = page.with_name(f".probe_{page.name}")
    probe.write_text(page.read_text(encoding="utf-8").replace("</body>", _PROBE + "</body>", 1),
                     encoding="utf-8")
    try:
        proc = _run(chromium_command(exe, profile, f"--window-size={width},800",
                                     "--virtual-time-budget=10000", "--dump-dom",
                                     probe.as_uri() + (f"#{fragment}" if fragment else "")))
    finally:
        probe.unlink(missing_ok=True)
    h = re.search(r'data-page-height="(\d+)"', proc.stdout)
    w = re.search(r'data-page-width="(\d+) (\d+)"', proc.stdout)
    if not h or not w:
        raise ReportError(f"{page.name}: could not measure the page in Chromium")
    return PageMetrics(int(h.group(1)), int(w.group(1)), int(w.group(2)))


def page_height(page: Path, *, exe: str, profile: Path, width: int = WIDTH) -> int:
    """Height of ``page`` in CSS pixels at ``width``, measured in headless Chromium."""
    return measure_page(page, exe=exe, profile=profile, width=width).height


def screenshot_site(site: str | Path, *, dest: str | Path | None = None, width: int = WIDTH,
                    exe: str | None = None) -> list[PageShot]:
    """Screenshot every ``*.html`` page of ``site`` at full height.

    Parameters
    ----------
    site
        The report directory (``index.html`` and the pages).
    dest
        Folder of the PNGs and ``heights.json``; default ``<site>/screenshots``.
    width
        Window width in CSS pixels (default :data:`WIDTH`).
    exe
        Chromium executable; default :func:`find_chromium`.

    Raises
    ------
    ReportError
        No Chromium, or Chromium failed on a page.
    """
    exe = exe or find_chromium()
    if exe is None:
        raise ReportError("headless Chromium not found on PATH; install it with "
                          "`apt-get install -y chromium` to take screenshots")
    # absolute paths: Chromium needs file:// URIs (a relative path has none) and runs
    # with its own idea of the working directory
    site = Path(site).resolve()
    out = Path(dest).resolve() if dest is not None else site / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    shots = []
    with tempfile.TemporaryDirectory(prefix="research-chromium-") as profile:
        for page in sorted(site.glob("*.html")):
            m = measure_page(page, exe=exe, profile=Path(profile), width=width)
            h = m.height
            png = out / f"{page.stem}.png"
            tmp = out / f".{page.stem}.tmp.png"
            _run(chromium_command(exe, Path(profile), f"--window-size={width},{min(h, MAX_HEIGHT)}",
                                  "--virtual-time-budget=10000", f"--screenshot={tmp}", page.as_uri()))
            tmp.replace(png)
            shots.append(PageShot(page.name, h, png, m.overflow))
    atomic_write_text(out / "heights.json",
                      json.dumps({s.page: s.height for s in shots}, indent=2, sort_keys=True) + "\n")
    return shots


def main(argv: list[str] | None = None) -> int:
    """``python -m research.report.screenshots SITE``: screenshots of every page of SITE
    into SITE/screenshots; without Chromium, one line saying so and exit 0."""
    import sys

    args = list(sys.argv[1:] if argv is None else argv)
    site = Path(args[0]) if args else Path("reports")
    if find_chromium() is None:
        print("screenshots: skipped, headless Chromium is not installed (apt-get install -y chromium)")
        return 0
    if not (site / "index.html").is_file():
        print(f"screenshots: skipped, {site} has no index.html (build the reports first)")
        return 0
    shots = screenshot_site(site)
    print(f"screenshots: {len(shots)} pages in {site / 'screenshots'} (heights in heights.json)")
    return 0


if __name__ == "__main__":  # pragma: no cover - exercised by `make reports`
    raise SystemExit(main())
