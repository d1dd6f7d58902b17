"""Stored XSS: every text field of the article files carries script and ``onerror``
payloads (a copy of the shipped article in a temporary directory, rendered with
``research report --article``); no payload survives as markup in any page, and the
escaped text does appear (the payloads were rendered, not dropped)."""

from __future__ import annotations

import csv
import io
import re
import shutil
from pathlib import Path

import pytest
import yaml

pytest.register_assert_rewrite("_report_sites")
from _report_sites import Site, run_cli

pytest_plugins = ["_report_sites"]

pytestmark = pytest.mark.slow

SCRIPT = '<script>alert("xss-s")</script>'
IMG = '<img src=x onerror=alert("xss-i")>'
LINK = '[click](javascript:alert("xss-l"))'
PAYLOAD = f" {SCRIPT} {IMG} "
#: claims.yaml keys whose string values are free text (ids, tickers, rule types are not)
TEXT_KEYS = {"title", "summary", "text", "max_verdict_reason", "reason", "statement", "notes", "quote"}


def _poison(value, key=None):
    if isinstance(value, dict):
        return {k: _poison(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_poison(v, key) for v in value]
    if isinstance(value, str) and key in TEXT_KEYS:
        return value + PAYLOAD
    return value


def _poison_csv(path: Path, columns: tuple[str, ...]) -> None:
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
    if not rows:
        return
    for r in rows:
        for c in columns:
            if r.get(c):
                r[c] = r[c] + PAYLOAD
    out = io.StringIO()
    w = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    path.write_text(out.getvalue(), encoding="utf-8")


@pytest.fixture(scope="session")
def poisoned_site(tmp_path_factory) -> Site:
    from research.cli import main
    from research.data.paths import default_article_dir

    art = tmp_path_factory.mktemp("poisoned") / "article"
    shutil.copytree(default_article_dir(), art)
    doc = yaml.safe_load((art / "claims.yaml").read_text(encoding="utf-8"))
    doc = _poison(doc)
    # quotes must be verbatim in the article text: the poisoned quotes are appended to it
    quotes = [q for c in doc["claims"] for q in c.get("quote", [])]
    meta = yaml.safe_load((art / "article.yaml").read_text(encoding="utf-8"))
    text = art / meta.get("text", "source-article-ja.txt")
    text.write_text(text.read_text(encoding="utf-8") + "\n" + "\n".join(quotes) + "\n", encoding="utf-8")
    (art / "claims.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    meta["title"] = meta["title"] + PAYLOAD
    meta["source"] = meta["source"] + PAYLOAD
    (art / "article.yaml").write_text(yaml.safe_dump(meta, allow_unicode=True, sort_keys=False), encoding="utf-8")
    layout = yaml.safe_load((art / "layout.yaml").read_text(encoding="utf-8"))
    layout["title"] += PAYLOAD
    for p in layout["pages"]:
        p["title"] += PAYLOAD
    (art / "layout.yaml").write_text(yaml.safe_dump(layout, allow_unicode=True, sort_keys=False), encoding="utf-8")
    _poison_csv(art / "events.csv", ("title", "reported_move"))
    _poison_csv(art / "facts.csv", ("entity", "period"))  # unit is a controlled word (date, USD bn, ...)
    for md in list((art / "prose").glob("*.md")) + list((art / "pages").glob("*.md")):
        md.write_text(md.read_text(encoding="utf-8") + f"\n\n{SCRIPT} {IMG} {LINK}\n", encoding="utf-8")
    out = art.parent / "site"
    rc, stdout, stderr = run_cli(main, ["report", "--article", str(art), "--output", str(out), "--no-progress"])
    return Site(out, rc, stdout, stderr)


def test_no_payload_survives_in_any_page(poisoned_site: Site):
    site = poisoned_site
    assert site.rc == 0, f"{site.stdout}\n{site.stderr}"
    pages = sorted(site.out.glob("*.html"))
    assert len(pages) >= 6
    for page in pages:
        text = page.read_text(encoding="utf-8")
        assert "<script>alert(" not in text, page.name
        assert not re.search(r"<img[^>]*onerror", text, re.I), page.name
        assert not re.search(r"""href=["']?javascript:""", text, re.I), page.name
        assert 'alert("xss' not in text.replace("&quot;", '"').replace("&#34;", '"') or "&lt;" in text, page.name
    index = (site.out / "index.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(" in index  # titles rendered, escaped
    rendered = 0
    for page in pages:
        t = page.read_text(encoding="utf-8")
        rendered += t.count("&lt;script&gt;alert(") + t.count("&amp;lt;script&amp;gt;alert(")
    assert rendered >= 20, "the payloads were dropped, not rendered escaped"
    # the page titles, the claim titles, notes, event names and markdown prose all carried one
    claims_page = (site.out / "02_rare_earth_shock.html").read_text(encoding="utf-8")
    assert claims_page.count("&lt;img src=x onerror=alert(") >= 5
