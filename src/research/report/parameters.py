"""Notebook parameters: inspect the ``parameters`` cell, type and validate overrides.

Each notebook declares its parameters in a cell tagged ``parameters`` (papermill's
convention), e.g.::

    market_proxy = "SPY"            # market index for the market model
    estimation_length: int = 250    # trading days
    alpha = 0.05
    event_windows = ((0, 0), (0, 1))
    verdict_path = ""

:func:`inspect_parameters` reads the cell from the notebook's JSON and its top-level
assignments from the syntax tree (names, annotations, default source text, the trailing
comment), and evaluates each default as a Python literal -- the same names papermill
injects after that cell, without importing papermill or nbformat (so ``research report``
answers a mistyped parameter at once). The
*type* of a parameter is its annotation when there is one (``int``, ``float``, ``str``,
``bool``, ``list``, ``tuple``, ``dict``, ``Optional[...]``), else the type of its
default. :func:`coerce_value` turns a command-line string (or a YAML value from
a portfolio file) into that type, or raises :class:`~research.errors.ParameterError`:

========  =================================================================
type      accepted
========  =================================================================
str       any string
int       ``"250"``, ``"-11"`` (not ``"2.5"``, not ``"abc"``)
float     ``"0.05"``, ``"1e-3"``, ``"2"`` (finite only)
bool      ``true/false``, ``yes/no``, ``on/off``, ``1/0`` (any case)
list      JSON or YAML flow syntax, ``"[[0,0],[0,1]]"``, ``"[SPY, IWM]"``; a list of
tuple     strings also takes ``"SPY,IWM"``. Elements are checked against the default's
          first element (``((0, 0),)`` -> pairs of ints). Tuples are passed to the
          notebook as lists (papermill injects JSON-like literals).
dict      JSON or YAML mapping
unknown   (no annotation, non-literal or ``None`` default) the YAML reading of the
          string: ``"250"`` -> 250, ``"IWM"`` -> ``"IWM"``, ``"null"`` -> None
========  =================================================================
"""

from __future__ import annotations

import ast
import io
import json
import math
import re
import tokenize
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from research.safeyaml import parse_yaml
from research.errors import ParameterError, ReportError

__all__ = ["NotebookParameter", "coerce_value", "inspect_parameters", "to_injectable"]

_MISSING = object()
_BOOL_WORDS = {"true": True, "yes": True, "on": True, "1": True,
               "false": False, "no": False, "off": False, "0": False}
_INT_RE = re.compile(r"^[+-]?\d+$")
_BASIC = {"str": str, "int": int, "float": float, "bool": bool,
          "list": list, "tuple": tuple, "dict": dict}


@dataclass(frozen=True)
class NotebookParameter:
    """One parameter of a notebook's ``parameters`` cell.

    Attributes
    ----------
    name : str
    type_name : str
        ``"int"``, ``"float"``, ``"str"``, ``"bool"``, ``"list"``, ``"tuple"``, ``"dict"``,
        or ``"any"`` when neither an annotation nor a literal default says.
    nullable : bool
        True when ``None`` is an acceptable value (annotation ``Optional[...]``/``None``
        default).
    default : Any
        The default evaluated as a Python literal (None when not a literal).
    default_source : str
        The default as written in the cell.
    help : str
        The trailing ``# comment`` of the line, if any.
    """

    name: str
    type_name: str
    nullable: bool
    default: Any
    default_source: str
    help: str = ""

    def describe(self) -> str:
        """``name: type = default`` for error messages and ``--list``."""
        kind = self.type_name + (" | None" if self.nullable and self.type_name != "any" else "")
        return f"{self.name}: {kind} = {self.default_source}"


def _literal(source: str) -> Any:
    try:
        return ast.literal_eval(source)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return _MISSING


