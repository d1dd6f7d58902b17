"""The project's own contract files agree with each other.

* ``environment.yml`` declares the same dependency set as ``pyproject.toml`` (the single
  source of truth), so conda users get what pip users get;
* ``.ci/run`` runs exactly the test command the README's quick start gives;
* the README's quick start holds exactly two commands.
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


def _environment_names() -> set[str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    names = set()
    for dep in env["dependencies"]:
        if isinstance(dep, str):
            names.add(_name(dep))
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
        commands += [ln.strip() for ln in block.splitlines() if ln.strip() and not ln.strip().startswith("#")]
    return commands


def test_readme_quick_start_has_exactly_two_commands():
    assert len(_quick_start_commands()) == 2


def test_ci_runs_the_readme_test_command():
    test_command = _quick_start_commands()[1]
    ci_lines = [ln.strip() for ln in (ROOT / ".ci/run").read_text().splitlines()]
    assert test_command in ci_lines
