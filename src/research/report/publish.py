"""The notebook side of the report contract: ``publish(verdicts, verdict_path)``.

Every notebook's ``parameters`` cell declares ``verdict_path = ""``. The report runner
sets it to ``reports/.verdicts/<notebook>.json``; the notebook's last cell calls
:func:`publish`, which writes the sidecar the runner collects into ``claims.json`` and the
index scoreboard. Run interactively (empty ``verdict_path``) nothing is written.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from research.errors import ReportError
from research.atomic import atomic_write_text
from research.vocab import strict

__all__ = ["Publishable", "publish", "verdict_to_dict"]


@runtime_checkable
class Publishable(Protocol):
    """What :func:`publish` takes besides a plain mapping: a verdict with its claims.json
    element (:meth:`research.claims.Verdict.to_dict`). A protocol, so the notebook side
    of the contract imports nothing heavy."""

    def to_dict(self) -> Mapping[str, object]: ...


def verdict_to_dict(verdict: Publishable | Mapping[str, object]) -> dict[str, object]:
    """A verdict as a plain dict: ``verdict.to_dict()`` or a mapping copied as is.

    Raises
    ------
    ReportError
        If ``verdict`` has no ``to_dict()`` and is not a mapping, or lacks ``claim_id``.
    """
    if isinstance(verdict, Publishable):
        out = verdict.to_dict()
    elif isinstance(verdict, Mapping):
        out = dict(verdict)
    else:
        raise ReportError(
            f"publish() got a {type(verdict).__name__}; pass research.claims Verdict objects "
            "(with .to_dict()) or plain dicts"
        )
    if not isinstance(out, Mapping) or "claim_id" not in out:
        raise ReportError(
            f"a published verdict must have a 'claim_id' (got keys {sorted(out)!r}); "
            "publish the objects returned by research.claims.evaluate()"
        )
    return dict(out)


def publish(
    verdicts: Iterable[Publishable | Mapping[str, object]] | Publishable | Mapping[str, object],
    path: str | os.PathLike[str] | None,
    *,
    notebook: str | None = None,
    shown: Iterable[Publishable | Mapping[str, object]] = (),
    extras: Mapping[str, object] | None = None,
) -> Path | None:
    """Write the notebook's verdicts to the sidecar JSON the report runner collects.

    Parameters
    ----------
    verdicts
        ``research.claims.Verdict`` objects (anything with ``to_dict()``) or plain dicts,
        one per claim; a single verdict is accepted too.
    path
        The notebook's ``verdict_path`` parameter. ``""`` or ``None``: do nothing (the
        notebook runs interactively, outside ``research report``).
    notebook
        Name recorded in the sidecar; defaults to the file stem of ``path``.
    shown
        Verdicts the page displays but does not own (e.g. the overview's table of every
        claim): their parameters are recorded under ``"shown"`` (claim id -> parameters)
        so the site can tell when the page no longer matches the owners' numbers.
    extras
        Further JSON-ready results of the page (e.g. ``{"followup": [...]}``), kept under
        ``"extras"``; the site writes ``followup.json`` from it.

    Returns
    -------
    pathlib.Path or None
        The file written, or None when ``path`` is empty.

    Notes
    -----
    The file is ``{"notebook": <stem>, "verdicts": [<verdict dict>, ...]}`` (plus
    ``"shown"`` and ``"extras"`` when given), written
    atomically (temporary file + ``os.replace``). NaN/inf become ``null``.
    """
    if path is None or str(path) == "":
        return None
    if isinstance(verdicts, (Publishable, Mapping)):
        verdicts = [verdicts]
    items = [verdict_to_dict(v) for v in verdicts]
    dest = Path(path)
    payload: dict[str, Any] = {"notebook": notebook or dest.stem, "verdicts": strict(items)}
    shown_d = {}
    for v in shown:
        d = verdict_to_dict(v)
        shown_d[str(d["claim_id"])] = strict(d.get("parameters") or {})
    if shown_d:
        payload["shown"] = shown_d
    if extras:
        payload["extras"] = strict(dict(extras))
    try:
        text = json.dumps(payload, indent=2, allow_nan=False, default=str)  # keep the verdict's key order
    except (TypeError, ValueError) as exc:  # pragma: no cover - default=str covers most
        raise ReportError(f"verdicts are not JSON-serialisable: {exc}; fix Verdict.to_dict()") from exc
    return atomic_write_text(dest, text + "\n")
