"""An article, loaded from one directory: :class:`Article` and :func:`load_article`.

An article directory holds

==================  ====================================================================
``article.yaml``    title, source, URL, language, publication date, ``as_of``, market
                    proxy, exchange calendar, seed, named baskets, the text file's name
``claims.yaml``     the claims and their verdict rules
``events.csv``      dated news events (day 0 from their timing)
``facts.csv``       sourced numbers and dates
the article text    the file named by ``article.yaml``'s ``text``
``layout.yaml``     the report site: which page shows which claims
``prose/<id>.md``   optional bespoke prose per claim (markdown)
``pages/what_happened_next.md``  optional intro of the follow-up page (markdown)
==================  ====================================================================

Every file is read through :mod:`research.data.sandbox`: a regular file inside the
directory (no ``..``, no absolute path, no link at any component, no FIFO or device),
within a size limit; anything else is a Problem naming the file. YAML is parsed without
anchors, aliases or duplicate keys and with a depth limit (:mod:`research.claims.schema`);
dates must lie in :data:`research.data.article.DATE_RANGE`.

Every file is validated (JSON Schemas in ``research/claims/schemas``) and cross-checked
(claims against events, facts and baskets; the layout against the claims); every problem
names its file, line, claim and fix. The article is passed explicitly to everything that
needs it -- nothing is kept in process-wide state.
"""

from __future__ import annotations

import datetime as _dt
import difflib
import hashlib
import os
import re
import stat
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pandas as pd

from research.claims.notes import PLACEHOLDER
from research.claims.registry import CLAIMS_FILE, Claim, parse_claims, quote_problem
from research.claims.schema import Problem, did_you_mean, format_problems, validate, yaml_file
from research.data import paths, sandbox
from research.data.article import Event, Fact, date_problem, events_to_frame, facts_to_frame, read_events, read_facts
from research.data.sources import available_tickers
from research.errors import ClaimError, DataError, ResearchError

__all__ = ["Article", "Layout", "Page", "load_article", "inspect_article", "ARTICLE_FILE", "FOLLOWUP_INTRO",
           "LAYOUT_FILE", "PLACEHOLDER", "load_claims", "get_claim"]

ARTICLE_FILE = "article.yaml"
LAYOUT_FILE = "layout.yaml"
EVENTS_FILE = "events.csv"
FACTS_FILE = "facts.csv"
PROSE_DIR = "prose"
#: The optional intro (markdown) of the follow-up page every report site gets.
FOLLOWUP_INTRO = "pages/what_happened_next.md"
#: ``{fact_id}`` in a claim's notes is replaced by the fact's value and unit.


@dataclass(frozen=True)
class Page:
    """One page of the article's report site.

    Attributes
    ----------
    name : file stem of the page (``<name>.html``).
    kind : ``overview`` (scoreboard and the claims it owns) or ``claims`` (a claims section).
    title : the page title.
    claims : ids of the claims the page owns (each claim on exactly one page).
    intro_md : the page's introduction (markdown; "" when none).
    """

    name: str
    kind: str
    title: str
    claims: tuple[str, ...]
    intro_md: str = ""


@dataclass(frozen=True)
class Layout:
    """The report site of an article: its title and pages (``layout.yaml``)."""

    title: str
    pages: tuple[Page, ...]
    followup_intro: str = ""

    def page_of(self, claim_id: str) -> Page:
        """The page that owns ``claim_id``."""
        for p in self.pages:
            if claim_id in p.claims:
                return p
        raise ClaimError(f"claim {claim_id!r} is on no page of layout.yaml")


