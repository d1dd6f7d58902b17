"""The result of evaluating one claim: :class:`Verdict` and its JSON form.

``Verdict.to_dict()`` is exactly one element of ``reports/claims.json``. Floats are
rounded to :data:`DECIMALS` decimals and non-finite numbers become ``null`` so the JSON is
strict and byte-identical from run to run.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from research.vocab import (DECIMALS, FACT_VERDICTS, NOT_SUPPORTED, NOT_TESTABLE, PARTLY, SUPPORTED, VERDICTS,
                            to_jsonable, verdict_style)

__all__ = [
    "Verdict", "VERDICTS", "FACT_VERDICTS", "SUPPORTED", "PARTLY", "NOT_SUPPORTED", "NOT_TESTABLE",
    "EVIDENCE_COLUMNS", "CONFOUNDER_COLUMNS", "DECIMALS", "to_jsonable", "empty_evidence",
]

#: Columns of a verdict's evidence table (one row per event x ticker-or-basket x window).
#: ``car``/``bhar`` are simple-return units (0.1 = 10%); ``abnormal_volume`` is the day-0
#: abnormal log volume (NaN where volume is not available).
EVIDENCE_COLUMNS: tuple[str, ...] = (
    "event_id", "ticker", "day0", "window_start", "window_end", "car", "bhar", "car_se",
    "t_stat", "p_value", "p_placebo", "p_placebo_n", "p_placebo_floor", "mde", "mde_placebo",
    "size_t_05", "abnormal_volume", "status",
)
#: Columns of a verdict's confounder table (see :mod:`research.claims.confounding`).
CONFOUNDER_COLUMNS: tuple[str, ...] = (
    "event_id", "ticker", "window_start", "window_end", "other_event_id", "other_day0",
    "scope", "same_day0",
)


def empty_evidence() -> pd.DataFrame:
    """An evidence table with no rows and the standard columns."""
    return pd.DataFrame({c: pd.Series(dtype="float64") for c in EVIDENCE_COLUMNS}).astype(
        {"event_id": "str", "ticker": "str", "day0": "datetime64[ns]", "window_start": "int64",
         "window_end": "int64", "status": "str"})


def _sorted(obj: Any) -> Any:
    """Mappings with keys sorted at every level (the published JSON is written with sorted
    keys, so the dict order is the same before and after a JSON round trip)."""
    if isinstance(obj, dict):
        return {k: _sorted(obj[k]) for k in sorted(obj)}
    if isinstance(obj, list):
        return [_sorted(v) for v in obj]
    return obj


def _evidence_rows(ev: pd.DataFrame) -> list[dict[str, Any]]:
    rows = []
    for r in ev.to_dict(orient="records"):
        row: dict[str, Any] = {
            "event_id": r.get("event_id"), "ticker": r.get("ticker"), "day0": r.get("day0"),
            "window": [r.get("window_start"), r.get("window_end")],
        }
        for k in ("car", "bhar", "car_se", "t_stat", "p_value", "p_placebo", "abnormal_volume", "status"):
            row[k] = r.get(k)
        for k, v in r.items():  # extra columns (e.g. a rolling-return rule's returns) kept after the standard ones
            if k not in row and k not in ("window_start", "window_end"):
                row[k] = v
        rows.append(to_jsonable(row))
    return rows


def _fmt(v: Any) -> str:
    if isinstance(v, (float, np.floating)):
        if not math.isfinite(float(v)):
            return ""
        return f"{float(v):.4f}"
    if isinstance(v, pd.Timestamp):
        return "" if pd.isna(v) else v.strftime("%Y-%m-%d")
    if isinstance(v, Mapping):
        return ", ".join(f"{k}: {_fmt(x)}" for k, x in v.items())
    return "" if v is None else str(v)


@dataclass(frozen=True, eq=False)
class Verdict:
    """The verdict on one claim, with the evidence and the rule that produced it.

    Attributes
    ----------
    claim_id, title : the claim.
    verdict : one of :data:`VERDICTS`.
    rule : the verdict rule in words.
    evidence : DataFrame with :data:`EVIDENCE_COLUMNS` (plus claim-specific columns).
    key_numbers : dict of the numbers the verdict rests on (JSON-ready after rounding).
    notes : notes on the article's facts, data caveats, excluded events.
    confounders : DataFrame with :data:`CONFOUNDER_COLUMNS`.
    data_source : "snapshot" / "yfinance" / "auto" (as requested) with the sources used.
    as_of : the article's as-of date (ISO).
    parameters : the evaluation parameters (``EvalParams.to_dict()``).
    kind : the claim's kind (event, price, fact, ...).
    check : the kinds of check made: ``("price",)``, ``("fact",)``, ``("price", "fact")``
        or () for a claim neither can test.
    fact_verdict : the fact check's verdict (accurate / partly wrong / wrong / unverified),
        or "" when no fact check was made.
    fact_items : the fact check's items (statement, outcome, how, reason, cites).
    headline : one sentence with the key number and its p-value (shown by the reports).
    direction : the claimed direction of a price rule (up / down / any), or "".
    specification : the specification actually used (model, market proxy, estimation
        window, the rule's windows, and which keys the claim's ``spec:`` overrode).
    inference : the primary test and its multiplicity adjustment (see
        :mod:`research.claims.multiplicity`): ``test, description, window, p_value,
        p_placebo_n, p_floor, p_holm, p_bh, family_size``; empty for claims without one.
    robustness : the verdict across the specification grid
        (:meth:`research.claims.robustness.Robustness.to_dict`: share, fragile, grid);
        empty unless asked for (``evaluate(..., robustness=True)``).
    details : objects for figures (e.g. the EventStudyResult, rolling-return panel); not
        serialised.
    """

    claim_id: str
    title: str
    verdict: str
    rule: str
    evidence: pd.DataFrame
    key_numbers: dict[str, Any]
    notes: tuple[str, ...]
    confounders: pd.DataFrame
    data_source: str
    as_of: str
    parameters: dict[str, Any]
    kind: str = ""
    details: Mapping[str, Any] = field(default_factory=dict, repr=False)
    check: tuple[str, ...] = ()
    fact_verdict: str = ""
    fact_items: tuple[Mapping[str, Any], ...] = ()
    headline: str = ""
    direction: str = ""
    specification: Mapping[str, Any] = field(default_factory=dict)
    inference: Mapping[str, Any] = field(default_factory=dict)
    robustness: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.verdict not in VERDICTS:
            raise ValueError(f"verdict {self.verdict!r} is not one of {VERDICTS}")
        if self.fact_verdict not in FACT_VERDICTS + ("",):
            raise ValueError(f"fact_verdict {self.fact_verdict!r} is not one of {FACT_VERDICTS}")

    def to_dict(self) -> dict[str, Any]:
        """The claims.json element (strict JSON types, floats rounded to 6 decimals,
        ``key_numbers`` with sorted keys)."""
        return {
            "claim_id": self.claim_id,
            "title": self.title,
            "verdict": self.verdict,
            "rule": self.rule,
            "data_source": self.data_source,
            "as_of": self.as_of,
            "parameters": to_jsonable(self.parameters),
            "evidence": _evidence_rows(self.evidence),
            "key_numbers": _sorted(to_jsonable(self.key_numbers)),
            "notes": list(self.notes),
            "confounders": to_jsonable(self.confounders),
            "kind": self.kind,
            "check": list(self.check),
            "fact_verdict": self.fact_verdict or None,
            "fact_check": _sorted(to_jsonable(list(self.fact_items))),
            "headline": self.headline,
            "direction": self.direction or None,
            "specification": _sorted(to_jsonable(dict(self.specification))),
            "inference": _sorted(to_jsonable(dict(self.inference))),
            "robustness": to_jsonable(dict(self.robustness)) or None,
        }

    def to_json(self) -> str:
        """``to_dict()`` as a JSON string (sorted keys, UTF-8 text)."""
        return json.dumps(self.to_dict(), ensure_ascii=False, sort_keys=True, indent=1, allow_nan=False)

    # ---- rendering ---------------------------------------------------------------------
    def _key_table(self) -> pd.DataFrame:
        """Scalar key numbers as (quantity, value) rows."""
        rows = [{"quantity": k, "value": _fmt(v)} for k, v in self.key_numbers.items() if not isinstance(v, Mapping)]
        return pd.DataFrame(rows, columns=["quantity", "value"])

    def _nested_key_table(self) -> pd.DataFrame:
        """Mapping-valued key numbers (per ticker or per pair) as one row each."""
        nested = {k: v for k, v in self.key_numbers.items() if isinstance(v, Mapping)}
        if not nested:
            return pd.DataFrame()
        df = pd.DataFrame.from_dict(nested, orient="index")
        return df.map(_fmt).rename_axis("").reset_index()

    def _evidence_view(self) -> pd.DataFrame:
        return Verdict._view(self.evidence)

    def _decisive_rows(self) -> pd.DataFrame | None:
        """Evidence rows at the rule's window(s) (``details["rule_windows"]``), or None."""
        wins = self.details.get("rule_windows") if isinstance(self.details, Mapping) else None
        if not wins or "window_start" not in self.evidence.columns:
            return None
        ev = self.evidence
        mask = pd.Series(False, index=ev.index)
        for a, b in wins:
            mask |= (ev["window_start"] == a) & (ev["window_end"] == b)
        sub = Verdict._view(ev[mask])
        return sub

    @staticmethod
    def _view(ev: pd.DataFrame) -> pd.DataFrame:
        ev = ev.copy()
        if "window_start" in ev.columns and "window_end" in ev.columns:
            ev.insert(2, "window", [f"({int(a):+d},{int(b):+d})" if pd.notna(a) else "" for a, b in
                                    zip(ev["window_start"], ev["window_end"], strict=True)])
            ev = ev.drop(columns=["window_start", "window_end"])
        return ev.dropna(axis=1, how="all")

    def summary(self) -> str:
        """Plain-text rendering: verdict, rule, key numbers, evidence, notes, confounders."""
        width = 88
        lines = ["=" * width, f"{self.claim_id}: {self.title}", f"Verdict: {self.verdict.upper()}"]
        if self.fact_verdict:
            lines.append(f"Fact check: {self.fact_verdict.upper()}")
        if self.headline:
            lines.append(self.headline)
        lines += ["-" * width, "Rule: " + self.rule, "-" * width, "Key numbers:"]
        lines += [f"  {k}: {_fmt(v)}" for k, v in self.key_numbers.items()] or ["  (none)"]
        if self.fact_items:
            lines += ["-" * width, "Fact check:"]
            lines += [f"  - [{i['outcome']}] {i['statement']} {i['reason']} ({', '.join(i['cites'])})"
                      for i in self.fact_items]
        ev = self._evidence_view()
        lines += ["-" * width, "Evidence:"]
        lines.append(ev.map(_fmt).to_string(index=False) if not ev.empty else "  (none)")
        if not self.confounders.empty:
            lines += ["-" * width, "Other catalogued events inside the event windows:"]
            lines.append(self.confounders.map(_fmt).to_string(index=False))
        if self.notes:
            lines += ["-" * width, "Notes:"] + [f"  - {n}" for n in self.notes]
        lines += ["-" * width, f"Data: {self.data_source}; as of {self.as_of}", "=" * width]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"Verdict({self.claim_id}: {self.verdict!r}, evidence rows={len(self.evidence)})"

    def _repr_html_(self) -> str:
        style = verdict_style(self.verdict)
        parts = [
            f"<div class='verdict' id='verdict-{html.escape(self.claim_id)}'>",
            f"<h4>{html.escape(self.claim_id)}: {html.escape(self.title)}</h4>",
            f"<p><strong>Verdict:</strong> <span style='background:{style.background};color:{style.text};"
            f"padding:2px 8px;border-radius:4px'>{html.escape(self.verdict)}</span>"
            + (f" &nbsp; <strong>Fact check:</strong> {html.escape(self.fact_verdict)}" if self.fact_verdict else "")
            + "</p>",
        ]
        if self.headline:
            parts.append(f"<p>{html.escape(self.headline)}</p>")
        parts.append(f"<p><strong>Rule:</strong> {html.escape(self.rule)}</p>")
        if self.fact_items:
            parts.append("<p><strong>Fact check</strong></p><ul>")
            parts += [f"<li><strong>{html.escape(str(i['outcome']))}</strong>: {html.escape(str(i['statement']))} "
                      f"{html.escape(str(i['reason']))} <small>({html.escape(', '.join(i['cites']))})</small></li>"
                      for i in self.fact_items]
            parts.append("</ul>")
        if self.key_numbers:
            parts.append("<p><strong>Key numbers</strong></p>")
            nested = self._nested_key_table()
            if not nested.empty:
                parts.append(nested.to_html(index=False, escape=True))
            scalars = self._key_table()
            if not scalars.empty:
                parts.append(scalars.to_html(index=False, escape=True))
        ev = self._evidence_view()
        if not ev.empty:
            units = ("<small>car, bhar: simple-return units (0.10 = +10%); p_value: parametric t-test; "
                     "p_placebo: random-date test; abnormal_volume: day-0 abnormal log volume</small>")
            decisive = self._decisive_rows()
            if decisive is not None and 0 < len(decisive) < len(ev):
                parts.append(f"<p><strong>Evidence at the rule's window</strong> {units}</p>")
                parts.append(decisive.map(_fmt).to_html(index=False, escape=True))
                parts.append(f"<details><summary>All windows ({len(ev)} rows)</summary>")
                parts.append(ev.map(_fmt).to_html(index=False, escape=True))
                parts.append("</details>")
            else:
                parts.append(f"<p><strong>Evidence</strong> {units}</p>")
                parts.append(ev.map(_fmt).to_html(index=False, escape=True))
        if not self.confounders.empty:
            parts.append("<p><strong>Other catalogued events inside the event windows</strong></p>")
            parts.append(self.confounders.map(_fmt).to_html(index=False, escape=True))
        if self.notes:
            parts.append("<p><strong>Notes</strong></p><ul>")
            parts += [f"<li>{html.escape(n)}</li>" for n in self.notes]
            parts.append("</ul>")
        parts.append(f"<p><small>Data: {html.escape(self.data_source)}; as of "
                     f"{html.escape(self.as_of)}</small></p></div>")
        return "\n".join(parts)
