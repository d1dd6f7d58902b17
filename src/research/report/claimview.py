"""Verdicts as reader-facing HTML: findings box, claim sections, collapsed evidence,
the "How this was computed" footer and the glossary.

Every function returns an HTML string in which **every** text that comes from data
files (claim titles, notes, tickers, event titles, markdown prose) is escaped: plain
strings with :func:`html.escape`, markdown with :func:`markdown_html` (raw HTML in the
markdown is shown as text, ``javascript:`` links are dropped, nothing external is loaded:
images are inlined from the article directory or shown as a link, external links are
marked as leaving the page). Notebooks show the
strings with ``IPython.display.HTML``; the index page uses the same functions, so a
claim reads the same everywhere.

Functions accept a :class:`research.claims.Verdict`, a
:class:`research.claims.verdict.VerdictRecord` or a ``claims.json`` element, read once into a
``VerdictRecord`` (:meth:`VerdictRecord.of`): every sentence is composed from its typed fields
(reasons by kind, fact-check items, key-number records), never by reading the notes' words.

Number formats: percentages carry a sign (``+9.1%``), p-values two significant digits
(``p = 0.0080``, ``p < 0.001``), dates are ``YYYY-MM-DD`` without a time.
"""

from __future__ import annotations

import base64
import html
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias
from urllib.parse import unquote, urlsplit

import mistune
from mistune.renderers.html import HTMLRenderer

from research.data import sandbox
from research.vocab import (ERROR, FACT_COLOURS, is_basket, NOT_RUN, NOT_SUPPORTED, NOT_TESTABLE, PARTLY, SUPPORTED, VERDICT_STYLES,
                            WARNING_COLOUR, day, num as _num, p_short, p_text as pvalue, parse_series, pct, series_display, verdict_style)

__all__ = [
    "GLOSSARY", "VERDICT_COLOURS", "Shown", "answer_paragraph", "record", "table_html", "badge", "claim_section", "confounder_details",
    "day", "evidence_details", "fact_check_html", "factual_errors", "findings_box", "glossary_html", "markdown_html", "params_table",
    "pct", "pvalue", "reason", "robustness_label", "robustness_text", "short_event_name", "stale_banner",
    "placebo_size", "test_sizes_html", "verdict_counts",
]

if TYPE_CHECKING:  # types only: the index page renders without loading the claims package
    from research.claims.params import EvalParams
    from research.claims.robustness import SpecificationGrid
    from research.claims.verdict import FactItemResult, Verdict, VerdictRecord

#: What the functions below render: a verdict, its record, or a claims.json element.
Shown: TypeAlias = "Verdict | VerdictRecord | Mapping[str, object]"

#: Verdict -> badge colour (the vocabulary's one palette).
VERDICT_COLOURS = {k: st.background for k, st in VERDICT_STYLES.items()}

#: Plain column headers of the evidence tables -> what they mean (the page's glossary).
GLOSSARY: dict[str, str] = {
    "event": "the news the row is about, with its first trading day (day 0)",
    "stock": "ticker, or 'basket: NAME' for an equal-weighted portfolio of the named stocks",
    "days": "the window of trading days summed, relative to day 0: (0,0) is day 0 alone, "
            "(-1,+1) the day before to the day after",
    "abnormal return": "the return beyond what the stock's usual relation to the market predicts "
                       "(cumulative over the window: CAR)",
    "t": "the abnormal return divided by its standard error (how many 'normal days' of noise it is)",
    "p (t-test)": "chance of an abnormal return at least this large if the news had no effect, "
                  "from the t-test",
    "p (placebo)": "the same chance judged against every usable non-event date of the same stock "
                   "(no distributional assumption; never below 1/(1 + number of dates))",
    "volume": "day-0 trading volume relative to normal (log ratio; +1.0 is about 2.7 times normal)",
    "other news": "another catalogued event whose day 0 falls inside the window",
}

_EVIDENCE_HEADERS = {  # evidence column -> plain header (see GLOSSARY)
    "event_id": "event", "ticker": "stock", "window": "days", "car": "abnormal return",
    "t_stat": "t", "p_value": "p (t-test)", "p_placebo": "p (placebo)", "abnormal_volume": "volume",
}
#: Image formats a markdown file may embed, by their first bytes (SVG is refused: it can
#: carry scripts and external references).
IMAGE_MAGIC = {b"\x89PNG\r\n\x1a\n": "image/png", b"\xff\xd8\xff": "image/jpeg", b"GIF87a": "image/gif",
               b"GIF89a": "image/gif"}
