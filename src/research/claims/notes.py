"""Render a claim's reviewed notes: ``{fact_id}`` placeholders -> the fact's value and unit.

Numbers in the notes therefore come from the article's ``facts.csv``, never typed into
``claims.yaml``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from research.data.article import Fact
from research.errors import ClaimError

__all__ = ["PLACEHOLDER", "format_fact", "render_note"]

#: A ``{fact_id}`` placeholder in a claim's note (rendered here, checked by the article loader).
PLACEHOLDER = re.compile(r"\{([A-Za-z0-9][A-Za-z0-9_.-]*)\}")


def _num(v: float) -> str:
    return f"{v:,g}" if abs(v) < 1e15 else f"{v:.3e}"


def format_fact(fact: Fact) -> str:
    """A fact's value with its unit in words: ``$400m``, ``83.6%``, ``10 GW``, ``2024-12-31``.

    Units ``USD m``/``USD bn``/``USD/<x>`` and ``<CUR> m`` (a three-letter currency code)
    are written as money, ``%...`` directly after the number, ``count`` bare, anything else
    after a space. Unverified facts (no source) get an ``(unverified)`` suffix.
    """
    v, unit = fact.value, fact.unit
    parts = unit.split()
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
    elif len(parts) == 2 and len(parts[0]) == 3 and parts[0].isupper() and parts[1] in ("m", "bn"):
        text = f"{parts[0]} {_num(v)}{parts[1]}"
    else:
        text = f"{_num(v)} {unit}"
    return text if fact.verified else f"{text} (unverified)"


def render_note(note: str, facts: Mapping[str, Fact]) -> str:
    """Replace every ``{fact_id}`` in ``note`` by :func:`format_fact` of that fact.

    Raises
    ------
    ClaimError
        A placeholder names a fact id that is not among ``facts``.
    """
    def sub(m) -> str:  # type: ignore[no-untyped-def]
        fid = m.group(1)
        if fid not in facts:
            raise ClaimError(f"note refers to fact {{{fid}}} which is not in facts.csv: {note[:80]!r}")
        return format_fact(facts[fid])

    return PLACEHOLDER.sub(sub, note)
