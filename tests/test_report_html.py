"""HTML pages are self-contained (embedded images, no external scripts, no broken local
links) and written atomically."""

from __future__ import annotations

import base64
import io
import os

import nbformat
import pytest
from PIL import Image

pytest.register_assert_rewrite("_report_sites")  # before the import (it is also a plugin)
from _report_sites import FIXTURES, Site, parse_html, site_problems

# the session-scoped site builds (one per session, shared by all modules)
pytest_plugins = ["_report_sites"]
from research.report.html import export_html, render_html


def test_fixture_site_is_self_contained(fixture_site: Site):
    assert site_problems(fixture_site.out) == []


def test_images_are_embedded_pngs(fixture_site: Site):
    imgs = parse_html(fixture_site.out / "passing.html").imgs
    assert len(imgs) == 2  # the markdown legend.png and the matplotlib figure
    sizes = []
    for src in imgs:
        head, data = src.split(",", 1)
        assert head == "data:image/png;base64"
        im = Image.open(io.BytesIO(base64.b64decode(data)))
        sizes.append(im.size)
    assert (24, 12) in sizes  # legend.png, read from the notebook's folder
    assert max(w for w, _ in sizes) > 300  # the figure


def test_checker_catches_what_it_should(tmp_path):
    """The self-containment checker itself can fail."""
    (tmp_path / "a.html").write_text(
        '<img src="files/x.png"><script src="https://cdn.example/x.js"></script>'
        '<a href="missing.html">x</a><a href="b.html#nope">y</a><a href="#top">z</a>')
    (tmp_path / "b.html").write_text('<h1 id="top">b</h1>')
    problems = site_problems(tmp_path)
    assert len(problems) == 5, problems  # img, script, missing.html, b.html#nope, a.html#top


def _executed(tmp_path) -> nbformat.NotebookNode:
    nb = nbformat.read(FIXTURES / "failing.ipynb", as_version=4)
    nb.cells[2].outputs = [nbformat.v4.new_output("stream", name="stdout", text="hello\n")]
    return nb


def test_export_replaces_a_good_page_only_with_a_complete_one(tmp_path):
    dest = tmp_path / "page.html"
    export_html(_executed(tmp_path), dest, name="page")
    good = dest.read_bytes()
    assert b"hello" in good and good.rstrip().endswith(b"</html>")

    broken = _executed(tmp_path)
    # a display_data output without its 'data' bundle makes nbconvert fail mid-render
    broken.cells[2].outputs.append(nbformat.NotebookNode({"output_type": "display_data", "metadata": {}}))
    with pytest.raises(Exception):
        export_html(broken, dest, name="page")
    assert dest.read_bytes() == good
    assert [p.name for p in tmp_path.iterdir()] == ["page.html"]


def test_export_interrupted_while_writing_keeps_old_page(tmp_path, monkeypatch):
    dest = tmp_path / "page.html"
    dest.write_text("<html>old complete page</html>")

    def boom(fd):  # fault injection: the write to disk fails after the bytes were written
        raise OSError("device lost")

    monkeypatch.setattr(os, "fsync", boom)
    with pytest.raises(OSError, match="device lost"):
        export_html(_executed(tmp_path), dest, name="page")
    assert dest.read_text() == "<html>old complete page</html>"
    assert [p.name for p in tmp_path.iterdir()] == ["page.html"]


def test_runner_reports_an_exporter_crash_as_a_failure(tmp_path, monkeypatch):
    """A crash of the exporter inside a run: the notebook is failed, a complete error page
    replaces the old one atomically, and no partial file is left."""
    from research.report import html as html_mod
    from research.report.portfolio import load_portfolio
    from research.report.runner import plan_runs, run_notebook

    plans, _ = plan_runs(load_portfolio(FIXTURES / "portfolio.yml"), notebooks=["typed"], output_dir=tmp_path)
    (tmp_path / "typed.html").write_text("<html>previous</html>")

    real = html_mod.render_html

    def crash(*args, **kwargs):
        real(*args, **kwargs)  # really render, then fail as if the process died while exporting
        raise RuntimeError("exporter crashed")

    monkeypatch.setattr(html_mod, "render_html", crash)
    result = run_notebook(plans[0])
    assert result.status == "failed" and "exporter crashed" in result.error
    page = (tmp_path / "typed.html").read_text()
    assert "This report failed" in page and "exporter crashed" in page and page.endswith("</html>\n")
    assert not (tmp_path / ".verdicts" / "typed.json").exists()  # no verdicts from a failed run
    assert not [p for p in tmp_path.rglob("*") if ".part" in p.name or p.name.endswith(".tmp")]


def test_show_input_renders_code(tmp_path):
    nb = _executed(tmp_path)
    hidden = render_html(nb, name="x")
    shown = render_html(nb, name="x", show_input=True)
    assert 'class="highlight' not in hidden and 'class="highlight' in shown
    assert "<script src=" not in shown and "cdnjs" not in shown
