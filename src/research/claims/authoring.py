"""Writing and checking article directories: ``research article new`` and ``research article check``.

:func:`new_article` writes a scaffold (``article.yaml``, ``claims.yaml`` with one live claim
and one commented example of every rule type, empty ``events.csv``/``facts.csv`` with their
headers, ``article.md``, ``layout.yaml``) that passes :func:`check_article` and renders.

:func:`check_article` validates a directory before any computation: the schemas, the
cross-references, every ticker against the price data, enough history before each event
for the estimation window, each event's day 0 from its timing (a warning when a timing
that says "before/after a session" falls on a non-session day), every event within each
of its tickers' data (an error when a price claim needs that row), a warning when a claim
tests its own market proxy, and a warning for every scaffold placeholder still in place
(:mod:`research.claims.scaffold`). Every problem names its file, line, claim and the fix.
"""

from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from research.atomic import atomic_write_text
from research.claims.article import (
    ARTICLE_FILE,
    EVENTS_FILE,
    LAYOUT_FILE,
    Article,
    inspect_article,
)
from research.claims.params import EvalParams, claim_model
from research.claims.registry import CLAIMS_FILE, Claim
from research.claims.rules import RULES
from research.claims import scaffold
from research.claims.schema import Problem
from research.data.article import EVENT_COLUMNS, FACT_COLUMNS
from research.data.calendar import align_event, is_session, session_offset, sessions
from research.data.paths import require_directory, require_file_slot
from research.data.sources import coverage
from research.errors import CalendarError, ClaimError, PathError, ResearchError

__all__ = ["CheckReport", "check_article", "new_article", "SCAFFOLD_FILES"]

SCAFFOLD_FILES = (ARTICLE_FILE, CLAIMS_FILE, EVENTS_FILE, "facts.csv", "article.md", LAYOUT_FILE)


@dataclass(frozen=True)
class CheckReport:
    """The outcome of :func:`check_article`.

    Attributes
    ----------
    path : the article directory.
    problems : errors and warnings (file, line, claim, message).
    day0 : one line per event: its date, timing and day 0.
    article : the loaded article (None when there are errors).
    """

    path: Path
    problems: tuple[Problem, ...]
    day0: tuple[str, ...]
    article: Article | None

    @property
    def errors(self) -> tuple[Problem, ...]:
        """The problems that stop evaluation."""
        return tuple(p for p in self.problems if p.severity == "error")

    @property
    def ok(self) -> bool:
        """True when there is no error (warnings allowed)."""
        return not self.errors


def _warn(file: str, line: int, claim: str, msg: str) -> Problem:
    return Problem(file, line, claim, msg, "warning")


def _claim_tickers(c: Claim) -> dict[str, tuple[str, ...]]:
    """event id -> tickers the claim estimates on it (pairs, tickers, basket members)."""
    out: dict[str, list[str]] = {}
    for e, t in c.event_ticker_pairs():
        out.setdefault(e, []).append(t)
    if c.basket:
        for e in c.events:
            out.setdefault(e, []).extend(c.basket_tickers)
    return {e: tuple(dict.fromkeys(v)) for e, v in out.items()}


def _history_problems(art: Article, day0: dict[str, pd.Timestamp], params: EvalParams) -> list[Problem]:
    cov = coverage().set_index("ticker")
    out: list[Problem] = []
    for c in art.claims:
        if c.rule.type in ("fact_check", "not_testable") and not c.events:
            continue
        p = params.override(c.spec)
        need_len, need_min = p.estimation_length, p.min_estimation_obs
        basket = set(c.basket_tickers) - set(c.tickers) - {t for _, t in c.pairs}
        for e, tickers in _claim_tickers(c).items():
            if e not in day0:
                continue
            d0 = day0[e]
            if d0 > pd.Timestamp(art.as_of):
                continue  # excluded at evaluation (after the as-of date)
            for t in tickers:
                if t not in cov.index:
                    continue  # reported by the ticker check
                first = pd.Timestamp(cov.loc[t, "first"])
                # returns (one fewer than closes) from the first close to the estimation end
                have = len(sessions(first, d0)) + p.estimation_end - 1 if first < d0 else 0
                have = max(have, 0)
                if have >= need_len:
                    continue
                what = (f"{t} has {have} sessions of history before the estimation window ends for {e} "
                        f"(day 0 {d0.date()}; the window wants {need_len}, at least {need_min})")
                if have < need_min and t not in basket:
                    out.append(Problem(CLAIMS_FILE, c.line, c.id, f"{what}: it cannot be estimated; drop the "
                                                                  "pair/ticker or lower spec.min_estimation_obs"))
                elif have < need_min:
                    out.append(_warn(CLAIMS_FILE, c.line, c.id, f"{what}: the basket averages the members "
                                                                "available each day"))
                else:
                    out.append(_warn(CLAIMS_FILE, c.line, c.id, f"{what}: the estimation window is shorter"))
    return out


