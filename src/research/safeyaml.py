"""Bounded, safe YAML: the one parser for every YAML the package reads from users.

Article files, portfolio files and structured ``-p`` values come from people the reader
may not trust, so :func:`parse_yaml` refuses what could exhaust memory or hide a value:
anchors and aliases (a "billion laughs" bomb is refused at its first anchor, before
anything is built), nesting deeper than :data:`MAX_DEPTH`, more than :data:`MAX_NODES`
nodes, and a key given twice. Dates stay text (``2024-12-31`` is a string), as the
schemas expect. It imports nothing but PyYAML, so the command line can use it cheaply.
"""

from __future__ import annotations

from typing import Any

import yaml

__all__ = ["MAX_DEPTH", "MAX_NODES", "YAMLLimitError", "parse_yaml"]


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
