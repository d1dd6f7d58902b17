"""Notebooks are stored thin and clean: no outputs, a papermill parameters cell, and the
publish call the report runner relies on."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_there_are_notebooks():
    # one template per kind of page, and the explore notebook
    assert {p.stem for p in NOTEBOOKS} >= {"overview", "claims", "followup", "explore"}, [p.name for p in NOTEBOOKS]


def _site_notebooks():
    from research.report.portfolio import load_portfolio

    return sorted({nb.path for nb in load_portfolio().notebooks})


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_asks_for_the_projects_kernel(path):
    """`make setup` installs the kernel the notebooks name into .venv (so `make lab` and
    papermill open them without a kernel prompt): the names agree."""
    nb = nbformat.read(path, as_version=4)
    makefile = (ROOT / "Makefile").read_text()
    kernel = re.search(r"^KERNEL\s*:=\s*(\S+)", makefile, re.M).group(1)
    assert nb.metadata["kernelspec"]["name"] == kernel
    assert "ipykernel install --sys-prefix --name $(KERNEL)" in makefile


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_stored_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    dirty = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and (c.outputs or c.execution_count)]
    assert not dirty, f"{path.name}: cells {dirty} carry outputs; strip them before committing"


@pytest.mark.parametrize("path", _site_notebooks(), ids=lambda p: p.name)
def test_notebook_has_one_parameters_cell_with_verdict_path(path):
    nb = nbformat.read(path, as_version=4)
    tagged = [c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1
    assert "verdict_path" in tagged[0].source
    assert any("publish(" in c.source for c in nb.cells if c.cell_type == "code")
