"""The report site: ``reports/index.html`` (claim scoreboard) and ``reports/claims.json``.

Both are built from what the runs left in the output directory, for *every* notebook of
the portfolio (a partial ``--notebook`` run keeps the others' last results):

* ``.status/<name>.json`` - the runner's record of the notebook's last run (ok/failed);
* ``.verdicts/<name>.json`` - the sidecar the notebook published with
  :func:`research.report.publish` (only present after a successful run).

Each claim's verdict comes from the page that owns it (the article's ``layout.yaml``). A claim
whose owner failed, was not run or did not publish it appears with verdict ``"error"``
and names that notebook. ``claims.json`` holds one object per claim sorted by claim id
(numbered ids numerically) - exactly the published ``Verdict.to_dict()`` - and contains no timestamp, so equal
inputs give a byte-identical file. ``index.html`` states the generation time in one
place (``<p id="generated">``).
"""

from __future__ import annotations

import datetime as _dt
import html
import json
import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from research.atomic import atomic_write_text
from research.errors import ResearchError
from research.report import claimview as cv
from research.report.portfolio import Portfolio, claim_sort_key
from research.report import nav
from research.report.style import style_tag
from research.vocab import ERROR, NOT_RUN, verdict_style

if TYPE_CHECKING:  # types only: the index renders without loading the claims package
    from research.claims.verdict import KeyNumbers

__all__ = ["ERROR_VERDICT", "NotebookState", "build_site", "collect_claims", "format_key_numbers", "refresh_plan", "stale_claims",
           "notebook_states"]

ERROR_VERDICT = ERROR
#: Verdict of a claim whose notebook has not been run into this output folder yet.
NOT_RUN_VERDICT = NOT_RUN


@dataclass(frozen=True)
class NotebookState:
    """Last known state of one portfolio notebook in the output directory."""

    name: str
    title: str
    status: str  # "ok" | "failed" | "not run"
    html: str | None  # file name relative to the site, if the page exists
    error: str | None
    failed_cell: str | None
    verdicts: tuple[Mapping[str, object], ...]
    parameters: Mapping[str, object]
    claims: tuple[str, ...]
    #: claim id -> parameters of claims the page displays without owning them
    shown: Mapping[str, object] = field(default_factory=dict)
    #: further results the page published (e.g. ``followup``)
    extras: Mapping[str, object] = field(default_factory=dict)


def _read_json(path: Path) -> object:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def notebook_states(portfolio: Portfolio, output_dir: str | Path) -> tuple[NotebookState, ...]:
    """Read every portfolio notebook's status and sidecar from ``output_dir``."""
    out = Path(output_dir)
    states = []
    for spec in portfolio.notebooks:
        status = _read_json(out / ".status" / f"{spec.name}.json")
        page = out / f"{spec.name}.html"
        if not isinstance(status, Mapping):
            states.append(NotebookState(spec.name, spec.title, "not run",
                                        page.name if page.is_file() else None,
                                        "not run yet: run `research report` (without --notebook)",
                                        None, (), {}, spec.claims))
            continue
        verdicts: tuple[Mapping[str, object], ...] = ()
        shown: Mapping[str, object] = {}
        extras: Mapping[str, object] = {}
        state = str(status.get("status", "failed"))
        error = status.get("error")
        if state == "ok":
            side = _read_json(out / ".verdicts" / f"{spec.name}.json")
            if isinstance(side, Mapping) and isinstance(side.get("verdicts"), list):
                verdicts = tuple(v for v in side["verdicts"] if isinstance(v, Mapping))
                shown = side.get("shown") if isinstance(side.get("shown"), Mapping) else {}
                extras = side.get("extras") if isinstance(side.get("extras"), Mapping) else {}
            elif spec.claims:
                state, error = "failed", "its verdict sidecar is missing or unreadable"
        params = {k: v for k, v in (status.get("parameters") or {}).items() if k not in ("verdict_path", "evaluation")}
        states.append(NotebookState(spec.name, spec.title, state,
                                    page.name if page.is_file() else None, error,
                                    status.get("failed_cell"), verdicts, params, spec.claims, shown, extras))
    return tuple(states)