def _proxy_problems(art: Article, params: EvalParams) -> list[Problem]:
    out = []
    for c in art.claims:
        if not c.events or c.rule.type == "rolling_return":
            continue  # no event study: no market model
        p = params.override(c.spec)
        tested = set(c.tickers) | {t for _, t in c.pairs} | set(getattr(c.rule, "required_tickers", ()))
        if p.market_proxy in tested and claim_model(p.model).uses_proxy:
            out.append(_warn(CLAIMS_FILE, c.line, c.id,
                             f"the market proxy {p.market_proxy} is itself a tested ticker: under model "
                             f"{p.model!r} its abnormal return is 0 by construction; give the claim "
                             "spec: {model: mean_adjusted} (or another spec.market_proxy)"))
        if c.basket and p.market_proxy in c.basket_tickers:
            out.append(_warn(CLAIMS_FILE, c.line, c.id, f"basket {c.basket} contains the market proxy "
                                                        f"{p.market_proxy}"))
    return out


def _placeholder_problems(art: Article) -> list[Problem]:
    """A warning for every scaffold placeholder still in place (:mod:`research.claims.scaffold`)."""
    out = []
    for key, value in scaffold.ARTICLE_FIELDS.items():
        if getattr(art, key) == value:
            out.append(_warn(ARTICLE_FILE, 0, "", f"{key} is still the scaffold's placeholder {value!r}; "
                                                  f"write the article's {key}"))
    if scaffold.EXAMPLE_QUOTE in art.text:
        out.append(_warn(art.text_file, 0, "", f"{art.text_file} still holds the scaffold's placeholder line; "
                                               "paste the article's text"))
    for c in art.claims:
        fields = {"title": c.title, "summary": c.summary, "reason": getattr(c.rule, "reason", "")}
        stale = [k for k, v in scaffold.CLAIM_FIELDS.items() if fields.get(k) == v]
        stale += ["quote"] if scaffold.EXAMPLE_QUOTE in c.quote else []
        if stale:
            out.append(_warn(CLAIMS_FILE, c.line, c.id, f"the scaffold's example claim: {', '.join(stale)} still "
                                                        "the placeholder; replace them with one of the article's "
                                                        "claims (or delete the claim and its layout.yaml entry)"))
    return out


def _timing_problems(art: Article) -> list[Problem]:
    """A warning for a pre_open/after_close event dated on a non-session day (the timing
    speaks of a session that day has not; intraday on one is an error of align_event)."""
    out = []
    for e in art.events:
        if e.timing not in ("pre_open", "after_close"):
            continue
        try:
            if is_session(e.date):
                continue
            d0 = pd.Timestamp(align_event(e.date, e.timing).day0)
        except (CalendarError, ResearchError):
            continue  # reported with the day-0 lines
        what = "before the open" if e.timing == "pre_open" else "after the close"
        out.append(_warn(EVENTS_FILE, e.line, "", f"event {e.event_id}: {e.date.date()} is a {e.date.day_name()}, "
                                                  f"not a trading session, so timing {e.timing} ({what}) maps it to "
                                                  f"the next session, {d0.date()} ({d0.day_name()}); if the news "
                                                  "came on the non-session day write weekend_or_holiday, if it came "
                                                  f"{what} of a session fix the date"))
    return out