def _type_from_annotation(annotation: str) -> tuple[str | None, bool]:
    """(type name or None, nullable) from annotation text like ``Optional[int]``."""
    text = annotation.replace(" ", "")
    nullable = False
    m = re.fullmatch(r"(?:typing\.)?Optional\[(.+)\]", text)
    if m:
        text, nullable = m.group(1), True
    parts = [p for p in text.split("|") if p]
    if "None" in parts:
        nullable = True
        parts = [p for p in parts if p != "None"]
    if len(parts) != 1:
        return None, nullable
    base = re.sub(r"\[.*\]$", "", parts[0]).split(".")[-1].lower()
    base = {"sequence": "list", "mapping": "dict"}.get(base, base)
    return (base if base in _BASIC else None), nullable


def _comments(source: str) -> dict[int, str]:
    """Line number -> the text of the ``#`` comment on that line."""
    out: dict[int, str] = {}
    try:
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            if tok.type == tokenize.COMMENT:
                out[tok.start[0]] = tok.string.lstrip("#").strip()
    except (tokenize.TokenError, SyntaxError):
        pass
    return out


def _segment(source: str, node: ast.expr) -> str:
    """The expression as written (one line of whitespace per line break)."""
    text = ast.get_source_segment(source, node)
    return " ".join(text.split()) if text and "\n" in text else (text or ast.unparse(node))


def _ast_parameters(source: str) -> dict[str, tuple[str, str, str]]:
    """name -> (annotation text, default source, trailing comment) for the top-level
    assignments of a cell, in order."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return {}
    notes = _comments(source)
    out: dict[str, tuple[str, str, str]] = {}
    for node in tree.body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value:
            out[node.target.id] = (ast.unparse(node.annotation), _segment(source, node.value),
                                   notes.get(node.end_lineno or node.lineno, ""))
        elif isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            out[node.targets[0].id] = ("", _segment(source, node.value), notes.get(node.end_lineno or node.lineno, ""))
    return out


def _parameters_cell(path: Path) -> str | None:
    """The source of the notebook's ``parameters``-tagged code cell (None: no such cell)."""
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
        cells = nb["cells"]
        for c in cells:
            tags = (c.get("metadata") or {}).get("tags") or []
            if c.get("cell_type") == "code" and "parameters" in tags:
                src = c.get("source", "")
                return "".join(src) if isinstance(src, list) else str(src)
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ReportError(f"cannot read notebook {path}: {exc}") from None
    return None


def _make(name: str, annotation: str, default_source: str, help_: str) -> NotebookParameter:
    default = _literal(default_source)
    type_name, nullable = (None, False)
    if annotation and annotation != "None":
        type_name, nullable = _type_from_annotation(annotation)
    if type_name is None and default is not _MISSING and default is not None:
        type_name = type(default).__name__ if type(default).__name__ in _BASIC else None
    if default is None:
        nullable = True
    return NotebookParameter(
        name=name,
        type_name=type_name or "any",
        nullable=nullable,
        default=None if default is _MISSING else default,
        default_source=default_source,
        help=help_,
    )


def inspect_parameters(notebook: str | Path) -> dict[str, NotebookParameter]:
    """The parameters declared in a notebook's ``parameters``-tagged cell (its top-level
    assignments, annotated or not, e.g. ``x: int | None = 3  # help``).

    Raises
    ------
    ReportError
        The notebook file is missing or unreadable.
    """
    path = Path(notebook)
    if not path.is_file():
        raise ReportError(f"notebook {path} not found; fix its path in the portfolio file")
    source = _parameters_cell(path)
    if source is None:
        return {}
    return {name: _make(name, ann, src, help_) for name, (ann, src, help_) in _ast_parameters(source).items()}


def _fail(name: str, value: Any, want: str, where: str) -> ParameterError:
    return ParameterError(
        f"parameter {name!r}{where}: cannot use {value!r} as {want}"
    )


def _parse_structured(raw: str) -> Any:
    """A -p value as JSON, else as YAML (with the article files' limits: no aliases, no
    duplicate keys, bounded nesting); ``_MISSING`` when it is neither."""
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):
        pass
    try:
        return parse_yaml(raw)[0]
    except yaml.YAMLError:
        return _MISSING


