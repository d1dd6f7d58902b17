"""Nothing about a particular article lives in src/: no claim id, event id, ticker or date
of the shipped article appears in src/research (the article is data under data/articles/)."""

from __future__ import annotations

import re

from research.claims import load_article
from research.data import paths

SRC = paths.REPO_ROOT / "src" / "research"
#: Files still naming the shipped article that other branches own and are rewriting (the
#: lead removes an entry when its branch is merged). Nothing else in src/ may.
PENDING_REPORTS_MERGE = {
    SRC / "report" / "portfolio.yml",   # reports branch: replaced by the article's layout.yaml
    SRC / "report" / "figures.py",      # reports branch: docstrings name a claim id
    SRC / "report" / "portfolio.py",    # reports branch: claim-id sort key examples
    SRC / "report" / "site.py",         # reports branch: docstrings name claim ids
    SRC / "eventstudy" / "portfolio.py",  # event-study branch: a docstring names a date and two tickers
}
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
                and p not in PENDING_REPORTS_MERGE | ARCHIVE_METADATA:
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
                # a whole word: "C1" must not match inside "C10", "MP" not inside "MPa"
                if re.search(rf"(?<![A-Za-z0-9_]){re.escape(v)}(?![A-Za-z0-9_])", text):
                    found.append(f"{p.relative_to(paths.REPO_ROOT)}: {what} {v!r}")
    assert not found, "\n".join(sorted(found))


def test_the_check_can_fail(tmp_path):
    """The scan finds a literal when one is there (guards against a vacuous regex)."""
    lits = _literals()
    cid = sorted(lits["claim id"])[0]
    text = f"x = get('{cid}')\n"
    assert re.search(rf"(?<![A-Za-z0-9_]){re.escape(cid)}(?![A-Za-z0-9_])", text)