_EXTERNAL_REL = "noopener noreferrer nofollow"


def _image_type(data: bytes) -> str | None:
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return next((t for m, t in IMAGE_MAGIC.items() if data.startswith(m)), None)


def _is_local(url: str) -> bool:
    """A relative path with no scheme and no host (``img/x.png``, ``#a-claim``)."""
    u = urlsplit(url.strip())
    return not u.scheme and not u.netloc and not url.strip().startswith("//")


class _SafeRenderer(HTMLRenderer):
    """Markdown to HTML that loads nothing from outside the page: an image is inlined as
    a ``data:`` URI when it is a PNG, JPEG, GIF or WebP file inside the article directory
    (read through :mod:`research.data.sandbox`, at most ``IMAGE_LIMIT`` bytes), shown as
    a link or text otherwise; a link to another site is a plain ``<a>`` marked ``↗`` with
    ``rel="noopener noreferrer nofollow"``."""

    def __init__(self, image_dir: str | Path | None) -> None:
        super().__init__(escape=True)
        self.image_dir = image_dir

    def link(self, text: str, url: str, title: str | None = None) -> str:
        if _is_local(url):
            return super().link(text, url, title)
        attrs = {"href": self.sanitize_url(url), "class": "rp-external", "rel": _EXTERNAL_REL,
                 "title": title or f"leaves this page: {url}"}
        return f"<a{self.render_attrs(attrs)}>{text}<span aria-hidden='true'> ↗</span></a>"

    def image(self, text: str, url: str, title: str | None = None) -> str:
        alt = mistune.util.striptags(text)
        if not _is_local(url):
            return self.link(f"image: {html.escape(alt)}", url, title)
        path = unquote(urlsplit(url.strip()).path)
        why = "images are shown only from an article directory"
        if self.image_dir is not None:
            try:
                data = sandbox.read_bytes(self.image_dir, path, limit=sandbox.IMAGE_LIMIT)
                kind = _image_type(data)
                if kind is not None:
                    src = f"data:{kind};base64,{base64.b64encode(data).decode('ascii')}"
                    return f"<img{self.render_attrs({'src': src, 'alt': alt, 'title': title})} />"
                why = "not a PNG, JPEG, GIF or WebP image"
            except sandbox.ArticleFileError as exc:
                why = exc.reason
        return (f"<span class='rp-image-refused'>[image {html.escape(alt)!s}: {html.escape(path)} not shown: "
                f"{html.escape(why)}]</span>")


def _markdown(image_dir: str | Path | None) -> mistune.Markdown:
    return mistune.create_markdown(renderer=_SafeRenderer(image_dir))


_MD = _markdown(None)
_LANGUAGES = {"ja": "Japanese", "en": "English", "zh": "Chinese", "ko": "Korean", "de": "German",
              "fr": "French", "es": "Spanish"}


# --------------------------------------------------------------------------------------
# small formatters
# --------------------------------------------------------------------------------------
def e(text: object) -> str:
    """``html.escape(str(text))`` (None -> empty)."""
    return "" if text is None else html.escape(str(text), quote=True)


def markdown_html(text: str | None, image_dir: str | Path | None = None) -> str:
    """Markdown from a data file rendered with raw HTML escaped, unsafe links dropped and
    nothing loaded from outside the page.

    Parameters
    ----------
    text : the markdown.
    image_dir : the article directory: relative image paths are read from it (through
        :mod:`research.data.sandbox`) and inlined; None shows images as text.
    """
    if not text:
        return ""
    return str((_MD if image_dir is None else _markdown(image_dir))(text))


def short_event_name(title: str | None, event_id: str, day0: object = None, *, width: int = 44) -> str:
    """A short reader-facing name for an event: the first clause of its title (cut at a
    word boundary to ``width`` characters) and its day 0, e.g.
    'Central bank cuts rates, 2024-01-02'."""
    t = (title or "").strip()
    if t:
        parts = [x.strip() for x in re.split(r": |; |, | \(| - ", t) if x.strip()]
        first = parts[0] if parts else t
        if len(first) < 12 and len(parts) > 1:
            first = parts[1] if first.isupper() else f"{first}: {parts[1]}"
        t = first
        if len(t) > width:
            t = t[:width].rsplit(" ", 1)[0].rstrip(" ,;:-") + "…"
    else:
        t = event_id
    d = day(day0)
    return f"{t}, {d}" if d else t