def _reach(d0: pd.Timestamp, rule: object) -> pd.Timestamp:
    """The last session a claim's rule reads after day 0 (the end of its event window)."""
    w = getattr(rule, "window", None)
    end = int(w[1]) if isinstance(w, (tuple, list)) and len(w) == 2 else 0
    try:
        return pd.Timestamp(session_offset(d0, max(end, 0)))
    except (CalendarError, ResearchError):
        return d0


def _coverage_problems(art: Article, day0: dict[str, pd.Timestamp]) -> list[Problem]:
    """Events a ticker's data cannot reach (day 0 after its last close or before its first):
    a warning on the event, and an error on a price claim whose rule needs that row (a
    basket: when no member reaches it)."""
    cov = coverage().set_index("ticker")
    span = {t: (pd.Timestamp(cov.loc[t, "first"]), pd.Timestamp(cov.loc[t, "last"])) for t in cov.index}

    def gap(t: str, start: pd.Timestamp, end: pd.Timestamp) -> str:
        if t not in span:
            return ""
        first, last = span[t]
        if end > last:
            return f"{t}'s prices end on {last.date()}"
        if start < first:
            return f"{t}'s prices start on {first.date()}"
        return ""

    out = []
    for e in art.events:
        if e.event_id not in day0:
            continue
        d0 = day0[e.event_id]
        for t in e.tickers:
            why = gap(t, d0, d0)
            if why:
                out.append(_warn(EVENTS_FILE, e.line, "", f"event {e.event_id}: day 0 {d0.date()} is beyond the "
                                                          f"price data ({why}): no {t} return for this event"))
    as_of = pd.Timestamp(art.as_of)
    for c in art.claims:
        price = "price" in c.rule.checks
        for e, tickers in _claim_tickers(c).items():
            if e not in day0:
                continue
            d0 = day0[e]
            end = _reach(d0, c.rule)
            basket = [t for t in tickers if t in c.basket_tickers and t not in c.tickers]
            for t in tickers:
                why = gap(t, d0, end)
                if not why or t in basket:
                    continue
                need = f"session {d0.date()}" if end == d0 else f"sessions {d0.date()} to {end.date()}"
                msg = f"the row ({e}, {t}) needs {need}, but {why}: it cannot be estimated"
                if price and d0 <= as_of:
                    out.append(Problem(CLAIMS_FILE, c.line, c.id, f"{msg}; drop the pair/ticker or the event from "
                                                                  "the claim, or fix the event's date"))
                else:
                    out.append(_warn(CLAIMS_FILE, c.line, c.id, f"{msg} (shown without a number)"))
            gone = [t for t in basket if gap(t, d0, end)]
            if gone:
                allgone = len(gone) == len(basket)
                msg = f"basket {c.basket} on {e}: {', '.join(gone)} cannot reach {d0.date()}..{end.date()}"
                if allgone and price and d0 <= as_of:
                    out.append(Problem(CLAIMS_FILE, c.line, c.id, f"{msg}: no member can; drop the event from the "
                                                                  "claim or fix its date"))
                else:
                    out.append(_warn(CLAIMS_FILE, c.line, c.id, f"{msg}: the basket averages the members "
                                                                "available each day"))
    return out


def check_article(path: str | Path) -> CheckReport:
    """Validate an article directory before any computation.

    Returns a :class:`CheckReport` (never raises for problems in the files; raises
    :class:`~research.errors.ClaimError` only when ``path`` is not a directory).
    """
    d = Path(path).expanduser().resolve()
    art, problems = inspect_article(d, tickers=True)
    lines: list[str] = []
    if art is None:
        return CheckReport(d, tuple(problems), (), None)
    day0: dict[str, pd.Timestamp] = {}
    for e in art.events:
        try:
            a = align_event(e.date, e.timing)
        except (CalendarError, ResearchError) as exc:
            problems.append(Problem(EVENTS_FILE, e.line, "", f"event {e.event_id}: {exc}"))
            continue
        day0[e.event_id] = pd.Timestamp(a.day0)
        flag = " (timing unknown: day 0 uncertain)" if a.uncertain else ""
        after = " -- after the as-of date: excluded" if a.day0 > pd.Timestamp(art.as_of) else ""
        lines.append(f"{e.event_id}: {e.date.date()} {e.timing} -> day 0 {pd.Timestamp(a.day0).date()}{flag}{after}")
    try:
        params = EvalParams().resolve(art)
    except ResearchError as exc:
        problems.append(Problem(ARTICLE_FILE, 0, "", str(exc)))
        return CheckReport(d, tuple(problems), tuple(lines), None)
    problems += _history_problems(art, day0, params)
    problems += _coverage_problems(art, day0)
    problems += _timing_problems(art)
    problems += _proxy_problems(art, params)
    problems += _placeholder_problems(art)
    ok = not any(p.severity == "error" for p in problems)
    return CheckReport(d, tuple(problems), tuple(lines), art if ok else None)


