"""The one stylesheet of the report site: index, notebook pages and the single-file site.

Every page is laid out the same way, in the manner of a documentation site: a left sidebar
(``<nav id="site-nav" class="rp-sidebar">``: the pages and each page's claims with their
verdict badges) beside the content column (``<main class="rp-content">``), which ends with
previous/next links (``<nav class="rp-pager">``). On a narrow screen the sidebar becomes a
top bar listing the pages; printed, the navigation is left out.

The verdict badges take their colours from :data:`research.vocab.VERDICT_STYLES` (the one
colour-blind-safe palette); a badge always shows the verdict's words as well. Nothing here
loads an external asset (system fonts only).
"""

from __future__ import annotations

from research.vocab import VERDICT_STYLES, WARNING_COLOUR

__all__ = ["SITE_CSS", "style_tag"]

#: Width of the sidebar (CSS pixels); below :data:`NARROW` px the sidebar becomes a top bar.
SIDEBAR = 230
NARROW = 900

_LAYOUT = f"""
:root {{ --rp-text: #1d1d1f; --rp-muted: #57606a; --rp-link: #0b57d0; --rp-border: #d0d7de;
         --rp-panel: #f6f8fa; }}
body.rp-site {{ margin: 0; padding: 0; font-family: system-ui, -apple-system, "Segoe UI", sans-serif;
               color: var(--rp-text); line-height: 1.45; background: #fff; overflow: visible; }}
.rp-layout {{ display: grid; grid-template-columns: {SIDEBAR}px minmax(0, 1fr); align-items: start; }}
.rp-sidebar {{ position: sticky; top: 0; max-height: 100vh; overflow-y: auto; box-sizing: border-box;
              padding: 14px 12px 24px 14px; border-right: 1px solid var(--rp-border);
              background: var(--rp-panel); font-size: 13px; line-height: 1.35; }}
.rp-sidebar a {{ color: var(--rp-link); text-decoration: none; }}
.rp-sidebar a:hover {{ text-decoration: underline; }}
.rp-brand {{ display: block; font-weight: 700; font-size: 14px; margin: 0 0 10px 0; }}
.rp-sidebar a.rp-brand {{ color: var(--rp-text); }}
.rp-nav-pages, .rp-nav-claims {{ list-style: none; margin: 0; padding: 0; }}
.rp-nav-page {{ margin: 0 0 8px 0; }}
.rp-nav-page > a, .rp-nav-page > span {{ display: block; font-weight: 600; padding: 2px 6px;
                                         border-left: 3px solid transparent; }}
.rp-nav-page.rp-current > a {{ border-left-color: #0072b2; background: #e8eef5; color: var(--rp-text); }}
.rp-nav-claims {{ margin: 2px 0 0 9px; }}
.rp-nav-claims li {{ margin: 2px 0; }}
.rp-nav-claims .badge {{ font-size: 11px; padding: 0 6px; white-space: normal; }}
.rp-nav-status {{ font-weight: 400; font-size: 12px; color: #b3261e; }}
.rp-content {{ min-width: 0; max-width: 1240px; box-sizing: border-box; padding: 10px 22px 12px 22px; }}
.rp-pager {{ display: flex; justify-content: space-between; gap: 16px; margin-top: 14px; padding-top: 8px;
            border-top: 1px solid var(--rp-border); font-size: 14px; }}
.rp-pager a {{ color: var(--rp-link); }}
.rp-pager .rp-next {{ margin-left: auto; text-align: right; }}
.report-banner {{ margin: 8px 0 16px 0; padding: 12px 16px; border: 2px solid #b00020; background: #fdecea;
             color: #5f0010; }}
.report-banner h2 {{ margin: 0 0 6px 0; font-size: 20px; color: #b00020; }}
.report-banner a {{ color: var(--rp-link); text-decoration: underline; }}
img {{ max-width: 100%; height: auto; }}
@media (max-width: {NARROW}px) {{
  .rp-layout {{ display: block; }}
  .rp-sidebar {{ position: static; max-height: none; border-right: 0; border-bottom: 1px solid var(--rp-border);
                padding: 8px 12px; }}
  .rp-brand {{ margin-bottom: 4px; }}
  .rp-nav-pages {{ display: flex; flex-wrap: wrap; gap: 2px 10px; }}
  .rp-nav-page {{ margin: 0; }}
  .rp-nav-claims {{ display: none; }}
  .rp-content {{ padding: 10px 12px 20px 12px; }}
  .rp-content table {{ display: block; max-width: 100%; overflow-x: auto; }}
  .rp-content td, .rp-content th {{ overflow-wrap: anywhere; }}
}}
@media print {{
  .rp-sidebar, .rp-pager {{ display: none !important; }}
  .rp-layout {{ display: block; }}
  .rp-content {{ max-width: none; padding: 0; }}
}}
"""