def record(v: Shown) -> VerdictRecord:
    """The typed record of a verdict (see :meth:`VerdictRecord.of`)."""
    from research.claims.verdict import VerdictRecord

    return VerdictRecord.of(v)


def robustness_text(v: Shown) -> str:
    """How far the verdict holds across the specification grid, in words ("" when the
    verdict carries no grid): e.g. "fragile: holds in 61% of 72 specifications"."""
    rec = record(v)
    if rec.robustness_share is None or not rec.robustness_specs:
        return ""
    return (f"{'fragile' if rec.fragile else 'robust'}: holds in {rec.robustness_share:.0%} of "
            f"{rec.robustness_specs} specifications")


def robustness_label(v: Shown) -> str:
    """:func:`robustness_text` as a small label (amber when fragile), or ""."""
    rec = record(v)
    text = robustness_text(rec)
    if not text:
        return ""
    colour = WARNING_COLOUR if rec.fragile else FACT_COLOURS["unverified"]
    weight = "600" if rec.fragile else "400"
    return (f" <span class='rp-robust' data-fragile='{'yes' if rec.fragile else 'no'}' "
            f"style='color:{colour};font-weight:{weight};font-size:.85em;white-space:nowrap'>{e(text)}</span>")


def badge(verdict: str) -> str:
    """The verdict as a coloured label."""
    st = verdict_style(verdict)
    return (f"<span class='verdict-badge' style='background:{st.background};color:{st.text};padding:1px 8px;"
            f"border-radius:4px;white-space:nowrap'>{e(verdict)}</span>")


# --------------------------------------------------------------------------------------
# the one-sentence reason
# --------------------------------------------------------------------------------------
def reason(v: Shown, *, names: Mapping[str, str] | None = None) -> str:
    """One sentence saying why the claim got its verdict, with the key number and its
    p-value: the verdict's ``headline`` when it has one, else the rule's first
    statement (plus the cap, if the verdict was capped). Plain text (escape it)."""
    rec = record(v)
    steps = [r.body for r in rec.rule_steps]
    if rec.headline.strip():
        text = rec.headline.strip()
    elif rec.verdict in (ERROR, NOT_RUN):
        text = rec.error or rec.verdict
    elif steps:
        text = steps[0] if len(steps) == 1 else "; ".join(steps[:2]) + ("; …" if len(steps) > 2 else "")
    elif rec.reasons:
        text = rec.reasons[0].text
    else:
        text = rec.rule
    return _named(text, _words(rec, names))


def answer_paragraph(verdicts: Sequence[Shown]) -> str:
    """One paragraph answering "is the article right?": how many claims hold, which
    fail, which facts are wrong. Plain text (escape it)."""
    recs = [record(v) for v in verdicts]
    counts = verdict_counts(recs)
    by = {k: [r.claim_id for r in recs if r.verdict == k] for k in counts}
    testable = sum(n for k, n in counts.items() if k in (SUPPORTED, PARTLY, NOT_SUPPORTED))
    parts = [f"Of the article's {len(recs)} claims, {testable} get a verdict from prices or reported facts"]
    if testable:
        parts[0] += (f": {counts.get(SUPPORTED, 0)} supported, {counts.get(PARTLY, 0)} partly "
                     f"supported and {counts.get(NOT_SUPPORTED, 0)} not supported")
    parts[0] += "."
    if by.get(NOT_SUPPORTED):
        parts.append("Not supported: " + ", ".join(
            f"{r.claim_id} ({r.title})" for r in recs if r.verdict == NOT_SUPPORTED) + ".")
    if by.get(PARTLY):
        parts.append("Partly supported: " + ", ".join(by[PARTLY]) + ".")
    fragile = [f"{r.claim_id} ({robustness_text(r).removeprefix('fragile: ')})" for r in recs if r.fragile]
    if fragile:
        parts.append("Fragile (the verdict changes under other defensible specifications of the event "
                     "study): " + ", ".join(fragile) + ".")
    wrong = [r.claim_id for r in recs if factual_errors(r)]
    if wrong:
        parts.append("Factual problems (wrong, misdated or unverified details) were found in "
                     + ", ".join(wrong) + ".")
    untestable = counts.get(NOT_TESTABLE, 0)
    if untestable:
        parts.append(f"{untestable} claims are context, opinions or forecasts that prices cannot test; "
                     "they are checked against the fact catalogue.")
    bad = counts.get(ERROR, 0) + counts.get(NOT_RUN, 0)
    if bad:
        parts.append(f"{bad} claims have no verdict yet (their page failed or was not run).")
    return " ".join(parts)


