"""The whole report site as ONE self-contained HTML file, to send by e-mail or chat.

``write_single_file(site, dest)`` reads a built site (``index.html`` and the pages) and
writes one file that opens offline:

* each page's body becomes a ``<section id="page-<name>" class="rp-page">`` (the index is
  ``page-index``), with its sidebar and previous/next links;
* every element id is prefixed with its page (``<name>--<id>``) so ids stay unique, and
  links between pages are rewritten to anchors: ``01_x.html`` -> ``#page-01_x``,
  ``01_x.html#claim-1`` -> ``#01_x--claim-1``, ``#glossary`` on a page -> ``#<name>--glossary``;
* the machine-readable files the pages link (``claims.json``, ``followup.json``) are
  embedded as ``data:`` links that download the file;
* the pages' stylesheets become one ``<style>`` (each distinct block once);
* a small inline script shows one page at a time, the one the address's ``#`` names (on
  load and on every hash change); with scripts off, and when printing, every page is shown
  one after the other.

Images are already ``data:`` URIs in the site; a page with an image that is not (or with
an external script or stylesheet) is refused with a :class:`ReportError`, because the file
would not open offline. The file is written atomically. Command line::

    python -m research.report.singlefile SITE OUT.html
"""

from __future__ import annotations

import base64
import html
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from research.atomic import atomic_write_text
from research.errors import ReportError

__all__ = ["single_file_html", "write_single_file", "main"]

INDEX = "index.html"
#: Largest linked data file embedded (bytes); a larger one keeps its relative link.
MAX_EMBED = 20_000_000

_STYLE = re.compile(r"<style\b[^>]*>(.*?)</style\s*>", re.S | re.I)
_BODY = re.compile(r"<body\b([^>]*)>(.*)</body\s*>", re.S | re.I)
_TITLE = re.compile(r"<title>(.*?)</title>", re.S | re.I)
_TAG = re.compile(r"<([a-zA-Z][a-zA-Z0-9-]*)(\s[^<>]*)?>")
_ATTR = re.compile(r"""(\s+)([^\s"'<>/=]+)(?:\s*=\s*("[^"]*"|'[^']*'|[^\s"'=<>`]+))?""")
_BODY_ATTR = re.compile(r"""([\w-]+)=("[^"]*"|'[^']*')""")
_EXTERNAL = re.compile(r"""<(?:script|link|iframe)\b[^>]*\b(?:src|href)=["']?(?:https?:)?//""", re.I)

_SCRIPT = """<script>
(function () {
  var root = document.documentElement;
  root.classList.add('rp-js');
  function show() {
    var id = decodeURIComponent(location.hash.slice(1));
    var target = id ? document.getElementById(id) : null;
    var pages = document.querySelectorAll('section.rp-page');
    var page = target ? target.closest('section.rp-page') : null;
    if (!page) { page = pages[0]; }
    for (var i = 0; i < pages.length; i++) { pages[i].hidden = pages[i] !== page; }
    if (target && target !== page) { target.scrollIntoView(); } else { window.scrollTo(0, 0); }
  }
  window.addEventListener('hashchange', show);
  show();
})();
</script>"""

@dataclass(frozen=True)
class _Page:
    file: str
    slug: str
    title: str
    body_attrs: str
    body: str
    styles: tuple[str, ...]


def _slug(file: str) -> str:
    return "index" if file == INDEX else Path(file).stem


def _page_order(site: Path) -> list[str]:
    """The index first, then the pages in the order its sidebar lists them, then any other."""
    files = sorted(p.name for p in site.glob("*.html") if not p.name.startswith((".", "_")))
    if INDEX not in files:
        raise ReportError(f"{site} has no index.html: build the site first (`research report -o {site}`)")
    text = (site / INDEX).read_text(encoding="utf-8")
    listed = [unquote(urlsplit(html.unescape(h)).path) for h in re.findall(r'href="([^"#]*\.html)[^"]*"', text)]
    order = [INDEX] + [f for f in dict.fromkeys(listed) if f in files and f != INDEX]
    return order + [f for f in files if f not in order]


def _read_page(site: Path, file: str) -> _Page:
    text = (site / file).read_text(encoding="utf-8")
    ext = _EXTERNAL.search(text)
    if ext:
        raise ReportError(f"{file}: it loads an external resource ({ext.group(0)[:80]}...): "
                          "the single file would not open offline")
    m = _BODY.search(text)
    if not m:
        raise ReportError(f"{file}: no <body> found; rebuild the site")
    styles = tuple(s for s in _STYLE.findall(text))
    title = _TITLE.search(text)
    return _Page(file, _slug(file), html.unescape(title.group(1)).strip() if title else file, m.group(1),
                 _STYLE.sub("", m.group(2)), styles)


