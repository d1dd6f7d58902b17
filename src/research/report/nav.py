"""The site's navigation: a sidebar on every page and previous/next links.

The notebook pages are exported before the index exists, so each page is written with an
empty navigation slot (a pair of marker comments inside ``<nav id="site-nav">`` and at the
foot of ``<main>``, see :func:`shell_top` / :func:`shell_bottom`). Once every page and
``claims.json`` exist, :func:`apply_navigation` fills the slots of every page and of the
index with the same sidebar -- the pages, and under each page its claims with their verdict
badges -- and the previous/next links. Filling is idempotent: a page is rewritten only when
its navigation changed.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from research.atomic import atomic_write_text
from research.vocab import verdict_style

__all__ = ["NavClaim", "NavPage", "apply_navigation", "fill", "navigation_html", "pager_html",
           "shell_bottom", "shell_top", "site_pages"]

NAV_START, NAV_END = "<!--rp-nav-->", "<!--/rp-nav-->"
PAGER_START, PAGER_END = "<!--rp-pager-->", "<!--/rp-pager-->"
INDEX = "index.html"

e = html.escape


@dataclass(frozen=True)
class NavClaim:
    """One claim in the sidebar: its id, verdict, title and link (relative to the site)."""

    claim_id: str
    verdict: str
    title: str
    href: str | None


@dataclass(frozen=True)
class NavPage:
    """One page in the sidebar: its file (None when it does not exist), title, status
    (``ok`` / ``failed`` / ``not run``) and claims."""

    file: str | None
    title: str
    status: str = "ok"
    claims: tuple[NavClaim, ...] = ()


def shell_top(nav_html: str = "") -> str:
    """Start of every page's body layout: the sidebar (``nav_html`` inside the slot) and the
    opening of the content column."""
    return (f'<div class="rp-layout"><nav id="site-nav" class="rp-sidebar" aria-label="Reports">'
            f"{NAV_START}{nav_html}{NAV_END}</nav><main class=\"rp-content\">")


def shell_bottom(pager: str = "") -> str:
    """End of every page's body layout (the previous/next slot, then the closing tags)."""
    return f"{PAGER_START}{pager}{PAGER_END}</main></div>"


def site_pages(states: Sequence[Any], claims: Sequence[Mapping[str, Any]]) -> tuple[NavPage, ...]:
    """The sidebar's pages, in portfolio order, from the notebook states (``name``,
    ``title``, ``status``, ``html``) and the site's claim records (``claim_id``,
    ``verdict``, ``title``, ``page``)."""
    pages = []
    for s in states:
        own = [c for c in claims if c.get("page") == s.name]
        frag = {"ok": "#{}", "failed": "#report-failed"}.get(s.status)
        items = tuple(NavClaim(str(c.get("claim_id")), str(c.get("verdict")), str(c.get("title") or ""),
                               (s.html + frag.format(c.get("claim_id"))) if s.html and frag else s.html)
                      for c in own)
        pages.append(NavPage(s.html, s.title, s.status, items))
    return tuple(pages)


def navigation_html(title: str, pages: Sequence[NavPage], current: str | None) -> str:
    """The sidebar's content: the site title (to the index), the index and every page with
    its claims and verdict badges; ``current`` is the file shown (``aria-current``)."""
    out = [f'<a class="rp-brand" href="{INDEX}">{e(title)}</a><ul class="rp-nav-pages">',
           _page_item(INDEX, "Claim scoreboard", current == INDEX, "ok") + "</li>"]
    for p in pages:
        out.append(_page_item(p.file, p.title, p.file is not None and p.file == current, p.status))
        if p.claims:
            out.append('<ul class="rp-nav-claims">')
            for c in p.claims:
                st = verdict_style(c.verdict)
                cid = f'<a href="{e(c.href)}">{e(c.claim_id)}</a>' if c.href else e(c.claim_id)
                out.append(f'<li data-claim="{e(c.claim_id)}" title="{e(c.title)}">{cid} '
                           f'<span class="badge {st.css_class}">{e(st.label)}</span></li>')
            out.append("</ul>")
        out.append("</li>")
    out.append("</ul>")
    return "".join(out)


def _page_item(file: str | None, title: str, current: bool, status: str) -> str:
    cls = "rp-nav-page rp-current" if current else "rp-nav-page"
    note = "" if status == "ok" else f' <span class="rp-nav-status">({e(status)})</span>'
    if file is None:
        return f'<li class="{cls}"><span>{e(title)}{note}</span>'
    aria = ' aria-current="page"' if current else ""
    return f'<li class="{cls}"><a href="{e(file)}"{aria}>{e(title)}{note}</a>'


def pager_html(order: Sequence[tuple[str, str]], current: str) -> str:
    """Previous/next links of ``current`` in ``order`` (file, title pairs)."""
    files = [f for f, _ in order]
    if current not in files:
        return ""
    i = files.index(current)
    parts = ['<nav class="rp-pager" aria-label="Previous and next page">']
    if i > 0:
        f, t = order[i - 1]
        parts.append(f'<a class="rp-prev" rel="prev" href="{e(f)}">&larr; {e(t)}</a>')
    if i + 1 < len(order):
        f, t = order[i + 1]
        parts.append(f'<a class="rp-next" rel="next" href="{e(f)}">{e(t)} &rarr;</a>')
    return "".join(parts) + "</nav>"


def fill(text: str, nav_html: str, pager: str) -> str:
    """``text`` with its navigation slot (the first) and previous/next slot (the last)
    replaced; a page without the slots is returned unchanged."""
    a, b = text.find(NAV_START), text.find(NAV_END)
    if 0 <= a < b:
        text = text[:a + len(NAV_START)] + nav_html + text[b:]
    a, b = text.rfind(PAGER_START), text.rfind(PAGER_END)
    if 0 <= a < b:
        text = text[:a + len(PAGER_START)] + pager + text[b:]
    return text


def apply_navigation(site: str | Path, title: str, pages: Sequence[NavPage]) -> list[Path]:
    """Fill the navigation of ``index.html`` and every existing page of ``pages`` in
    ``site`` (atomically, only the files whose navigation changed); returns those files."""
    site = Path(site)
    order = [(INDEX, "Claim scoreboard")] + [(p.file, p.title) for p in pages if p.file]
    written = []
    for file, _ in order:
        path = site / file
        if not path.is_file():
            continue
        old = path.read_text(encoding="utf-8")
        new = fill(old, navigation_html(title, pages, file), pager_html(order, file))
        if new != old:
            written.append(atomic_write_text(path, new))
    return written
