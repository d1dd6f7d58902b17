"""An article the package has never seen: ``research article new`` -> ``check`` ->
``research report --article`` renders it with the page templates (no new notebook), and
the site's index lists the scaffold's claims."""

from __future__ import annotations

import json
import re

import pytest
import yaml

pytest.register_assert_rewrite("_report_sites")
from _report_sites import Site, run_cli, site_problems

pytest_plugins = ["_report_sites"]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def scaffold_site(tmp_path_factory):
    from research.cli import main

    root = tmp_path_factory.mktemp("new_article")
    art = root / "x"
    rc, out, err = run_cli(main, ["article", "new", str(art)])
    assert rc == 0, err
    rc, out, err = run_cli(main, ["article", "check", str(art)])
    assert rc == 0, out + err
    rc, out, err = run_cli(main, ["report", "--article", str(art), "--output", str(root / "x-site"),
                                  "--no-progress"])
    return art, Site(root / "x-site", rc, out, err)


def test_scaffold_renders_and_the_index_lists_its_claims(scaffold_site):
    art, site = scaffold_site
    assert site.rc == 0, site.stdout + site.stderr
    claims = yaml.safe_load((art / "claims.yaml").read_text(encoding="utf-8"))["claims"]
    ids = [c["id"] for c in claims]
    index = (site.out / "index.html").read_text(encoding="utf-8")
    assert set(re.findall(r'data-claim="([^"]+)"', index)) == set(ids)
    published = json.loads((site.out / "claims.json").read_text())
    assert [c["claim_id"] for c in published] and {c["claim_id"] for c in published} == set(ids)
    layout = yaml.safe_load((art / "layout.yaml").read_text(encoding="utf-8"))
    for page in layout["pages"]:
        assert (site.out / f"{page['name']}.html").is_file()
    assert (site.out / "what_happened_next.html").is_file()
    assert site_problems(site.out) == []


@pytest.fixture(scope="session")
def second_article_site(tmp_path_factory):
    """The hand-made second article of the claims tests (falls, a market-wide claim,
    pairs, a rolling return, a fact check) rendered by the same templates."""
    from pathlib import Path

    from research.cli import main

    art = Path(__file__).resolve().parent / "fixtures" / "articles" / "chips-and-tariffs"
    out = tmp_path_factory.mktemp("second_article") / "site"
    rc, stdout, stderr = run_cli(main, ["report", "--article", str(art), "--output", str(out), "--no-progress"])
    return art, Site(out, rc, stdout, stderr)


def test_a_second_article_renders_every_claim_on_its_page(second_article_site):
    from research.report import claimview as cv

    art, site = second_article_site
    assert site.rc == 0, site.stdout + site.stderr
    layout = yaml.safe_load((art / "layout.yaml").read_text(encoding="utf-8"))
    published = {c["claim_id"]: c for c in json.loads((site.out / "claims.json").read_text())}
    for page in layout["pages"]:
        text = (site.out / f"{page['name']}.html").read_text(encoding="utf-8")
        for cid in page["claims"]:
            assert re.search(rf"id=[\"']{re.escape(cid)}[\"']", text), (page["name"], cid)
            assert published[cid]["page"] == page["name"]
            # the page's findings give the same reason the index and claims.json give
            assert cv.e(cv.reason(published[cid])).split(" (")[0][:40] in text
    assert site_problems(site.out) == []
