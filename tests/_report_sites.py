"""Session-scoped report builds shared by the report and browser tests.

* ``fixture_site``: the fixture portfolio (tests/fixtures/notebooks: a passing, a failing
  and a typed-parameters notebook) built once through ``research report`` (the CLI entry
  point) with three parallel workers, ``-p`` overrides and ``--keep-going`` (so the site
  with the failed page is published).
* ``real_site``: the real portfolio (notebooks/*.ipynb on the embedded snapshot) built
  once through ``research report`` into a temporary directory.

Test modules import the fixtures: ``from _report_sites import fixture_site, real_site``.
"""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "notebooks"
FIXTURE_PORTFOLIO = FIXTURES / "portfolio.yml"
FIXTURE_OVERRIDES = [
    ("alpha", "0.1"),
    ("event_windows", "[[0,0],[0,1],[-1,1]]"),
    ("tickers", "RGTI,IONQ"),
    ("use_placebo", "no"),
    ("label", "null"),
]


@dataclass(frozen=True)
class Site:
    out: Path
    rc: int
    stdout: str
    stderr: str


def run_cli(main, argv: list[str]) -> tuple[int, str, str]:
    """Call a CLI ``main(argv)`` and capture what it prints (not the kernels' output)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main(argv)
    return rc, out.getvalue(), err.getvalue()


@pytest.fixture(scope="session")
def fixture_site(tmp_path_factory) -> Site:
    from research.report.cli import main

    out = tmp_path_factory.mktemp("fixture_site")
    argv = ["--portfolio", str(FIXTURE_PORTFOLIO), "--output", str(out), "--jobs", "3", "--no-progress",
            "--keep-going"]  # publish the failing fixture's page: the tests read it
    for name, value in FIXTURE_OVERRIDES:
        argv += ["-p", name, value]
    rc, stdout, stderr = run_cli(main, argv)
    return Site(out, rc, stdout, stderr)


@pytest.fixture(scope="session")
def real_site(tmp_path_factory) -> Site:
    from research.cli import main

    out = tmp_path_factory.mktemp("real_site")
    rc, stdout, stderr = run_cli(main, ["report", "--output", str(out), "--no-progress"])
    return Site(out, rc, stdout, stderr)


# --------------------------------------------------------------------------------------
# an independent checker of the site's HTML (stdlib html.parser, not the code under test)
# --------------------------------------------------------------------------------------
from html.parser import HTMLParser  # noqa: E402
from urllib.parse import unquote, urlsplit  # noqa: E402


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.imgs: list[str] = []
        self.hrefs: list[str] = []
        self.scripts: list[str] = []
        self.links: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get("id"):
            self.ids.add(a["id"])
        if tag == "a" and a.get("name"):
            self.ids.add(a["name"])
        if tag == "img":
            self.imgs.append(a.get("src") or "")
        elif tag == "a" and a.get("href") is not None:
            self.hrefs.append(a["href"])
        elif tag == "script" and a.get("src"):
            self.scripts.append(a["src"])
        elif tag == "link" and a.get("href"):
            self.links.append(a["href"])


def parse_html(path: Path) -> _Collector:
    c = _Collector()
    c.feed(path.read_text(encoding="utf-8"))
    return c


def site_problems(out: Path) -> list[str]:
    """Every way the HTML pages in ``out`` are not self-contained.

    * an ``<img>`` whose src is not a ``data:`` URI;
    * an external ``<script src>`` or ``<link href>``;
    * a relative link to a file that does not exist, or to a ``#fragment`` missing there.
    """
    problems: list[str] = []
    pages = sorted(out.glob("*.html"))
    parsed = {p.name: parse_html(p) for p in pages}
    for page, c in parsed.items():
        problems += [f"{page}: <img src={s[:60]!r}> is not embedded" for s in c.imgs if not s.startswith("data:")]
        problems += [f"{page}: external script {s}" for s in c.scripts]
        problems += [f"{page}: external stylesheet {s}" for s in c.links]
        for href in c.hrefs:
            u = urlsplit(href)
            if u.scheme in ("http", "https", "mailto"):
                continue
            if u.scheme:
                problems.append(f"{page}: link with scheme {href!r}")
                continue
            target_name = unquote(u.path) or page
            target = out / target_name
            if not target.is_file():
                problems.append(f"{page}: broken link {href!r}")
                continue
            if u.fragment and target.suffix == ".html":
                ids = parsed[target.name].ids if target.name in parsed else parse_html(target).ids
                if u.fragment not in ids:
                    problems.append(f"{page}: link {href!r} points to a missing anchor")
    return problems
