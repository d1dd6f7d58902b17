"""Load and validate the declarative report portfolio (``portfolio.yml``).

The portfolio lists the notebooks ``research report`` runs: a name (the stem of every
output file), the notebook path, a title, the article claims it owns, and per-notebook
parameter overrides. It is data, in the spirit of cal-itp's papermill "portfolio" sites.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from research.errors import ReportError

__all__ = [
    "DEFAULT_PORTFOLIO",
    "REPO_ROOT",
    "NotebookSpec",
    "Portfolio",
    "claim_sort_key",
    "load_portfolio",
]

#: ``src/research/report/portfolio.py`` -> repository root (src layout, editable install).
REPO_ROOT: Path = Path(__file__).resolve().parents[3]
#: The packaged portfolio; its notebook paths are relative to :data:`REPO_ROOT`.
DEFAULT_PORTFOLIO: Path = Path(__file__).resolve().with_name("portfolio.yml")

_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_CLAIM_RE = re.compile(r"^C(\d+)$")


def claim_sort_key(claim_id: str) -> tuple[int, str]:
    """Sort key ordering claim ids numerically: C1, C2, ..., C10 (not C1, C10, C2)."""
    m = _CLAIM_RE.match(claim_id)
    return (int(m.group(1)), claim_id) if m else (10**9, claim_id)


@dataclass(frozen=True)
class NotebookSpec:
    """One notebook of the portfolio.

    Attributes
    ----------
    name : str
        Output stem: ``reports/<name>.html``, ``reports/executed/<name>.ipynb``.
    path : pathlib.Path
        Absolute path of the source notebook.
    title : str
        Title shown on the index page.
    claims : tuple[str, ...]
        Claim ids this notebook owns (publishes the authoritative verdict for).
    parameters : Mapping[str, Any]
        Per-notebook overrides of the ``parameters`` cell (validated by the runner).
    """

    name: str
    path: Path
    title: str
    claims: tuple[str, ...] = ()
    parameters: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Portfolio:
    """The ordered notebooks of a report site and the site title."""

    notebooks: tuple[NotebookSpec, ...]
    title: str = "Reports"
    #: ``"module:callable"`` called with each notebook's full parameter mapping (defaults
    #: + overrides, without ``verdict_path``) before anything runs; raises a
    #: ResearchError (e.g. ParameterError) for invalid values. None: type checks only.
    validator: str | None = None

    @property
    def names(self) -> tuple[str, ...]:
        """Notebook names in portfolio order."""
        return tuple(nb.name for nb in self.notebooks)

    def get(self, name: str) -> NotebookSpec:
        """The notebook called ``name``; ReportError listing the valid names otherwise."""
        for nb in self.notebooks:
            if nb.name == name:
                return nb
        raise ReportError(
            f"unknown notebook {name!r}; the portfolio has: {', '.join(self.names)}"
        )

    def select(self, names: Sequence[str] | None) -> tuple[NotebookSpec, ...]:
        """The notebooks named in ``names`` (portfolio order), or all when empty/None."""
        if not names:
            return self.notebooks
        wanted = {self.get(n).name for n in names}
        return tuple(nb for nb in self.notebooks if nb.name in wanted)

    def owner_of(self) -> dict[str, str]:
        """Map claim id -> name of the notebook that owns it."""
        return {c: nb.name for nb in self.notebooks for c in nb.claims}


def _fail(source: Path, msg: str) -> ReportError:
    return ReportError(f"{source}: {msg}")


def _parse_notebook(entry: Any, i: int, base: Path, source: Path) -> NotebookSpec:
    if not isinstance(entry, Mapping):
        raise _fail(source, f"notebooks[{i}] must be a mapping with name, path, title, claims")
    unknown = set(entry) - {"name", "path", "title", "claims", "parameters"}
    if unknown:
        raise _fail(source, f"notebooks[{i}] has unknown keys {sorted(unknown)}; "
                    "allowed: name, path, title, claims, parameters")
    name = entry.get("name")
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise _fail(source, f"notebooks[{i}].name must be a file-name-safe string, got {name!r}")
    raw_path = entry.get("path")
    if not isinstance(raw_path, str) or not raw_path.endswith(".ipynb"):
        raise _fail(source, f"notebook {name!r}: path must be a .ipynb path, got {raw_path!r}")
    path = Path(raw_path)
    path = (path if path.is_absolute() else base / path).resolve()
    title = entry.get("title", name)
    if not isinstance(title, str):
        raise _fail(source, f"notebook {name!r}: title must be a string")
    claims = entry.get("claims") or []
    if not isinstance(claims, list) or not all(
        isinstance(c, str) and _CLAIM_RE.match(c) for c in claims
    ):
        raise _fail(source, f"notebook {name!r}: claims must be a list of ids like C1, got {claims!r}")
    params = entry.get("parameters") or {}
    if not isinstance(params, Mapping) or not all(isinstance(k, str) for k in params):
        raise _fail(source, f"notebook {name!r}: parameters must be a mapping name -> value")
    return NotebookSpec(name=name, path=path, title=title, claims=tuple(claims),
                        parameters=dict(params))


def load_portfolio(path: str | Path | None = None, *, base_dir: str | Path | None = None) -> Portfolio:
    """Read and validate a portfolio YAML file.

    Parameters
    ----------
    path
        The YAML file; default: the packaged ``research/report/portfolio.yml``.
    base_dir
        Directory relative notebook paths are resolved against. Default: the repository
        root for the packaged portfolio, the YAML file's own directory otherwise.

    Raises
    ------
    ReportError
        Unreadable file, wrong structure, duplicate notebook names, or a claim owned by
        two notebooks. (Missing notebook files are reported by the runner, per notebook.)
    """
    source = Path(path).resolve() if path is not None else DEFAULT_PORTFOLIO
    if base_dir is None:
        base_dir = REPO_ROOT if source == DEFAULT_PORTFOLIO else source.parent
    try:
        doc = yaml.safe_load(source.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ReportError(f"portfolio file {source} not found; pass an existing YAML file") from exc
    except yaml.YAMLError as exc:
        raise ReportError(f"portfolio file {source} is not valid YAML: {exc}") from exc
    if not isinstance(doc, Mapping) or not isinstance(doc.get("notebooks"), list) or not doc["notebooks"]:
        raise _fail(source, "expected a mapping with a non-empty 'notebooks:' list")
    notebooks = tuple(
        _parse_notebook(e, i, Path(base_dir), source) for i, e in enumerate(doc["notebooks"])
    )
    names = [nb.name for nb in notebooks]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise _fail(source, f"duplicate notebook names {dupes}; names must be unique")
    owners: dict[str, str] = {}
    for nb in notebooks:
        for c in nb.claims:
            if c in owners:
                raise _fail(source, f"claim {c} is owned by both {owners[c]!r} and {nb.name!r}; "
                            "each claim needs exactly one owner")
            owners[c] = nb.name
    title = doc.get("title", "Reports")
    validator = doc.get("validator")
    if validator is not None and (not isinstance(validator, str) or ":" not in validator):
        raise _fail(source, f"validator must be 'package.module:callable', got {validator!r}")
    unknown = set(doc) - {"title", "notebooks", "validator"}
    if unknown:
        raise _fail(source, f"unknown top-level keys {sorted(unknown)}; allowed: title, notebooks, validator")
    return Portfolio(notebooks=notebooks, title=str(title), validator=validator)
