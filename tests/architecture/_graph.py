"""The import graph of ``src/research``, read with ``ast`` (nothing is imported).

Shared by the architecture tests: every module, and every ``research.*`` import in it with
where it sits (module top, inside a function, or under ``if TYPE_CHECKING:``).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"
PKG = SRC / "research"


@dataclass(frozen=True)
class Import:
    """One imported module (or package) of one module."""

    importer: str  # dotted module name, e.g. "research.claims.article"
    target: str  # the module the statement loads: "research.claims.notes", "research.data" (a package)
    names: tuple[str, ...]  # names taken from it (empty for ``import x``)
    where: str  # "top", "function" or "typing" (under ``if TYPE_CHECKING:``)
    line: int


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


@lru_cache(maxsize=1)
def modules() -> dict[str, Path]:
    """Every module under src/research by dotted name (packages by their ``__init__.py``)."""
    return {module_name(p): p for p in sorted(PKG.rglob("*.py"))}


def _absolute(importer: str, is_pkg: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = importer.split(".") if is_pkg else importer.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _is_type_checking(test: ast.expr) -> bool:
    return "TYPE_CHECKING" in ast.unparse(test)


@lru_cache(maxsize=1)
def imports() -> tuple[Import, ...]:
    """Every import of a ``research`` module, at any depth of every module."""
    mods = modules()
    out: list[Import] = []
    for name, path in mods.items():
        is_pkg = path.name == "__init__.py"

        def visit(node: ast.AST, where: str) -> None:
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.Import):
                    for a in child.names:
                        if a.name.split(".")[0] == "research":
                            out.append(Import(name, a.name, (), where, child.lineno))
                elif isinstance(child, ast.ImportFrom):
                    base = _absolute(name, is_pkg, child)
                    if base.split(".")[0] != "research":
                        continue
                    # ``from pkg import submodule`` loads the submodule; other names come from pkg
                    plain = tuple(a.name for a in child.names if f"{base}.{a.name}" not in mods)
                    for a in child.names:
                        if f"{base}.{a.name}" in mods:
                            out.append(Import(name, f"{base}.{a.name}", (), where, child.lineno))
                    if plain:
                        out.append(Import(name, base, plain, where, child.lineno))
                elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                    visit(child, "function" if where == "top" else where)
                elif isinstance(child, ast.If) and _is_type_checking(child.test):
                    for stmt in child.body:
                        visit(ast.Module(body=[stmt], type_ignores=[]), "typing")
                    for stmt in child.orelse:
                        visit(ast.Module(body=[stmt], type_ignores=[]), where)
                else:
                    visit(child, where)

        visit(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)), "top")
    return tuple(out)


def lazy_package_edges() -> set[tuple[str, str]]:
    """Package ``__init__`` -> the modules its ``_LAZY`` map (PEP 562 ``__getattr__``) loads."""
    edges = set()
    for name, path in modules().items():
        if path.name != "__init__.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets = node.targets if isinstance(node, ast.Assign) else (
                [node.target] if isinstance(node, ast.AnnAssign) else [])
            if any(isinstance(t, ast.Name) and t.id == "_LAZY" for t in targets) and isinstance(node.value, ast.Dict):
                edges |= {(name, v.value) for v in node.value.values
                          if isinstance(v, ast.Constant) and isinstance(v.value, str)}
    return edges


def graph(*, include_lazy: bool = True, typing: bool = False) -> dict[str, set[str]]:
    """Module -> the research modules it imports when it runs (top and function imports;
    with ``typing``, the ``TYPE_CHECKING`` ones too, which never run)."""
    g: dict[str, set[str]] = {m: set() for m in modules()}
    for imp in imports():
        if imp.where == "typing" and not typing:
            continue
        if imp.target in g and imp.target != imp.importer:
            g[imp.importer].add(imp.target)
    if include_lazy:
        for a, b in lazy_package_edges():
            if b in g:
                g[a].add(b)
    return g


def cycles(g: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def strong(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(g.get(v, ())):
            if w not in g:
                continue
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(g):
        if v not in index:
            strong(v)
    return sorted(out)
