"""The claim registry: ``data/article/claims.yaml`` -> frozen :class:`Claim` records.

The claims are data, not code: their wording, the events and tickers they are tested on
and their verdict rules live in the YAML file. This module only reads and validates it.
Anything malformed (missing field, wrong type, unknown rule type, an event or fact id
that is not in ``events.csv``/``facts.csv``) raises :class:`~research.errors.ClaimError`
naming the claim, the field and the fix.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from research.data import paths
from research.errors import ClaimError, ResearchError

__all__ = [
    "Claim", "Rule", "KINDS", "RULE_TYPES", "TESTS", "CLAIMS_FILE",
    "load_claims", "get_claim", "load_baskets", "claims_path",
]

CLAIMS_FILE = "claims.yaml"
KINDS: tuple[str, ...] = ("event", "price_claim", "fundamental", "context", "event+fact")
RULE_TYPES: tuple[str, ...] = ("basket_car", "pairs_car", "rolling_return", "revenue_growth", "not_testable")
TESTS: tuple[str, ...] = ("parametric", "placebo")
_ID_RE = re.compile(r"^C\d{1,2}$")
_TICKER_RE = re.compile(r"^[A-Z][A-Z0-9.\-]{0,9}$")


@dataclass(frozen=True)
class Rule:
    """A claim's verdict rule: structured fields applied by :mod:`research.claims.rules`.

    Attributes
    ----------
    type : one of :data:`RULE_TYPES`.
    text : the rule in words (shown with every verdict).
    window : (start, end) trading days, or None for "auto" ((0,0) when the event's timing
        is known, (-1,+1) when uncertain); unused by non-event rules.
    tests : tests that must both reject at ``alpha`` for "supported" (parametric, placebo).
    primary_events : events the basket rule is decided on (default: all the claim's events).
    confounded_events : basket rule only: events whose day 0 is shared with other news; a
        positive CAR significant under every test there can make the verdict at most
        "partly supported" (the rise happened but cannot be attributed to the claim's news).
    market_must_fall : basket rule only: the market proxy's day-0 return must be negative.
    reason : why a claim is not testable with price data (not_testable only).
    required_tickers, horizon, threshold, lookback_sessions, month : rolling_return only
        (horizon in sessions, threshold as a simple return, e.g. 1.0 = +100%).
    current, prior, reported_growth, threshold_pct : revenue_growth only (fact ids, and the
        growth threshold in percent).
    max_verdict, max_verdict_reason : optional cap for event+fact claims whose facts the
        article gets wrong: a price verdict better than ``max_verdict`` is lowered to it.
    """

    type: str
    text: str
    window: tuple[int, int] | None = None
    tests: tuple[str, ...] = TESTS
    primary_events: tuple[str, ...] = ()
    confounded_events: tuple[str, ...] = ()
    market_must_fall: bool = False
    reason: str = ""
    required_tickers: tuple[str, ...] = ()
    horizon: int = 21
    threshold: float = 1.0
    lookback_sessions: int = 30
    month: str = ""
    current: str = ""
    prior: str = ""
    reported_growth: str = ""
    threshold_pct: float = 0.0
    max_verdict: str = ""
    max_verdict_reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        """The structured fields relevant to this rule type (JSON-ready)."""
        d: dict[str, Any] = {"type": self.type}
        if self.type in ("basket_car", "pairs_car", "revenue_growth"):
            d["window"] = list(self.window) if self.window is not None else "auto"
        if self.type in ("basket_car", "pairs_car"):
            d["tests"] = list(self.tests)
        if self.type == "basket_car":
            d["primary_events"] = list(self.primary_events)
            d["confounded_events"] = list(self.confounded_events)
            d["market_must_fall"] = self.market_must_fall
        if self.type == "rolling_return":
            d.update(required_tickers=list(self.required_tickers), horizon=self.horizon,
                     threshold=self.threshold, lookback_sessions=self.lookback_sessions, month=self.month)
        if self.type == "revenue_growth":
            d.update(current=self.current, prior=self.prior, reported_growth=self.reported_growth,
                     threshold_pct=self.threshold_pct)
        if self.type == "not_testable":
            d["reason"] = self.reason
        if self.max_verdict:
            d["max_verdict"] = self.max_verdict
            d["max_verdict_reason"] = self.max_verdict_reason
        return d


@dataclass(frozen=True)
class Claim:
    """One claim of the article (a record of ``claims.yaml``).

    Attributes
    ----------
    id : "C1".."C15".
    title, summary : English.
    japanese : the original sentence(s), verbatim substrings of ``source-article-ja.txt``.
    kind : one of :data:`KINDS`.
    events : event ids of ``events.csv``.
    tickers : tickers analysed one by one.
    pairs : explicit (event_id, ticker) pairs; empty = every event x every ticker.
    basket : basket name (see :func:`load_baskets`) or "" for none.
    basket_tickers : the basket's members (resolved).
    windows : event windows the claim needs (trading days, inclusive).
    model : the expected-return model the claim was designed with.
    facts : fact ids of ``facts.csv``.
    rule : the verdict rule.
    notes : reviewed notes with ``{fNN}`` fact placeholders (see :mod:`research.claims.notes`).
    """

    id: str
    title: str
    summary: str
    japanese: tuple[str, ...]
    kind: str
    events: tuple[str, ...]
    tickers: tuple[str, ...]
    pairs: tuple[tuple[str, str], ...]
    basket: str
    basket_tickers: tuple[str, ...]
    windows: tuple[tuple[int, int], ...]
    model: str
    facts: tuple[str, ...]
    rule: Rule
    notes: tuple[str, ...]

    @property
    def testable(self) -> bool:
        """False for context claims whose rule is ``not_testable``."""
        return self.rule.type != "not_testable"

    def event_ticker_pairs(self) -> tuple[tuple[str, str], ...]:
        """The (event_id, ticker) pairs analysed one by one (explicit pairs or the cross product)."""
        if self.pairs:
            return self.pairs
        return tuple((e, t) for e in self.events for t in self.tickers)


def claims_path() -> Path:
    """``<data>/article/claims.yaml``."""
    return paths.article_dir() / CLAIMS_FILE


def _err(cid: str, field: str, msg: str) -> ClaimError:
    return ClaimError(f"claims.yaml, claim {cid}, field '{field}': {msg}")


def _str(rec: dict, cid: str, key: str, *, required: bool = True) -> str:
    v = rec.get(key, None)
    if v is None and not required:
        return ""
    if not isinstance(v, str) or not v.strip():
        raise _err(cid, key, f"must be a non-empty string, got {v!r}")
    return " ".join(v.split()) if key not in ("japanese",) else v.strip()


def _str_list(rec: dict, cid: str, key: str, *, required: bool = True) -> tuple[str, ...]:
    v = rec.get(key, None)
    if v is None:
        if required:
            raise _err(cid, key, "is missing; give a list (possibly empty: [])")
        return ()
    if not isinstance(v, list) or not all(isinstance(x, str) and x.strip() for x in v):
        raise _err(cid, key, f"must be a list of non-empty strings, got {v!r}")
    return tuple(x.strip() for x in v)


def _window(v: Any, cid: str, key: str) -> tuple[int, int]:
    if (not isinstance(v, list) or len(v) != 2
            or not all(isinstance(x, int) and not isinstance(x, bool) for x in v)):
        raise _err(cid, key, f"window {v!r} must be a [start, end] pair of integers (trading days)")
    a, b = v
    if a > b:
        raise _err(cid, key, f"window {v!r} is reversed; write [{b}, {a}]")
    return (a, b)


def _tickers(values: tuple[str, ...], cid: str, key: str) -> tuple[str, ...]:
    for t in values:
        if not _TICKER_RE.match(t):
            raise _err(cid, key, f"{t!r} is not a ticker symbol (upper case, e.g. 'MP')")
    return values


def _rule(raw: Any, cid: str, events: tuple[str, ...]) -> Rule:
    if not isinstance(raw, dict):
        raise _err(cid, "rule", f"must be a mapping with 'type' and 'text', got {raw!r}")
    rtype = raw.get("type")
    if rtype not in RULE_TYPES:
        raise _err(cid, "rule.type", f"{rtype!r} is not one of {RULE_TYPES}")
    text = _str(raw, cid, "text")
    allowed = {"type", "text", "window", "tests", "primary_events", "confounded_events", "market_must_fall", "reason",
               "required_tickers", "horizon", "threshold", "lookback_sessions", "month",
               "current", "prior", "reported_growth", "threshold_pct", "max_verdict",
               "max_verdict_reason"}
    extra = sorted(set(raw) - allowed)
    if extra:
        raise _err(cid, "rule", f"unknown key(s) {extra}; allowed: {sorted(allowed)}")
    kw: dict[str, Any] = {"type": rtype, "text": text}
    if rtype in ("basket_car", "pairs_car", "revenue_growth"):
        w = raw.get("window", None)
        if w is None:
            raise _err(cid, "rule.window", "is required: a [start, end] pair or 'auto'")
        kw["window"] = None if w == "auto" else _window(w, cid, "rule.window")
    if rtype in ("basket_car", "pairs_car"):
        tests = _str_list(raw, cid, "tests", required=False) or TESTS
        bad = [t for t in tests if t not in TESTS]
        if bad:
            raise _err(cid, "rule.tests", f"{bad} not among {TESTS}")
        kw["tests"] = tests
    if rtype == "basket_car":
        prim = _str_list(raw, cid, "primary_events", required=False)
        missing = [e for e in prim if e not in events]
        if missing:
            raise _err(cid, "rule.primary_events", f"{missing} are not among the claim's events {list(events)}")
        kw["primary_events"] = prim or events
        conf = _str_list(raw, cid, "confounded_events", required=False)
        bad = [e for e in conf if e not in events or e in kw["primary_events"]]
        if bad:
            raise _err(cid, "rule.confounded_events",
                       f"{bad} must be events of the claim that are not primary events")
        kw["confounded_events"] = conf
        mf = raw.get("market_must_fall", False)
        if not isinstance(mf, bool):
            raise _err(cid, "rule.market_must_fall", f"must be true or false, got {mf!r}")
        kw["market_must_fall"] = mf
    if rtype == "not_testable":
        kw["reason"] = _str(raw, cid, "reason")
    if rtype == "rolling_return":
        kw["required_tickers"] = _tickers(_str_list(raw, cid, "required_tickers"), cid, "rule.required_tickers")
        for key, typ in (("horizon", int), ("lookback_sessions", int)):
            v = raw.get(key)
            if not isinstance(v, typ) or isinstance(v, bool) or v < 1:
                raise _err(cid, f"rule.{key}", f"must be a positive integer (sessions), got {v!r}")
            kw[key] = v
        thr = raw.get("threshold")
        if isinstance(thr, bool) or not isinstance(thr, (int, float)):
            raise _err(cid, "rule.threshold", f"must be a number (simple return, 1.0 = +100%), got {thr!r}")
        kw["threshold"] = float(thr)
        month = raw.get("month")
        if not isinstance(month, str) or not re.match(r"^\d{4}-\d{2}$", month):
            raise _err(cid, "rule.month", f"must be a 'YYYY-MM' string, got {month!r}")
        kw["month"] = month
    if rtype == "revenue_growth":
        for key in ("current", "prior", "reported_growth"):
            kw[key] = _str(raw, cid, key)
        thr = raw.get("threshold_pct")
        if isinstance(thr, bool) or not isinstance(thr, (int, float)):
            raise _err(cid, "rule.threshold_pct", f"must be a number in percent, got {thr!r}")
        kw["threshold_pct"] = float(thr)
    cap = raw.get("max_verdict")
    if cap is not None:
        if cap not in ("partly supported", "not supported"):
            raise _err(cid, "rule.max_verdict", f"{cap!r} must be 'partly supported' or 'not supported'")
        kw["max_verdict"] = cap
        kw["max_verdict_reason"] = _str(raw, cid, "max_verdict_reason")
    return Rule(**kw)


def _claim(rec: Any, baskets: dict[str, tuple[str, ...]], index: int) -> Claim:
    if not isinstance(rec, dict):
        raise ClaimError(f"claims.yaml: entry #{index + 1} of 'claims' must be a mapping, got {rec!r}")
    cid = rec.get("id")
    if not isinstance(cid, str) or not _ID_RE.match(cid):
        raise ClaimError(f"claims.yaml: entry #{index + 1} has id {cid!r}; ids look like 'C1'..'C15'")
    kind = rec.get("kind")
    if kind not in KINDS:
        raise _err(cid, "kind", f"{kind!r} is not one of {KINDS}")
    japanese = _str_list(rec, cid, "japanese")
    if not japanese:
        raise _err(cid, "japanese", "must quote at least one sentence of the article")
    events = _str_list(rec, cid, "events")
    tickers = _tickers(_str_list(rec, cid, "tickers"), cid, "tickers")
    raw_pairs = rec.get("pairs", [])
    if not isinstance(raw_pairs, list):
        raise _err(cid, "pairs", f"must be a list of [event_id, ticker] pairs, got {raw_pairs!r}")
    pairs: list[tuple[str, str]] = []
    for p in raw_pairs:
        if not (isinstance(p, list) and len(p) == 2 and all(isinstance(x, str) for x in p)):
            raise _err(cid, "pairs", f"{p!r} is not an [event_id, ticker] pair")
        if p[0] not in events:
            raise _err(cid, "pairs", f"event {p[0]!r} is not among the claim's events {list(events)}")
        _tickers((p[1],), cid, "pairs")
        pairs.append((p[0], p[1]))
    basket = rec.get("basket", "") or ""
    if basket and basket not in baskets:
        raise _err(cid, "basket", f"{basket!r} is not defined under 'baskets' ({sorted(baskets)})")
    raw_windows = rec.get("windows")
    if not isinstance(raw_windows, list):
        raise _err(cid, "windows", f"must be a list of [start, end] pairs (possibly []), got {raw_windows!r}")
    windows = tuple(_window(w, cid, "windows") for w in raw_windows)
    model = rec.get("model")
    if model not in ("market", "market_adjusted", "mean_adjusted"):
        raise _err(cid, "model", f"{model!r} is not one of ('market', 'market_adjusted', 'mean_adjusted')")
    rule = _rule(rec.get("rule"), cid, events)
    if rule.type in ("basket_car",) and not basket:
        raise _err(cid, "basket", "a basket_car rule needs a 'basket'")
    if rule.type in ("pairs_car", "revenue_growth") and not pairs:
        raise _err(cid, "pairs", f"a {rule.type} rule needs explicit 'pairs'")
    notes_raw = rec.get("notes", [])
    if not isinstance(notes_raw, list) or not all(isinstance(n, str) for n in notes_raw):
        raise _err(cid, "notes", "must be a list of strings")
    return Claim(
        id=cid, title=_str(rec, cid, "title"), summary=_str(rec, cid, "summary"),
        japanese=japanese, kind=kind, events=events, tickers=tickers, pairs=tuple(pairs),
        basket=basket, basket_tickers=baskets.get(basket, ()), windows=windows, model=model,
        facts=_str_list(rec, cid, "facts"), rule=rule,
        notes=tuple(" ".join(n.split()) for n in notes_raw),
    )


def _read(path: Path) -> dict:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ClaimError(
            f"claim registry {path} not found; it ships with the repository under data/article/ "
            "(set RESEARCH_DATA_DIR only to a directory that contains article/claims.yaml)"
        ) from None
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ClaimError(f"claim registry {path} is not valid YAML: {exc}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("claims"), list):
        raise ClaimError(f"claim registry {path} must be a mapping with a 'claims' list")
    return doc


def _baskets(doc: dict, path: Path) -> dict[str, tuple[str, ...]]:
    raw = doc.get("baskets", {}) or {}
    if not isinstance(raw, dict):
        raise ClaimError(f"{path}: 'baskets' must map a name to a list of tickers")
    out: dict[str, tuple[str, ...]] = {}
    for name, members in raw.items():
        if (not isinstance(members, list) or len(members) < 2
                or not all(isinstance(t, str) and _TICKER_RE.match(t) for t in members)):
            raise ClaimError(f"{path}: basket {name!r} must list at least two tickers, got {members!r}")
        if len(set(members)) != len(members):
            raise ClaimError(f"{path}: basket {name!r} lists a ticker twice: {members!r}")
        out[str(name)] = tuple(members)
    return out


def _check_references(claims: list[Claim], path: Path) -> None:
    from research.data import load_events, load_facts  # local: keeps the registry importable alone

    try:
        event_ids = {e.event_id for e in load_events()}
        fact_ids = {f.fact_id for f in load_facts()}
    except ResearchError as exc:
        raise ClaimError(f"cannot cross-check {path} against events.csv/facts.csv: {exc}") from exc
    for c in claims:
        bad_e = [e for e in c.events if e not in event_ids]
        if bad_e:
            raise _err(c.id, "events", f"{bad_e} are not event ids of events.csv")
        bad_f = [f for f in c.facts + (c.rule.current, c.rule.prior, c.rule.reported_growth)
                 if f and f not in fact_ids]
        if bad_f:
            raise _err(c.id, "facts", f"{bad_f} are not fact ids of facts.csv")


def load_claims(path: Path | str | None = None, *, check_references: bool = True) -> list[Claim]:
    """Read and validate the claim registry.

    Parameters
    ----------
    path : path-like, optional
        Defaults to ``<data>/article/claims.yaml``.
    check_references : bool, default True
        Cross-check event and fact ids against ``events.csv`` and ``facts.csv``.

    Returns
    -------
    list of Claim, in file order (C1..C15).

    Raises
    ------
    ClaimError
        Missing file, invalid YAML, a malformed record, duplicate ids or unknown references.
    """
    p = Path(path) if path is not None else claims_path()
    claims = _load_cached(str(p.resolve()), p.stat().st_mtime_ns if p.exists() else 0, check_references)
    return list(claims)


@functools.lru_cache(maxsize=8)
def _load_cached(path: str, mtime: int, check_references: bool) -> tuple[Claim, ...]:
    p = Path(path)
    doc = _read(p)
    baskets = _baskets(doc, p)
    claims = [_claim(rec, baskets, i) for i, rec in enumerate(doc["claims"])]
    ids = [c.id for c in claims]
    dup = sorted({i for i in ids if ids.count(i) > 1})
    if dup:
        raise ClaimError(f"{p}: duplicate claim id(s) {dup}")
    if check_references:
        _check_references(claims, p)
    return tuple(claims)


def load_baskets(path: Path | str | None = None) -> dict[str, tuple[str, ...]]:
    """The named baskets of the registry (name -> member tickers)."""
    p = Path(path) if path is not None else claims_path()
    return _baskets(_read(p), p)


def get_claim(claim_id: str, path: Path | str | None = None) -> Claim:
    """One claim by id (``"C8"``; ``"c8"`` and ``8`` are accepted).

    Raises
    ------
    ClaimError
        The id is not in the registry (message lists the known ids).
    """
    key = f"C{claim_id}" if isinstance(claim_id, int) and not isinstance(claim_id, bool) else str(claim_id).strip().upper()
    claims = load_claims(path)
    for c in claims:
        if c.id == key:
            return c
    raise ClaimError(f"unknown claim {claim_id!r}; known claims: {', '.join(c.id for c in claims)}")
