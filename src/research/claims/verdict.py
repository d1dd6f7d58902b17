"""The result of evaluating one claim: :class:`Verdict` and its JSON form.

``Verdict.to_dict()`` is exactly one element of ``reports/claims.json``. Floats are
rounded to :data:`DECIMALS` decimals and non-finite numbers become ``null`` so the JSON is
strict and byte-identical from run to run.
"""

from __future__ import annotations

import html
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from research.vocab import (DECIMALS, FACT_VERDICTS, NOT_SUPPORTED, NOT_TESTABLE, PARTLY, SUPPORTED, VERDICTS,
                            basket_key, finite, pair_key, parse_series, to_jsonable, verdict_style)

if TYPE_CHECKING:  # types only: the verdict is the leaf the other claims modules build on
    from research.claims.params import EvalParams
    from research.claims.rally import RallyResult
    from research.claims.robustness import Robustness
    from research.claims.studies import ClaimStudy

__all__ = [
    "Verdict", "ReasonKind", "Reason", "PrimaryTest", "Multiplicity", "Inference", "FactItemResult", "FactCheck",
    "TargetNumbers", "RollingNumbers", "KeyNumbers", "EvaluationSpec", "FigureData", "VERDICTS", "FACT_VERDICTS", "SUPPORTED", "PARTLY", "NOT_SUPPORTED", "NOT_TESTABLE",
    "EVIDENCE_COLUMNS", "CONFOUNDER_COLUMNS", "DECIMALS", "to_jsonable", "empty_evidence", "VerdictRecord", "RULE_CHECK",
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


# ---------------------------------------------------------------------------------------
#: The published prefix of a rule's and a cap's sentences (written by the claims side only).
RULE_CHECK = "Rule check: "


# the typed parts of a verdict (all frozen; ``to_dict`` / ``to_json`` is the JSON boundary)
class ReasonKind(StrEnum):
    """What a sentence of a verdict's notes is (the report groups and styles by kind, never
    by the words)."""

    PRIMARY = "primary test"          # the primary test and its multiple-testing adjustment
    ROBUSTNESS = "robustness"         # how far the verdict holds across the specification grid
    CAP = "cap"                       # a cap on "supported" (rule max, Holm, plain t only)
    RULE = "rule"                     # the rule applied, in words ("Rule check: ...")
    POWER = "power"                   # an insignificant row and what the test could detect
    RUNUP = "run-up"                  # a significant move before day 0
    CLAIM_NOTE = "claim note"         # a reviewed note of claims.yaml
    SPEC_OVERRIDE = "specification"   # the claim overrides evaluation parameters
    PLACEBO_OFF = "placebo off"       # the placebo test was not run
    DATA = "data"                     # data caveats of the studies
    SEPARATION = "separation"         # other news on the same day 0
    CONTEXT = "context"               # evidence shown as context only
    COMPARISON = "comparison"         # computed vs reported figures
    FACT_ITEM = "fact item"           # one statement of the fact check


@dataclass(frozen=True)
class Reason:
    """One sentence of a verdict's notes, with its kind; ``text`` is the sentence as
    published (a rule's or cap's sentence starts with ``Rule check: ``). ``factual_error``
    marks a sentence stating a factual error of the article (a fact-check item judged
    wrong, or a claim note marked ``factual_error: true`` in claims.yaml)."""

    kind: ReasonKind
    text: str
    factual_error: bool = False

    @property
    def rule_step(self) -> bool:
        """A step of the rule (a rule sentence or a cap), shown apart from the notes."""
        return self.kind in (ReasonKind.RULE, ReasonKind.CAP)

    @property
    def body(self) -> str:
        """The sentence without its published ``Rule check: `` prefix (rule steps)."""
        return self.text.removeprefix(RULE_CHECK) if self.rule_step else self.text

    def to_dict(self) -> dict[str, Any]:
        return {"kind": str(self.kind), "text": self.text, "factual_error": self.factual_error}

    @classmethod
    def from_dict(cls, d: Mapping[str, object]) -> Reason:
        return cls(ReasonKind(str(d["kind"])), str(d["text"]), bool(d.get("factual_error", False)))


@dataclass(frozen=True)
class PrimaryTest:
    """The test a price claim's verdict rests on.

    Attributes
    ----------
    test : short name ("exact placebo", "joint placebo (Stouffer)", "parametric t").
    description : what was tested, in words.
    window : (start, end) trading days of the CAR tested.
    p_value : the raw p-value (NaN when no row could be tested).
    n_placebo : pseudo dates behind the deciding placebo p (None for other tests).
    p_floor : the smallest p the placebo could give, ``1/(1 + n_placebo)`` (None otherwise).
    """

    test: str
    description: str
    window: tuple[int, int]
    p_value: float
    n_placebo: int | None = None
    p_floor: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"test": self.test, "description": self.description, "window": list(self.window),
                "p_value": self.p_value if finite(self.p_value) else None,
                "p_placebo_n": self.n_placebo, "p_floor": self.p_floor}


