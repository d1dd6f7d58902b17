"""Nothing about a particular article lives in src/: no claim id, event id, ticker or date
of the shipped article appears in src/research (the article is data under data/articles/)."""

from __future__ import annotations

import re

from research.claims import load_article
from research.data import paths

SRC = paths.REPO_ROOT / "src" / "research"
#: Build metadata of the price archive (../shared/market-data): which archive tickers pay no
#: dividend. It describes the snapshot's sources, not any article, and is not scanned.
ARCHIVE_METADATA = {SRC / "data" / "snapshot.py"}


def _literals() -> dict[str, set[str]]:
    art = load_article()
    tickers = {t for e in art.events for t in e.tickers}
    for c in art.claims:
        tickers |= set(c.tickers) | {t for _, t in c.pairs} | set(getattr(c.rule, "required_tickers", ()))
    for members in art.baskets.values():
        tickers |= set(members)
    # the market indices the article names as market-wide news are also the package's
    # generic default proxy of a new article's scaffold; every other ticker is the article's
    tickers -= set(art.market_tickers)
    dates = {e.date.strftime("%Y-%m-%d") for e in art.events} | {art.as_of.isoformat(), art.published.isoformat()}
    dates |= {f.value for f in art.facts if f.unit == "date" and isinstance(f.value, str)}
    return {
        "claim id": {c.id for c in art.claims},
        "event id": {e.event_id for e in art.events},
        "fact id": {f.fact_id for f in art.facts},
        "ticker": tickers,
        "date": dates,
        "basket": set(art.baskets),
    }


def _files():
    for p in sorted(SRC.rglob("*")):
        if p.is_file() and p.suffix in (".py", ".yml", ".yaml", ".json", ".md", ".txt", ".html", ".ipynb") \
                and p not in ARCHIVE_METADATA:
            yield p


def test_the_literal_set_is_not_empty():
    lits = _literals()
    assert len(lits["claim id"]) == 15 and len(lits["event id"]) > 20 and len(lits["ticker"]) > 30
    assert len(lits["date"]) > 10


def test_no_literal_of_the_shipped_article_in_src():
    lits = _literals()
    found = []
    for p in _files():
        text = p.read_text(encoding="utf-8")
        for what, values in lits.items():
            for v in values:
                # a whole word: "C1" must not match inside "C10", "MP" not inside "MPa"; a
                # basket name is often an English word ("security"), so only as a string
                pat = (rf"""['"]{re.escape(v)}['"]""" if what == "basket"
                       else rf"(?<![A-Za-z0-9_]){re.escape(v)}(?![A-Za-z0-9_])")
                if re.search(pat, text):
                    found.append(f"{p.relative_to(paths.REPO_ROOT)}: {what} {v!r}")
    assert not found, "\n".join(sorted(found))


def test_the_check_can_fail(tmp_path):
    """The scan finds a literal when one is there (guards against a vacuous regex)."""
    lits = _literals()
    cid = sorted(lits["claim id"])[0]
    text = f"x = get('{cid}')\n"
    assert re.search(rf"(?<![A-Za-z0-9_]){re.escape(cid)}(?![A-Za-z0-9_])", text)


# --------------------------------------------------------------------------------------
# the article's wording: no phrase of its claims, notes, quotes, event titles or prose
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9'’&$-]*")
#: words that alone do not make a phrase the article's own
_COMMON = {"the", "a", "an", "this", "it", "in", "on", "of", "and", "for", "to", "not", "is", "but", "if", "at",
           "by", "as", "no", "yes", "how", "what", "why", "more", "less"}


#: phrases of the article that are the market's, not the article's (the exchange's time zone)
_GENERIC = {"new york time"}


def _phrases(text: str, lower: set[str], n: int = 3) -> set[str]:
    """Every run of ``n`` words of ``text`` (lower case) holding a name: a capitalised
    word never written in lower case in the article ("not JPMorgan's own", "Thacker Pass
    is"; not a sentence's first word such as "More")."""
    ws = _WORD.findall(text)
    return {" ".join(w.lower() for w in ws[i:i + n]) for i in range(len(ws) - n + 1)
            if any(w[0].isupper() and w.lower() not in _COMMON and w.lower() not in lower for w in ws[i:i + n])}


def _words_of(text: str, n: int = 3) -> set[str]:
    ws = _WORD.findall(text)
    return {" ".join(w.lower() for w in ws[i:i + n]) for i in range(len(ws) - n + 1)}


def _article_phrases() -> set[str]:
    art = load_article()
    texts = [art.title, art.text or ""] + [str(t) for t in dict(art.prose or {}).values()]
    for c in art.claims:
        texts += [c.title, c.summary, *c.quote, *c.notes]
    texts += [e.title for e in art.events] + [f"{f.entity} {f.metric}" for f in art.facts]
    lower = {w for t in texts for w in _WORD.findall(t) if w[0].islower()}
    return set().union(*(_phrases(t, lower) for t in texts)) - _GENERIC


def _wording_found(phrases: set[str], files) -> list[str]:
    return [f"{p.relative_to(paths.REPO_ROOT) if p.is_relative_to(paths.REPO_ROOT) else p}: {sorted(hit)[:5]}"
            for p in files if (hit := _words_of(p.read_text(encoding="utf-8")) & phrases)]


def test_no_wording_of_the_shipped_article_in_src():
    """The report reads meaning from typed fields, never from the article's words: no
    three-word phrase with a name from the article's claims, notes, quotes, event titles,
    facts or prose appears in src/research (e.g. a regex matching "not JPMorgan's own")."""
    phrases = _article_phrases()
    assert len(phrases) > 500
    found = _wording_found(phrases, [p for p in _files() if p.suffix == ".py"])
    assert not found, "\n".join(found)


def test_the_wording_check_can_fail(tmp_path):
    """The wording scan finds the regex the report once used to spot a factual error of
    the shipped article's notes (issue 20)."""
    old = tmp_path / "claimview.py"
    old.write_text('words = re.compile(r"\\b(wrong|misdate|incorrect|inaccurate|not JPMorgan\'s own)", re.I)\n',
                   encoding="utf-8")
    assert _wording_found(_article_phrases(), [old])
