"""Render a claim's reviewed notes: ``{fNN}`` placeholders -> the fact's value and unit.

Numbers in the notes therefore come from ``facts.csv``, never typed into the registry.
"""

from __future__ import annotations

import functools
import re

from research.data import load_facts
from research.data.article import Fact
from research.errors import ClaimError

__all__ = ["format_fact", "render_note", "facts_by_id"]

_PLACEHOLDER = re.compile(r"\{(f\d+[a-z]?)\}")


@functools.lru_cache(maxsize=1)
def _facts() -> dict[str, Fact]:
    return {f.fact_id: f for f in load_facts()}


def facts_by_id() -> dict[str, Fact]:
    """All facts of ``facts.csv`` keyed by id (cached)."""
    return dict(_facts())


def _num(v: float) -> str:
    return f"{v:,g}" if abs(v) < 1e15 else f"{v:.3e}"


def format_fact(fact: Fact) -> str:
    """A fact's value with its unit in words: ``$400m``, ``83.6%``, ``10 GW``, ``2025-12-01``.

    Unverified facts (no source) get an ``(unverified)`` suffix.
    """
    v, unit = fact.value, fact.unit
    if v is None:
        text = "n/a"
    elif isinstance(v, str):
        text = v
    elif unit == "USD m":
        text = f"${_num(v)}m"
    elif unit == "USD bn":
        text = f"${_num(v)}bn"
    elif unit.startswith("USD/"):
        text = f"${_num(v)}/{unit[4:]}"
    elif unit.startswith("%"):
        text = f"{_num(v)}{unit}"
    elif unit == "count":
        text = _num(v)
    elif unit == "SEK m":
        text = f"SEK {_num(v)}m"
    else:
        text = f"{_num(v)} {unit}"
    return text if fact.verified else f"{text} (unverified)"


def render_note(note: str, facts: dict[str, Fact] | None = None) -> str:
    """Replace every ``{fNN}`` in ``note`` by :func:`format_fact` of that fact.

    Raises
    ------
    ClaimError
        A placeholder names a fact id that is not in ``facts.csv``.
    """
    table = _facts() if facts is None else facts

    def sub(m: re.Match[str]) -> str:
        fid = m.group(1)
        if fid not in table:
            raise ClaimError(f"note refers to fact {{{fid}}} which is not in facts.csv: {note[:80]!r}")
        return format_fact(table[fid])

    return _PLACEHOLDER.sub(sub, note)