@dataclass(frozen=True)
class Multiplicity:
    """A primary test adjusted across the article's family of primary tests."""

    p_holm: float
    p_bh: float
    family_size: int

    def to_dict(self) -> dict[str, Any]:
        return {"p_holm": self.p_holm, "p_bh": self.p_bh, "family_size": self.family_size}


@dataclass(frozen=True)
class Inference:
    """A price claim's primary test and (once the family is known) its adjustment."""

    primary: PrimaryTest
    multiplicity: Multiplicity | None = None

    @property
    def p_value(self) -> float:
        return self.primary.p_value

    @property
    def p_holm(self) -> float:
        return self.multiplicity.p_holm if self.multiplicity else float("nan")

    def to_dict(self) -> dict[str, Any]:
        """The flat ``inference`` object of claims.json."""
        return self.primary.to_dict() | (self.multiplicity.to_dict() if self.multiplicity else {})


@dataclass(frozen=True)
class FactItemResult:
    """One statement of a fact check and its outcome (accurate / partly wrong / wrong /
    unverified), how it was decided (``computed`` from facts.csv or ``judged``) and why."""

    statement: str
    cites: tuple[str, ...]
    outcome: str
    how: str
    reason: str
    fact_value: Any = None
    article_value: Any = None
    has_values: bool = False

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"statement": self.statement, "cites": list(self.cites), "outcome": self.outcome,
                             "how": self.how, "reason": self.reason}
        if self.has_values:
            d |= {"fact_value": self.fact_value, "article_value": self.article_value}
        return d


@dataclass(frozen=True)
class FactCheck:
    """A claim's fact check: the verdict, one outcome per item and a one-line headline."""

    verdict: str
    items: tuple[FactItemResult, ...]
    headline: str


@dataclass(frozen=True)
class TargetNumbers:
    """The key numbers of one target of a price rule: one series (a ticker or a basket) on
    one event, at the rule's window.

    ``t_stat`` / ``market_return_day0`` / ``significant_all_tests`` / ``window`` are None
    when the rule does not report them for this target (a confounded basket event has no
    t; only a ``market_must_fall`` basket has the market's return).
    """

    event_id: str
    series: str
    car: float
    p_value: float
    p_placebo: float
    t_stat: float | None = None
    window: tuple[int, int] | None = None
    significant_all_tests: bool | None = None
    market_return_day0: float | None = None

    @property
    def basket(self) -> bool:
        return parse_series(self.series)[1]

    @property
    def name(self) -> str:
        """The ticker, or the basket's name."""
        return parse_series(self.series)[0]

    def to_json(self) -> dict[str, Any]:
        """Its entries of the ``key_numbers`` object (the published key names)."""
        if self.basket:
            e = self.event_id
            d: dict[str, Any] = {basket_key(e, "basket_car"): self.car}
            if self.t_stat is not None:
                d[basket_key(e, "basket_t_stat")] = self.t_stat
            d[basket_key(e, "basket_p_value")] = self.p_value
            d[basket_key(e, "basket_p_placebo")] = self.p_placebo
            if self.market_return_day0 is not None:
                d[basket_key(e, "market_return_day0")] = self.market_return_day0
            return d
        inner: dict[str, Any] = {"window": list(self.window) if self.window else None, "car": self.car,
                                 "t_stat": self.t_stat, "p_value": self.p_value, "p_placebo": self.p_placebo}
        if self.significant_all_tests is not None:
            inner["significant_all_tests"] = self.significant_all_tests
        return {pair_key(self.name, self.event_id): inner}