def _claim_titles(article: Path | None = None) -> dict[str, str]:
    """Claim titles from the article, for error rows (empty if it cannot be loaded)."""
    from research.claims import load_claims
    try:
        return {c.id: c.title for c in load_claims(article)}
    except ResearchError as exc:  # a broken registry must not stop the error page from being written
        warnings.warn(f"claim titles unavailable for the index: {exc}", RuntimeWarning, stacklevel=2)
        return {}


def collect_claims(portfolio: Portfolio, states: tuple[NotebookState, ...]) -> list[dict[str, object]]:
    """One dict per claim owned in the portfolio, sorted numerically by claim id.

    A published claim is its sidecar dict plus ``page`` (the name of the page that shows
    it; its ``parameters`` are those it was computed with). Otherwise an error record:
    ``claim_id, title, verdict="error" (or "not run" when its notebook has not been run
    into this output folder), error, notebook, rule="", data_source=None,
    as_of=None, parameters={}, evidence=[], key_numbers={}, notes=[error],
    confounders=[], page``.
    """
    by_name = {s.name: s for s in states}
    titles: dict[str, str] | None = None
    rows = []
    for claim_id, owner in sorted(portfolio.owner_of().items(), key=lambda kv: claim_sort_key(kv[0])):
        st = by_name[owner]
        found = next((v for v in st.verdicts if v.get("claim_id") == claim_id), None)
        if st.status == "ok" and found is not None:
            rows.append({**dict(found), "page": owner})
            continue
        if st.status == "ok":
            why = f"notebook {owner} did not publish {claim_id}"
        elif st.status == "not run":
            why = f"notebook {owner} has not been run"
        else:
            why = f"notebook {owner} failed: {st.error}"
        if titles is None:
            titles = _claim_titles(portfolio.article)
        rows.append({
            "claim_id": claim_id, "title": titles.get(claim_id, claim_id),
            "verdict": NOT_RUN_VERDICT if st.status == "not run" else ERROR_VERDICT,
            "error": why, "notebook": owner, "rule": "",
            "data_source": None, "as_of": None, "parameters": {}, "evidence": [],
            "key_numbers": {}, "notes": [why], "confounders": [], "page": owner,
        })
    return rows


def stale_claims(states: tuple[NotebookState, ...], claims: list[dict[str, object]]
                 ) -> dict[str, dict[str, dict[str, object]]]:
    """Pages showing claims they do not own with other parameters than the owner published.

    Returns page name -> {claim id -> {parameter: value the owner used}} (only the
    parameters that differ); pages in agreement are left out.
    """
    published = {str(c["claim_id"]): c.get("parameters") or {} for c in claims
                 if c.get("verdict") not in (ERROR_VERDICT, NOT_RUN_VERDICT)}
    out: dict[str, dict[str, dict[str, object]]] = {}
    for s in states:
        if s.status != "ok":
            continue
        for cid, shown in s.shown.items():
            owner = published.get(str(cid))
            if owner is None or not isinstance(shown, Mapping):
                continue
            diff = {k: v for k, v in owner.items() if shown.get(k) != v}
            if diff:
                out.setdefault(s.name, {})[str(cid)] = diff
    return out


def refresh_plan(portfolio: Portfolio, output_dir: str | Path) -> dict[str, dict[str, object]]:
    """Pages to re-run so that every page shows each claim with the parameters its owner
    published it with: page name -> the page's parameters for the re-run (its last run's,
    with ``claim_parameters`` naming the owners' parameters of the claims that differ).
    Empty when the site is consistent."""
    out = Path(output_dir)
    states = notebook_states(portfolio, out)
    claims = collect_claims(portfolio, states)
    published = {str(c["claim_id"]): c.get("parameters") or {} for c in claims}
    plan: dict[str, dict[str, object]] = {}
    by_name = {s.name: s for s in states}
    for name, diffs in stale_claims(states, claims).items():
        prev = {k: v for k, v in by_name[name].parameters.items() if k not in ("verdict_path", "evaluation")}
        cp = dict(prev.get("claim_parameters") or {})
        cp.update({cid: published[cid] for cid in diffs})
        plan[name] = {**prev, "claim_parameters": cp}
    return plan