# ---------------------------------------------------------------------------------------
def _examples() -> str:
    """claims.yaml comments: one example of every registered rule type."""
    ex = {
        "basket_car": """\
#  - id: chips-fell
#    title: Chip stocks fell on the news
#    summary: The article says chip stocks crashed the day the news broke.
#    quote: ["Chip stocks crashed on the news."]
#    kind: event
#    events: [ev-news]               # ids of events.csv
#    tickers: [AAA, BBB, CCC]        # shown one by one
#    basket: chips                   # defined in article.yaml (baskets:)
#    rule:
#      type: basket_car
#      direction: down               # up | down | any
#      window: [0, 0]                # or auto: (0,0), or (-1,+1) when the timing is unknown
#      tests: [parametric, placebo]
#      text: Supported if the chips basket's CAR(0,0) is negative and significant under both tests.""",
        "pairs_car": """\
#  - id: partners-rose
#    title: Every partner's stock rose on its own deal day
#    summary: All partner stocks rose on the news.
#    quote: ["All partner stocks rose on the news."]
#    kind: event
#    events: [ev-deal-a, ev-deal-b]
#    pairs: [[ev-deal-a, AAA], [ev-deal-b, BBB]]
#    rule:
#      type: pairs_car
#      direction: up
#      members: all                  # all: every CAR up and a joint test significant; each: every pair significant
#      window: [0, 0]
#      text: Supported if every partner rose and the joint test is significant under both tests.""",
        "rolling_return": """\
#  - id: doubled
#    title: AAA doubled in a month
#    summary: AAA rose more than 100% in a month.
#    quote: ["AAA doubled in a month."]
#    kind: price
#    tickers: [AAA]
#    rule:
#      type: rolling_return
#      direction: up
#      required_tickers: [AAA]
#      horizon: 21                   # sessions
#      threshold: 1.0                # simple return magnitude: 1.0 = 100%
#      lookback_sessions: 30         # windows ending in the last 30 sessions up to as_of
#      text: Supported if AAA's 21-session return exceeded +100% in the last 30 sessions.""",
        "revenue_growth": """\
#  - id: revenue-grew
#    title: Revenue grew more than 500%
#    summary: AAA's revenue grew more than 500% year over year.
#    quote: ["Revenue grew more than 500%."]
#    kind: fact
#    events: [ev-results]
#    pairs: [[ev-results, AAA]]
#    facts: [f-rev-now, f-rev-before]
#    rule:
#      type: revenue_growth
#      current: f-rev-now            # fact ids of facts.csv
#      prior: f-rev-before
#      threshold_pct: 500
#      window: auto
#      text: Supported if the growth from the two revenue figures exceeds 500%.""",
        "fact_check": """\
#  - id: prize
#    title: The team won the prize last week
#    summary: A statement of fact checked against facts.csv.
#    quote: ["The team won the prize last week."]
#    kind: fact
#    facts: [f-prize-date]
#    rule:
#      type: fact_check
#      text: Checked against the catalogued facts.
#    fact_check:
#      - statement: The prize was awarded in the month before the article.
#        fact: f-prize-date          # computed: fact value <compare> article value
#        article: "2025-01"          # text compares as a prefix with '='; numbers with > >= < <= = approx
#        compare: "="
#      - statement: The prize was for this work.
#        judged: accurate            # judged: accurate | wrong | unverified, with cites and reason
#        cites: [f-prize-date]
#        reason: The prize citation names the work.""",
        "not_testable": "",
    }
    missing = sorted(set(RULES) - set(ex))
    if missing:  # a newly registered rule type must get its example here
        raise ClaimError(f"no scaffold example for rule type(s) {missing}")
    return "\n#\n".join(v for v in ex.values() if v)