@dataclass(frozen=True)
class RollingNumbers:
    """A ticker's rolling-return numbers (``horizon`` sessions; ``month`` YYYY-MM or "")."""

    ticker: str
    horizon: int
    month: str
    max_return: float
    max_start: Any
    max_end: Any
    return_as_of: float
    min_return: float | None = None
    min_end: Any = None
    month_return: float | None = None

    def to_json(self) -> dict[str, Any]:
        h = self.horizon
        d: dict[str, Any] = {f"max_rolling_{h}d_return": self.max_return, f"max_rolling_{h}d_end": self.max_end,
                             f"max_rolling_{h}d_start": self.max_start, f"rolling_{h}d_return_as_of": self.return_as_of}
        if self.min_return is not None:
            d |= {f"min_rolling_{h}d_return": self.min_return, f"min_rolling_{h}d_end": self.min_end}
        if self.month:
            d[f"calendar_month_return_{self.month.replace('-', '_')}"] = self.month_return
        return {self.ticker: d}


_BASKET_KEY = re.compile(r"^(?P<event>.+)\.(?P<field>basket_car|basket_t_stat|basket_p_value|basket_p_placebo|"
                         r"market_return_day0)$")
_ROLLING_KEY = re.compile(r"^max_rolling_(?P<h>\d+)d_return$")


@dataclass(frozen=True)
class KeyNumbers:
    """The numbers a verdict rests on: one :class:`TargetNumbers` per target of a price
    rule, one :class:`RollingNumbers` per ticker of a rolling-return rule, and the rule's
    counts and figures (``values``: name -> number, text or tuple, in the rule's order)."""

    targets: tuple[TargetNumbers, ...] = ()
    rolling: tuple[RollingNumbers, ...] = ()
    values: tuple[tuple[str, Any], ...] = ()

    def get(self, name: str, default: Any = None) -> Any:
        """A value of :attr:`values` by name."""
        return next((v for k, v in self.values if k == name), default)

    def __bool__(self) -> bool:
        return bool(self.targets or self.rolling or self.values)

    @classmethod
    def from_mapping(cls, key: Mapping[str, Any]) -> KeyNumbers:
        """The typed record of a rule's key-number mapping (the one reader of the key names
        :func:`research.vocab.pair_key` / :func:`~research.vocab.basket_key` write)."""
        targets: dict[str, dict[str, Any]] = {}
        order: list[str] = []
        rolling, values = [], []
        for name, val in key.items():
            m = _BASKET_KEY.match(name)
            if m and not isinstance(val, Mapping):
                e = m["event"]
                if e not in targets:
                    targets[e] = {"event_id": e, "series": "basket:" + str(key.get("basket", ""))}
                    order.append(e)
                f = m["field"].removeprefix("basket_")
                targets[e]["t_stat" if f == "t_stat" else f] = val
            elif isinstance(val, Mapping) and "car" in val and "@" in name:
                t, _, e = name.partition("@")
                w = val.get("window")
                targets[name] = {"event_id": e, "series": t, "car": val["car"], "t_stat": val.get("t_stat"),
                                 "p_value": val.get("p_value"), "p_placebo": val.get("p_placebo"),
                                 "window": tuple(int(x) for x in w) if w is not None else None,
                                 "significant_all_tests": val.get("significant_all_tests")}
                order.append(name)
            elif isinstance(val, Mapping) and any(_ROLLING_KEY.match(k) for k in val):
                h = int(next(_ROLLING_KEY.match(k)["h"] for k in val if _ROLLING_KEY.match(k)))
                month = next((k.removeprefix("calendar_month_return_").replace("_", "-") for k in val
                              if k.startswith("calendar_month_return_")), "")
                rolling.append(RollingNumbers(
                    ticker=name, horizon=h, month=month, max_return=val[f"max_rolling_{h}d_return"],
                    max_start=val[f"max_rolling_{h}d_start"], max_end=val[f"max_rolling_{h}d_end"],
                    return_as_of=val[f"rolling_{h}d_return_as_of"], min_return=val.get(f"min_rolling_{h}d_return"),
                    min_end=val.get(f"min_rolling_{h}d_end"),
                    month_return=val.get(f"calendar_month_return_{month.replace('-', '_')}") if month else None))
            else:
                values.append((name, tuple(val) if isinstance(val, list) else val))
        tn = []
        for k in order:
            d = targets[k]
            d.setdefault("p_value", float("nan"))
            d.setdefault("p_placebo", float("nan"))
            d.setdefault("car", float("nan"))
            tn.append(TargetNumbers(**d))
        return cls(tuple(tn), tuple(rolling), tuple(values))

    def to_json(self) -> dict[str, Any]:
        """The ``key_numbers`` object of claims.json (before rounding)."""
        d: dict[str, Any] = {}
        for t in self.targets:
            d |= t.to_json()
        for r in self.rolling:
            d |= r.to_json()
        for k, v in self.values:
            d[k] = list(v) if isinstance(v, tuple) else v
        return d


