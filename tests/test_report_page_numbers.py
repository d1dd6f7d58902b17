"""Every number a reader sees on the shipped article's pages is the one the pages showed
before issue 20's report refactor (the report composes its sentences from typed fields now).

``tests/fixtures/golden/shipped-page-numbers.json`` holds, per page and per claim section,
the numeric tokens of the visible text and image alt texts of a full ``research report``
run made before the refactor (commit 83dfc1e), extracted by ``tests/golden/page_numbers.py``.
A fresh build must show the same tokens in the same order, except where :data:`INTENDED`
lists a deliberate change with its reason.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from _report_sites import real_site  # noqa: F401  (session fixture)

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "golden"))
from page_numbers import page_numbers, site_numbers  # noqa: E402

GOLDEN = ROOT / "tests" / "fixtures" / "golden" / "shipped-page-numbers.json"

#: (page, section) -> (tokens before, tokens now, why): the first run of "before" in the
#: golden list is replaced by "now".
INTENDED: dict[tuple[str, str], tuple[list[str], list[str], str]] = {
    ("01_quantum_rally.html", "C8"): (
        ["2", "4", "+100%", "21", "30"], ["2", "2", "+100%", "21", "30"],
        "the rolling chart counts the tickers the verdict counts (2 of 2 required), not every ticker drawn "
        "(it said 2 of 4 beside a verdict of 2 of 2)"),
    ("02_rare_earth_shock.html", "C5"): (
        ["0.0046", "20"], ["0.0046", "0.0370", "6", "0.1111", "0.05", "20"],
        "issue 20 step 5: Holm caps the verdict (p, family size, Holm p, alpha) instead of the rule's cap "
        "saying the data alone would support the claim"),
    ("03_security_resilience.html", "C1"): (
        ["0.0227", "0", "2025", "-10", "-13", "13,", "14", "15,", "100"],
        ["0.0227", "0.0227", "6", "0.0909", "0.05", "100"],
        "as C5: the Holm cap replaces the rule's cap (and its reason, which named other news of the day)"),
}


def _apply(tokens: list[str], before: list[str], now: list[str]) -> list[str]:
    for i in range(len(tokens) - len(before) + 1):
        if tokens[i:i + len(before)] == before:
            return tokens[:i] + now + tokens[i + len(before):]
    raise AssertionError(f"intended change not found in the golden numbers: {before}")


def expected() -> dict[str, dict[str, list[str]]]:
    gold = json.loads(GOLDEN.read_text(encoding="utf-8"))
    for (page, sec), (before, now, _) in INTENDED.items():
        gold[page][sec] = _apply(gold[page][sec], before, now)
    return gold


def test_the_extractor_reads_sections_and_alt_texts():
    html = ("<html><head><title>9</title><style>p{x:1}</style></head><body><p>Of 15 claims, +9.1% (p &lt;0.001)"
            "</p><section id='C8'><h2>C8</h2><img alt='2 of 2 tickers exceeded +100%'><br>"
            "<p>p = 0.0123, 1,200 dates</p></section><p>tail 3</p></body></html>")
    assert page_numbers(html) == {"page": ["15", "+9.1%", "<0.001", "3"],
                                  "C8": ["8", "2", "2", "+100%", "0.0123", "1,200"]}


def test_the_golden_numbers_cover_every_claim_page():
    gold = json.loads(GOLDEN.read_text(encoding="utf-8"))
    claims = {sec for page in gold.values() for sec in page if sec != "page"}
    assert claims >= {f"C{i}" for i in range(1, 16)}
    assert sum(len(v) for page in gold.values() for v in page.values()) > 3000


def test_every_number_on_the_pages_is_unchanged(real_site):  # noqa: F811
    assert real_site.rc == 0, real_site.stderr
    want = expected()
    got = site_numbers(real_site.out, sorted(want))
    diffs = [f"{page} {sec}: golden {want[page].get(sec, [])[:12]}... built {got[page].get(sec, [])[:12]}..."
             for page in want for sec in sorted(set(want[page]) | set(got[page]))
             if want[page].get(sec, []) != got[page].get(sec, [])]
    assert not diffs, "\n".join(diffs)


def test_the_comparison_can_fail():
    """A changed number is caught: the golden C8 chart said "2 of 4", the expectation "2 of 2"."""
    gold = json.loads(GOLDEN.read_text(encoding="utf-8"))
    assert gold["01_quantum_rally.html"]["C8"] != expected()["01_quantum_rally.html"]["C8"]
