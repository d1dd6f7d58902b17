"""docs/ARCHITECTURE.md's module map is complete and true.

Every ``src/research/**/*.py`` except package ``__init__.py`` files is listed exactly once
(by its path in the indented tree between the fences that open with ``src/research/``), and
every listed ``*.py`` exists. A new module fails here until the map has a line for it: add
``<indent>name.py   what it does`` under its package.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from ._graph import PKG

DOC = Path(__file__).resolve().parents[2] / "docs" / "ARCHITECTURE.md"
ENTRY = re.compile(r"^(?P<indent> *)(?P<name>[A-Za-z0-9_*./-]+?(?:\.py|/|\.json|\.ya?ml))(?:\s|$)")


def _map_block() -> list[str]:
    text = DOC.read_text(encoding="utf-8")
    m = re.search(r"^```\nsrc/research/\n(.*?)^```$", text, re.S | re.M)
    assert m, f"{DOC} has no module map (a fenced block opening with `src/research/`)"
    return m.group(1).splitlines()


def listed_paths() -> list[str]:
    """The map's ``.py`` entries as paths relative to ``src/research`` (indent = nesting, 2 spaces)."""
    stack: list[str] = []
    out = []
    for line in _map_block():
        m = ENTRY.match(line)
        if not m:
            continue  # a continuation line of the previous entry's description
        depth = len(m["indent"]) // 2 - 1
        assert depth >= 0 and depth <= len(stack), f"bad indent in the module map: {line!r}"
        stack = stack[:depth]
        name = m["name"]
        if name.endswith("/"):
            stack.append(name.rstrip("/"))
        elif name.endswith(".py"):
            out.append("/".join([*stack, name]))
    return out


def on_disk() -> set[str]:
    return {p.relative_to(PKG).as_posix() for p in PKG.rglob("*.py") if p.name != "__init__.py"}


def test_every_module_is_listed_exactly_once():
    listed = listed_paths()
    twice = sorted(p for p, n in Counter(listed).items() if n > 1)
    missing = sorted(on_disk() - set(listed))
    assert twice == [], f"listed more than once in {DOC.name}: {twice}"
    assert missing == [], f"modules missing from the map in {DOC.name}: {missing}"


def test_every_listed_module_exists():
    gone = sorted(set(listed_paths()) - on_disk())
    assert gone == [], f"{DOC.name} lists modules that do not exist: {gone}"


def test_no_listed_file_is_missing_from_disk():
    """Non-module entries too (e.g. a YAML file that was removed): every plain file named
    in the map exists (globs such as ``schemas/*.schema.json`` must match something)."""
    stack: list[str] = []
    gone = []
    for line in _map_block():
        m = ENTRY.match(line)
        if not m:
            continue
        depth = len(m["indent"]) // 2 - 1
        stack = stack[:depth]
        name = m["name"]
        if name.endswith("/"):
            stack.append(name.rstrip("/"))
            continue
        rel = "/".join([*stack, name])
        if not list(PKG.glob(rel)):
            gone.append(rel)
    assert gone == [], f"{DOC.name} names files that do not exist: {gone}"


def test_the_reader_sees_nesting():
    """The map reader can fail: it places known modules under their packages."""
    listed = listed_paths()
    assert "claims/judge.py" in listed and "report/pages.py" in listed and "errors.py" in listed