@dataclass(frozen=True, eq=False)
class Article:
    """A market article with its claims, events, facts and report layout.

    Attributes
    ----------
    path : the article directory.
    id : slug (``article.yaml`` ``id``).
    title, source, url, language : metadata (``language``: BCP 47 code of the text).
    published, as_of : dates; ``as_of`` is the last session a claim can refer to and the
        default evaluation date.
    market_proxy : default market index ticker of the market model.
    market_tickers : tickers whose events are market-wide news (default: the proxy).
    calendar : exchange calendar (``XNYS``).
    seed : default seed of the placebo draws.
    baskets : basket name -> member tickers.
    claims : the claims, in file order.
    events, facts : typed records of ``events.csv`` / ``facts.csv``.
    text : the article body.
    text_file : its file name.
    layout : the report layout.
    press_aliases : names in the press text of events.csv (``reported_move``) that stand for
        a ticker, or None for a subject that is not one (see :mod:`research.claims.reported`).
    robustness : the ``robustness:`` mapping of ``article.yaml`` (the specification grid's
        settings, see :class:`research.claims.robustness.SpecificationGrid`); empty for the
        defaults.
    prose : claim id -> its bespoke prose (``prose/<id>.md``, markdown), read when loading.
    fingerprint : sha256 of every file the article was loaded from (names and bytes): the
        article's identity in caches.
    files : the names of the files it was loaded from (relative to ``path``, sorted).
    warnings : non-fatal problems found while loading.
    """

    path: Path
    id: str
    title: str
    source: str
    url: str
    language: str
    published: _dt.date
    as_of: _dt.date
    market_proxy: str
    market_tickers: tuple[str, ...]
    calendar: str
    seed: int
    baskets: Mapping[str, tuple[str, ...]]
    claims: tuple[Claim, ...]
    events: tuple[Event, ...]
    facts: tuple[Fact, ...]
    text: str
    text_file: str
    layout: Layout
    press_aliases: Mapping[str, str | None] = field(default_factory=lambda: MappingProxyType({}))
    robustness: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    prose: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    fingerprint: str = ""
    files: tuple[str, ...] = ()
    warnings: tuple[Problem, ...] = field(default=())

    def __repr__(self) -> str:
        return f"Article({self.id!r}, {len(self.claims)} claims, {len(self.events)} events, path={str(self.path)!r})"

    def claim(self, claim_id: str) -> Claim:
        """The claim ``claim_id`` (exact id, or case-insensitive when unambiguous).

        Raises
        ------
        ClaimError
            Unknown id (the message lists the known ones).
        """
        key = str(claim_id).strip()
        for c in self.claims:
            if c.id == key:
                return c
        near = [c for c in self.claims if c.id.lower() == key.lower()]
        if len(near) == 1:
            return near[0]
        raise ClaimError(f"unknown claim {claim_id!r}; known claims: {', '.join(c.id for c in self.claims)}")

    def event(self, event_id: str) -> Event:
        """The event ``event_id`` of events.csv."""
        for e in self.events:
            if e.event_id == event_id:
                return e
        raise ClaimError(f"unknown event {event_id!r} in {self.path / EVENTS_FILE}")

    def facts_by_id(self) -> dict[str, Fact]:
        """The facts keyed by id."""
        return {f.fact_id: f for f in self.facts}

    def events_frame(self) -> pd.DataFrame:
        """The events as a DataFrame (see :func:`research.data.events_frame`)."""
        return events_to_frame(self.events)

    def facts_frame(self) -> pd.DataFrame:
        """The facts as a DataFrame (see :func:`research.data.facts_frame`)."""
        return facts_to_frame(self.facts)

    def claim_prose(self, claim_id: str) -> str | None:
        """The claim's bespoke prose (``prose/<claim_id>.md``), or None when there is none."""
        return self.prose.get(self.claim(claim_id).id)

    @property
    def as_of_str(self) -> str:
        """``as_of`` as ``YYYY-MM-DD``."""
        return self.as_of.isoformat()


# ---------------------------------------------------------------------------------------
class _Reads:
    """The files an article was loaded from: name -> sha256 of the bytes (its fingerprint)."""

    def __init__(self, d: Path) -> None:
        self.d = d
        self.digests: dict[str, str] = {}

    def text(self, name: str, limit: int = sandbox.TEXT_LIMIT) -> str:
        """The file's text through the sandbox (raises ArticleFileError), recorded."""
        data = sandbox.read_bytes(self.d, name, limit=limit)
        self.digests[name] = hashlib.sha256(data).hexdigest()
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError:
            return sandbox.read_text(self.d, name, limit=limit)  # raises with the line

    def record(self, name: str, limit: int) -> None:
        """Record a file read by another loader (bounded; a refused file was reported there)."""
        try:
            self.digests[name] = hashlib.sha256(sandbox.read_bytes(self.d, name, limit=limit)).hexdigest()
        except sandbox.ArticleFileError:
            pass

    def fingerprint(self) -> str:
        h = hashlib.sha256()
        for name, dig in sorted(self.digests.items()):
            h.update(f"{name}\0{dig}\n".encode())
        return h.hexdigest()


