"""What a report page shows, assembled for the page templates (``notebooks/*.ipynb``).

A page is one entry of the article's layout: a name, a kind (``overview`` or
``claims``), a title, an optional intro (markdown) and the claims it shows. The
templates call:

* :func:`load_page` - the page's spec and the article's prose for its claims;
* :func:`event_names` - event id -> short name with its day 0 (charts and tables);
* :func:`claim_block` - one claim: section, main figure, further figures collapsed;
* :func:`answer_paragraph` - the one-paragraph answer for the whole article;
* :func:`page_header` / :func:`page_footer` - title and intro; the "How this was
  computed" table, the method paragraph (once per page) and the glossary.

Everything from data files is escaped (see :mod:`research.report.claimview`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from research.claims.article import Article, load_article
from research.claims.evaluation import ArticleEvaluation, cache_path, evaluate_article, load_evaluation
from research.claims.followup import FollowUp, followup
from research.claims.params import EvalParams
from research.claims.reported import DISAGREEMENT_FLOOR_PP, DISAGREEMENT_RELATIVE, reported_vs_computed
from research.claims.robustness import SpecificationGrid
from research.claims.scoreboard import evidence_table
from research.claims.verdict import Verdict
from research.claims.studies import day0_table
from research.errors import FigureError, ReportError
from research.report import claimview as cv
from research.vocab import pct_points

__all__ = ["FOLLOWUP_PAGE", "PageView", "article_of", "evaluate_claims", "claim_block", "event_names", "followup_caveats", "followup_chart",
           "followup_summary", "followup_tables", "load_page", "overview_answer", "overview_heatmap",
           "page_footer", "page_header", "reported_moves", "run_followup", "validate_parameters"]


@dataclass(frozen=True)
class PageView:
    """One page of the article's site.

    Attributes
    ----------
    name : output stem (``<name>.html``).
    kind : ``overview`` or ``claims``.
    title : page title.
    intro_md : markdown shown under the title (may be empty).
    claims : the claim ids the page owns, in display order.
    prose : claim id -> the article's bespoke markdown for that claim (optional).
    quotes : claim id -> (the article's sentences, their language).
    article_title : the article's title.
    owner_pages : claim id -> the page that owns it.
    article_dir : the article directory (markdown images are read from it).
    """

    name: str
    kind: str
    title: str
    intro_md: str
    claims: tuple[str, ...]
    prose: Mapping[str, str] = field(default_factory=dict)
    quotes: Mapping[str, tuple[tuple[str, ...], str]] = field(default_factory=dict)
    article_title: str = ""
    owner_pages: Mapping[str, str] = field(default_factory=dict)
    article_dir: str = ""


#: Name and title of the follow-up page every site gets after the layout's pages.
FOLLOWUP_PAGE = "what_happened_next"
FOLLOWUP_TITLE = "What happened next"


def article_of(article: Article | str | Path | None = None) -> Article:
    """The :class:`research.claims.Article` for ``article`` (an Article, a directory, or
    None / "" for the shipped article)."""
    if isinstance(article, Article):
        return article
    return load_article(Path(article) if article else None)


def load_page(name: str, article: Article | str | Path | None = None) -> PageView:
    """The page called ``name`` of the article's layout, with its prose.

    Parameters
    ----------
    name : a page name of the article's ``layout.yaml``, or :data:`FOLLOWUP_PAGE`.
    article : an Article or its directory; None or "" -> the shipped article.

    Raises
    ------
    ReportError : no such page (the message lists the layout's pages).
    """
    art = article_of(article)
    owner = {c: p.name for p in art.layout.pages for c in p.claims}
    site_title = art.layout.title or art.title
    if name == FOLLOWUP_PAGE:
        return PageView(name=name, kind="followup", title=FOLLOWUP_TITLE,
                        intro_md=art.layout.followup_intro, claims=(), article_title=site_title,
                        owner_pages=owner, article_dir=str(art.path))
    page = next((p for p in art.layout.pages if p.name == name), None)
    if page is None:
        names = ", ".join([p.name for p in art.layout.pages] + [FOLLOWUP_PAGE])
        raise ReportError(f"page {name!r} is not in {art.path / 'layout.yaml'}; its pages: {names}")
    prose = {c: art.claim_prose(c) for c in page.claims}
    quotes = {c: (tuple(art.claim(c).quote), art.claim(c).quote_language) for c in page.claims}
    return PageView(name=page.name, kind=page.kind, title=page.title, intro_md=page.intro_md or "",
                    claims=tuple(page.claims), prose={k: v for k, v in prose.items() if v}, quotes=quotes,
                    article_title=site_title, owner_pages=owner, article_dir=str(art.path))


def prepare_evaluation(values: Mapping[str, object]) -> str:
    """The report's side of a page's evaluation (run before any page): the article's
    evaluation under the page's parameters ``values`` -- and under each parameter set its
    ``claim_parameters`` name -- computed (or found in the cache); returns the cache file the
    page loads -- or "" for live prices (``source`` other than the snapshot: not cached, the
    page evaluates them itself)."""
    params = EvalParams.from_mapping(values, ignore=_RUNNER_KEYS)
    owners = [EvalParams.from_mapping(cp) for cp in dict(values.get("claim_parameters") or {}).values()]
    if any(p.source != "snapshot" for p in [params, *owners]):
        return ""
    art = article_of(values.get("article") or None)
    ev = evaluate_article(art, params)
    for p in owners:
        evaluate_article(art, p)
    return cache_path(ev)


def page_evaluation(evaluation: str, params: EvalParams, article: Article | str | Path | None = None
                    ) -> ArticleEvaluation:
    """The page's :class:`~research.claims.evaluation.ArticleEvaluation`: loaded from the file
    the report computed (``evaluation``), or -- run by hand, ``evaluation`` empty --
    evaluated here (a cache hit after one report run)."""
    if evaluation:
        return load_evaluation(evaluation)
    return evaluate_article(article_of(article), params)


def evaluate_claims(params: EvalParams, article: Article | str | Path | None = None, *, claim_ids: Sequence[str] | None = None,
                    claim_parameters: Mapping[str, Mapping[str, object]] | None = None,
                    robustness: bool = True, evaluation: ArticleEvaluation | None = None) -> list[Verdict]:
    """Verdicts of the article's claims (all, or ``claim_ids``, in article order), each
    with ``params`` unless ``claim_parameters`` gives that claim's own (the parameters its
    page published it with: a page showing claims it does not own shows the owner's numbers);
    price claims judged across the specification grid unless ``robustness`` is False.
    ``evaluation``: the page's evaluation under ``params`` (see :func:`page_evaluation`).
    """
    art = article_of(article)
    ids = [c.id for c in art.claims] if claim_ids is None else list(claim_ids)
    own = dict(claim_parameters or {})
    main = evaluation if evaluation is not None else evaluate_article(art, params, grid=robustness)
    out = []
    for cid in ids:
        ev = evaluate_article(art, EvalParams.from_mapping(own[cid]), grid=robustness) if cid in own else main
        out.append(ev.verdict(cid))
    return out


def event_names(article: Article | str | Path | None = None) -> dict[str, str]:
    """Event id -> short reader-facing name with its day 0 (the first clause of the
    event's title and its day-0 date)."""
    art = article_of(article)
    ev = art.events_frame()
    if ev.empty:
        return {}
    d0 = day0_table(article=art)
    titles = dict(zip(ev["event_id"], ev["title"], strict=True))
    return {str(eid): cv.short_event_name(titles.get(eid), str(eid), r["day0"]) for eid, r in d0.iterrows()}


def claim_block(v: Verdict, page: PageView, *, names: Mapping[str, str], alpha: float) -> str:
    """One claim's section: verdict and reason, the article's words, prose, rule, notes,
    the main figure and the specification curve, further figures and the evidence
    collapsed."""
    from research.report.claimfigures import figure_html, figures_for

    cid = v.claim_id
    quote, lang = page.quotes.get(cid, ((), ""))
    wins = v.rule_windows or None
    section = cv.claim_section(v, prose_md=page.prose.get(cid), quote=quote, quote_language=lang,
                               names=names, rule_windows=wins, image_dir=page.article_dir or None)
    figs = figures_for(v, names=names, alpha=alpha)
    if not figs:
        return section
    shown = [figs[0]] + [f for f in figs[1:] if f.kind == "specification_curve"]
    rest = [f for f in figs[1:] if f.kind != "specification_curve"]
    main = "".join(figure_html(f.figure, f.alt) for f in shown)
    if len(shown) > 1:  # the finding and its robustness side by side (wrapping on a narrow screen)
        main = f"<div class='rp-figrow'>{main}</div>"
    more = ""
    if rest:
        more = ("<details class='rp-details'><summary>More charts</summary>"
                + "".join(figure_html(f.figure, f.alt) for f in rest) + "</details>")
    head, tail = section.rsplit("</section>", 1)
    return f"{head}{main}{more}</section>{tail}"


def page_header(page: PageView) -> str:
    """The page's title (h1) and intro (escaped markdown)."""
    return f"{cv.style()}<h1>{cv.e(page.title)}</h1>{cv.markdown_html(page.intro_md, page.article_dir or None)}"


def page_footer(params: EvalParams, verdicts: Sequence[Verdict] = (), *, data_source: str | None = None,
                article: Article | str | Path | None = None) -> str:
    """Method paragraph (once per page), "How this was computed" table and glossary.

    ``params`` is resolved against the article (its as-of date, market proxy and seed
    where the page left them to the article); claims computed with other parameters
    (per-claim overrides) are listed under the table.
    """
    grid = None
    if article is not None:
        art = article_of(article)
        params = params.resolve(art)
        grid = SpecificationGrid.from_mapping(art.robustness) if any(
            v.robustness is not None for v in verdicts) else None
    per_claim = {v.claim_id: v.parameters.to_dict() for v in verdicts}
    if data_source is None and verdicts:
        data_source = "; ".join(sorted({str(v.data_source) for v in verdicts}))
    return (cv.method_html(params, grid) + cv.test_sizes_html(verdicts)
            + cv.params_table(params, data_source=data_source, per_claim=per_claim) + cv.glossary_html())


# --------------------------------------------------------------------------------------
# the overview page
# --------------------------------------------------------------------------------------
def overview_answer(verdicts: Sequence[Verdict], page: PageView, *, names: Mapping[str, str]) -> str:
    """The answer for the whole article (one paragraph) and every claim's verdict and
    reason, linked to the page that shows it."""
    text = cv.answer_paragraph(verdicts)
    hrefs = {c: (f"#{c}" if p == page.name else f"{p}.html#{c}") for c, p in page.owner_pages.items()}
    return (f"<p class='rp-answer' id='answer'><strong>The answer.</strong> {cv.e(text)}</p>"
            + cv.findings_box(verdicts, title="Every claim", names=names, hrefs=hrefs))


def overview_heatmap(verdicts: Sequence[Verdict], *, names: Mapping[str, str]) -> str:
    """Day-0 abnormal returns of every (event, stock) of the event claims, as a heatmap
    (collapsed under a one-line summary)."""
    from research.report import figures
    from research.report.claimfigures import figure_html

    ev = evidence_table(verdicts)
    if ev.empty or "window_start" not in ev.columns:
        return ""
    try:
        fig = figures.ar_heatmap(ev, window=(0, 0), names=names)
    except FigureError:
        return ""
    title = fig.axes[0].get_title().replace("\n", " ").replace("\\$", "$")
    return ("<h2>Day-0 abnormal returns across the catalogued events</h2>"
            f"<details class='rp-details'><summary>{cv.e(title)}</summary>{figure_html(fig, title)}</details>")


def reported_moves(params: EvalParams, article: Article | str | Path | None = None, *, names: Mapping[str, str],
                   evaluation: ArticleEvaluation | None = None) -> str:
    """The press's reported day-0 moves against the computed ones: one sentence and the
    table (collapsed); taken from the page's ``evaluation`` when given."""
    art = article_of(article)
    if not art.events:  # nothing reported, nothing to compare
        return ""
    moves = (evaluation.reported if evaluation is not None
             else reported_vs_computed(as_of=params.as_of, source=params.source, article=art))
    if moves.empty:
        return ""
    compared = moves[moves["reported_pct"].notna()]
    n_bad = int((compared["status"] == "DISAGREES").sum())
    rows = []
    for r in compared.to_dict(orient="records"):
        rows.append({"event": names.get(r["event_id"], r["event_id"]), "stock": r["ticker"],
                     "reported": pct_points(r.get("reported_pct")), "computed": pct_points(r.get("computed_pct")),
                     "difference": pct_points(r.get("diff_pp"), unit=" pp"), "status": r.get("status"),
                     "hint": r.get("hint") or ""})
    head = "".join(f"<th>{cv.e(h)}</th>" for h in ("event", "stock", "reported", "computed", "difference",
                                                    "status", "hint"))
    body = "".join("<tr>" + "".join(f"<td>{cv.e(r[k])}</td>" for k in r) + "</tr>" for r in rows)
    sentence = (f"{len(compared)} of the {len(moves)} (event, stock) pairs have a close-to-close move in the "
                f"press; {n_bad} differ from the computed day-0 return by more than "
                f"{DISAGREEMENT_RELATIVE:.0%} of the reported move or {DISAGREEMENT_FLOOR_PP:g} percentage "
                "points, whichever is larger (a data problem, a wrong day 0 or a loose press figure).")
    return ("<h2>Reported moves against the data</h2>"
            f"<details class='rp-details'><summary>{cv.e(sentence)}</summary>"
            f"<table class='rp-table'><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></details>")


# --------------------------------------------------------------------------------------
# the "what happened next" page
# --------------------------------------------------------------------------------------
def followed_series(article: Article | str | Path | None = None) -> tuple[dict[str, tuple[str, ...]], list[str]]:
    """The article's named baskets and the stocks its claims name (claims' tickers)."""
    art = article_of(article)
    tickers = sorted({t for c in art.claims for t in c.tickers})
    return {k: tuple(v) for k, v in art.baskets.items()}, tickers


def run_followup(article: Article | str | Path | None = None, *, as_of: str | None, market: str | None, source: str) -> FollowUp:
    """:func:`research.claims.followup.followup` on the article's baskets and stocks from
    its as-of close (``as_of``/``market`` None: the article's)."""
    art = article_of(article)
    market = market or art.market_proxy
    baskets, tickers = followed_series(art)
    return followup(baskets, [t for t in tickers if t != market], as_of or art.as_of_str, market=market,
                    source=source)


def _horizon_words(h: str) -> str:
    return {"+5": "in the week after the article", "+21": "in the month after the article",
            "+63": "in the three months after the article", "+125": "in the six months after the article",
            "end": "to the end of the data"}.get(h, h)


def followup_summary(fu: FollowUp) -> str:
    """Plain words per basket: return and excess over the market at each horizon."""
    t = fu.table
    items = []
    for name in t.loc[t["kind"] == "basket", "name"].unique():
        rows = t[(t["kind"] == "basket") & (t["name"] == name) & t["reached"]]
        parts = [f"{_horizon_words(r['horizon'])} {cv.pct(r['return'])} ({cv.pct(r['excess'])} against "
                 f"{fu.market}; worst fall {cv.pct(r['max_drawdown'])})" for r in rows.to_dict(orient="records")
                 if r["horizon"] in ("+21", "end")]
        if parts:
            items.append(f"<li>The <strong>{cv.e(name.replace('_', ' '))}</strong> basket: "
                         + cv.e("; ".join(parts)) + ".</li>")
    return (f"<div class='rp-findings'><h2>Findings</h2><p>From the as-of close on "
            f"{cv.e(fu.as_of)} (equal amounts in each member, bought at that close):</p><ul>"
            + "".join(items) + "</ul></div>")


def followup_chart(fu: FollowUp) -> str:
    """Baskets and the market indexed to 100 at the as-of close (single stocks collapsed)."""
    from research.report import figures
    from research.report.claimfigures import figure_html

    vals = fu.values.copy()
    baskets = [c for c in vals.columns if c.startswith("basket: ")]
    main = vals[baskets + [fu.market]]
    fig = figures.indexed_chart(main, as_of=fu.as_of, highlight=list(main.columns))
    singles = [c for c in vals.columns if not c.startswith("basket: ") and c != fu.market]
    fig2 = figures.indexed_chart(vals[singles], as_of=fu.as_of, title="Each named stock, indexed to 100 at the "
                                 f"{fu.as_of} close") if singles else None
    more = (f"<details class='rp-details'><summary>Each stock</summary>{figure_html(fig2, 'each stock')}</details>"
            if fig2 is not None else "")
    return figure_html(fig, fig.axes[0].get_title()) + more


def followup_tables(fu: FollowUp) -> str:
    """The numbers per basket and stock and horizon (collapsed)."""
    t = fu.table
    cols = ["name", "horizon", "end", "return", "excess", "max_drawdown", "volatility"]
    heads = {"name": "basket / stock", "horizon": "sessions after", "end": "to", "return": "return",
             "excess": f"minus {fu.market}", "max_drawdown": "max drawdown", "volatility": "volatility (ann.)"}
    out = []
    for kind, label in (("basket", "Baskets"), ("ticker", "Named stocks")):
        sub = t[t["kind"] == kind]
        if sub.empty:
            continue
        body = []
        for r in sub.to_dict(orient="records"):
            cells = []
            for c in cols:
                v = r[c]
                text = cv.pct(v) if c in ("return", "excess", "max_drawdown") else (
                    cv.pct(v, 0).lstrip("+") if c == "volatility" else ("" if v is None else str(v)))
                cells.append(f"<td>{cv.e(text if r['reached'] or c in ('name', 'horizon') else 'n/a')}</td>")
            body.append("<tr>" + "".join(cells) + "</tr>")
        out.append(f"<details class='rp-details'><summary>{label}: every horizon</summary>"
                   f"<table class='rp-table'><thead><tr>{''.join(f'<th>{cv.e(heads[c])}</th>' for c in cols)}"
                   f"</tr></thead><tbody>{''.join(body)}</tbody></table></details>")
    return "".join(out)


def followup_caveats(fu: FollowUp, *, source: str) -> str:
    """What these numbers are not."""
    members = "; ".join(f"{k}: {', '.join(v)}" for k, v in fu.members.items())
    notes = "".join(f"<li>{cv.e(n)}</li>" for n in fu.notes)
    return (
        "<h2>Caveats</h2><ul>"
        "<li>The stocks were picked by the article, after they had risen: this is not a random sample, "
        "and what followed says nothing about stocks the article did not name.</li>"
        "<li>Survivorship: only tickers with prices in the data are followed; a delisted stock would be "
        "missing.</li>"
        "<li>Returns are from adjusted closes (dividends and splits), without costs or taxes. A basket is "
        "equal amounts in each member bought at the as-of close and held.</li>"
        "<li>Not investment advice: a description of what prices did, not a forecast.</li>"
        f"<li>Data: {cv.e(source)}; baskets: {cv.e(members)}.</li>{notes}</ul>")


#: a page's parameters that are the runner's, not evaluation parameters
_RUNNER_KEYS = ("verdict_path", "page", "article", "claim_parameters", "evaluation")


def validate_parameters(values: Mapping[str, object]) -> EvalParams:
    """The report's parameter validator: a page's evaluation parameters are valid
    :class:`~research.claims.EvalParams` (the page keys ``page``, ``article`` and
    ``verdict_path`` are the runner's), resolved against the page's article -- so a window
    its as-of date cannot hold, or a snapshot that fails its checks, stops the run before
    anything is executed."""
    params = EvalParams.from_mapping(values, ignore=_RUNNER_KEYS)
    return params.resolve(load_article(values.get("article") or None))