def verdict_counts(verdicts: Iterable[Shown]) -> dict[str, int]:
    """Number of claims per verdict, in the order supported, partly, not, not testable, ..."""
    order = list(VERDICT_COLOURS)
    out: dict[str, int] = {}
    for v in verdicts:
        name = record(v).verdict
        out[name] = out.get(name, 0) + 1
    return dict(sorted(out.items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else 99))


def _item_error(i: FactItemResult) -> str:
    return f"{i.statement} — {i.outcome}: {i.reason}"


def factual_errors(v: Shown) -> list[str]:
    """The article's factual errors found for this claim: fact-check statements judged
    wrong, partly wrong or unverified (with the reason); else the notes marked as stating a
    factual error (``factual_error: true`` in claims.yaml), or the fact verdict itself."""
    rec = record(v)
    items = [_item_error(i) for i in rec.fact_items if i.outcome not in ("accurate", "")]
    if items:
        return items
    out = [r.text for r in rec.reasons if r.factual_error and not r.rule_step]
    if rec.fact_verdict not in ("accurate", "", "unverified") and not out:
        out.append(f"fact check: {rec.fact_verdict}")
    return out


# --------------------------------------------------------------------------------------
# page blocks
# --------------------------------------------------------------------------------------
_CSS = """
<style>
.rp-findings{border:1px solid #d0d7de;border-left:6px solid #0969da;border-radius:6px;padding:10px 16px;
  margin:8px 0 16px 0;background:#f6f8fa;font-family:system-ui,sans-serif}
.rp-findings h2{margin:0 0 6px 0;font-size:1.15em}
.rp-findings ul{margin:4px 0;padding-left:18px}.rp-findings li{margin:3px 0}
.rp-claim{margin:18px 0 6px 0;font-family:system-ui,sans-serif}
.rp-claim h2{font-size:1.2em;margin:0 0 4px 0}
.rp-reason{margin:4px 0 8px 0}
.rp-quote{color:#444;font-size:.92em;border-left:3px solid #d0d7de;margin:6px 0;padding:2px 10px}
.rp-small{color:#57606a;font-size:.88em}
details.rp-details{margin:6px 0}details.rp-details>summary{cursor:pointer;color:#0969da}
table.rp-table{border-collapse:collapse;font-size:.88em;margin:4px 0}
table.rp-table th,table.rp-table td{border-bottom:1px solid #e5e5e5;padding:2px 8px;text-align:left}
table.rp-table td.num{text-align:right;font-variant-numeric:tabular-nums}
.rp-figrow{display:flex;flex-wrap:wrap;gap:10px;align-items:flex-start}
.rp-figrow>img{flex:1 1 460px;min-width:0}
.rp-stale{border:2px solid """ + WARNING_COLOUR + """;background:#fff8c5;padding:8px 14px;border-radius:6px;margin:8px 0}
a.rp-external{text-decoration:underline dotted}
.rp-image-refused{color:#57606a;font-size:.88em}
</style>
"""


def style() -> str:
    """The CSS of the blocks below (include once per page)."""
    return _CSS


def findings_box(verdicts: Sequence[Shown], *, title: str = "Findings",
                 names: Mapping[str, str] | None = None, anchors: bool = True,
                 hrefs: Mapping[str, str] | None = None) -> str:
    """Per claim: the verdict, the one-sentence reason with its key number and p-value,
    and the article's factual errors found."""
    items = []
    for r in (record(v) for v in verdicts):
        cid = e(r.claim_id)
        href = (hrefs or {}).get(r.claim_id, f"#{r.claim_id}")
        label = f"<a href='{e(href)}'>{cid}</a>" if anchors else cid
        errs = factual_errors(r)
        extra = "".join(f"<br><span class='rp-small'>Fact check: {e(x)}</span>" for x in errs[:2])
        items.append(f"<li data-claim='{cid}'>{label} {badge(r.verdict)}{robustness_label(r)} "
                     f"<strong>{e(r.title)}</strong> — {e(reason(r, names=names))}{extra}</li>")
    return (f"<div class='rp-findings' role='note'><h2>{e(title)}</h2><ul>"
            + "".join(items) + "</ul></div>")


