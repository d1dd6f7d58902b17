"""The real notebooks through ``research report`` on the embedded snapshot (run once per
session): every notebook succeeds, every claim section is in its HTML, and the
scoreboard (claims.json and index.html) says exactly what ``research.claims.evaluate``
returns when called here, in the test."""

from __future__ import annotations

import html
import json
import math
import re

import pytest

pytest.register_assert_rewrite("_report_sites")  # before the import (it is also a plugin)
from _report_sites import Site, parse_html, site_problems

# the session-scoped site builds (one per session, shared by all modules)
pytest_plugins = ["_report_sites"]
from research.report.portfolio import load_portfolio

pytestmark = pytest.mark.slow

PORTFOLIO = load_portfolio()
ALL_CLAIMS = [f"C{i}" for i in range(1, 16)]


@pytest.fixture(scope="module")
def evaluated():
    """claim id -> evaluate(claim, EvalParams()).to_dict(), JSON round-tripped.

    The notebooks' parameter defaults reproduce the published report, i.e. EvalParams().
    """
    from research.claims import EvalParams, evaluate

    params = EvalParams()  # the reports judge every price claim across the specification grid too
    return {cid: json.loads(json.dumps(evaluate(cid, params, robustness=True).to_dict())) for cid in ALL_CLAIMS}


@pytest.fixture(scope="module")
def claims_json(real_site: Site):
    return {c["claim_id"]: c for c in json.loads((real_site.out / "claims.json").read_text())}


def test_every_notebook_succeeds(real_site: Site):
    assert real_site.rc == 0, f"research report failed:\n{real_site.stdout}\n{real_site.stderr}"
    for name in PORTFOLIO.names:
        assert (real_site.out / f"{name}.html").is_file()
        assert (real_site.out / "executed" / f"{name}.ipynb").is_file()


def test_every_claim_section_is_in_its_report(real_site: Site):
    for nb in PORTFOLIO.notebooks:
        ids = parse_html(real_site.out / f"{nb.name}.html").ids
        missing = [c for c in nb.claims if c not in ids]
        assert not missing, f"{nb.name}.html lacks the section anchors {missing} (<a id=\"C..\"></a>)"


def test_site_is_self_contained(real_site: Site):
    assert site_problems(real_site.out) == []


def test_claims_json_has_one_object_per_claim_in_order(claims_json):
    assert list(claims_json) == ALL_CLAIMS
    required = {"claim_id", "verdict", "rule", "data_source", "as_of", "parameters", "evidence", "key_numbers"}
    for cid, c in claims_json.items():
        assert required <= set(c), (cid, required - set(c))
        assert c["verdict"] in {"supported", "partly supported", "not supported", "not testable with price data"}
        for row in c["evidence"]:
            assert {"event_id", "ticker", "day0", "window", "car", "bhar", "t_stat", "p_value", "p_placebo"} <= set(row)
            assert isinstance(row["window"], list) and len(row["window"]) == 2
    c8 = claims_json["C8"]["key_numbers"]
    for t in ("RGTI", "QBTS", "IONQ", "QUBT"):
        assert {"max_rolling_21d_return", "max_rolling_21d_end", "calendar_month_return_2025_09"} <= set(c8[t])


@pytest.mark.parametrize("cid", ALL_CLAIMS)
def test_claims_json_equals_evaluate(claims_json, evaluated, cid):
    published = dict(claims_json[cid])
    assert published.pop("page") == PORTFOLIO.owner_of()[cid]  # the page that shows it
    assert published == evaluated[cid]


def _leaves(obj, prefix=""):
    if isinstance(obj, dict):
        out = {}
        for k, v in obj.items():
            out.update(_leaves(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    return {prefix: obj}


def test_index_verdicts_and_key_numbers_equal_evaluate(real_site: Site, evaluated):
    from research.claims import EvalParams, evaluate
    from research.claims.scoreboard import headline

    params = EvalParams()
    headlines = {cid: headline(evaluate(cid, params)) for cid in ALL_CLAIMS}
    assert any(headlines.values())
    text = (real_site.out / "index.html").read_text()
    assert re.search(r'id="data-source"><b>Data source:</b> [^<]*snapshot', text)
    assert re.search(r'id="as-of"><b>As of:</b> 2025-10-15<', text)
    for cid in ALL_CLAIMS:
        row = re.search(rf'<tr id="claim-{cid}"[^>]*data-verdict="([^"]+)">(.*?)</tr>', text, re.S)
        assert row, cid
        assert row.group(1) == evaluated[cid]["verdict"]
        owner = PORTFOLIO.owner_of()[cid]
        assert f'href="{owner}.html#{cid}"' in row.group(2)
        m = re.search(r'<td class="key" title="([^"]*)">([^<]*)</td>', row.group(2))
        cell, visible = m.group(1), html.unescape(m.group(2))
        if headlines[cid]:  # same parts; their order follows the (sorted) published keys
            assert sorted(visible.split("; ")) == sorted(headlines[cid].split("; ")), cid
        expected = _leaves(evaluated[cid]["key_numbers"])
        shown = [ln.split(" = ", 1) for ln in html.unescape(cell).split("\n") if ln]
        assert [k for k, _ in shown] == list(expected), cid
        for key, value in shown:
            want = expected[key]
            if isinstance(want, float) and math.isfinite(want):
                assert float(value) == pytest.approx(want, rel=1e-3, abs=1e-12), (cid, key)
            elif isinstance(want, (int, bool)) or want is None:
                assert value == str(want), (cid, key)
            else:
                assert value == str(want), (cid, key)
