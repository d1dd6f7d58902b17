"""The package's import structure: layers import downward, nothing forms a cycle, every
import not at a module's top is listed here with its reason, no private name crosses modules.

Read from the sources with ``ast`` (module-level, function-level and ``TYPE_CHECKING``
imports alike; a package's lazy ``_LAZY`` map counts as its imports), so a hidden import
cannot pass unseen. Every import, ``TYPE_CHECKING`` ones included, goes down the layers;
cycles are looked for among the imports that run (top, function, lazy maps): an import
under ``TYPE_CHECKING`` only names a type for annotations and never executes, so it needs
no place on the lazy list either. Layers, bottom to top::

    research, errors, atomic, safeyaml, vocab, cache  (shared utilities)
    < data < eventstudy < claims < report < cli
"""

from __future__ import annotations

import ast

import pytest

from ._graph import cycles, graph, imports, modules

#: the bottom layer: modules directly under ``research`` that any layer may use
UTILITIES = ("research", "research.errors", "research.atomic", "research.safeyaml", "research.vocab",
             "research.cache")
#: subpackage (or module) prefix -> rank; a module is in the layer of its longest matching prefix
LAYERS = {"research.data": 1, "research.eventstudy": 2, "research.claims": 3, "research.report": 4,
          "research.cli": 5}
SUBPACKAGES = ("research.data", "research.eventstudy", "research.claims", "research.report")

#: Imports kept inside functions on purpose, (importer, imported module) -> why. Each keeps a
#: light entry point light (``tests/test_cli_imports.py``, ``tests/test_report_preflight.py``
#: check the effect on ``sys.modules``). Anything else is imported at the module's top.
LAZY = {
    ("research.cli", "research.claims.schema"):
        "`article check`'s schema phase answers a YAML typo before pandas is imported",
    ("research.cli", "research.claims.authoring"):
        "`research --help` and usage errors import no pandas; only `article new/check` need it",
    ("research.cli", "research.data.snapshot"): "only `data info` / `data build-snapshot` load the snapshot (pandas)",
    ("research.cli", "research.data.paths"): "imported with the snapshot by `data info` only",
    ("research.cli", "research.data.sources"): "only `data fetch` loads prices (pandas, yfinance)",
    ("research.cli", "research.report.cli"): "`research report` is forwarded; other commands never load the report",
    ("research.report.cli", "research.report.parameters"):
        "`research report` argument errors are answered before any report module is imported",
    ("research.report.cli", "research.report.portfolio"): "as above: argument errors import nothing",
    ("research.report.cli", "research.report.runner"):
        "the runner (papermill machinery) loads only after the arguments are valid",
    ("research.report.cli", "research.report.site"): "only a refresh of stale pages needs the site builder",
    ("research.report.cli", "research.claims"): "the article (pandas) loads only after the `-p` quick check",
    ("research.report.portfolio", "research.claims"):
        "the `-p` quick check reads portfolio.TEMPLATES without loading the article (pandas)",
    ("research.report.portfolio", "research.report.pages"):
        "pages imports the claims evaluation; portfolio must stay light for the quick check",
    ("research.report.preflight", "research.claims"):
        "the runner (imported by the `-p` quick check) imports preflight; claims load when a plan is checked",
    ("research.report.preflight", "research.claims.authoring"): "as above",
    ("research.report.preflight", "research.claims.robustness"): "as above (scipy)",
    ("research.report.site", "research.claims"):
        "the runner imports site; pandas loads only when the index is built",
    ("research.report.site", "research.claims.scoreboard"): "as above",
    ("research.report.site", "research.report.html"): "nbconvert loads only when a page is exported",
    ("research.report.runner", "research.report.html"): "nbconvert loads only when a page is exported",
    ("research.report.pages", "research.report.figures"):
        "the parent process imports pages to validate parameters; matplotlib loads only in a kernel that draws",
    ("research.report.pages", "research.report.claimfigures"): "as above (matplotlib)",
    ("research.report.claimview", "research.claims.verdict"):
        "the index page renders claims.json records without importing the claims package (pandas)",
    ("research.report.site", "research.claims.verdict"): "as above: a record is typed when the index reads it",
    ("research.report.runner", "research.report.pages"):
        "the evaluation is prepared (claims, pandas) only for plans whose pages take one, after the quick check",
}


def _rank(module: str) -> int:
    if module in UTILITIES:
        return 0
    best = [p for p in LAYERS if module == p or module.startswith(p + ".")]
    if not best:
        raise AssertionError(f"{module} is in no layer: add it to UTILITIES or LAYERS in {__file__}")
    return LAYERS[max(best, key=len)]


def test_every_module_has_a_layer():
    for m in modules():
        _rank(m)


def test_no_import_goes_up_a_layer():
    up = [f"{i.importer} (rank {_rank(i.importer)}) imports {i.target} (rank {_rank(i.target)}) "
          f"at line {i.line} ({i.where})"
          for i in imports() if i.target in modules() and _rank(i.target) > _rank(i.importer)]
    assert up == []


def test_no_import_cycle_across_the_package():
    assert cycles(graph()) == []


@pytest.mark.parametrize("package", SUBPACKAGES)
def test_no_import_cycle_within_a_subpackage(package):
    g = {m: {t for t in ts if t.startswith(package + ".") or t == package}
         for m, ts in graph().items() if m.startswith(package + ".") or m == package}
    assert g, f"no modules under {package}"
    assert cycles(g) == []


def test_every_import_inside_a_function_is_on_the_lazy_list():
    hidden = sorted({(i.importer, i.target) for i in imports() if i.where == "function"})
    unlisted = [f"{a} -> {b}" for a, b in hidden if (a, b) not in LAZY]
    assert unlisted == [], ("import these at the module's top, or add them to LAZY with the reason "
                            f"they must stay lazy: {unlisted}")
    stale = [f"{a} -> {b}" for a, b in LAZY if (a, b) not in hidden]
    assert stale == [], f"LAZY lists imports that are no longer inside a function: {stale}"


def test_lazy_list_gives_a_reason_each():
    assert all(isinstance(r, str) and len(r) > 5 for r in LAZY.values())


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def test_no_module_imports_another_modules_private_names():
    bad = [f"{i.importer}:{i.line} imports {n} from {i.target}"
           for i in imports() for n in i.names if _private(n)]
    assert bad == []


def test_no_module_reads_another_modules_private_attributes():
    mods = modules()
    bad = []
    for name, path in mods.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        bound = set()  # local names bound to a research module: `from research.x import y as z`
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                bound |= {a.asname for a in node.names if a.asname and a.name in mods}
            elif isinstance(node, ast.ImportFrom) and node.module:
                bound |= {a.asname or a.name for a in node.names if f"{node.module}.{a.name}" in mods}
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                    and node.value.id in bound and _private(node.attr)):
                bad.append(f"{name}:{node.lineno} reads {node.value.id}.{node.attr}")
    assert bad == []


def test_the_graph_sees_function_level_imports():
    """The checks above can fail: the reader finds a known lazy import and a known top one."""
    found = {(i.importer, i.target, i.where) for i in imports()}
    assert ("research.cli", "research.report.cli", "function") in found
    assert ("research.claims.article", "research.claims.notes", "top") in found
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