# --------------------------------------------------------------------------------------
# formatting
# --------------------------------------------------------------------------------------
def _fmt_value(v: object) -> str:
    if isinstance(v, bool) or v is None:
        return str(v)
    if isinstance(v, float):
        return "NaN" if not math.isfinite(v) else f"{v:.4g}"
    return str(v)


def _leaves(obj: object, prefix: str = "") -> list[tuple[str, object]]:
    if isinstance(obj, Mapping):
        out: list[tuple[str, object]] = []
        for k, v in obj.items():
            out.extend(_leaves(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    return [(prefix, obj)]


def format_key_numbers(key_numbers: Mapping[str, object] | None, limit: int = 3, *,
                       key: KeyNumbers | None = None) -> tuple[str, str]:
    """(short text for the table, full text for the tooltip) of a claim's key numbers.

    The short text is the claim's headline (:func:`research.claims.scoreboard.headline` of
    the typed key numbers, :meth:`KeyNumbers.from_mapping`) or else its first
    ``limit`` numeric entries. The full text lists every entry, nested mappings (e.g. a rolling-return
    claim's per-ticker numbers) flattened to ``a.b = value``, floats with 4 significant digits.
    """
    leaves = _leaves(dict(key_numbers or {}))
    parts = [f"{k} = {_fmt_value(v)}" for k, v in leaves]
    from research.claims.scoreboard import headline
    from research.claims.verdict import KeyNumbers

    short = headline(key if key is not None else KeyNumbers.from_mapping(key_numbers or {}))
    if not short:
        numeric = [f"{k} = {_fmt_value(v)}" for k, v in leaves
                   if isinstance(v, (int, float)) and not isinstance(v, bool)]
        short = "; ".join(numeric[:limit]) + (f"; (+{len(numeric) - limit} more)" if len(numeric) > limit else "")
    return short, "\n".join(parts)


def _param_sets(claims: list[dict[str, object]]) -> tuple[dict[str, object], dict[str, dict[str, object]]]:
    """The parameters most claims were computed with, and per claim the ones that differ."""
    sets: dict[str, list[str]] = {}
    for c in claims:
        if c.get("parameters"):
            sets.setdefault(json.dumps(c["parameters"], sort_keys=True), []).append(str(c["claim_id"]))
    if not sets:
        return {}, {}
    common = json.loads(max(sets.items(), key=lambda kv: len(kv[1]))[0])
    diffs = {}
    for c in claims:
        p = c.get("parameters") or {}
        d = {k: v for k, v in p.items() if common.get(k) != v}
        if p and d:
            diffs[str(c["claim_id"])] = d
    return common, diffs


def _render_index(portfolio: Portfolio, states: tuple[NotebookState, ...],
                  claims: list[dict[str, object]], generated: str,
                  stale: Mapping[str, Mapping[str, object]] | None = None) -> str:
    e = html.escape
    stale = stale or {}
    by_name = {s.name: s for s in states}
    owner = portfolio.owner_of()
    records = {str(c["claim_id"]): cv.record(c) for c in claims}  # read once, typed
    sources = sorted({r.data_source for r in records.values() if r.data_source})
    as_ofs = sorted({r.as_of for r in records.values() if r.as_of})
    failed = [s for s in states if s.status == "failed"]
    counts: dict[str, int] = {}
    for r in records.values():
        counts[r.verdict] = counts.get(r.verdict, 0) + 1
    common, diffs = _param_sets(claims)
    claims_by_id = {str(c["claim_id"]): c for c in claims}
    out = [
        "<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{e(portfolio.title)}</title>", style_tag(), "</head>", '<body class="rp-site rp-index">',
        nav.shell_top(), f"<h1>{e(portfolio.title)}</h1>",
        f'<p class="answer" id="answer"><b>The answer.</b> {e(cv.answer_paragraph(list(records.values())))}</p>',
        f'<p class="meta" id="data-source"><b>Data source:</b> {e(", ".join(sources) or "unknown (no verdicts published)")}</p>',
        f'<p class="meta" id="as-of"><b>As of:</b> {e(", ".join(as_ofs) or "unknown")}</p>',
        '<div class="meta" id="parameters"><b>Parameters</b>'
        + (f" (<b>other parameters for {e(', '.join(diffs))}</b>: see the table)" if diffs else "")
        + (cv.params_table(common) if common else ": unknown (no verdicts published)") + "</div>",
        f'<p class="meta" id="generated"><b>Generated:</b> {e(generated)}</p>',
    ]
    if failed:
        names = ", ".join(s.name for s in failed)
        out.append(f'<p class="failed" id="failures">{len(failed)} report(s) failed: {e(names)}. '
                   "Their claims are shown as errors.</p>")
    if stale:
        out.append(f'<p class="failed" id="stale">Out of date: {e(", ".join(stale))} show claims that were '
                   "recomputed with other parameters since; this table and claims.json have the current numbers. "
                   "Rerun those pages (or the whole report) to bring them up to date.</p>")
    summary = ", ".join(f"{n} {e(v)}" for v, n in sorted(counts.items()))
    out += [
        "<h2>Claim scoreboard</h2>",
        f'<p class="meta">{len(claims)} claims: {summary}. Machine-readable: '
        '<a href="claims.json">claims.json</a>'
        + (' and <a href="followup.json">followup.json</a> (what happened next)'
           if any("followup" in s.extras for s in states) else "") + ".</p>",
        '<table id="scoreboard" class="rp-wide"><thead><tr><th>Claim</th><th>Title</th><th>Verdict</th><th>Why</th>'
        "<th>Key numbers</th><th>Section</th></tr></thead><tbody>",
    ]
    for cid, rec in records.items():
        c = claims_by_id[cid]
        verdict = rec.verdict
        nb = owner.get(cid, "")
        page = by_name[nb].html if nb in by_name else None
        short, full = format_key_numbers(c.get("key_numbers"), key=rec.key)
        if verdict in (ERROR_VERDICT, NOT_RUN_VERDICT):
            short = (rec.error.strip().splitlines() or [""])[0]
        status = by_name[nb].status if nb in by_name else "not run"
        # a claim's section exists only on a successful page; a failed page has its banner
        frag = {"ok": f"#{cid}", "failed": "#report-failed"}.get(status, "")
        label = f"{e(nb)} &sect;{e(cid)}" if status == "ok" else f"{e(nb)} ({e(status)})"
        link = f'<a href="{e(page)}{e(frag)}">{label}</a>' if page else e(nb)
        cls = ' class="row-failed"' if verdict == ERROR_VERDICT else ""
        why = cv.reason(rec) if verdict not in (ERROR_VERDICT, NOT_RUN_VERDICT) else ""
        other = ("<br><span class='small'>computed with " + e(", ".join(f"{k}={json.dumps(v)}"
                 for k, v in diffs[cid].items())) + "</span>") if cid in diffs else ""
        out.append(
            f'<tr id="claim-{e(cid)}"{cls} data-claim="{e(cid)}" data-verdict="{e(verdict)}">'
            f"<td><b>{e(cid)}</b></td><td>{e(rec.title)}</td>"
            f'<td><span class="badge {verdict_style(verdict).css_class}">{e(verdict)}</span>'
            + (f'<br><span class="small{" fragile" if rec.fragile else ""}">'
               f'{e(cv.robustness_text(rec))}</span>' if cv.robustness_text(rec) else "") + "</td>"
            f'<td class="why">{e(why)}{other}</td>'
            f'<td class="key" title="{e(full)}">{e(short)}</td><td>{link}</td></tr>'
        )
    out += [
        "</tbody></table>", "<h2>Reports</h2>",
        '<table id="reports" class="rp-wide"><thead><tr><th>Report</th><th>Claims</th><th>Status</th>'
        "<th>Parameters set</th></tr></thead><tbody>",
    ]
    for s in states:
        title = f'<a href="{e(s.html)}">{e(s.title)}</a>' if s.html else e(s.title)
        if s.status == "ok":
            status = "ok" if s.name not in stale else (
                '<span class="failed">out of date</span><br><span class="small">'
                + e(", ".join(stale[s.name])) + " recomputed since</span>")
        elif s.status == "failed":
            where = f" at {s.failed_cell}" if s.failed_cell else ""
            first = str(s.error).strip().splitlines()[0] if s.error else ""
            status = f'<span class="failed">FAILED{e(where)}</span><br><span class="small">{e(first)}</span>'
        else:
            status = '<span class="small">not run</span>'
        params = _kv_table({k: v for k, v in s.parameters.items() if k not in ("page", "article")})
        cls = ' class="row-failed"' if s.status == "failed" else ""
        out.append(
            f'<tr id="report-{e(s.name)}"{cls} data-status="{e(s.status)}"'
            f' data-stale="{"yes" if s.name in stale else "no"}"><td>{title}<br>'
            f'<span class="small">{e(s.name)}</span></td><td>{e(", ".join(s.claims))}</td>'
            f"<td>{status}</td><td>{params}</td></tr>"
        )
    out += ["</tbody></table>", nav.shell_bottom(), "</body>", "</html>", ""]
    return "\n".join(out)


def _kv_table(params: Mapping[str, object]) -> str:
    """The parameters a page was run with (its ``-p`` settings) as a small table; "defaults"
    when none was set."""
    if not params:
        return '<span class="small">defaults</span>'
    rows = "".join(f"<tr><th>{html.escape(str(k))}</th><td><code>{html.escape(json.dumps(v, default=str))}</code></td></tr>"
                   for k, v in sorted(params.items()))
    return f'<table class="rp-kv">{rows}</table>'


def _mark_stale_pages(portfolio: Portfolio, out: Path, states: tuple[NotebookState, ...],
                      stale: Mapping[str, Mapping[str, object]]) -> None:
    """Re-export each stale page with a visible "out of date" banner, and a page that
    carried the banner but is consistent again without it (from its executed notebook)."""
    import nbformat

    from research.report.html import export_html

    for s in states:
        page = out / f"{s.name}.html"
        executed = out / "executed" / f"{s.name}.ipynb"
        if s.status != "ok" or not page.is_file() or not executed.is_file():
            continue
        marked = 'id="report-stale"' in page.read_text(encoding="utf-8") or "id='report-stale'" in page.read_text(
            encoding="utf-8")
        if s.name not in stale and not marked:
            continue
        nb = nbformat.read(executed, as_version=4)
        banner = cv.stale_banner(s.title, stale[s.name]) if s.name in stale else None
        export_html(nb, page, name=s.name, title=s.title, banner_html=banner)


def build_site(portfolio: Portfolio, output_dir: str | Path, *,
               generated: str | None = None) -> tuple[Path, Path]:
    """Write ``index.html`` and ``claims.json`` into ``output_dir`` (atomically), then fill
    the navigation (sidebar, previous/next links) of the index and every page
    (:func:`research.report.nav.apply_navigation`).

    Parameters
    ----------
    portfolio
        The notebooks and the claims each owns.
    output_dir
        The report directory the runner wrote into.
    generated
        Generation time shown on the index page; default: now, UTC, to the second.

    Returns
    -------
    (index.html path, claims.json path)
    """
    out = Path(output_dir)
    states = notebook_states(portfolio, out)
    claims = collect_claims(portfolio, states)
    text = json.dumps(claims, indent=2, ensure_ascii=False, allow_nan=False, default=str)
    claims_path = atomic_write_text(out / "claims.json", text + "\n")
    followup = [row for s in states for row in (s.extras.get("followup") or [])]
    if any("followup" in s.extras for s in states):
        atomic_write_text(out / "followup.json",
                          json.dumps(followup, indent=2, ensure_ascii=False, allow_nan=False) + "\n")
    stale = stale_claims(states, claims)
    _mark_stale_pages(portfolio, out, states, stale)
    if generated is None:
        generated = _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    index_path = atomic_write_text(out / "index.html", _render_index(portfolio, states, claims, generated, stale))
    nav.apply_navigation(out, portfolio.title, nav.site_pages(states, claims))
    return index_path, claims_path
