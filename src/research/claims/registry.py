"""An article's claims: ``claims.yaml`` -> frozen :class:`Claim` records.

The claims are data, not code: their wording, the events and tickers they are tested on,
their per-claim specification and their verdict rules live in the article's
``claims.yaml``. This module turns the schema-validated records into typed claims and
reports every inconsistency as a :class:`~research.claims.schema.Problem` (file, line,
claim, fix). Use :func:`research.claims.load_article` to read a whole article directory;
:func:`~research.claims.article.load_claims` and :func:`~research.claims.article.get_claim`
are shortcuts to its claims.
"""

from __future__ import annotations

import difflib
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from research.claims.factcheck import FactItem
from research.claims.rules import RULES, PriceRule, Rule
from research.claims.scaffold import EXAMPLE_QUOTE
from research.claims.schema import Problem, load_schema, validate

__all__ = ["Claim", "KINDS", "RULE_TYPES", "TESTS", "CLAIMS_FILE", "SPEC_KEYS", "parse_claims",
           "normalize_quote", "quote_found", "quote_problem"]

CLAIMS_FILE = "claims.yaml"
KINDS: tuple[str, ...] = tuple(load_schema("claims")["$defs"]["claim"]["properties"]["kind"]["enum"])
RULE_TYPES: tuple[str, ...] = tuple(RULES)
TESTS: tuple[str, ...] = ("parametric", "placebo")
#: Evaluation parameters a claim's ``spec:`` may override.
SPEC_KEYS: tuple[str, ...] = tuple(load_schema("claims")["$defs"]["spec"]["properties"])


@dataclass(frozen=True)
class Claim:
    """One claim of an article (a record of ``claims.yaml``).

    Attributes
    ----------
    id : free-form id (letters, digits, ``_.-``), unique in the article.
    title, summary : in the report's language (English for the shipped article).
    quote : the original sentence(s), verbatim substrings of the article text.
    quote_language : language code of ``quote`` (default: the article's language).
    kind : one of :data:`KINDS`.
    events : event ids of ``events.csv``.
    tickers : tickers analysed one by one.
    pairs : explicit (event_id, ticker) pairs; empty = every event x every ticker.
    basket : basket name (see ``article.yaml``) or "" for none.
    basket_tickers : the basket's members (resolved).
    windows : event windows the claim needs (trading days, inclusive).
    spec : per-claim overrides of the evaluation parameters (:data:`SPEC_KEYS`).
    theme_proxy : an ETF of the claim's theme (e.g. a sector ETF), one more market proxy of
        the specification grid (:mod:`research.claims.robustness`); None for none.
    facts : fact ids of ``facts.csv`` that bear on the claim.
    rule : the verdict rule (a registered :class:`~research.claims.rules.Rule`).
    fact_check : the fact-check items (:class:`~research.claims.factcheck.FactItem`).
    notes : reviewed notes with ``{fact_id}`` placeholders (see :mod:`research.claims.notes`).
    error_notes : those of ``notes`` marked ``factual_error: true`` in claims.yaml (they state
        a factual error of the article; the report lists them among the fact-check problems).
    """

    id: str
    title: str
    summary: str
    quote: tuple[str, ...]
    quote_language: str
    kind: str
    events: tuple[str, ...]
    tickers: tuple[str, ...]
    pairs: tuple[tuple[str, str], ...]
    basket: str
    basket_tickers: tuple[str, ...]
    windows: tuple[tuple[int, int], ...]
    spec: Mapping[str, Any]
    facts: tuple[str, ...]
    rule: Rule
    fact_check: tuple[FactItem, ...] = ()
    notes: tuple[str, ...] = ()
    theme_proxy: str | None = None
    #: the notes (as written, placeholders unrendered) that state a factual error of the article
    error_notes: frozenset[str] = frozenset()
    line: int = field(default=0, compare=False, repr=False)

    @property
    def testable(self) -> bool:
        """False for claims whose rule is ``not_testable``."""
        return self.rule.type != "not_testable"

    @property
    def checks(self) -> tuple[str, ...]:
        """The kinds of check made: ``("price",)``, ``("fact",)``, ``("price", "fact")`` or ()."""
        out = list(self.rule.checks)
        if self.fact_check and "fact" not in out:
            out.append("fact")
        return tuple(out)

    @property
    def direction(self) -> str | None:
        """The claimed direction of a price rule (up, down, any), else None."""
        return self.rule.direction if isinstance(self.rule, PriceRule) else None

    def event_ticker_pairs(self) -> tuple[tuple[str, str], ...]:
        """The (event_id, ticker) pairs analysed one by one (explicit pairs or the cross product)."""
        if self.pairs:
            return self.pairs
        return tuple((e, t) for e in self.events for t in self.tickers)


