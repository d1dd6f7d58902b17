"""portfolio.yml: the declarative list of notebooks and the claims each owns."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from research.errors import ReportError
from research.report.portfolio import REPO_ROOT, claim_sort_key, load_portfolio

from research.data.paths import default_article_dir  # noqa: E402

CLAIMS_MD = default_article_dir() / "claims.md"  # shipped with the article


def test_packaged_portfolio_lists_the_pages_rendered_by_templates():
    pf = load_portfolio()
    assert pf.names == ("00_overview", "01_quantum_rally", "02_rare_earth_shock",
                        "03_security_resilience", "04_ai_compute_deals", "what_happened_next")
    templates = {"00_overview": "overview", "what_happened_next": "followup"}
    for nb in pf.notebooks:
        # one template notebook per kind of page; the page (and article) are parameters
        assert nb.path == REPO_ROOT / "notebooks" / f"{templates.get(nb.name, 'claims')}.ipynb"
        assert nb.parameters == {"page": nb.name, "article": ""}
        assert nb.title
    # built from the article's layout.yaml, read here independently with PyYAML
    import yaml

    from research.data.paths import default_article_dir

    layout = yaml.safe_load((default_article_dir() / "layout.yaml").read_text(encoding="utf-8"))
    assert [p["name"] for p in layout["pages"]] + ["what_happened_next"] == list(pf.names)
    assert pf.title == layout["title"]
    assert {c: p["name"] for p in layout["pages"] for c in p["claims"]} == pf.owner_of()
    assert not (REPO_ROOT / "src" / "research" / "report" / "portfolio.yml").exists()


def test_every_claim_of_the_article_has_exactly_one_owner():
    owners = load_portfolio().owner_of()
    # the claim ids of the article's claims table, read independently from claims.md
    ids = sorted(set(re.findall(r"^\| (C\d+) \|", CLAIMS_MD.read_text(encoding="utf-8"), re.M)),
                 key=lambda c: int(c[1:]))
    assert ids == [f"C{i}" for i in range(1, 16)]
    assert sorted(owners, key=lambda c: int(c[1:])) == ids
    assert owners["C8"] == owners["C9"] == owners["C11"] == "01_quantum_rally"
    assert owners["C1"] == "03_security_resilience" and owners["C13"] == "04_ai_compute_deals"
    assert {c for c, o in owners.items() if o == "02_rare_earth_shock"} == {"C2", "C3", "C5", "C6", "C7"}
    assert {c for c, o in owners.items() if o == "00_overview"} == {"C4", "C10", "C12", "C14", "C15"}


def test_claim_sort_key_is_numeric():
    assert sorted(["C10", "C2", "C1", "C15", "C9"], key=claim_sort_key) == ["C1", "C2", "C9", "C10", "C15"]


def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "portfolio.yml"
    p.write_text(text)
    return p


@pytest.mark.parametrize("text, message", [
    ("notebooks: []", "non-empty 'notebooks:'"),
    ("notebooks:\n  - {name: a, path: a.ipynb}\n  - {name: a, path: b.ipynb}", "duplicate notebook names"),
    ("notebooks:\n  - {name: a, path: a.ipynb, claims: [C1]}\n  - {name: b, path: b.ipynb, claims: [C1]}",
     "C1 is owned by both"),
    ("notebooks:\n  - {name: a, path: a.py}", "must be a .ipynb path"),
    ("notebooks:\n  - {name: a, path: a.ipynb, claims: ['two words']}", "claims must be a list of claim ids"),
    ("notebooks:\n  - {name: a, path: a.ipynb, params: {}}", "unknown keys"),
    ("notebooks: [", "not valid YAML"),
])
def test_malformed_portfolios_are_clear_errors(tmp_path, text, message):
    with pytest.raises(ReportError, match=re.escape(message)):
        load_portfolio(_write(tmp_path, text))


def test_relative_paths_resolve_against_the_yaml_file(tmp_path):
    pf = load_portfolio(_write(tmp_path, "notebooks:\n  - {name: a, path: sub/a.ipynb, claims: [C2]}"))
    assert pf.notebooks[0].path == tmp_path / "sub" / "a.ipynb"
    assert pf.owner_of() == {"C2": "a"}
    with pytest.raises(ReportError, match="unknown notebook 'b'"):
        pf.get("b")


def test_missing_portfolio_file(tmp_path):
    with pytest.raises(ReportError, match="not found"):
        load_portfolio(tmp_path / "nope.yml")


def test_validator_and_top_level_keys(tmp_path):
    pf = load_portfolio(_write(tmp_path, "validator: 'research.claims.params:EvalParams.from_mapping'\n"
                                         "notebooks:\n  - {name: a, path: a.ipynb}"))
    assert pf.validator == "research.claims.params:EvalParams.from_mapping"
    assert load_portfolio().validator == "research.report.pages:validate_parameters"
    with pytest.raises(ReportError, match="validator must be"):
        load_portfolio(_write(tmp_path, "validator: EvalParams\nnotebooks:\n  - {name: a, path: a.ipynb}"))
    with pytest.raises(ReportError, match="unknown top-level keys"):
        load_portfolio(_write(tmp_path, "notebook: []\nnotebooks:\n  - {name: a, path: a.ipynb}"))