def _yaml(reads: _Reads, name: str, problems: list[Problem]) -> tuple[Any, dict[tuple, int]] | None:
    return yaml_file(reads.d, name, problems, reads.text)


def _markdown(reads: _Reads, name: str, problems: list[Problem], *, where: str, line: int, what: str) -> str:
    """An optional markdown file named by the article ("" and a Problem when refused)."""
    try:
        return reads.text(name)
    except sandbox.ArticleFileError as exc:
        problems.append(Problem(where, line, "", f"{what} {exc}"))
        return ""


def _csv(reader: Any, path: Path, name: str, problems: list[Problem]) -> tuple[tuple, frozenset[str] | None]:
    """Read events.csv or facts.csv row by row: the good records, and the ids of the bad
    rows (None when the whole file failed), so checks of what refers to them are skipped."""
    try:
        records, bad = reader(path)
    except DataError as exc:
        msg = str(exc)
        m = re.search(r" row (\d+)", msg)
        problems.append(Problem(name, int(m.group(1)) if m else 0, "", msg.replace(f"{path} ", "", 1)))
        return (), None
    for row, rid, exc in bad:
        problems.append(Problem(name, row, "", str(exc).replace(f"{path} ", "", 1)))
    return tuple(records), frozenset(rid for _, rid, _ in bad)


def _layout(reads: _Reads, known: list[str] | None, problems: list[Problem]) -> Layout:
    """Read layout.yaml; with ``known`` (the claim ids) cross-check page ownership too."""
    got = _yaml(reads, LAYOUT_FILE, problems)
    if got is None:
        return Layout("", ())
    doc, lines = got
    probs = validate(doc, "layout", file=LAYOUT_FILE, lines=lines)
    problems += probs
    if probs:
        return Layout("", ())
    pages, owner = [], {}
    for i, p in enumerate(doc["pages"]):
        ln = lines.get(("pages", i), 0)
        if p["name"] in {q.name for q in pages}:
            problems.append(Problem(LAYOUT_FILE, ln, "", f"page name {p['name']!r} is used twice"))
        for cid in p["claims"] if known is not None else ():
            if cid not in known:
                problems.append(Problem(LAYOUT_FILE, ln, cid, f"page {p['name']!r} lists claim {cid!r}, which is "
                                                              f"not in claims.yaml{did_you_mean(cid, known)} "
                                                              f"(known: {', '.join(known)})"))
            elif cid in owner:
                problems.append(Problem(LAYOUT_FILE, ln, cid, f"claim is on two pages ({owner[cid]!r} and "
                                                              f"{p['name']!r}); keep it on one"))
            owner.setdefault(cid, p["name"])
        intro = ""
        if "intro" in p:
            intro = _markdown(reads, p["intro"], problems, where=LAYOUT_FILE, line=lines.get(("pages", i, "intro"), ln),
                              what=f"page {p['name']!r}: intro file")
        pages.append(Page(p["name"], p["kind"], " ".join(p["title"].split()), tuple(p["claims"]), intro))
    for cid in known or ():
        if cid not in owner:
            problems.append(Problem(LAYOUT_FILE, 0, cid, "claim is on no page; add it to one page's claims"))
    followup = ""
    if sandbox.exists(reads.d, FOLLOWUP_INTRO):
        followup = _markdown(reads, FOLLOWUP_INTRO, problems, where=FOLLOWUP_INTRO, line=0,
                             what="the follow-up page's intro")
    return Layout(" ".join(doc["title"].split()), tuple(pages), followup)


def _prose(reads: _Reads, known: list[str] | None, problems: list[Problem]) -> dict[str, str]:
    """``prose/<claim id>.md`` of every claim (read through the sandbox); a prose file of
    an unknown claim is a Problem and is not read."""
    try:
        st = os.lstat(reads.d / PROSE_DIR)
    except OSError:
        return {}
    if not stat.S_ISDIR(st.st_mode):
        problems.append(Problem(PROSE_DIR, 0, "", f"{PROSE_DIR} is not a directory (links are refused); make it a "
                                                  "directory of <claim id>.md files inside the article"))
        return {}
    out = {}
    with os.scandir(reads.d / PROSE_DIR) as it:
        names = sorted(e.name for e in it if e.name.endswith(".md"))
    for name in names:
        stem, rel = name[:-3], f"{PROSE_DIR}/{name}"
        if known is not None and stem not in known:
            problems.append(Problem(rel, 0, stem, "prose file for a claim that is not in claims.yaml; rename or "
                                                  "remove it"))
        elif known is not None:
            try:
                out[stem] = reads.text(rel)
            except sandbox.ArticleFileError as exc:
                problems.append(Problem(rel, 0, stem, f"refused: {exc.reason}"))
    return out


