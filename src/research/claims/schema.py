"""Reading an article's YAML files and validating them against their JSON Schemas.

The schemas (``research/claims/schemas/*.schema.json``) say what each file may hold; this
module reads the YAML keeping every value's line number, validates it with the
``jsonschema`` library and turns each violation into a :class:`Problem` naming the file,
the line, the claim and the fix (for an unknown key: the allowed keys).
"""

from __future__ import annotations

import functools
import json
import sys
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml


def _import_jsonschema():  # noqa: ANN202 - returns the module
    """``jsonschema``, without its optional ``rfc3987_syntax`` dependency.

    Importing jsonschema imports ``rfc3987_syntax`` when it is installed (Jupyter pulls it
    in), which builds its grammar parsers for the "iri" format check: 1.5-2 s, most of
    ``research article check``. Nothing here checks formats, so unless something in this
    process has already imported it, the import runs with it hidden (jsonschema then
    leaves the "iri" formats unchecked in this process, as without the package).
    """
    if "jsonschema" in sys.modules or "rfc3987_syntax" in sys.modules:
        import jsonschema

        return jsonschema
    sys.modules["rfc3987_syntax"] = None  # type: ignore[assignment] - ImportError on import
    try:
        import jsonschema
    finally:
        del sys.modules["rfc3987_syntax"]
    return jsonschema


jsonschema = _import_jsonschema()

__all__ = ["Problem", "load_schema", "read_yaml", "validate", "format_problems"]


@dataclass(frozen=True)
class Problem:
    """One problem found in an article directory.

    Attributes
    ----------
    file : file name relative to the article directory (e.g. ``claims.yaml``).
    line : 1-based line (0 when unknown).
    claim : claim id the problem belongs to ("" for none).
    message : what is wrong and how to fix it.
    severity : "error" (the article cannot be evaluated) or "warning".
    """

    file: str
    line: int
    claim: str
    message: str
    severity: str = "error"

    def __str__(self) -> str:
        where = self.file + (f":{self.line}" if self.line else "")
        who = f" claim {self.claim}:" if self.claim else ""
        return f"{where}:{who} {self.severity}: {self.message}"


def format_problems(problems: list[Problem] | tuple[Problem, ...]) -> str:
    """One problem per line."""
    return "\n".join(str(p) for p in problems)


class _Loader(yaml.SafeLoader):
    """SafeLoader that keeps dates as strings (``2024-12-31`` stays text, as the schema expects)."""


_Loader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:timestamp"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _lines(node: yaml.Node, path: tuple = (), out: dict | None = None) -> dict[tuple, int]:
    out = {} if out is None else out
    out.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            key = k.value
            out[path + (key,)] = k.start_mark.line + 1
            _lines(v, path + (key,), out)
            out[path + (key,)] = k.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, v in enumerate(node.value):
            _lines(v, path + (i,), out)
    return out


def read_yaml(path: Path) -> tuple[Any, dict[tuple, int]]:
    """Parse a YAML file; returns the data and a map (key path -> 1-based line).

    Raises
    ------
    OSError, yaml.YAMLError
        Unreadable file or invalid YAML (callers turn them into Problems).
    """
    text = Path(path).read_text(encoding="utf-8")
    node = yaml.compose(text, Loader=_Loader)
    data = yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
    return data, (_lines(node) if node is not None else {})


@functools.lru_cache(maxsize=None)
def load_schema(name: str) -> dict[str, Any]:
    """The JSON Schema ``name`` (``article``, ``claims``, ``layout``) shipped with the package."""
    ref = resources.files("research.claims") / "schemas" / f"{name}.schema.json"
    return json.loads(ref.read_text(encoding="utf-8"))


def _allowed(schema: dict[str, Any], root: dict[str, Any]) -> list[str]:
    if "$ref" in schema:
        schema = _resolve(schema["$ref"], root)
    return sorted(schema.get("properties", {}))


def _resolve(ref: str, root: dict[str, Any]) -> dict[str, Any]:
    node: Any = root
    for part in ref.lstrip("#/").split("/"):
        node = node[part]
    return node


def _message(err: jsonschema.ValidationError, root: dict[str, Any], prefix: tuple = ()) -> str:
    where = "/".join(str(p) for p in prefix + tuple(err.absolute_path)) or "(top level)"
    if err.validator == "additionalProperties":
        extra = sorted(set(err.instance) - set(err.schema.get("properties", {})))
        return (f"unknown key(s) {extra} at {where}; allowed keys: {_allowed(err.schema, root)} "
                "(remove or rename the key)")
    if err.validator == "required":
        return f"{where}: {err.message}; add it (see docs/ARTICLES.md)"
    if err.validator in ("enum", "const"):
        allowed = err.validator_value if err.validator == "enum" else [err.validator_value]
        return f"{where}: {err.instance!r} is not allowed; use one of {allowed}"
    if err.validator == "pattern":
        return f"{where}: {err.instance!r} does not match the required form {err.validator_value!r}"
    if err.validator == "oneOf" and where.endswith(tuple("0123456789")) and "statement" in (err.instance or {}):
        return (f"{where}: a fact-check item gives either fact + article + compare (a number checked "
                "against facts.csv) or judged + cites + reason (a reviewed judgement), not both or neither")
    return f"{where}: {err.message}"


def validate(data: Any, schema: dict[str, Any] | str, *, file: str, lines: dict[tuple, int],
             prefix: tuple = (), claim: str = "") -> list[Problem]:
    """Every violation of ``schema`` by ``data`` as Problems (sorted by line).

    ``prefix`` is the key path of ``data`` inside its file (for line numbers), ``claim`` the
    claim id the data belongs to, if any.
    """
    root = load_schema(schema) if isinstance(schema, str) else schema
    validator = jsonschema.Draft202012Validator(root)
    out = []
    for err in validator.iter_errors(data):
        path = prefix + tuple(err.absolute_path)
        if err.validator == "additionalProperties" and isinstance(err.instance, dict):
            extra = sorted(set(err.instance) - set(err.schema.get("properties", {})))
            if extra and path + (extra[0],) in lines:
                path = path + (extra[0],)
        line = 0
        for k in range(len(path), -1, -1):
            if path[:k] in lines:
                line = lines[path[:k]]
                break
        cid = claim
        if not cid and len(path) >= 2 and path[0] == "claims" and isinstance(data, dict):
            try:
                cid = str(data["claims"][path[1]].get("id", f"#{path[1] + 1}"))
            except (KeyError, IndexError, TypeError, AttributeError):
                cid = ""
        out.append(Problem(file, line, cid, _message(err, root, prefix)))
    return sorted(out, key=lambda p: (p.line, p.message))
