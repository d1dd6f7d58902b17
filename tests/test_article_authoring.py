"""Authoring without traps: every trap two first-time article writers fell into, on a copy
of the test article (tests/fixtures/articles/chips-and-tariffs) checked by the real
`research article check` against the embedded snapshot."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from research import cli
from research.claims import load_article
from research.claims.authoring import check_article
from research.claims.registry import normalize_quote, quote_found
from research.claims.scaffold import ARTICLE_FIELDS, CLAIM_FIELDS, EXAMPLE_QUOTE
from research.data import coverage

FIXTURE = Path(__file__).parent / "fixtures" / "articles" / "chips-and-tariffs"


def _copy(tmp_path: Path, name: str = "a") -> Path:
    d = tmp_path / name
    shutil.copytree(FIXTURE, d)
    return d


def _edit(d: Path, file: str, old: str, new: str) -> None:
    text = (d / file).read_text(encoding="utf-8")
    assert old in text, (file, old)
    (d / file).write_text(text.replace(old, new, 1), encoding="utf-8")


def _errors(d: Path) -> list:
    return list(check_article(d).errors)


def _warnings(d: Path) -> list:
    rep = check_article(d)
    return [p for p in rep.problems if p.severity == "warning"]


# ---- placeholders ------------------------------------------------------------------------
def test_a_fresh_scaffold_warns_about_every_placeholder(tmp_path, capsys):
    d = tmp_path / "fresh"
    assert cli.main(["article", "new", str(d)]) == 0
    assert cli.main(["article", "check", str(d)]) == 0      # warnings, no error
    out = capsys.readouterr().out
    for value in ARTICLE_FIELDS.values():
        assert value in out                                   # title and source, by value
    assert "article.md still holds the scaffold's placeholder line" in out
    claim = next(ln for ln in out.splitlines() if "claim outlook: warning: the scaffold's example claim" in ln)
    for field in [*CLAIM_FIELDS, "quote"]:
        assert field in claim
    assert "4 warning(s)" in out
    # filling everything in clears every warning
    (d / "article.md").write_text("Markets will stay calm, the author says.\n", encoding="utf-8")
    _edit(d, "article.yaml", ARTICLE_FIELDS["title"], "Calm ahead")
    _edit(d, "article.yaml", ARTICLE_FIELDS["source"], "A newspaper")
    for value, new in zip(CLAIM_FIELDS.values(), ("Calm ahead", "Markets stay calm.", "A forecast.")):
        _edit(d, "claims.yaml", value, new)
    _edit(d, "claims.yaml", EXAMPLE_QUOTE, "Markets will stay calm")
    assert _warnings(d) == [] and _errors(d) == []


def test_replacing_the_text_but_not_the_example_quote_says_which_claim_to_replace(tmp_path):
    d = tmp_path / "fresh"
    cli.main(["article", "new", str(d)])
    (d / "article.md").write_text("The real article.\n", encoding="utf-8")
    errs = _errors(d)
    assert len(errs) == 1
    assert "scaffold's placeholder" in errs[0].message and "replace this example claim's quote" in errs[0].message


# ---- quotes ------------------------------------------------------------------------------
def test_a_quote_wrapped_as_multi_line_yaml_is_accepted(tmp_path):
    d = _copy(tmp_path)
    # the text breaks this sentence after "model"; plain multi-line YAML folds it into a space
    _edit(d, "claims.yaml", 'quote: ["Chip stocks crashed on the DeepSeek news."]',
          'quote:\n      - When a Chinese lab showed that a frontier model\n        could be trained for a fraction')
    assert "frontier model\ncould be trained" in (d / "article.md").read_text()
    assert _errors(d) == []
    assert load_article(d).claim("deepseek-selloff").quote[0].endswith("could be trained for a fraction")


def test_a_curly_apostrophe_quote_is_accepted(tmp_path):
    d = _copy(tmp_path)
    _edit(d, "claims.yaml", "anyone's guess.\"]", "anyone\u2019s guess.\"]")
    assert _errors(d) == []
    assert quote_found("a \u201cquoted\u201d\u00a0word \u2014 here", 'a "quoted" word\n - here')


def test_normalize_quote():
    assert normalize_quote("  It\u2019s\n  \u201cfine\u201d \u2013 ok\u00a0now ") == "It's \"fine\" - ok now"
    assert normalize_quote("\uff21\uff22") == "AB"          # NFKC: full-width letters


def test_a_wrong_quote_is_rejected_with_the_closest_passage(tmp_path):
    d = _copy(tmp_path)
    _edit(d, "claims.yaml", "The White House later paused the new tariffs for 90 days, leaving a 20%",
          "The White House later suspended the new tariffs for 60 days, leaving a 20%")
    errs = _errors(d)
    assert len(errs) == 1 and errs[0].claim == "tariff-facts"
    assert "closest passage is 'The White House later paused the new tariffs for 90 days" in errs[0].message


# ---- one root error per problem ---------------------------------------------------------
@pytest.mark.parametrize("file, old, new, expect", [
    ("events.csv", "ev-deepseek,2025-01-27,pre_open", "ev-deepseek,2025-01-32,pre_open",
     "date '2025-01-32' is not a calendar date; write it as YYYY-MM-DD"),
    ("events.csv", "ev-deepseek,2025-01-27,pre_open", "ev-deepseek,2025-01-27,preopen",
     "did you mean 'pre_open'?"),
    ("events.csv", ",deepseek-selloff,", ",deepseek-selloff;liberation-day-crash,", "must be space-separated ids"),
    ("article.yaml", "chips: [NVDA, AVGO, AMD]", "chips: [NVDA]", "a basket needs at least two tickers"),
    ("facts.csv", "f-pause-days,tariff-facts,pause_length,Reciprocal tariffs,from 2025-04-10,90,",
     "f-pause-days,tariff-facts,pause_length,Reciprocal tariffs,from 2025-04-10,ninety,", "is not a number"),
    ("claims.yaml", "      direction: down\n      window: [0, 0]", "      directon: down\n      window: [0, 0]",
     "(did you mean 'direction'?)"),
])
def test_one_problem_gives_exactly_one_error_naming_the_fix(tmp_path, file, old, new, expect):
    d = _copy(tmp_path)
    assert _errors(d) == []
    _edit(d, file, old, new)
    errs = _errors(d)
    assert len(errs) == 1, "\n".join(map(str, errs))
    assert expect in errs[0].message and errs[0].file == file


def test_an_event_with_empty_claim_ids_is_context_only(tmp_path):
    d = _copy(tmp_path)
    _edit(d, "events.csv", ",tariff-facts,\"SPY +10.5%\"", ",,\"SPY +10.5%\"")
    assert _errors(d) == []
    art = load_article(d)
    assert art.event("ev-tariff-pause").claim_ids == ()


# ---- dates and data coverage ------------------------------------------------------------
def test_a_saturday_pre_open_event_warns_which_session_it_maps_to(tmp_path):
    d = _copy(tmp_path)
    _edit(d, "events.csv", "ev-deepseek,2025-01-27,pre_open", "ev-deepseek,2025-01-25,pre_open")
    assert _errors(d) == []
    warns = [w for w in _warnings(d) if "ev-deepseek" in w.message]
    assert len(warns) == 1
    assert "2025-01-25 is a Saturday" in warns[0].message and "2025-01-27 (Monday)" in warns[0].message
    assert "weekend_or_holiday" in warns[0].message


def _after_data_end(d: Path) -> tuple[str, str]:
    """An Alcoa event on 2026-04-15 (a Wednesday), after AA's last close in the snapshot."""
    cov = coverage().set_index("ticker")
    last = cov.loc["AA", "last"]
    assert last < pd.Timestamp("2026-04-15") <= cov["last"].max()   # AA ends early; others go on
    with open(d / "events.csv", "a", encoding="utf-8") as fh:
        fh.write("ev-aa,2026-04-15,pre_open,Alcoa news,AA,,AA +3%,https://example.org/aa\n")
    return "2026-04-15", last.date().isoformat()


