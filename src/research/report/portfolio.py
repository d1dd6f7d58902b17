"""The report portfolio: the notebooks ``research report`` runs.

A portfolio lists a name (the stem of every output file), the notebook path, a title,
the article claims it owns, and per-notebook parameter overrides.

* :func:`portfolio_from_article` builds it from an article's ``layout.yaml``: one page per
  layout page, rendered by the template notebook of its kind (``notebooks/overview.ipynb``,
  ``notebooks/claims.ipynb``) with ``page`` (and ``article``) as parameters, plus the
  follow-up page (``notebooks/followup.ipynb``). Nothing about an article lives here.
* :func:`load_portfolio` reads a portfolio YAML file (e.g. the test fixtures); without a
  path it is the shipped article's portfolio.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from research.safeyaml import parse_yaml
from research.errors import ReportError, ResearchError

__all__ = [
    "TEMPLATES",
    "portfolio_from_article",
    "REPO_ROOT",
    "NotebookSpec",
    "Portfolio",
    "claim_sort_key",
    "load_portfolio",
]

#: ``src/research/report/portfolio.py`` -> repository root (src layout, editable install).
REPO_ROOT: Path = Path(__file__).resolve().parents[3]
#: Page kind -> template notebook (relative to :data:`REPO_ROOT`).
TEMPLATES: dict[str, str] = {"overview": "notebooks/overview.ipynb", "claims": "notebooks/claims.ipynb",
                             "followup": "notebooks/followup.ipynb"}
#: Validator of every page's parameters (see :func:`research.report.pages.validate_parameters`).
PAGE_VALIDATOR = "research.report.pages:validate_parameters"

_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_CLAIM_RE = re.compile(r"^\S+$")
_NUMBERED = re.compile(r"^([A-Za-z]*)(\d+)$")


def claim_sort_key(claim_id: str) -> tuple[str, int, str]:
    """Sort key ordering numbered claim ids numerically: A1, A2, ..., A10 (not A1, A10,
    A2); other ids alphabetically."""
    m = _NUMBERED.match(claim_id)
    return (m.group(1), int(m.group(2)), claim_id) if m else (claim_id, -1, claim_id)


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
    #: The article directory the pages render (None: the shipped article).
    article: Path | None = None

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
        raise _fail(source, f"notebook {name!r}: claims must be a list of claim ids, got {claims!r}")
    params = entry.get("parameters") or {}
    if not isinstance(params, Mapping) or not all(isinstance(k, str) for k in params):
        raise _fail(source, f"notebook {name!r}: parameters must be a mapping name -> value")
    return NotebookSpec(name=name, path=path, title=title, claims=tuple(claims),
                        parameters=dict(params))


def portfolio_from_article(article: str | Path | None = None) -> Portfolio:
    """The portfolio of an article's site, from its ``layout.yaml``.

    Parameters
    ----------
    article
        The article directory; None: the shipped article.

    Raises
    ------
    ReportError
        The article cannot be loaded (the message lists every problem and the fix), or
        a layout page has a kind without a template.
    """
    from research.claims import load_article
    from research.report.pages import FOLLOWUP_PAGE, FOLLOWUP_TITLE

    try:
        art = load_article(Path(article) if article else None)
    except ResearchError as exc:
        raise ReportError(f"cannot build the reports of article {article or '(shipped)'}: {exc}") from exc
    given = str(Path(article).resolve()) if article else ""
    specs = []
    for page in art.layout.pages:
        if page.kind not in TEMPLATES:
            raise ReportError(f"{art.path / 'layout.yaml'}: page {page.name!r} has kind {page.kind!r}; "
                              f"kinds with a template: {', '.join(TEMPLATES)}")
        specs.append(NotebookSpec(name=page.name, path=REPO_ROOT / TEMPLATES[page.kind], title=page.title,
                                  claims=tuple(page.claims), parameters={"page": page.name, "article": given}))
    specs.append(NotebookSpec(name=FOLLOWUP_PAGE, path=REPO_ROOT / TEMPLATES["followup"], title=FOLLOWUP_TITLE,
                              claims=(), parameters={"page": FOLLOWUP_PAGE, "article": given}))
    return Portfolio(notebooks=tuple(specs), title=art.layout.title or art.title, validator=PAGE_VALIDATOR,
                     article=Path(given) if given else None)


def load_portfolio(path: str | Path | None = None, *, base_dir: str | Path | None = None) -> Portfolio:
    """Read and validate a portfolio YAML file (None: the shipped article's portfolio,
    :func:`portfolio_from_article`).

    Parameters
    ----------
    path
        The YAML file.
    base_dir
        Directory relative notebook paths are resolved against (default: the YAML
        file's own directory).

    Raises
    ------
    ReportError
        Unreadable file, wrong structure, duplicate notebook names, or a claim owned by
        two notebooks. (Missing notebook files are reported by the runner, per notebook.)
    """
    if path is None:
        return portfolio_from_article(None)
    source = Path(path).resolve()
    if base_dir is None:
        base_dir = source.parent
    try:
        doc = parse_yaml(source.read_text(encoding="utf-8"))[0]  # no aliases, bounded nesting
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
