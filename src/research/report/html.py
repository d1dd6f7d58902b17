"""Export an executed notebook to one self-contained HTML page (nbconvert).

The page uses nbconvert's ``lab`` template (CSS inlined) with three changes made by a
small template extension:

* no external scripts: the require.js, MathJax and mermaid ``<script>`` tags the ``lab``
  template loads from a CDN are dropped, so the page renders identically offline and
  makes no network requests (LaTeX in markdown is shown as its source text; the
  notebooks write formulas in plain text);
* the site's page layout and stylesheet (:mod:`research.report.style`): a sidebar whose
  navigation slot links back to ``index.html`` until the site is built, when
  :func:`research.report.nav.apply_navigation` fills it with every page and claim, and a
  previous/next slot at the foot of the page;
* an optional red banner, used for notebooks that failed, naming the failing cell.

Images are embedded: outputs carry base64 data (rendered as ``data:`` URIs) and
``embed_images=True`` inlines images referenced from markdown. Input cells are hidden
unless ``show_input=True``. The file is written atomically.
"""

from __future__ import annotations

import copy
import html as _html
from pathlib import Path

import jinja2
import nbformat
from nbconvert import HTMLExporter
from nbconvert.preprocessors import TagRemovePreprocessor

from research.atomic import atomic_write_text
from research.report.nav import shell_bottom, shell_top
from research.report.style import style_tag

__all__ = ["export_html", "render_html"]

_TEMPLATE_NAME = "research_report.html.j2"
_TEMPLATE = r"""
{%- extends 'lab/index.html.j2' -%}
{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block extra_css -%}
{{ resources.report_css }}
{%- endblock extra_css -%}
{%- block body_header -%}
<body class="jp-Notebook rp-site" data-jp-theme-light="true" data-jp-theme-name="JupyterLab Light">
{{ resources.report_shell_top }}
{%- if resources.report_banner -%}
<div class="report-banner" id="report-failed" role="alert">{{ resources.report_banner }}</div>
{%- endif -%}
{%- endblock body_header -%}
{%- block body_footer -%}
{{ resources.report_shell_bottom }}
</body>
{%- endblock body_footer -%}
"""


def _exporter(show_input: bool) -> HTMLExporter:
    exporter = HTMLExporter(
        template_name="lab",
        extra_loaders=[jinja2.DictLoader({_TEMPLATE_NAME: _TEMPLATE})],
        template_file=_TEMPLATE_NAME,
        embed_images=True,
        exclude_input=not show_input,
        exclude_input_prompt=not show_input,
        exclude_output_prompt=not show_input,
    )
    # template notes (cells tagged "template-note") explain a page template to someone
    # running it in JupyterLab; they are not part of the published page
    exporter.register_preprocessor(TagRemovePreprocessor(remove_cell_tags={"template-note"}, enabled=True),
                                   enabled=True)
    return exporter


def failure_banner(notebook: str, error: str, cell: str | None, *, error_anchor: bool = False) -> str:
    """HTML of the red banner for a failed notebook (escaped).

    ``error_anchor``: the page has papermill's ``#papermill-error-cell`` marker (a cell
    raised), so the banner links to it.
    """
    where = f" in cell {_html.escape(cell)}" if cell else ""
    jump = (' (<a href="#papermill-error-cell">jump to it</a>)' if error_anchor else "")
    return (
        f"<h2>This report failed: notebook {_html.escape(notebook)} stopped{where}</h2>"
        f'<p><code style="white-space: pre-wrap">{_html.escape(error)}</code></p>'
        "<p>Everything below is the output up to the failure; a cell's error and traceback "
        f"are shown at that cell{jump}. "
        "Verdicts this notebook owns are reported as errors on the index page.</p>"
    )


def _back_link(index_href: str | None) -> str:
    """The sidebar's content before the site's navigation is filled in: a link to the index."""
    if not index_href:
        return ""
    return f'<a class="rp-brand" href="{_html.escape(index_href)}">&larr; All reports and the claim scoreboard</a>'


def render_html(
    nb: nbformat.NotebookNode,
    *,
    name: str,
    title: str | None = None,
    show_input: bool = False,
    banner_html: str | None = None,
    index_href: str | None = "index.html",
    resources_dir: str | Path | None = None,
) -> str:
    """Render an executed notebook to a self-contained HTML string.

    Parameters
    ----------
    nb
        The (executed) notebook; not modified.
    name
        Notebook name (page title fallback).
    title
        Page ``<title>``; default: the notebook's metadata title or ``name``.
    show_input
        Keep code cells' input (default: hidden, outputs and markdown only).
    banner_html
        Trusted HTML shown in a red alert box at the top (see :func:`failure_banner`).
    index_href
        Link target of the sidebar's "back to index" link (until the site's navigation
        is filled in); None for none.
    resources_dir
        Directory that relative image paths in markdown are read from (normally the
        source notebook's folder); they are inlined as ``data:`` URIs.
    """
    nb = copy.deepcopy(nb)
    if title:
        nb.metadata["title"] = title
    resources = {
        "metadata": {"name": name, "path": str(resources_dir) if resources_dir else ""},
        "report_banner": banner_html or "",
        "report_css": style_tag(),
        "report_shell_top": shell_top(_back_link(index_href)),
        "report_shell_bottom": shell_bottom(),
    }
    body, _ = _exporter(show_input).from_notebook_node(nb, resources=resources)
    return body


def export_html(
    nb: nbformat.NotebookNode,
    dest: str | Path,
    **kwargs: object,
) -> Path:
    """Render ``nb`` with :func:`render_html` and write it to ``dest`` atomically.

    If rendering raises, nothing is written and a previous ``dest`` stays intact.
    """
    text = render_html(nb, **kwargs)  # type: ignore[arg-type]
    return atomic_write_text(Path(dest), text)