def _coerce_like(value: Any, template: Any, type_name: str, nullable: bool,
                 name: str, where: str) -> Any:
    """Coerce ``value`` to ``type_name``; for containers check elements like ``template``."""
    if value is None or (isinstance(value, str) and value.strip().lower() in {"none", "null"}
                         and type_name != "str"):
        if nullable:
            return None
        raise _fail(name, value, f"{type_name} (None is not allowed)", where)
    if type_name == "any":
        return _parse_structured(value) if isinstance(value, str) else value
    if type_name == "str":
        if isinstance(value, str):
            return value
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return str(value)  # YAML read `ticker: 1234` as an int
        raise _fail(name, value, "a string", where)
    if type_name == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in _BOOL_WORDS:
            return _BOOL_WORDS[value.strip().lower()]
        raise _fail(name, value, "a bool (true/false, yes/no, 1/0)", where)
    if type_name == "int":
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str) and _INT_RE.match(value.strip()):
            return int(value.strip())
        raise _fail(name, value, "an integer", where)
    if type_name == "float":
        out: Any = _MISSING
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            out = float(value)
        elif isinstance(value, str):
            try:
                out = float(value.strip())
            except ValueError:
                out = _MISSING
        if out is _MISSING or not math.isfinite(out):
            raise _fail(name, value, "a finite number", where)
        return out
    if type_name in {"list", "tuple"}:
        seq = value
        if isinstance(value, str):
            seq = _parse_structured(value)
            elements_are_str = isinstance(template, (list, tuple)) and template and all(
                isinstance(t, str) for t in template)
            if isinstance(seq, str) and elements_are_str:
                seq = [s.strip() for s in value.split(",") if s.strip()]
        if not isinstance(seq, (list, tuple)):
            raise _fail(name, value, f"a {type_name} (JSON/YAML like [1, 2] or [[0,0],[0,1]])", where)
        return [_coerce_element(v, template, i, name, where) for i, v in enumerate(seq)]
    if type_name == "dict":
        obj = _parse_structured(value) if isinstance(value, str) else value
        if not isinstance(obj, Mapping):
            raise _fail(name, value, "a mapping (JSON/YAML like {a: 1})", where)
        return dict(obj)
    raise _fail(name, value, type_name, where)  # pragma: no cover - all types handled


def _coerce_element(v: Any, template: Any, i: int, name: str, where: str) -> Any:
    """Check element ``i`` of a sequence against the default's elements."""
    if not isinstance(template, (list, tuple)) or not template:
        return to_injectable(v)
    kinds = {_kind(t) for t in template}
    if len(kinds) != 1:
        return to_injectable(v)  # heterogeneous default: no element check
    elem = template[0]
    kind = _kind(elem)
    if kind == "any":
        return to_injectable(v)
    return _coerce_like(v, elem, kind, elem is None, f"{name}[{i}]", where)


def _kind(v: Any) -> str:
    if v is None:
        return "any"
    t = type(v).__name__
    if t == "float":
        return "float"
    return t if t in _BASIC else "any"


def to_injectable(value: Any) -> Any:
    """Convert tuples to lists (recursively) so papermill can inject the value."""
    if isinstance(value, (list, tuple)):
        return [to_injectable(v) for v in value]
    if isinstance(value, Mapping):
        return {k: to_injectable(v) for k, v in value.items()}
    return value


def coerce_value(param: NotebookParameter, value: Any, *, where: str = "") -> Any:
    """Coerce a command-line string or YAML value to the parameter's type.

    Parameters
    ----------
    param
        The declared parameter (see :func:`inspect_parameters`).
    value
        A string from ``-p NAME VALUE`` or a value from a portfolio file.
    where
        Context for the error message, e.g. ``" (notebook 01_quantum_rally)"``.

    Returns
    -------
    The typed value, ready for papermill (tuples as lists).

    Raises
    ------
    ParameterError
        The value cannot be read as the parameter's type; the message names the
        parameter, the value, the expected type and the default.
    """
    try:
        return _coerce_like(value, param.default, param.type_name, param.nullable, param.name, where)
    except ParameterError as exc:
        raise ParameterError(f"{exc} (declared as {param.describe()})") from None