def _fmt_cell(col: str, v: object) -> tuple[str, bool]:
    if col in ("car", "bhar", "return", "calendar_month_return"):
        return pct(v), True
    if col in ("p_value", "p_placebo"):
        return ("" if _num(v) is None else p_short(v)), True
    if col in ("t_stat", "abnormal_volume"):
        f = _num(v)
        return ("" if f is None else f"{f:+.2f}"), True
    if col in ("day0", "base_date", "other_day0"):
        return day(v), False
    if col == "window" and isinstance(v, (list, tuple)) and len(v) == 2:
        return f"({int(v[0]):+d},{int(v[1]):+d})", False
    return ("" if v is None else str(v)), False


def table_html(rows: Sequence[Mapping[str, object]], cols: Sequence[str], headers: Mapping[str, str]) -> str:
    head = "".join(f"<th>{e(headers.get(c, c.replace('_', ' ')))}</th>" for c in cols)
    body = []
    for r in rows:
        cells = []
        for c in cols:
            text, num = _fmt_cell(c, r.get(c))
            cells.append(f"<td class='num'>{e(text)}</td>" if num else f"<td>{e(text)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table class='rp-table'><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _label_events(rows: list[dict[str, object]], names: Mapping[str, str] | None, key: str = "event_id") -> None:
    for r in rows:
        ev = r.get(key)
        if names and isinstance(ev, str) and ev in names:
            r[key] = names[ev]
        t = r.get("ticker")
        if isinstance(t, str):
            r["ticker"] = series_display(t)


def evidence_details(v: Shown, *, names: Mapping[str, str] | None = None,
                     rule_windows: Sequence[Sequence[int]] | None = None) -> str:
    """The evidence table collapsed under a one-line summary; duplicates removed; rows at
    the rule's window(s) first. Empty string when there is no evidence."""
    rows = [dict(r) for r in record(v).evidence]
    if not rows:
        return ""

    def window(r: Mapping[str, object]) -> tuple[object, ...]:
        w = r.get("window")
        return tuple(w) if isinstance(w, (list, tuple)) else ()

    seen, unique = set(), []
    for r in rows:
        k = (r.get("event_id"), r.get("ticker"), window(r))
        if k not in seen:
            seen.add(k)
            unique.append(r)
    wins = {tuple(w) for w in (rule_windows or [])}
    if wins:
        unique.sort(key=lambda r: window(r) not in wins)
    _label_events(unique, names)
    if any("car" in r and r.get("car") is not None for r in unique):
        cols = ["event_id", "ticker", "window", "car", "t_stat", "p_value", "p_placebo", "abnormal_volume"]
    else:  # rolling-return style evidence
        cols = [c for c in ("ticker", "base_date", "day0", "return", "calendar_month_return")
                if any(r.get(c) is not None for r in unique)]
    cols = [c for c in cols if any(r.get(c) not in (None, "") for r in unique)]
    headers = dict(_EVIDENCE_HEADERS, day0="to", base_date="from", **{"return": "return",
                   "calendar_month_return": "calendar-month return"})
    n_ev = len({r.get("event_id") for r in unique})
    summary = f"Evidence: {len(unique)} rows ({n_ev} event{'s' if n_ev != 1 else ''}); column meanings in the glossary"
    return (f"<details class='rp-details'><summary>{e(summary)}</summary>"
            f"{table_html(unique, cols, headers)}</details>")


def confounder_details(v: Shown, *, names: Mapping[str, str] | None = None) -> str:
    """Other catalogued news inside the event windows, one row per (event, other news),
    collapsed; empty string when there is none."""
    conf = record(v).confounders
    if not conf:
        return ""
    grouped: dict[tuple[str, str], tuple[dict[str, object], set[str], set[str]]] = {}
    for c in conf:
        k = (str(c.get("event_id")), str(c.get("other_event_id")))
        g, scope, stocks = grouped.setdefault(k, ({"event_id": c.get("event_id"), "other": str(c.get("other_event_id")),
                                                    "same": bool(c.get("same_day0"))}, set(), set()))
        if c.get("scope"):
            scope.add(str(c["scope"]))
        if c.get("ticker"):
            stocks.add(str(c["ticker"]))
    rows: list[dict[str, object]] = []
    for g, scope, stocks in grouped.values():
        other = str(g["other"])
        rows.append({"event_id": g["event_id"], "other": (names or {}).get(other, other),
                     "same": "same day 0" if g["same"] else "inside the window",
                     "scope": ", ".join(sorted(scope)), "stocks": len(stocks)})
    _label_events(rows, names)
    headers = {"event_id": "event", "other": "other news", "same": "when", "scope": "affects",
               "stocks": "stocks concerned"}
    same = sum(r["same"] == "same day 0" for r in rows)
    summary = (f"Other news inside the event windows: {len(rows)} item{'s' if len(rows) != 1 else ''}"
               f" ({same} on the same day 0)")
    return (f"<details class='rp-details'><summary>{e(summary)}</summary>"
            f"{table_html(rows, list(headers), headers)}</details>")


def claim_section(v: Shown, *, prose_md: str | None = None, quote: Sequence[str] | None = None,
                  quote_language: str | None = None, names: Mapping[str, str] | None = None,
                  rule_windows: Sequence[Sequence[int]] | None = None,
                  image_dir: str | Path | None = None) -> str:
    """One claim: heading (with the ``id`` anchor), verdict, reason, the article's words,
    optional prose (markdown; its images read from ``image_dir``, see
    :func:`markdown_html`), the rule, notes, and the collapsed evidence and confounder
    tables."""
    rec = record(v)
    cid = e(rec.claim_id)
    out = [f"<section class='rp-claim' id='{cid}' data-claim='{cid}'>",
           f"<h2>{cid} — {e(rec.title)}</h2>",
           f"<p class='rp-reason'>{badge(rec.verdict)}{robustness_label(rec)} "
           f"{e(reason(rec, names=names))}</p>"]
    if quote:
        lang = f" ({e(_LANGUAGES.get(str(quote_language), quote_language))})" if quote_language else ""
        out.append(f"<details class='rp-details'><summary>The article's words{lang}</summary>"
                   + "".join(f"<p class='rp-quote'>{e(q)}</p>" for q in quote) + "</details>")
    if prose_md:
        out.append(markdown_html(prose_md, image_dir))
    out.append(fact_check_html(rec, names=names))
    out.append(f"<p class='rp-small'><strong>Rule.</strong> {e(rec.rule)}</p>")
    words = _words(rec, names)
    notes = [_named(r.text, words) for r in rec.other_notes]
    checks = [_named(r.body, words) for r in rec.rule_steps]
    if notes:
        out.append("<ul>" + "".join(f"<li>{e(n)}</li>" for n in notes[:3]) + "</ul>")
    if len(notes) > 3:
        out.append(f"<details class='rp-details'><summary>{len(notes) - 3} more notes</summary><ul>"
                   + "".join(f"<li>{e(n)}</li>" for n in notes[3:]) + "</ul></details>")
    if len(checks) > 1:
        out.append("<details class='rp-details'><summary>Every step of the rule</summary><ul>"
                   + "".join(f"<li>{e(c)}</li>" for c in checks) + "</ul></details>")
    out.append(evidence_details(rec, names=names, rule_windows=rule_windows))
    out.append(confounder_details(rec, names=names))
    out.append("</section>")
    return "".join(out)


def fact_check_html(v: Shown, *, names: Mapping[str, str] | None = None) -> str:
    """The fact check of a claim: its verdict and each statement with its outcome and
    reason (empty when the claim has none)."""
    rec = record(v)
    if not rec.fact_items:
        return ""
    lis = "".join(
        f"<li><span style='color:{FACT_COLOURS.get(i.outcome, FACT_COLOURS['unverified'])};font-weight:600'>"
        f"{e(i.outcome)}</span> — {e(i.statement)} <span class='rp-small'>"
        f"{e(_named(i.reason, _words(rec, names)))}</span></li>" for i in rec.fact_items)
    head = f"<strong>Fact check: {e(rec.fact_verdict)}.</strong>" if rec.fact_verdict else "<strong>Fact check.</strong>"
    return f"<div class='rp-factcheck'>{head}<ul>{lis}</ul></div>"


def _series_words(series: str) -> str:
    """A series id in words: 'the x y basket' for ``basket:x_y``, else the ticker."""
    name, basket = parse_series(series)
    return f"the {name.replace('_', ' ')} basket" if basket else name


def _words(rec: VerdictRecord, names: Mapping[str, str] | None) -> dict[str, str]:
    """What readers see for the ids a verdict's sentences carry: ``names`` (event id ->
    short name) and the verdict's basket series ids in words."""
    series = {str(r.get("ticker")) for r in rec.evidence} | {t.series for t in rec.key.targets}
    return {**{s: _series_words(s) for s in series if is_basket(s)}, **(names or {})}


def _named(text: str, words: Mapping[str, str] | None) -> str:
    """Ids in ``text`` replaced by their words (see :func:`_words`), longest first."""
    for eid, name in sorted((words or {}).items(), key=lambda kv: -len(kv[0])):
        text = text.replace(eid, name)
    return text


_PARAM_LABELS = {
    "source": "price source", "market_proxy": "market index", "model": "expected-return model",
    "estimation_length": "estimation window (trading days)",
    "estimation_end": "estimation window ends (days before day 0)",
    "min_estimation_obs": "minimum returns in the estimation window",
    "event_windows": "event windows shown (trading days)", "alpha": "significance level",
    "placebo_draws": "placebo draws per event", "as_of": "as of", "seed": "random seed",
}


def _param_value(k: str, v: object) -> str:
    if k == "event_windows" and isinstance(v, (list, tuple)):
        return ", ".join(f"({int(a):+d},{int(b):+d})" for a, b in v)
    if k == "as_of":
        return day(v)
    return "" if v is None else str(v)


def _params(params: EvalParams | Mapping[str, object]) -> dict[str, object]:
    return dict(params) if isinstance(params, Mapping) else params.to_dict()


def params_table(params: EvalParams | Mapping[str, object], *, data_source: str | None = None,
                 per_claim: Mapping[str, Mapping[str, object]] | None = None) -> str:
    """The "How this was computed" footer: one row per parameter (a table, not a repr).

    ``per_claim``: claim id -> its parameters; claims whose parameters differ from
    ``params`` are listed with the differences.
    """
    p = _params(params)
    rows = "".join(f"<tr><th>{e(_PARAM_LABELS.get(k, k.replace('_', ' ')))}</th>"
                   f"<td>{e(_param_value(k, v))}</td></tr>" for k, v in p.items())
    if data_source:
        rows += f"<tr><th>data used</th><td>{e(data_source)}</td></tr>"
    diffs = []
    for cid, cp in (per_claim or {}).items():
        d = {k: v for k, v in cp.items() if k in p and cp.get(k) != p.get(k)}
        if d:
            diffs.append(f"<li>{e(cid)}: " + ", ".join(f"{e(_PARAM_LABELS.get(k, k))} = {e(_param_value(k, v))}"
                                                      for k, v in d.items()) + "</li>")
    extra = ("<p>Claims computed with other parameters:</p><ul>" + "".join(diffs) + "</ul>") if diffs else ""
    return (f"<details class='rp-details' id='how-computed'><summary>How this was computed</summary>"
            f"<table class='rp-table'>{rows}</table>{extra}</details>")


def glossary_html(extra: Mapping[str, str] | None = None) -> str:
    """The glossary of the plain column headers (collapsed)."""
    items = dict(GLOSSARY, **(extra or {}))
    body = "".join(f"<tr><th>{e(k)}</th><td>{e(v)}</td></tr>" for k, v in items.items())
    return (f"<details class='rp-details' id='glossary'><summary>Glossary</summary>"
            f"<table class='rp-table'>{body}</table></details>")


def method_html(params: EvalParams | Mapping[str, object], grid: SpecificationGrid | None = None) -> str:
    """The event-study method in one paragraph (shown once per page), from the parameters
    and, when given, the specification grid."""
    p = _params(params)
    model = {"market": "its usual relation to the market index (the market model)",
             "market_adjusted": "the market index's return (market-adjusted model)",
             "mean_adjusted": "its own average return (mean-adjusted model)"}.get(str(p.get("model")),
                                                                              str(p.get("model")))
    return (
        "<p class='rp-small'><strong>Method.</strong> An event study compares each stock's return on the "
        f"news day with what {e(model)} predicts, estimated over the {e(p.get('estimation_length'))} trading "
        f"days ending {e(abs(int(str(p.get('estimation_end', -11)))))} days before the news, with "
        f"{e(p.get('market_proxy'))} as the market. The difference is the abnormal return; summed over a "
        "few days it is the cumulative abnormal return (CAR). Two tests say whether it is larger than "
        "chance: a t-test against the stock's normal day-to-day noise, and a placebo test that repeats "
        f"the calculation on {_placebo_dates(p)} of the same stock. Each claim's verdict rests on one "
        "primary test (the placebo), adjusted for the number of claims tested (Holm)."
        + (_grid_sentence(grid) if grid is not None else "") + "</p>")


def _grid_sentence(grid: SpecificationGrid) -> str:
    """The specification grid in words, from the grid used
    (:class:`research.claims.robustness.SpecificationGrid`)."""
    names = {"market": "market model", "market_adjusted": "market-adjusted", "mean_adjusted": "mean-adjusted",
             "etf3": "three ETF factors (SPY, IWM - SPY, QQQ - SPY)"}
    wins = ", ".join(f"({a:+d},{b:+d})" for a, b in grid.windows)
    return e(f" Each price verdict is then re-judged under every combination of market index "
             f"({', '.join(grid.proxies)} and the claim's theme ETF), model "
             f"({', '.join(names.get(m, m) for m in grid.models)}), estimation length "
             f"({', '.join(str(n) for n in grid.estimation_lengths)} sessions) and event window (the rule's, "
             f"{wins}); a verdict that holds in fewer than {grid.threshold:.0%} of them is marked fragile.")


def test_sizes_html(verdicts: Sequence[Shown]) -> str:
    """The real size of each test on these stocks (collapsed table): per series the rule
    rows use, the plain t-test's rejection rate at a nominal 5% over every admissible
    non-event date (the placebo set, evidence column ``size_t_05``) beside the exact
    placebo's on the same dates, at most 5% by construction (:func:`placebo_size`).
    "" when no row carries a size."""
    rows: dict[str, tuple[str, str, int, float, float]] = {}  # series, window, n, t size, placebo size
    for v in verdicts:
        rec = record(v)
        wins = set(rec.rule_windows)
        for r in rec.evidence:
            size, n, w = _num(r.get("size_t_05")), _num(r.get("p_placebo_n")), r.get("window")
            if size is None or n is None or not isinstance(w, (list, tuple)) or len(w) != 2:
                continue
            win = (int(w[0]), int(w[1]))
            if win not in wins:
                continue
            label = f"({win[0]:+d},{win[1]:+d})"
            rows.setdefault(f"{r.get('ticker')} {label}", (_series_words(str(r.get("ticker"))), label, int(n), size,
                                                          placebo_size(int(n))))
    if not rows:
        return ""
    ts = sorted(r[3] for r in rows.values())
    body = "".join(f"<tr><td>{e(series)}</td><td>{e(win)}</td><td class='num'>{n}</td>"
                   f"<td class='num'>{t:.1%}</td><td class='num'>{pl:.1%}</td></tr>"
                   for _, (series, win, n, t, pl) in sorted(rows.items()))
    summary = (f"Real size of the tests at a nominal 5% on these stocks: the plain t-test rejects on "
               f"{ts[0]:.1%} to {ts[-1]:.1%} of each series' non-event dates (median {ts[len(ts) // 2]:.1%}); "
               "the exact placebo on at most 5% by construction, which is why verdicts rest on it.")
    return (f"<details class='rp-details' id='test-sizes'><summary>{e(summary)}</summary>"
            "<table class='rp-table'><thead><tr><th>series</th><th>window</th><th>non-event dates</th>"
            "<th>t-test rejects</th><th>placebo rejects</th></tr></thead>"
            f"<tbody>{body}</tbody></table></details>")


def placebo_size(n: int) -> float:
    """Rejection rate at 5% of the exact placebo over its own n dates, each tested against
    the other n - 1: the date ranked k-th most extreme (no ties) has
    p = (1 + (k - 1)) / (1 + (n - 1)) = k / n, so floor(0.05 n) of the n dates reject."""
    return math.floor(0.05 * n + 1e-9) / n if n else float("nan")


def _placebo_dates(p: Mapping[str, object]) -> str:
    """The placebo's pseudo dates in words, from the parameters used."""
    if p.get("placebo_method", "exact") == "resample":
        return f"{e(p.get('placebo_draws'))} random dates"
    return "every usable non-event date (up to the as-of date)" if p.get("placebo_history", "as_of") == "as_of" \
        else "every usable non-event date"


def stale_banner(page_title: str, stale: Mapping[str, Mapping[str, object]]) -> str:
    """HTML of the banner of a page whose claims were recomputed elsewhere with other
    parameters (``stale``: claim id -> {parameter: value now published})."""
    items = "".join(
        f"<li>{e(cid)}: now " + ", ".join(f"{e(k)} = {e(_param_value(k, v))}" for k, v in d.items()) + "</li>"
        for cid, d in stale.items())
    return (f"<div class='rp-stale' role='alert' id='report-stale'><strong>Out of date:</strong> "
            f"{e(page_title)} shows claims that were recomputed with other parameters after this page was "
            f"built. The index and claims.json have the current numbers.<ul>{items}</ul></div>")
