"""The project's own contract files agree with each other.

* ``environment.yml`` declares the same dependency set as ``pyproject.toml`` (the single
  source of truth), so conda users get what pip users get;
* ``.ci/run`` runs the README quick start's ``make`` commands, in its order, and checks
  the screenshots ``make reports`` writes;
* the README's quick start puts ``research`` on the PATH before it uses it.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~\[ ]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def _pyproject_names() -> set[str]:
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = list(meta["dependencies"]) + list(meta["optional-dependencies"]["test"])
    return {_name(r) for r in reqs}


#: conda-forge names that differ from the PyPI name of the same package
CONDA_NAMES = {"arch-py": "arch"}


def _environment_names() -> set[str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    names = set()
    for dep in env["dependencies"]:
        if isinstance(dep, str):
            names.add(CONDA_NAMES.get(_name(dep), _name(dep)))
    return names - {"python", "pip"}


def test_environment_yml_matches_pyproject():
    assert _environment_names() == _pyproject_names()


def test_environment_yml_installs_the_package_editable():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_sections = [d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d]
    assert pip_sections and any(line.startswith("-e .") for line in pip_sections[0])


def _quick_start_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    section = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```(?:bash|sh)?\n(.*?)```", section, flags=re.S)
    commands = []
    for block in blocks:
        commands += [ln.split(" #")[0].strip() for ln in block.splitlines() if ln.strip() and not ln.strip().startswith("#")]
    return commands


def test_readme_quick_start_activates_before_using_research():
    commands = _quick_start_commands()
    assert "source .venv/bin/activate" in commands
    first_research = next(i for i, c in enumerate(commands) if c.split()[0] == "research")
    assert commands.index("source .venv/bin/activate") < first_research


def test_ci_runs_the_readme_make_commands_in_order():
    makes = [c.split("#")[0].strip() for c in _quick_start_commands() if c.startswith("make ")]
    assert makes[:2] == ["make reports", "make test"]
    ci_lines = [ln.strip() for ln in (ROOT / ".ci/run").read_text().splitlines()]
    assert all(m in ci_lines for m in makes)
    assert [ci_lines.index(m) for m in makes] == sorted(ci_lines.index(m) for m in makes)


def test_ci_checks_the_screenshots_after_make_reports():
    text = (ROOT / ".ci/run").read_text()
    after = text.split("\nmake reports\n", 1)[1].split("\nmake test\n", 1)[0]
    assert 'glob("*.html")' in after and "screenshots" in after and "sys.exit(" in after