def _unknown(ids: list[str], known: Collection[str], failed: frozenset[str] | None) -> list[str]:
    """The ids of ``ids`` not in ``known``, leaving out those whose own row failed (already
    reported: one root error per problem); none at all when the whole file failed."""
    if failed is None:
        return []
    return [x for x in ids if x not in known and x not in failed]


def _hint(ids: list[str], known: Collection[str]) -> str:
    return "".join(did_you_mean(x, known) for x in ids)


def _ref_problems(claims: tuple[Claim, ...], events: tuple[Event, ...], facts: tuple[Fact, ...], text: str | None,
                  text_file: str, *, failed: tuple[frozenset[str] | None, frozenset[str] | None] = (frozenset(),
                                                                                                  frozenset())
                  ) -> list[Problem]:
    """Claims -> events, facts, note placeholders and quotes; events.csv/facts.csv -> claims.

    ``text`` None: the text is unknown (article.yaml failed), quotes are not checked;
    ``failed``: ids of bad events.csv / facts.csv rows (None: the whole file failed),
    whose references are not reported again."""
    ev = {e.event_id for e in events}
    fa = {f.fact_id for f in facts}
    bad_ev, bad_fa = failed
    cids = {c.id for c in claims}
    out = []
    for c in claims:
        def bad(msg: str, c: Claim = c) -> None:
            out.append(Problem(CLAIMS_FILE, c.line, c.id, msg))

        missing = _unknown(list(c.events), ev, bad_ev)
        if missing:
            bad(f"events {missing} are not event ids of events.csv{_hint(missing, ev)} "
                f"(known: {', '.join(sorted(ev)) or 'none'})")
        rule_facts = [getattr(c.rule, k, "") for k in ("current", "prior", "reported_growth")]
        item_ids = [x for i in c.fact_check for x in i.cited]
        missing = _unknown(list(c.facts) + [f for f in rule_facts if f], fa, bad_fa)
        missing += [x for x in _unknown(item_ids, fa, bad_fa) if x not in ev and (bad_ev is None or x not in bad_ev)]
        for i in c.fact_check:
            if i.fact and i.fact in ev:
                missing.append(i.fact)
        if missing:
            missing = sorted(set(missing))
            bad(f"fact ids {missing} are not in facts.csv (or, for a judged item's cites, events.csv)"
                f"{_hint(missing, fa | ev)}")
        for n in c.notes:
            for m in PLACEHOLDER.finditer(n):
                if m.group(1) not in fa and (bad_fa is not None and m.group(1) not in bad_fa):
                    bad(f"note placeholder {{{m.group(1)}}} names no fact of facts.csv{_hint([m.group(1)], fa)}")
        for q in c.quote if text is not None else ():
            msg = quote_problem(q, text, text_file)
            if msg:
                bad(msg)
    for e in events:
        unknown = [x for x in e.claim_ids if x not in cids]
        if unknown:
            out.append(Problem(EVENTS_FILE, e.line, "", f"event {e.event_id}: claim ids {unknown} are not claims "
                                                        f"of claims.yaml{_hint(unknown, cids)}"))
    for f in facts:
        unknown = [x for x in f.claim_ids if x not in cids]
        if unknown:
            out.append(Problem(FACTS_FILE, f.line, "", f"fact {f.fact_id}: claim ids {unknown} are not claims "
                                                       f"of claims.yaml{_hint(unknown, cids)}"))
    return out