@dataclass(frozen=True)
class EvaluationSpec:
    """The specification a verdict was reached under: the resolved parameters after the
    claim's ``spec:`` overrides, the rule's CAR windows and which keys the claim overrode."""

    model: str
    market_proxy: str | None
    estimation_length: int
    estimation_end: int
    min_estimation_obs: int
    as_of: str | None
    seed: int | None
    alpha: float
    rule_windows: tuple[tuple[int, int], ...] = ()
    overrides: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"model": self.model, "market_proxy": self.market_proxy, "estimation_length": self.estimation_length,
                "estimation_end": self.estimation_end, "min_estimation_obs": self.min_estimation_obs,
                "as_of": self.as_of, "seed": self.seed, "alpha": self.alpha,
                "rule_windows": [list(w) for w in self.rule_windows], "overrides": list(self.overrides)}


@dataclass(frozen=True, eq=False)
class FigureData:
    """What the figures of a verdict draw (never serialised): the claim's event studies
    (CAR paths, returns) or its rolling-return panel, and the rule's windows."""

    study: ClaimStudy | None = None
    rally: RallyResult | None = None
    rule_windows: tuple[tuple[int, int], ...] = ()
    #: the series the rule judges (a rolling-return rule's required tickers; the others
    #: of the panel are drawn for context only)
    judged: tuple[str, ...] = ()



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

    Built once, never changed (every part is a frozen record or a tuple; the evidence and
    confounder tables are the only DataFrames). ``to_dict()`` is the JSON boundary.

    Attributes
    ----------
    claim_id, title : the claim.
    verdict : one of :data:`VERDICTS`.
    rule : the verdict rule in words.
    evidence : DataFrame with :data:`EVIDENCE_COLUMNS` (plus claim-specific columns).
    key : :class:`KeyNumbers`, the numbers the verdict rests on.
    reasons : :class:`Reason` sentences (primary test, caps, the rule's reasons, power and
        run-up notes, the claim's notes, data caveats, fact-check items), in the published
        order; :attr:`notes` are their texts.
    confounders : DataFrame with :data:`CONFOUNDER_COLUMNS`.
    data_source : "snapshot" / "yfinance" / "auto" (as requested) with the sources used.
    as_of : the article's as-of date (ISO).
    parameters : the evaluation parameters (:class:`~research.claims.params.EvalParams`).
    kind : the claim's kind (event, price, fact, ...).
    check : the kinds of check made: ``("price",)``, ``("fact",)``, ``("price", "fact")``
        or () for a claim neither can test.
    fact_check : the :class:`FactCheck`, or None when no fact check was made.
    headline : one sentence with the key number and its p-value (shown by the reports).
    direction : the claimed direction of a price rule (up / down / any), or "".
    specification : the :class:`EvaluationSpec` actually used.
    inference : the :class:`Inference` (primary test and its multiplicity adjustment), or
        None for claims without a primary test.
    robustness : the :class:`~research.claims.robustness.Robustness` across the
        specification grid, or None unless asked for (``evaluate(..., robustness=True)``).
    figures : :class:`FigureData` for the figures (not serialised).
    """

    claim_id: str
    title: str
    verdict: str
    rule: str
    evidence: pd.DataFrame
    key: KeyNumbers
    reasons: tuple[Reason, ...]
    confounders: pd.DataFrame
    data_source: str
    as_of: str
    parameters: EvalParams
    kind: str = ""
    check: tuple[str, ...] = ()
    fact_check: FactCheck | None = None
    headline: str = ""
    direction: str = ""
    specification: EvaluationSpec | None = None
    inference: Inference | None = None
    robustness: Robustness | None = None
    figures: FigureData = field(default_factory=FigureData, repr=False)

    def __post_init__(self) -> None:
        if self.verdict not in VERDICTS:
            raise ValueError(f"verdict {self.verdict!r} is not one of {VERDICTS}")
        if self.fact_check is not None and self.fact_check.verdict not in FACT_VERDICTS:
            raise ValueError(f"fact verdict {self.fact_check.verdict!r} is not one of {FACT_VERDICTS}")

    # ---- derived views ----------------------------------------------------------------
    @property
    def notes(self) -> tuple[str, ...]:
        """The reasons' sentences, in order."""
        return tuple(r.text for r in self.reasons)

    @property
    def key_numbers(self) -> dict[str, Any]:
        """The key numbers by their published names (a fresh dict: the JSON form of :attr:`key`)."""
        return self.key.to_json()

    @property
    def fact_verdict(self) -> str:
        """The fact check's verdict, or "" when no fact check was made."""
        return self.fact_check.verdict if self.fact_check else ""

    @property
    def fact_items(self) -> tuple[FactItemResult, ...]:
        return self.fact_check.items if self.fact_check else ()

    @property
    def rule_windows(self) -> tuple[tuple[int, int], ...]:
        """The rule's CAR windows (empty for rules without one)."""
        return self.specification.rule_windows if self.specification else ()

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
            "parameters": to_jsonable(self.parameters.to_dict()),
            "evidence": _evidence_rows(self.evidence),
            "key_numbers": _sorted(to_jsonable(self.key.to_json())),
            "notes": list(self.notes),
            "reasons": [r.to_dict() for r in self.reasons],
            "confounders": to_jsonable(self.confounders),
            "kind": self.kind,
            "check": list(self.check),
            "fact_verdict": self.fact_verdict or None,
            "fact_check": _sorted(to_jsonable([i.to_dict() for i in self.fact_items])),
            "headline": self.headline,
            "direction": self.direction or None,
            "specification": _sorted(to_jsonable(self.specification.to_dict() if self.specification else {})),
            "inference": _sorted(to_jsonable(self.inference.to_dict() if self.inference else {})),
            "robustness": self.robustness.to_dict() if self.robustness is not None else None,
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
        """Evidence rows at the rule's window(s) (:attr:`rule_windows`), or None."""
        wins = self.rule_windows
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
            lines += [f"  - [{i.outcome}] {i.statement} {i.reason} ({', '.join(i.cites)})"
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
            parts += [f"<li><strong>{html.escape(str(i.outcome))}</strong>: {html.escape(str(i.statement))} "
                      f"{html.escape(str(i.reason))} <small>({html.escape(', '.join(i.cites))})</small></li>"
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


JsonRow = Mapping[str, object]


def _opt_str(x: object) -> str | None:
    return None if x is None else str(x)


def _opt_float(x: object) -> float | None:
    return float(x) if isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(float(x)) else None


def _mapping(x: object) -> Mapping[str, object]:
    return x if isinstance(x, Mapping) else {}


def _rows(x: object) -> tuple[JsonRow, ...]:
    return tuple(r for r in x if isinstance(r, Mapping)) if isinstance(x, list) else ()


@dataclass(frozen=True)
class VerdictRecord:
    """A published verdict (an element of claims.json, or a :class:`Verdict`) read once into
    typed fields: what the report's pages and the index render from.

    ``reasons`` are the typed notes (kind, text, factual error); a claims.json element
    written before the notes carried their kinds, or an error record of the index, gives
    its notes as plain ``data`` reasons. ``evidence`` and ``confounders`` are the published
    rows (strict-JSON mappings); ``key`` the typed key numbers; ``error`` the reason a claim
    has no verdict (verdicts "error" / "not run").
    """

    claim_id: str
    title: str
    verdict: str
    rule: str = ""
    headline: str = ""
    reasons: tuple[Reason, ...] = ()
    fact_verdict: str = ""
    fact_items: tuple[FactItemResult, ...] = ()
    evidence: tuple[JsonRow, ...] = ()
    confounders: tuple[JsonRow, ...] = ()
    key: KeyNumbers = field(default_factory=KeyNumbers)
    rule_windows: tuple[tuple[int, int], ...] = ()
    parameters: Mapping[str, object] = field(default_factory=dict)
    robustness_share: float | None = None
    robustness_specs: int = 0
    fragile: bool = False
    data_source: str | None = None
    as_of: str | None = None
    error: str = ""
    page: str = ""

    @property
    def notes(self) -> tuple[str, ...]:
        return tuple(r.text for r in self.reasons)

    @property
    def rule_steps(self) -> tuple[Reason, ...]:
        """The rule's sentences, caps last."""
        steps = [r for r in self.reasons if r.rule_step]
        return tuple([r for r in steps if r.kind is not ReasonKind.CAP] + [r for r in steps if r.kind is ReasonKind.CAP])

    @property
    def other_notes(self) -> tuple[Reason, ...]:
        """The notes that are not steps of the rule."""
        return tuple(r for r in self.reasons if not r.rule_step)

    @classmethod
    def of(cls, v: Verdict | VerdictRecord | Mapping[str, object]) -> VerdictRecord:
        """The record of a :class:`Verdict`, of a claims.json element, or ``v`` itself."""
        if isinstance(v, VerdictRecord):
            return v
        if isinstance(v, Verdict):
            return cls.from_dict(v.to_dict())
        return cls.from_dict(v)

    @classmethod
    def from_dict(cls, d: Mapping[str, object]) -> VerdictRecord:
        """The record of one claims.json element (as :meth:`Verdict.to_dict` writes it, plus
        the index's ``page`` and an error record's ``error``)."""
        raw = d.get("reasons")
        if isinstance(raw, list):
            reasons = tuple(Reason.from_dict(r) for r in raw if isinstance(r, Mapping))
        else:
            notes = d.get("notes")
            reasons = tuple(Reason(ReasonKind.DATA, str(n)) for n in notes) if isinstance(notes, list) else ()
        items = []
        for i in _rows(d.get("fact_check")):
            cites = i.get("cites")
            items.append(FactItemResult(
                statement=str(i.get("statement") or ""), cites=tuple(str(c) for c in cites) if isinstance(cites, list) else (),
                outcome=str(i.get("outcome") or ""), how=str(i.get("how") or ""), reason=str(i.get("reason") or ""),
                fact_value=i.get("fact_value"), article_value=i.get("article_value"), has_values="fact_value" in i))
        spec = _mapping(d.get("specification"))
        wins = spec.get("rule_windows")
        rob = _mapping(d.get("robustness"))
        n_specs = rob.get("n_specs")
        key = d.get("key_numbers")
        return cls(
            claim_id=str(d.get("claim_id")), title=str(d.get("title") or ""), verdict=str(d.get("verdict")),
            rule=str(d.get("rule") or ""), headline=str(d.get("headline") or ""), reasons=reasons,
            fact_verdict=str(d.get("fact_verdict") or ""), fact_items=tuple(items),
            evidence=_rows(d.get("evidence")), confounders=_rows(d.get("confounders")),
            key=KeyNumbers.from_mapping(key) if isinstance(key, Mapping) else KeyNumbers(),
            rule_windows=tuple((int(w[0]), int(w[1])) for w in wins if isinstance(w, list) and len(w) == 2)
            if isinstance(wins, list) else (),
            parameters=_mapping(d.get("parameters")), robustness_share=_opt_float(rob.get("share")),
            robustness_specs=int(n_specs) if isinstance(n_specs, int) else 0, fragile=bool(rob.get("fragile")),
            data_source=_opt_str(d.get("data_source")), as_of=_opt_str(d.get("as_of")),
            error=str(d.get("error") or ""), page=str(d.get("page") or ""))