def _data_link(site: Path, name: str) -> str | None:
    """A ``data:`` URI of a data file of the site (None when it is not one, or too big)."""
    path = (site / name)
    try:
        inside = path.resolve().parent == site.resolve() and path.is_file()
    except OSError:
        return None
    if not inside or path.suffix.lower() not in (".json", ".csv", ".txt") or path.stat().st_size > MAX_EMBED:
        return None
    kind = {".json": "application/json", ".csv": "text/csv"}.get(path.suffix.lower(), "text/plain")
    return f"data:{kind};charset=utf-8;base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


def _rewrite(page: _Page, site: Path, slugs: dict[str, str]) -> str:
    """``page``'s body with ids prefixed and links turned into anchors of the single file."""
    def attr(m: re.Match[str]) -> str:
        space, name, raw = m.group(1), m.group(2).lower(), m.group(3)
        if raw is None or name not in ("id", "name", "href", "src"):
            return m.group(0)
        value = html.unescape(raw[1:-1] if raw[:1] in "\"'" else raw)
        if name in ("id", "name"):
            return f'{space}{m.group(2)}="{html.escape(f"{page.slug}--{value}")}"'
        if name == "src":
            if not value.startswith("data:"):
                raise ReportError(f"{page.file}: image {value[:80]!r} is not embedded; rebuild the site")
            return m.group(0)
        u = urlsplit(value)
        if u.scheme or u.netloc:
            return m.group(0)
        target = unquote(u.path)
        if not target:  # "#frag" on the same page
            return f'{space}href="#{html.escape(f"{page.slug}--{u.fragment}")}"' if u.fragment else m.group(0)
        if target in slugs:
            anchor = f"{slugs[target]}--{u.fragment}" if u.fragment else f"page-{slugs[target]}"
            return f'{space}href="#{html.escape(anchor)}"'
        data = _data_link(site, target)
        if data is not None:
            return f'{space}href="{data}" download="{html.escape(Path(target).name)}"'
        return m.group(0)

    def tag(m: re.Match[str]) -> str:
        return f"<{m.group(1)}{_ATTR.sub(attr, m.group(2))}>" if m.group(2) else m.group(0)

    return _TAG.sub(tag, page.body)


def _section(page: _Page, body: str) -> str:
    attrs = dict((k, v[1:-1]) for k, v in _BODY_ATTR.findall(page.body_attrs) if k.lower() not in ("id", "hidden"))
    cls = " ".join(["rp-page", *attrs.pop("class", "").split()])
    extra = "".join(f' {k}="{v}"' for k, v in attrs.items())
    return (f'<section id="page-{html.escape(page.slug)}" class="{cls}" data-page="{html.escape(page.file)}"'
            f"{extra}>{body}</section>")


def single_file_html(site: str | Path) -> str:
    """The site in ``site`` (a built report folder) as one self-contained HTML document."""
    site = Path(site)
    if not site.is_dir():
        raise ReportError(f"{site} is not a folder: give the report site's folder (e.g. reports)")
    pages = [_read_page(site, f) for f in _page_order(site)]
    slugs = {p.file: p.slug for p in pages}
    css: dict[str, None] = {}
    for p in pages[1:] + pages[:1]:  # the notebook pages' styles first, the site's after them
        css.update(dict.fromkeys(s.strip() for s in p.styles))
    sections = "\n".join(_section(p, _rewrite(p, site, slugs)) for p in pages)
    title = html.escape(pages[0].title)
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{title}</title>\n<style>\n" + "\n".join(css) + "\n</style>\n</head>\n"
            f'<body class="rp-site rp-single">\n{sections}\n{_SCRIPT}\n</body>\n</html>\n')


def write_single_file(site: str | Path, dest: str | Path) -> Path:
    """Write :func:`single_file_html` of ``site`` to ``dest`` atomically; returns ``dest``.

    Raises
    ------
    ReportError
        ``site`` is not a built site, or a page is not self-contained.
    """
    return atomic_write_text(Path(dest), single_file_html(site))


def main(argv: list[str] | None = None) -> int:
    """``python -m research.report.singlefile SITE OUT.html``."""
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 2:
        print("usage: python -m research.report.singlefile SITE OUT.html", file=sys.stderr)
        return 2
    try:
        out = write_single_file(args[0], args[1])
    except (ReportError, OSError) as exc:
        print(f"singlefile: error: {exc}", file=sys.stderr)
        return 1
    print(f"single file: {out} ({out.stat().st_size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