def _ws(s: str) -> str:
    return " ".join(str(s).split())


#: Typographic characters a copy of the text may carry either way: curly quotes and
#: apostrophes, primes, dashes and the minus sign -> their plain ASCII forms.
_TYPOGRAPHIC = str.maketrans({
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'", "\u00b4": "'", "\u0060": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"', "\u00ab": '"', "\u00bb": '"',
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2015": "-", "\u2212": "-",
    "\u00ad": None,  # soft hyphen: invisible
})


def normalize_quote(text: str) -> str:
    """``text`` as quotes are compared with the article text.

    Unicode NFKC (non-breaking spaces, ligatures and full-width forms become plain
    characters), curly quotes and apostrophes -> straight ones, dashes and the minus sign
    -> ``-``, and every run of whitespace (line breaks included) -> one space, stripped.
    A quote matches when its normalised form is a substring of the normalised text.
    """
    return " ".join(unicodedata.normalize("NFKC", str(text)).translate(_TYPOGRAPHIC).split())


def quote_found(quote: str, text: str) -> bool:
    """True when ``quote`` is a passage of ``text`` up to :func:`normalize_quote`."""
    return normalize_quote(quote) in normalize_quote(text)


def _closest_passage(q: str, t: str) -> str:
    """The passage of the (normalised) text ``t`` most like the (normalised) quote ``q``:
    word windows of the quote's length, ranked by difflib's ratio (quick ratios first)."""
    words = t.split()
    n = max(1, len(q.split()))
    if len(words) <= n:
        return t
    step = max(1, n // 4)
    cands = [" ".join(words[i:i + n]) for i in range(0, len(words) - n + 1, step)]
    sm = difflib.SequenceMatcher(None, autojunk=False)
    sm.set_seq2(q)

    def score(c: str) -> float:
        sm.set_seq1(c)
        return sm.ratio()

    quick = []
    for i, c in enumerate(cands):
        sm.set_seq1(c)
        quick.append((sm.quick_ratio(), i))
    best_i = max(sorted(quick, reverse=True)[:20], key=lambda x: score(cands[x[1]]))[1] * step
    # refine: every start and length around the best window
    best = max((" ".join(words[i:i + m]) for i in range(max(0, best_i - step), min(len(words), best_i + step + 1))
                for m in range(max(1, n - 3), n + 4)), key=score)
    return best


def quote_problem(quote: str, text: str, text_file: str) -> str | None:
    """None when ``quote`` is a passage of ``text`` (see :func:`quote_found`), else the
    message: the quote, the closest passage of the text and the fix."""
    if quote_found(quote, text):
        return None
    q, t = normalize_quote(quote), normalize_quote(text)
    short = q if len(q) <= 100 else q[:97] + "..."
    if q == normalize_quote(EXAMPLE_QUOTE):
        return (f"quote {short!r} is the scaffold's placeholder and {text_file} no longer holds it: "
                "replace this example claim's quote (and its title, summary, rule) with a sentence of the "
                "article, or delete the claim and its entry in layout.yaml")
    if not t:
        return f"quote {short!r} cannot be found: {text_file} is empty; paste the article's text into it"
    near = _closest_passage(q, t)
    near = near if len(near) <= 160 else near[:157] + "..."
    return (f"quote {short!r} is not a verbatim passage of {text_file} (line breaks, spacing and curly quotes are "
            f"ignored); the closest passage is {near!r}: copy the quote from the text")



def _note_text(note: str | Mapping[str, Any]) -> str:
    """A note's text: the note itself, or ``text`` of a ``{text, factual_error}`` note."""
    return str(note["text"]) if isinstance(note, Mapping) else note


def _claim(rec: dict[str, Any], baskets: Mapping[str, tuple[str, ...]], language: str, line: int) -> Claim:
    rule_raw = rec["rule"]
    rule = RULES[rule_raw["type"]].from_mapping(rule_raw)
    return Claim(
        id=rec["id"], title=_ws(rec["title"]), summary=_ws(rec["summary"]),
        quote=tuple(q.strip() for q in rec["quote"]), quote_language=rec.get("quote_language", language),
        kind=rec["kind"], events=tuple(rec.get("events", [])), tickers=tuple(rec.get("tickers", [])),
        pairs=tuple((p[0], p[1]) for p in rec.get("pairs", [])), basket=rec.get("basket", ""),
        basket_tickers=tuple(baskets.get(rec.get("basket", ""), ())),
        windows=tuple((int(a), int(b)) for a, b in rec.get("windows", [])),
        spec=MappingProxyType(dict(rec.get("spec", {}))), facts=tuple(rec.get("facts", [])), rule=rule,
        fact_check=tuple(FactItem.from_mapping(i) for i in rec.get("fact_check", [])),
        notes=tuple(_ws(_note_text(n)) for n in rec.get("notes", [])), theme_proxy=rec.get("theme_proxy"), line=line,
        error_notes=frozenset(_ws(_note_text(n)) for n in rec.get("notes", [])
                              if isinstance(n, Mapping) and n.get("factual_error")),
    )


def _rule_problems(rec: dict[str, Any], idx: int, lines: dict[tuple, int], file: str) -> list[Problem]:
    """The rule's own schema (its type's parameters), then the claim-level consistency."""
    cid = str(rec["id"])
    rule = rec["rule"]
    schema = load_schema("claims")
    sub = dict(schema["$defs"]["rules"][rule["type"]])
    sub["$defs"] = schema["$defs"]
    probs = validate(rule, sub, file=file, lines=lines, prefix=("claims", idx, "rule"), claim=cid)
    ln = lines.get(("claims", idx, "rule"), 0)
    events = list(rec.get("events", []))
    for key in ("window",):
        w = rule.get(key)
        if isinstance(w, list) and len(w) == 2 and all(isinstance(x, int) for x in w) and w[0] > w[1]:
            probs.append(Problem(file, ln, cid, f"rule.window {w} is reversed; write [{w[1]}, {w[0]}]"))
    prim = rule.get("primary_events", [])
    bad = [e for e in prim if e not in events]
    if bad:
        probs.append(Problem(file, ln, cid, f"rule.primary_events {bad} are not among the claim's events "
                                            f"{events}; list them under events too"))
    conf = rule.get("confounded_events", [])
    bad = [e for e in conf if e not in events or e in prim]
    if bad:
        probs.append(Problem(file, ln, cid, f"rule.confounded_events {bad} must be events of the claim "
                                            "that are not primary events"))
    probs += [Problem(file, ln, cid, msg) for msg in RULES[rule["type"]].claim_problems(rec)]
    return probs


def _claim_problems(rec: dict[str, Any], idx: int, baskets: Mapping[str, Any], lines: dict[tuple, int],
                    file: str) -> list[Problem]:
    cid = str(rec["id"])
    ln = lines.get(("claims", idx), 0)
    probs: list[Problem] = []
    events = list(rec.get("events", []))
    for j, p in enumerate(rec.get("pairs", [])):
        if p[0] not in events:
            probs.append(Problem(file, lines.get(("claims", idx, "pairs", j), ln), cid,
                                 f"pair {p} names event {p[0]!r} which is not among the claim's events {events}"))
    b = rec.get("basket")
    if b and b not in baskets:
        probs.append(Problem(file, lines.get(("claims", idx, "basket"), ln), cid,
                             f"basket {b!r} is not defined in article.yaml (baskets: {sorted(baskets)})"))
    for j, w in enumerate(rec.get("windows", [])):
        if w[0] > w[1]:
            probs.append(Problem(file, lines.get(("claims", idx, "windows", j), ln), cid,
                                 f"window {w} is reversed; write [{w[1]}, {w[0]}]"))
    spec = rec.get("spec", {})
    if "estimation_end" in spec:
        for w in rec.get("windows", []):
            if w[0] <= spec["estimation_end"]:
                probs.append(Problem(file, lines.get(("claims", idx, "spec"), ln), cid,
                                     f"window {w} starts inside the estimation window ending at "
                                     f"{spec['estimation_end']}; move estimation_end earlier"))
    probs += _rule_problems(rec, idx, lines, file)
    return probs


def parse_claims(doc: Any, lines: dict[tuple, int], *, baskets: Mapping[str, tuple[str, ...]],
                 language: str, file: str = CLAIMS_FILE) -> tuple[tuple[Claim, ...], list[Problem]]:
    """Validate a parsed ``claims.yaml`` document and build its claims.

    Returns the claims (empty when there are schema errors) and every problem found
    (schema, rule parameters, duplicate ids, references to undefined baskets or events).
    Cross-references to ``events.csv``/``facts.csv`` are checked by the article loader.
    """
    probs = validate(doc, "claims", file=file, lines=lines)
    if probs or not isinstance(doc, dict):
        return (), probs
    seen: dict[str, int] = {}
    for i, rec in enumerate(doc["claims"]):
        cid = str(rec["id"])
        if cid in seen:
            probs.append(Problem(file, lines.get(("claims", i, "id"), 0), cid,
                                 f"duplicate claim id (first on line {seen[cid]}); ids must be unique"))
        seen.setdefault(cid, lines.get(("claims", i, "id"), 0))
        probs += _claim_problems(rec, i, baskets, lines, file)
    if any(p.severity == "error" for p in probs):
        return (), probs
    claims = tuple(_claim(rec, baskets, language, lines.get(("claims", i), 0))
                   for i, rec in enumerate(doc["claims"]))
    return claims, probs