_INDEX = f"""
.rp-content h1 {{ font-size: 28px; margin: 4px 0 4px 0; }}
.meta {{ color: #444; margin: 4px 0; }}
table {{ border-collapse: collapse; }}
.rp-index table.rp-wide {{ width: 100%; margin: 10px 0 20px 0; font-size: 13px; }}
.rp-index th, .rp-index td {{ border-bottom: 1px solid #ddd; padding: 5px 7px; text-align: left;
                              vertical-align: top; }}
.rp-index th {{ background: #f3f3f5; }}
.badge {{ display: inline-block; padding: 2px 8px; border-radius: 10px; font-weight: 600; font-size: 12px;
          white-space: nowrap; }}
.failed {{ color: #b3261e; font-weight: 700; }}
tr.row-failed td {{ background: #fdecea; }}
.small {{ font-size: 12px; color: #555; }}
.small.fragile {{ color: {WARNING_COLOUR}; font-weight: 600; }}
.answer {{ font-size: 16px; background: var(--rp-panel); border-left: 6px solid #0969da; padding: 10px 14px; }}
td.why {{ font-size: 13px; }}
code {{ font-size: 12px; }}
.rp-index table.rp-kv {{ font-size: 12px; margin: 0; }}
.rp-index table.rp-kv th, .rp-index table.rp-kv td {{ padding: 1px 6px; background: none; border: 0; }}
"""

# notebook pages (nbconvert's lab template): no empty parameter cells, tighter cells, the
# first heading close to the top
_PAGES = """
body.rp-site.jp-Notebook { padding: 0; }
.rp-content .jp-Cell.jp-mod-noOutputs.jp-mod-noInput { display: none; }
.rp-content .jp-Cell { padding: 2px 0; }
.rp-content { --jp-content-heading-margin-top: 0.9em; --jp-content-heading-margin-bottom: 0.35em; }
.rp-content .jp-RenderedHTMLCommon { padding-right: 0; }
.rp-content .jp-RenderedHTMLCommon p, .rp-content .jp-RenderedHTMLCommon ul { margin-bottom: 0.55em; }
.rp-content .jp-RenderedHTMLCommon > h1 { margin-top: 6px; }
"""

# the single-file site (report/singlefile.py): one <section class="rp-page"> per page
_SINGLE = """
section.rp-page.jp-Notebook { padding: 0; overflow: visible; }
@media print { section.rp-page, section.rp-page[hidden] { display: block !important; break-before: page; } }
"""

_BADGES = "".join(f".{st.css_class} {{ background: {st.background}; color: {st.text}; }}\n"
                  for st in {s.css_class: s for s in VERDICT_STYLES.values()}.values())

#: The site's stylesheet (one string, used by every page).
SITE_CSS = _LAYOUT + _INDEX + _PAGES + _SINGLE + _BADGES


def style_tag() -> str:
    """``<style>`` element with :data:`SITE_CSS`."""
    return f'<style type="text/css">{SITE_CSS}</style>'
