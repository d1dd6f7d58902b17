"""Reading an article's YAML files and validating them against their JSON Schemas.

The schemas (``research/claims/schemas/*.schema.json``) say what each file may hold; this
module reads the YAML keeping every value's line number, validates it with the
``jsonschema`` library and turns each violation into a :class:`Problem` naming the file,
the line, the claim and the fix (for an unknown key: the allowed keys).
"""

from __future__ import annotations

import difflib
import functools
import json
import sys
from dataclasses import dataclass
from importlib import resources
from collections.abc import Iterable
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from research.data import sandbox
from research.safeyaml import MAX_DEPTH, MAX_NODES, YAMLLimitError, parse_yaml


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

__all__ = ["ARTICLE_YAML", "MAX_DEPTH", "MAX_NODES", "Problem", "YAMLLimitError", "did_you_mean", "format_problems",
           "load_schema", "parse_yaml", "read_yaml", "schema_problems", "validate", "yaml_file"]

#: The YAML files of an article directory, each with the schema it is validated against.
ARTICLE_YAML: tuple[tuple[str, str], ...] = (("article.yaml", "article"), ("claims.yaml", "claims"),
                                             ("layout.yaml", "layout"))


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


#: Plain words for the schemas' patterns: pattern -> (what the values are, what they may
#: contain, the class of characters allowed anywhere in them or "" for a fixed form).
_PATTERN_WORDS: dict[str, tuple[str, str, str]] = {
    "^[A-Za-z0-9][A-Za-z0-9_.-]*$": ("ids", "letters, digits, '_', '.' and '-' only, starting with a letter "
                                     "or digit", "[A-Za-z0-9_.-]"),
    "^[A-Z][A-Z0-9.\\-]{0,9}$": ("tickers", "upper-case letters, digits, '.' and '-' only (at most 10, "
                                             "starting with a letter), as in the price data", "[A-Z0-9.-]"),
    "^[a-z0-9][a-z0-9-]*$": ("article ids", "lower-case letters, digits and '-' only", "[a-z0-9-]"),
    "^[A-Za-z0-9_][A-Za-z0-9_-]*$": ("names", "letters, digits, '_' and '-' only", "[A-Za-z0-9_-]"),
    "^[a-z]{2,3}(-[A-Za-z0-9]+)*$": ("language codes", "a BCP 47 code such as 'en', 'ja' or 'en-GB'", ""),
    "^\\d{4}-\\d{2}-\\d{2}$": ("dates", "the form YYYY-MM-DD", ""),
    "^\\d{4}-\\d{2}$": ("months", "the form YYYY-MM", ""),
}
_CHAR_NAMES = {" ": "a space", "\t": "a tab", "\n": "a line break", ",": "a comma", "/": "a slash",
               ":": "a colon"}


_ID_KINDS = {"id": "claim ids", "events": "event ids", "primary_events": "event ids", "confounded_events": "event ids",
             "pairs": "event ids", "facts": "fact ids", "cites": "fact or event ids", "fact": "fact ids",
             "current": "fact ids", "prior": "fact ids", "reported_growth": "fact ids", "claims": "claim ids"}


def _pattern_message(where: str, value: Any, pattern: str, path: tuple = ()) -> str:
    """A pattern violation in plain words: what the value may contain and what is wrong."""
    import re

    what, may, chars = _PATTERN_WORDS.get(pattern, ("values", f"the form {pattern!r}", ""))
    if what == "ids":
        keys = [k for k in path if isinstance(k, str)]
        what = _ID_KINDS.get(keys[-1], what) if keys else what
    verb = "are" if may.startswith("the form") or may.startswith("a ") else "may contain"
    msg = f"{where}: {what} {verb} {may}; {value!r}"
    if not isinstance(value, str):
        return f"{msg} is not text"
    if not value:
        return f"{msg} is empty"
    if what == "tickers" and re.fullmatch(pattern, value.upper()):
        return f"{msg} is not upper case (did you mean {value.upper()!r}?)"
    bad = next((ch for ch in value if not re.fullmatch(chars, ch)), None) if chars else None
    if bad is not None:
        return f"{msg} has {_CHAR_NAMES.get(bad, repr(bad))}"
    if chars:
        return f"{msg} starts with {value[0]!r}" if not re.fullmatch(pattern, "A" + value[1:]) and \
            not re.fullmatch(pattern, "a" + value[1:]) else f"{msg} is too long"
    return f"{msg} does not have that form"


