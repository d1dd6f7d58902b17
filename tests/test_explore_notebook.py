"""The explore notebook (not part of the site) runs with its defaults under papermill on
the project's kernel, and its widgets are built; ipywidgets is a declared dependency in
both pyproject.toml and environment.yml (tests/test_packaging.py checks they agree)."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_explore_notebook_runs_with_its_defaults(tmp_path):
    import papermill as pm

    out = tmp_path / "explore.ipynb"
    pm.execute_notebook(str(ROOT / "notebooks" / "explore.ipynb"), str(out), kernel_name="python3",
                        cwd=str(ROOT / "notebooks"), progress_bar=False, execution_timeout=600,
                        start_timeout=120)
    nb = nbformat.read(out, as_version=4)
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors
    widget = [o for c in nb.cells for o in c.get("outputs", [])
              if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
    assert widget, "the controls were not displayed"
    html_out = "".join(o["data"]["text/html"] for c in nb.cells for o in c.get("outputs", [])
                       if "text/html" in o.get("data", {}))
    assert "data:image/png;base64," in html_out and "abnormal return" in html_out
    # the default event: MP on the DoD deal day; the day-0 abnormal return is the one the
    # engine gives for that event (checked independently in the engine tests) - large
    assert re.search(r"\+[1-9]\d\.\d%", html_out)


def test_explore_is_not_part_of_the_site():
    from research.report.portfolio import load_portfolio

    assert all(nb.path.stem != "explore" for nb in load_portfolio().notebooks)
