"""Reading an article's YAML files and validating them against their JSON Schemas.

The schemas (``research/claims/schemas/*.schema.json``) say what each file may hold; this
module reads the YAML keeping every value's line number, validates it with the
``jsonschema`` library and turns each violation into a :class:`Problem` naming the file,
the line, the claim and the fix (for an unknown key: the allowed keys).
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from research.data import sandbox

__all__ = ["MAX_DEPTH", "MAX_NODES", "Problem", "YAMLLimitError", "format_problems", "load_schema", "parse_yaml",
           "read_yaml", "validate"]


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


#: Deepest nesting of mappings and lists an article's YAML may have.
MAX_DEPTH = 32
#: Most nodes (keys, values, list items) one YAML document may have.
MAX_NODES = 50_000


class YAMLLimitError(yaml.YAMLError):
    """YAML an article may not use: anchors or aliases, a key given twice, nesting deeper
    than :data:`MAX_DEPTH` or more than :data:`MAX_NODES` nodes.

    Attributes
    ----------
    line : 1-based line of the problem.
    message : what is wrong and the fix (one line).
    """

    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.message = message
        self.line = line

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


class _Loader(yaml.SafeLoader):
    """SafeLoader that keeps dates as strings (``2024-12-31`` stays text, as the schema
    expects) and refuses what an untrusted file could use to exhaust memory or hide a
    value: anchors and aliases (a "billion laughs" bomb is refused at its first anchor,
    before anything is built), nesting deeper than :data:`MAX_DEPTH`, more than
    :data:`MAX_NODES` nodes, and duplicate keys (PyYAML keeps the last silently)."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0
        self._nodes = 0

    def compose_node(self, parent: Any, index: Any) -> yaml.Node:
        event = self.peek_event()
        line = event.start_mark.line + 1
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            raise YAMLLimitError("anchors and aliases (&name, *name, <<: *name) are not allowed; "
                                 "write the value out in full", line)
        self._nodes += 1
        if self._nodes > MAX_NODES:
            raise YAMLLimitError(f"more than {MAX_NODES} keys and values; an article file is far smaller", line)
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise YAMLLimitError(f"nested deeper than {MAX_DEPTH} levels; flatten the structure", line)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def compose_mapping_node(self, anchor: Any) -> yaml.MappingNode:
        node = super().compose_mapping_node(anchor)
        seen: dict[Any, int] = {}
        for k, _ in node.value:
            if not isinstance(k, yaml.ScalarNode):
                continue
            key = (k.tag, k.value)
            line = k.start_mark.line + 1
            if key in seen:
                raise YAMLLimitError(f"key {k.value!r} is given twice (lines {seen[key]} and {line}); "
                                     "keep one", line)
            seen[key] = line
        return node


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


def parse_yaml(text: str) -> tuple[Any, dict[tuple, int]]:
    """Parse YAML text with the limits of :class:`YAMLLimitError`; returns the data and a
    map (key path -> 1-based line).

    Raises
    ------
    yaml.YAMLError
        Invalid YAML, or a :class:`YAMLLimitError`.
    """
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    finally:
        loader.dispose()
    return data, (_lines(node) if node is not None else {})


def read_yaml(path: Path, *, root: Path | None = None) -> tuple[Any, dict[tuple, int]]:
    """Parse an article's YAML file (read through :func:`research.data.sandbox.read_text`:
    a regular file inside ``root``, default its own directory, at most
    :data:`~research.data.sandbox.TEXT_LIMIT` bytes); returns the data and a map
    (key path -> 1-based line).

    Raises
    ------
    research.data.sandbox.ArticleFileError, yaml.YAMLError
        A refused file or invalid YAML (callers turn them into Problems).
    """
    path = Path(path)
    if root is None:
        return parse_yaml(sandbox.read_text(path.parent, path.name))
    return parse_yaml(sandbox.read_text(root, path.relative_to(root).as_posix()))


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