def _default_dates(proxy: str) -> str:
    try:
        cov = coverage().set_index("ticker")
        return pd.Timestamp(cov.loc[proxy, "last"]).date().isoformat()
    except (ResearchError, KeyError):
        return _dt.date.today().isoformat()


def new_article(path: str | Path, *, market_proxy: str = "SPY", force: bool = False) -> tuple[Path, ...]:
    """Write an article scaffold into ``path`` (created if missing).

    Parameters
    ----------
    path : the new article directory; its name becomes the article id (slugified).
    market_proxy : the default market proxy written into ``article.yaml``.
    force : overwrite scaffold files that already exist (default: refuse).

    Returns
    -------
    The files written.

    Raises
    ------
    ClaimError
        A scaffold file already exists and ``force`` is False.
    PathError
        ``path`` is a file (or inside one), a scaffold file's place holds a folder, or the
        folder cannot be written (read-only, full).
    """
    d = require_directory(Path(path).expanduser().resolve(), "the article directory",
                          "choose a new directory path (it is created)")
    for n in SCAFFOLD_FILES:
        require_file_slot(d / n, "the scaffold file", "remove that folder or choose a new directory")
    existing = [n for n in SCAFFOLD_FILES if (d / n).exists()]
    if existing and not force:
        raise ClaimError(f"{d} already holds {', '.join(existing)}; choose a new directory (or --force)")
    slug = re.sub(r"[^a-z0-9-]+", "-", d.name.lower()).strip("-") or "article"
    as_of = _default_dates(market_proxy)
    files = {
        ARTICLE_FILE: f"""\
# The article: metadata, evaluation defaults and named baskets (docs/ARTICLES.md).
id: {slug}
title: "{scaffold.ARTICLE_FIELDS['title']}"
source: "{scaffold.ARTICLE_FIELDS['source']}"
url: ""
language: en                # language of the article text (BCP 47 code)
text: article.md            # the article body, in this directory
published: {as_of}
as_of: {as_of}              # the last session a claim can refer to; evaluation default
market_proxy: {market_proxy}           # market index of the market model
calendar: XNYS
seed: 1                     # seed of the placebo draws
baskets: {{}}                 # name: [TICKER, TICKER, ...] (equal-weighted)
""",
        CLAIMS_FILE: f"""\
# The article's claims (docs/ARTICLES.md lists every field and rule type).
version: 2

claims:
  # THE EXAMPLE CLAIM TO REPLACE: it quotes the placeholder line of article.md, so once the
  # article's text is pasted there, give it a quote copied from the text (line breaks and
  # curly quotes may differ) and the claim's own title, summary and rule -- or delete it
  # (and its id in layout.yaml). `research article check` warns while a placeholder is left.
  - id: {scaffold.EXAMPLE_CLAIM}
    title: "{scaffold.CLAIM_FIELDS['title']}"
    summary: "{scaffold.CLAIM_FIELDS['summary']}"
    quote: ["{scaffold.EXAMPLE_QUOTE}"]
    kind: context
    rule:
      type: not_testable
      reason: "{scaffold.CLAIM_FIELDS['reason']}"
      text: Not testable with price data or facts.

# One example of every rule type ({', '.join(RULES)}); uncomment, adapt, and add the
# claim to a page of layout.yaml. Events go into events.csv, facts into facts.csv.
#
{_examples()}
""",
        EVENTS_FILE: ",".join(EVENT_COLUMNS) + "\n",
        "facts.csv": ",".join(FACT_COLUMNS) + "\n",
        "article.md": scaffold.TEXT,
        LAYOUT_FILE: f"""\
# The report site: which page shows which claims (every claim on exactly one page).
title: "Checking the article against prices"
pages:
  - name: overview
    kind: overview
    title: "Every claim and its verdict"
    claims: [{scaffold.EXAMPLE_CLAIM}]
""",
    }
    written = []
    try:
        for name, text in files.items():
            written.append(atomic_write_text(d / name, text))
    except OSError as exc:
        raise PathError(f"cannot write {exc.filename or d}: {exc.strerror or exc}; choose a writable "
                        "directory (or free space there)") from exc
    return tuple(written)