def test_an_event_after_a_tickers_data_warns(tmp_path):
    d = _copy(tmp_path)
    date, last = _after_data_end(d)
    assert _errors(d) == []
    warns = [w for w in _warnings(d) if "ev-aa" in w.message]
    assert len(warns) == 1 and f"AA's prices end on {last}" in warns[0].message and warns[0].file == "events.csv"


def test_a_claim_that_needs_an_unreachable_row_is_an_error(tmp_path):
    d = _copy(tmp_path)
    date, last = _after_data_end(d)
    _edit(d, "claims.yaml", "ev-avgo-results, ev-pltr-results]", "ev-avgo-results, ev-pltr-results, ev-aa]")
    _edit(d, "claims.yaml", "      - [ev-pltr-results, PLTR]\n", "      - [ev-pltr-results, PLTR]\n      - [ev-aa, AA]\n")
    _edit(d, "article.yaml", "as_of: 2025-04-15", "as_of: 2026-05-01")   # the event is before as_of
    errs = _errors(d)
    assert len(errs) == 1, errs
    assert errs[0].claim == "results-pops" and "(ev-aa, AA)" in errs[0].message and f"end on {last}" in errs[0].message


# ---- did you mean ------------------------------------------------------------------------
def test_lower_case_ticker_did_you_mean(tmp_path):
    d = _copy(tmp_path)
    _edit(d, "claims.yaml", "tickers: [NVDA, AVGO]\n", "tickers: [NVDA, AVGO, lmt]\n")
    errs = _errors(d)
    assert len(errs) == 1 and "did you mean 'LMT'?" in errs[0].message and "^[A-Z]" not in errs[0].message
    d2 = _copy(tmp_path, "b")                        # in events.csv (no schema): the data check says it
    _edit(d2, "events.csv", "NVDA AVGO AMD SMH", "NVDA AVGO AMD SMH lmt")
    errs = _errors(d2)
    assert len(errs) == 1 and "did you mean LMT?" in errs[0].message


def test_a_claim_id_with_a_space_is_explained_in_plain_words(tmp_path):
    d = _copy(tmp_path)
    _edit(d, "claims.yaml", "  - id: outlook", "  - id: out look")
    errs = _errors(d)
    assert len(errs) == 1, errs
    msg = errs[0].message
    assert "claim ids may contain letters, digits" in msg and "'out look' has a space" in msg
    assert "[A-Za-z" not in msg


def test_misspelt_ids_get_did_you_mean(tmp_path):
    d = _copy(tmp_path)
    _edit(d, "claims.yaml", "events: [ev-deepseek]", "events: [ev-deepsek]")
    _edit(d, "layout.yaml", "claims: [outlook]", "claims: [outlok]")
    msgs = " | ".join(p.message for p in _errors(d))
    assert "(did you mean 'ev-deepseek'?)" in msgs and "(did you mean 'outlook'?)" in msgs