def ticker_problems(events: tuple[Event, ...], claims: tuple[Claim, ...], baskets: Mapping[str, tuple[str, ...]],
                    market_proxy: str, have: Collection[str]) -> list[Problem]:
    """Tickers the price data does not carry: each named with its file, row or claim and the
    nearest available tickers (difflib)."""
    have = sorted(have)
    hs = set(have)

    def near(t: str) -> str:
        same = [h for h in have if h.lower() == t.lower()]
        if same:
            return f"did you mean {same[0]}? tickers are upper case"
        m = difflib.get_close_matches(t, have, n=3, cutoff=0.5)
        return f"nearest available: {', '.join(m)}" if m else "no similar ticker in the data"

    out = []
    for e in events:
        for t in e.tickers:
            if t not in hs:
                out.append(Problem(EVENTS_FILE, e.line, "", f"event {e.event_id}: ticker {t!r} is not in the price "
                                                            f"data ({near(t)}); fix the symbol or remove it"))
    for c in claims:
        named = set(c.tickers) | {t for _, t in c.pairs} | set(getattr(c.rule, "required_tickers", ()))
        for t in sorted(named - hs):
            out.append(Problem(CLAIMS_FILE, c.line, c.id, f"ticker {t!r} is not in the price data ({near(t)})"))
        if "market_proxy" in c.spec and c.spec["market_proxy"] not in hs:
            t = c.spec["market_proxy"]
            out.append(Problem(CLAIMS_FILE, c.line, c.id, f"spec.market_proxy {t!r} is not in the price data ({near(t)})"))
        if c.theme_proxy and c.theme_proxy not in hs:
            t = c.theme_proxy
            out.append(Problem(CLAIMS_FILE, c.line, c.id, f"theme_proxy {t!r} is not in the price data ({near(t)})"))
    for name, members in baskets.items():
        for t in members:
            if t not in hs:
                out.append(Problem(ARTICLE_FILE, 0, "", f"basket {name}: ticker {t!r} is not in the price data ({near(t)})"))
    if market_proxy not in hs:
        out.append(Problem(ARTICLE_FILE, 0, "", f"market_proxy {market_proxy!r} is not in the price data ({near(market_proxy)})"))
    return out


def _snapshot_tickers() -> list[str] | None:
    try:
        return list(available_tickers())
    except ResearchError:
        return None


def inspect_article(path: str | Path | None = None, *, tickers: Collection[str] | None | bool = True
                    ) -> tuple[Article | None, list[Problem]]:
    """Load an article directory, collecting every problem instead of stopping at the first.

    Parameters
    ----------
    path : the article directory (default: the shipped article).
    tickers : tickers the price data carries (True: the embedded snapshot's; False/None: do
        not check tickers).

    Returns
    -------
    (Article or None, problems)
        The article is None when any problem is an error.
    """
    d = Path(path).expanduser().resolve() if path is not None else paths.default_article_dir()
    problems: list[Problem] = []
    if not d.is_dir():
        raise ClaimError(f"article directory {d} does not exist; create one with `research article new {d}`")
    reads = _Reads(d)
    got = _yaml(reads, ARTICLE_FILE, problems)
    lines: dict[tuple, int] = {}
    meta: dict[str, Any] = {}
    baskets_raw: dict[str, Any] = {}
    if got is not None:
        doc, lines = got
        probs = validate(doc, "article", file=ARTICLE_FILE, lines=lines)
        problems += probs
        raw_b = doc.get("baskets") if isinstance(doc, dict) else None
        if isinstance(raw_b, dict):  # best effort, so one bad key does not cascade into every claim
            baskets_raw = {k: v for k, v in raw_b.items() if isinstance(v, list)}
        if not probs:
            meta = doc
            for key in ("published", "as_of"):
                bad = date_problem(doc[key])
                if bad:
                    problems.append(Problem(ARTICLE_FILE, lines.get((key,), 0), "", f"{key}: {bad}; use YYYY-MM-DD"))
    baskets = MappingProxyType({k: tuple(v) for k, v in baskets_raw.items()})
    text, text_file = "", str(meta.get("text", ""))
    if text_file:
        text = _markdown(reads, text_file, problems, where=ARTICLE_FILE, line=lines.get(("text",), 0),
                         what="text: the article text file")
    claims: tuple[Claim, ...] = ()
    got = _yaml(reads, CLAIMS_FILE, problems)
    if got is not None:
        claims, probs = parse_claims(got[0], got[1], baskets=baskets, language=meta.get("language", ""))
        problems += probs
    events, bad_events = _csv(read_events, d / EVENTS_FILE, EVENTS_FILE, problems)
    facts, bad_facts = _csv(read_facts, d / FACTS_FILE, FACTS_FILE, problems)
    for name in (EVENTS_FILE, FACTS_FILE):
        reads.record(name, sandbox.CSV_LIMIT)
    known = [c.id for c in claims] if claims else None
    layout = _layout(reads, known, problems)
    prose = _prose(reads, known, problems)
    if claims:
        problems += _ref_problems(claims, events, facts, text if meta else None, text_file,
                                  failed=(bad_events, bad_facts))
    if tickers is True:
        tickers = _snapshot_tickers()
    if tickers and meta:
        problems += ticker_problems(events, claims, baskets, meta["market_proxy"], tickers)
    errors = [p for p in problems if p.severity == "error"]
    if errors or not meta:
        return None, problems
    art = Article(
        path=d, id=meta["id"], title=" ".join(meta["title"].split()), source=meta["source"],
        url=meta.get("url", ""), language=meta["language"],
        published=_dt.date.fromisoformat(meta["published"]), as_of=_dt.date.fromisoformat(meta["as_of"]),
        market_proxy=meta["market_proxy"], market_tickers=tuple(meta.get("market_tickers", [meta["market_proxy"]])),
        calendar=meta["calendar"], seed=int(meta["seed"]), baskets=baskets, claims=claims, events=events,
        facts=facts, text=text, text_file=text_file, layout=layout,
        press_aliases=MappingProxyType(dict(meta.get("press_aliases", {}))),
        robustness=MappingProxyType(dict(meta.get("robustness", {}))),
        prose=MappingProxyType(prose), fingerprint=reads.fingerprint(), files=tuple(sorted(reads.digests)),
        warnings=tuple(p for p in problems if p.severity != "error"),
    )
    return art, problems


