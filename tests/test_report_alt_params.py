"""Every notebook runs with non-default parameters, not only with the defaults it was
written with (the README's own example: ``research report -p market_proxy IWM``)."""

from __future__ import annotations

import json

import pytest

from research.report.cli import main

pytestmark = pytest.mark.slow


def test_all_notebooks_run_with_iwm_as_market_proxy(tmp_path, capsys):
    out = tmp_path / "reports"
    code = main(["-p", "market_proxy", "IWM", "-p", "alpha", "0.1", "--output", str(out), "--no-progress"])
    err = capsys.readouterr().err
    assert code == 0, err
    claims = json.loads((out / "claims.json").read_text())
    assert len(claims) == 15
    assert {c["verdict"] for c in claims} - {"error"} == {c["verdict"] for c in claims}
    assert all(c["parameters"]["market_proxy"] == "IWM" for c in claims)
    assert all(c["parameters"]["alpha"] == 0.1 for c in claims)
