"""One consistent site after a partial re-run: the README's
``research report --notebook 01_quantum_rally -p market_proxy IWM`` on a copy of the
built site, then every page showing C8, C9, C11 shows the numbers claims.json has for
them (computed with IWM), each claim records its parameters, and no page is left stale."""

from __future__ import annotations

import html
import json
import re
import shutil

import pytest

pytest.register_assert_rewrite("_report_sites")
from _report_sites import Site, run_cli

pytest_plugins = ["_report_sites"]

pytestmark = pytest.mark.slow
REDONE = ("C8", "C9", "C11")


@pytest.fixture(scope="module")
def rerun(real_site: Site, tmp_path_factory):
    from research.cli import main

    assert real_site.rc == 0, real_site.stderr
    out = tmp_path_factory.mktemp("partial") / "site"
    shutil.copytree(real_site.out, out)
    rc, stdout, stderr = run_cli(main, ["report", "--output", str(out), "--no-progress",
                                        "--notebook", "01_quantum_rally", "-p", "market_proxy", "IWM"])
    return Site(out, rc, stdout, stderr)


def _items(text: str, cid: str) -> list[str]:
    """Visible text of every findings entry of claim ``cid`` on a page."""
    found = re.findall(rf"<li data-claim=[\"']{cid}[\"']>(.*?)</li>", text, re.S)
    return [html.unescape(re.sub(r"<[^>]+>", " ", f)) for f in found]


def test_every_page_showing_the_redone_claims_agrees(rerun: Site):
    assert rerun.rc == 0, rerun.stdout + rerun.stderr
    claims = {c["claim_id"]: c for c in json.loads((rerun.out / "claims.json").read_text())}
    for cid in REDONE:
        assert claims[cid]["parameters"]["market_proxy"] == "IWM", cid
        assert claims[cid]["page"] == "01_quantum_rally"
    others = [c for c in claims.values() if c["claim_id"] not in REDONE]
    assert all(c["parameters"]["market_proxy"] == "SPY" for c in others)
    shown_on = {}
    for page in sorted(rerun.out.glob("*.html")):
        text = page.read_text(encoding="utf-8")
        assert "report-stale" not in text, f"{page.name} is still marked out of date"
        for cid in REDONE:
            for item in _items(text, cid):
                shown_on.setdefault(cid, []).append(page.name)
                headline = claims[cid]["headline"]
                assert " ".join(headline.split()) in " ".join(item.split()), (page.name, cid, item, headline)
    for cid in REDONE:  # the theme page, the overview and the index all show it
        assert {"01_quantum_rally.html", "00_overview.html"} <= set(shown_on[cid]), shown_on
    index = (rerun.out / "index.html").read_text(encoding="utf-8")
    assert 'id="stale"' not in index
    assert re.search(r'id="parameters">.*other parameters for C8, C9, C11', index, re.S)
    for cid in REDONE:
        row = re.search(rf'<tr id="claim-{cid}".*?</tr>', index, re.S).group(0)
        assert "market_proxy=&quot;IWM&quot;" in row or 'market_proxy="IWM"' in html.unescape(row)


def test_a_page_that_could_not_be_refreshed_is_marked_stale(rerun: Site, tmp_path):
    """Without the refresh (the site builder alone, as after a failed refresh), the
    overview computed with SPY is visibly marked out of date on the page and the index."""
    from research.report.portfolio import load_portfolio
    from research.report.site import build_site

    site = tmp_path / "site"
    shutil.copytree(rerun.out, site)
    side = site / ".verdicts" / "00_overview.json"
    doc = json.loads(side.read_text())
    for cid in REDONE:  # as if the overview had shown them computed with SPY
        doc["shown"][cid] = dict(doc["shown"][cid], market_proxy="SPY")
    side.write_text(json.dumps(doc))
    build_site(load_portfolio(), site)
    page = (site / "00_overview.html").read_text(encoding="utf-8")
    assert "report-stale" in page and "Out of date" in page
    index = (site / "index.html").read_text(encoding="utf-8")
    assert 'id="stale"' in index and 'data-stale="yes"' in index