def load_article(path: str | Path | None = None, *, check_tickers: bool = True) -> Article:
    """Load and validate an article directory.

    Parameters
    ----------
    path : the article directory (default: the shipped article, ``data/articles/<id>``).
    check_tickers : check every ticker against the embedded snapshot (default True).

    Raises
    ------
    ClaimError
        Any error in any file: the message lists every problem with file, line, claim and fix.
    """
    d = Path(path).expanduser().resolve() if path is not None else paths.default_article_dir()
    key = (d, check_tickers)
    hit = _LOADED.get(key)
    if hit is not None and hit[0] == _unchanged_key(hit[1]):
        return hit[1]
    art, problems = inspect_article(path, tickers=True if check_tickers else None)
    if art is not None:
        _LOADED[key] = (_unchanged_key(art), art)
    if art is None:
        errors = [p for p in problems if p.severity == "error"]
        d = Path(path) if path is not None else paths.default_article_dir()
        raise ClaimError(f"article {d} has {len(errors)} error(s):\n{format_problems(errors)}")
    return art


#: Articles loaded in this process: (directory, check_tickers) -> (content key, Article).
#: A report run loads its article in several places (the portfolio, each page's parameter
#: check, the pre-flight); the content key makes every later load a few small reads.
_LOADED: dict[tuple[Path, bool], tuple[tuple, Article]] = {}


def _unchanged_key(art: Article) -> tuple:
    """What must be unchanged for ``art`` to still be the article in its directory: the
    digest of every file it was read from (read again, through the sandbox), the prose
    files present and whether the follow-up intro exists. Content, not modification times."""
    reads = _Reads(art.path)
    for name in art.files:
        reads.record(name, sandbox.CSV_LIMIT if name in (EVENTS_FILE, FACTS_FILE) else sandbox.TEXT_LIMIT)
    try:
        prose = tuple(sorted(e.name for e in os.scandir(art.path / PROSE_DIR)))
    except OSError:
        prose = ()
    return reads.fingerprint(), prose, sandbox.exists(art.path, FOLLOWUP_INTRO)


def _article(path: Path | str | None) -> Article:
    if path is not None and Path(path).name == CLAIMS_FILE:
        path = Path(path).parent
    return load_article(path)


def load_claims(path: Path | str | None = None) -> list[Claim]:
    """The claims of an article directory (default: the shipped article), in file order.

    ``path`` may be the article directory or its ``claims.yaml``.
    """
    return list(_article(path).claims)


def get_claim(claim_id: str, path: Path | str | None = None) -> Claim:
    """One claim by id (exact, or case-insensitive when unambiguous).

    Raises
    ------
    ClaimError
        The id is not in the article (message lists the known ids).
    """
    return _article(path).claim(claim_id)
