"""The numbers a reader sees on a report page, per section: the numeric tokens of the
visible text and of every image's alt text (figure titles carry the numbers).

``python tests/golden/page_numbers.py SITE_DIR [PAGE.html ...] > numbers.json`` writes
``{page: {section: [token, ...]}}``; a section is a claim's ``<section id=...>`` or, outside
any, ``"page"``. Used to check that a refactor changes no number on the pages
(``tests/test_report_page_numbers.py``).
"""

from __future__ import annotations

import json
import re
import sys
from html.parser import HTMLParser
from pathlib import Path

#: a number as printed: signed, thousands commas, decimals, percent; p-value floors "<0.001"
NUMBER = re.compile(r"<\s?0\.\d+|[-+−]?\d[\d,]*(?:\.\d+)?%?")
#: not page content: the site navigation (sidebar, previous/next) lists pages and claims, not numbers
_SKIP = {"script", "style", "head", "title", "nav"}


class _Numbers(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, str | None]] = []  # (tag, section id opened there)
        self.skip = 0
        self.out: dict[str, list[str]] = {}

    def _section(self) -> str:
        return next((sid for _, sid in reversed(self.stack) if sid), "page")

    def _add(self, text: str) -> None:
        toks = NUMBER.findall(text)
        if toks:
            self.out.setdefault(self._section(), []).extend(t.replace("−", "-").replace(" ", "") for t in toks)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "img":
            self._add(a.get("alt") or "")
            return
        if tag in ("br", "meta", "link", "input", "hr", "col", "area", "base", "wbr", "source"):
            return
        sid = a.get("id") if tag == "section" else None
        self.stack.append((tag, sid))
        if tag in _SKIP:
            self.skip += 1

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                for t, _ in self.stack[i:]:
                    if t in _SKIP:
                        self.skip -= 1
                del self.stack[i:]
                return

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self._add(data)


def page_numbers(html: str) -> dict[str, list[str]]:
    """Section -> the numeric tokens in reading order."""
    p = _Numbers()
    p.feed(html)
    p.close()
    return p.out


def site_numbers(site: Path, pages: list[str] | None = None) -> dict[str, dict[str, list[str]]]:
    names = pages or sorted(p.name for p in site.glob("*.html") if p.name != "index.html")
    return {n: page_numbers((site / n).read_text(encoding="utf-8")) for n in names}


if __name__ == "__main__":
    site = Path(sys.argv[1])
    print(json.dumps(site_numbers(site, sys.argv[2:] or None), indent=1, ensure_ascii=False))