def _message(err: jsonschema.ValidationError, root: dict[str, Any], prefix: tuple = ()) -> str:
    where = "/".join(str(p) for p in prefix + tuple(err.absolute_path)) or "(top level)"
    if err.validator == "additionalProperties":
        allowed = _allowed(err.schema, root)
        extra = sorted(set(err.instance) - set(err.schema.get("properties", {})))
        hints = "".join(did_you_mean(k, allowed) for k in extra)
        return (f"unknown key(s) {extra} at {where}{hints}; allowed keys: {allowed} "
                "(remove or rename the key)")
    if err.validator == "required":
        return f"{where}: {err.message}; add it (see docs/ARTICLES.md)"
    if err.validator in ("enum", "const"):
        allowed = err.validator_value if err.validator == "enum" else [err.validator_value]
        hint = did_you_mean(err.instance, [str(a) for a in allowed]) if isinstance(err.instance, str) else ""
        return f"{where}: {err.instance!r} is not allowed{hint}; use one of {allowed}"
    if err.validator == "pattern":
        return _pattern_message(where, err.instance, err.validator_value, prefix + tuple(err.absolute_path))
    if err.validator == "minItems" and len(err.absolute_path) == 2 and err.absolute_path[0] == "baskets":
        return (f"{where}: basket {err.absolute_path[1]!r} has {len(err.instance)} member(s); a basket needs at "
                "least two tickers (for one ticker, list it under the claim's tickers instead and drop the basket)")
    if err.validator == "oneOf" and where.endswith(tuple("0123456789")) and "statement" in (err.instance or {}):
        return (f"{where}: a fact-check item gives either fact + article + compare (a number checked "
                "against facts.csv) or judged + cites + reason (a reviewed judgement), not both or neither")
    return f"{where}: {err.message}"


def _misspelt_required(err: jsonschema.ValidationError, root: dict[str, Any]) -> bool:
    """True for a "required" error whose missing key is present under a misspelling (the
    unknown-key error names it, with "did you mean"): one root error, not two."""
    if err.validator != "required" or not isinstance(err.instance, dict):
        return False
    missing = [k for k in err.validator_value if k not in err.instance]
    props = set(err.schema.get("properties", {}))
    extra = [k for k in err.instance if k not in props]
    return bool(missing and extra) and all(difflib.get_close_matches(m, extra, n=1, cutoff=0.6) for m in missing)


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
        if _misspelt_required(err, root):
            continue
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


def did_you_mean(word: str, known: Iterable[str]) -> str:
    """``" (did you mean 'X'?)"`` for the known word closest to ``word`` (an exact match
    ignoring case first, then difflib), or "" when none is close."""
    known = list(dict.fromkeys(str(k) for k in known))
    same = [k for k in known if k.lower() == str(word).lower()]
    near = same or difflib.get_close_matches(str(word), known, n=1, cutoff=0.6)
    return f" (did you mean {near[0]!r}?)" if near else ""


def yaml_file(d: Path, name: str, problems: list[Problem], read: Callable[[str], str] | None = None
              ) -> tuple[Any, dict[tuple, int]] | None:
    """Read and parse the YAML file ``name`` of the article directory ``d``.

    The file is read through :mod:`research.data.sandbox` (or ``read``, a function of the
    name that does so and records what it read) and parsed with the limits of
    :func:`research.safeyaml.parse_yaml`. A missing, refused or invalid file appends one
    :class:`Problem` to ``problems`` and returns None; otherwise ``(data, lines)``.
    """
    if not sandbox.exists(d, name):
        problems.append(Problem(name, 0, "", f"{d / name} is missing; every article directory holds {name} "
                                             "(`research article new DIR` writes a template)"))
        return None
    try:
        return parse_yaml(read(name) if read is not None else sandbox.read_text(d, name))
    except sandbox.ArticleFileError as exc:
        problems.append(Problem(name, 0, "", f"refused: {exc.reason}"))
    except YAMLLimitError as exc:
        problems.append(Problem(name, exc.line, "", exc.message))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problems.append(Problem(name, (mark.line + 1) if mark else 0, "", f"not valid YAML: {exc}"))
    return None


def schema_problems(d: Path) -> list[Problem]:
    """The schema phase of ``research article check``: every problem of the article's YAML
    files (:data:`ARTICLE_YAML`) against their schemas, without loading prices, pandas or
    the calendar (so a typo is answered at once). An article with none of these problems
    still goes through the full check (:func:`research.claims.authoring.check_article`)."""
    problems: list[Problem] = []
    for name, schema in ARTICLE_YAML:
        got = yaml_file(d, name, problems)
        if got is not None:
            problems += validate(got[0], schema, file=name, lines=got[1])
    return problems
