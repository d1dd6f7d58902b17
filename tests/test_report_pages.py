"""What a reader sees on the real site (built once per session by ``research report``):
findings first, plumbing out of sight, evidence collapsed, the follow-up page and
``followup.json`` checked against an independent computation."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.register_assert_rewrite("_report_sites")
from _report_sites import Site, parse_html

pytest_plugins = ["_report_sites"]

from research.report.portfolio import load_portfolio  # noqa: E402

pytestmark = pytest.mark.slow
PORTFOLIO = load_portfolio()
ROOT = Path(__file__).resolve().parents[1]


def _pages(site: Site) -> dict[str, str]:
    assert site.rc == 0, site.stderr
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(site.out.glob("*.html"))}


def _visible(text: str) -> str:
    """Text of the page outside <style>/<script> and tags, unescaped."""
    text = re.sub(r"<(style|script)\b.*?</\1>", " ", text, flags=re.S | re.I)
    text = re.sub(r"<img [^>]*>", " ", text)
    return html.unescape(re.sub(r"<[^>]+>", " ", text))


def _rests_on_tests(c: dict) -> bool:
    """The verdict rests on statistical tests (a basket's or pairs' p-values)."""
    kn = c.get("key_numbers") or {}
    return c["verdict"] in ("supported", "partly supported", "not supported") and (
        any(k.endswith("basket_p_value") for k in kn)
        or any(isinstance(d, dict) and "significant_all_tests" in d for d in kn.values()))


def test_no_plumbing_in_any_page(real_site: Site):
    for name, text in _pages(real_site).items():
        vis = _visible(text)
        for bad in ("EvalParams(", "PosixPath(", "00:00:00", "Verdict(", "NotebookNode", "<Figure size"):
            assert bad not in vis, f"{name}: {bad!r} shown to the reader"
        headers = [html.unescape(h).strip() for h in re.findall(r"<th[^>]*>(.*?)</th>", text, re.S)]
        raw = [h for h in headers if re.fullmatch(r"[a-z]+(_[a-z0-9]+)+(\.[a-z_]+)?", h)]
        assert not raw, f"{name}: code names as column headers: {raw}"
        assert "event_id" not in headers, name


def test_claim_pages_open_with_findings_for_every_claim(real_site: Site):
    claims = {c["claim_id"]: c for c in json.loads((real_site.out / "claims.json").read_text())}
    for nb in PORTFOLIO.notebooks:
        if not nb.claims or nb.name == "00_overview":
            continue
        text = (real_site.out / f"{nb.name}.html").read_text(encoding="utf-8")
        box = re.search(r"class=[\"']rp-findings[\"'].*?</div>", text, re.S)
        assert box, f"{nb.name}: no findings box"
        first_section = re.search(r"class=[\"']rp-claim[\"']", text).start()
        assert box.start() < first_section, f"{nb.name}: findings are not first"
        for cid in nb.claims:
            item = re.search(rf"<li data-claim=[\"']{cid}[\"']>(.*?)</li>", box.group(0), re.S)
            assert item, (nb.name, cid)
            vis = _visible(item.group(1))
            assert claims[cid]["verdict"] in vis
            if _rests_on_tests(claims[cid]):
                assert re.search(r"\bp\s*(?:[=<]\s*)?<?\s*0?\.\d+", vis), f"{cid}: no p-value in the reason: {vis}"
        # the method paragraph once per page; evidence tables collapsed
        assert text.count("<strong>Method.</strong>") == 1, nb.name
        for table in re.finditer(r"<table class=[\"']rp-table[\"']>", text):
            opened = text.rfind("<details", 0, table.start())
            closed = text.rfind("</details>", 0, table.start())
            assert opened > closed, f"{nb.name}: a table outside <details>"
        assert re.search(r"id=[\"']how-computed", text) and re.search(r"id=[\"']glossary", text)


def test_percentages_are_signed_and_dates_have_no_time(real_site: Site):
    for name, text in _pages(real_site).items():
        text = re.sub(r'<p class="meta" id="generated">.*?</p>', "", text)  # the generation time
        vis = _visible(text)
        unsigned = re.findall(r"abnormal return[^.%]{0,40}?\s(\d+\.\d+%)", vis)
        assert not unsigned, (name, unsigned[:3])
        assert not re.search(r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d", vis), name


def test_index_answers_first_and_gives_every_claim_its_reason(real_site: Site):
    text = (real_site.out / "index.html").read_text(encoding="utf-8")
    claims = json.loads((real_site.out / "claims.json").read_text())
    answer = re.search(r'id="answer"><b>The answer.</b> (.*?)</p>', text, re.S)
    assert answer and answer.start() < text.find('id="scoreboard"')
    counts = {v: sum(c["verdict"] == v for c in claims) for v in ("supported", "partly supported", "not supported")}
    a = html.unescape(answer.group(1))
    assert (f"{counts['supported']} supported, {counts['partly supported']} partly supported and "
            f"{counts['not supported']} not supported") in a
    for c in claims:
        if c["verdict"] == "not supported":
            assert c["claim_id"] in a
        row = re.search(rf'<tr id="claim-{c["claim_id"]}".*?<td class="why">(.*?)</td>', text, re.S)
        assert row and row.group(1).strip(), c["claim_id"]
        if _rests_on_tests(c):
            assert re.search(r"\bp\s*(?:[=<]\s*)?<?\s*0?\.\d+", html.unescape(row.group(1))), c["claim_id"]


def test_claims_json_records_page_and_parameters(real_site: Site):
    claims = json.loads((real_site.out / "claims.json").read_text())
    assert isinstance(claims, list) and all(isinstance(c, dict) for c in claims)
    owners = PORTFOLIO.owner_of()
    for c in claims:
        assert c["page"] == owners[c["claim_id"]]
        assert c["parameters"]["market_proxy"] == "SPY" and c["parameters"]["as_of"] == "2025-10-15"
        assert c["claim_id"] in parse_html(real_site.out / f"{c['page']}.html").ids


# ---- what happened next -----------------------------------------------------------------
def _independent_followup(as_of: str, baskets: dict, tickers: list[str], market: str = "SPY"):
    """From the snapshot parquet with pandas only: equal-weight buy-and-hold baskets from
    the as-of close, simple returns of adjusted closes."""
    px = pd.read_parquet(ROOT / "data" / "snapshot" / "prices.parquet")
    wide = px.pivot(index="date", columns="ticker", values="close").sort_index()
    t0 = wide.index[wide.index <= pd.Timestamp(as_of)][-1]
    wide = wide.loc[t0:]
    out = {}

    def stats(v: pd.Series, k):
        v = v.dropna()
        if k is not None and k >= len(v):
            return None
        path = v.iloc[: (k if k is not None else len(v) - 1) + 1]
        m = wide[market].reindex(path.index)
        r = path.iloc[-1] / path.iloc[0] - 1
        peak = np.maximum.accumulate(path.to_numpy())
        dd = float(np.min(path.to_numpy() / peak - 1))
        d = np.diff(path.to_numpy()) / path.to_numpy()[:-1]
        return {"return": r, "excess": r - (m.iloc[-1] / m.iloc[0] - 1), "max_drawdown": dd,
                "volatility": float(np.std(d, ddof=1) * np.sqrt(252)) if len(d) >= 2 else None}

    for name, mem in baskets.items():
        mem = [t for t in mem if pd.notna(wide.loc[t0, t])]
        rel = wide[mem] / wide.loc[t0, mem]
        end = min(rel[t].last_valid_index() for t in mem)
        v = rel.loc[:end].mean(axis=1)
        for k in (5, 21, 63, 125, None):
            out[(name, f"+{k}" if k else "end")] = stats(v, k)
    for t in tickers:
        for k in (5, 21, 63, 125, None):
            out[(t, f"+{k}" if k else "end")] = stats(wide[t], k)
    return out


def test_followup_json_matches_an_independent_computation(real_site: Site):
    import yaml

    from research.data.paths import default_article_dir

    rows = json.loads((real_site.out / "followup.json").read_text())
    art = default_article_dir()  # the article's files read here with PyYAML
    baskets = yaml.safe_load((art / "article.yaml").read_text(encoding="utf-8"))["baskets"]
    claims = yaml.safe_load((art / "claims.yaml").read_text(encoding="utf-8"))["claims"]
    tickers = sorted({t for c in claims for t in c.get("tickers") or []} - {"SPY"})
    want = _independent_followup("2025-10-15", baskets, tickers)
    got = {(r["name"], r["horizon"]): r for r in rows}
    assert set(got) == set(want)
    assert {r["horizon"] for r in rows} == {"+5", "+21", "+63", "+125", "end"}
    checked = 0
    for key, w in want.items():
        g = got[key]
        if w is None:
            assert g["reached"] is False and g["return"] is None, key
            continue
        for f in ("return", "excess", "max_drawdown", "volatility"):
            if w[f] is None or (isinstance(w[f], float) and np.isnan(w[f])):
                continue
            assert g[f] == pytest.approx(w[f], abs=2e-6), (key, f)
            checked += 1
    assert checked > 200


def test_followup_page_states_caveats_and_findings(real_site: Site):
    text = _visible((real_site.out / "what_happened_next.html").read_text(encoding="utf-8"))
    for words in ("picked by the article", "Survivorship", "Not investment advice", "in the month after the article"):
        assert words in text, words
    rows = json.loads((real_site.out / "followup.json").read_text())
    q = next(r for r in rows if r["name"] == "quantum" and r["horizon"] == "+21")
    assert f"{q['return'] * 100:+.1f}%" in text
