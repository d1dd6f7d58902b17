"""Specification robustness: every price claim judged under a grid of defensible
specifications, the share of them agreeing with the headline verdict, and the data of a
specification curve (Simonsohn, Simmons & Nelson 2020, *Nature Human Behaviour* 4).

The grid (:class:`SpecificationGrid`, configurable in ``article.yaml`` ``robustness:``):

=====================  =================================================================
dimension              default
=====================  =================================================================
market proxy           SPY, QQQ, IWM, and the claim's ``theme_proxy`` (a sector ETF)
model                  market model, market-adjusted, mean-adjusted, and ``etf3``: a
                       factor model on SPY, IWM - SPY and QQQ - SPY
estimation length      120, 250, 500 sessions (a length longer than the headline's needs
                       90% of it in valid returns, else it is not estimable)
event window           the rule's, and (0,0), (0,+1), (-1,+1)
=====================  =================================================================

Mean-adjusted and ``etf3`` do not use a market proxy: they enter once per estimation length
and window. What a claim pins in its ``spec:`` (e.g. ``model: mean_adjusted`` for a claim
about the index itself) is part of its question and stays fixed in its grid; a
specification that would test the market proxy against itself is left out.

Under each specification the claim goes through exactly the steps of its headline verdict
(:mod:`research.claims.judge`): the rule on the same rows, its primary test (the exact
placebo), the rule's cap, and the Holm cap -- with the family of primary tests *under that
specification* (a claim without a theme ETF enters the theme specifications with its own
market proxy). A specification is left out of the share (and shown, with the reason) when
one of the rule's rows cannot be estimated under it (e.g. 500 sessions before a recent
listing), or when it is **underpowered**: its placebo has so few admissible dates that
even the most extreme result, p at the floor 1/(1 + n), times the number of claims is
not below alpha -- "supported" could fail there whatever the data (a 500-session
estimation window leaves fewer pseudo dates). Both rules apply whatever the verdict. A
verdict that holds in fewer than ``threshold`` (default 80%) of the estimable
specifications is **fragile**.

The curve's estimate is the rule rows' mean CAR (the CAR itself for a single row) with a
normal confidence interval at the claim's alpha from the rows' standard errors
(``se = sqrt(sum se_i^2) / n``, independent rows).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import norm

from research.claims.judge import capped_verdict, event_targets, judge_event_claim
from research.claims.multiplicity import adjust_pvalues
from research.claims.params import CLAIM_MODELS, MODELS, EvalParams, claim_model
from research.claims.registry import Claim
from research.claims.rules import EventCarRule
from research.claims.studies import ETF_FACTOR_TICKERS, ClaimPanel, claim_panel, study_on_panel
from research.claims.verdict import NOT_TESTABLE, Inference, Multiplicity, PrimaryTest
from research.errors import ParameterError
from research.vocab import finite, to_jsonable

__all__ = ["Specification", "SpecificationGrid", "Robustness", "run_grid", "PROXY_FREE_MODELS", "GRID_COLUMNS",
           "price_claims"]

#: Models whose expected return does not use the market proxy.
PROXY_FREE_MODELS: tuple[str, ...] = tuple(n for n, m in CLAIM_MODELS.items() if not m.uses_proxy)
#: Columns of :attr:`Robustness.table`.
GRID_COLUMNS: tuple[str, ...] = (
    "model", "market_proxy", "proxy_role", "estimation_length", "window", "window_start", "window_end",
    "headline", "status", "estimate", "ci_low", "ci_high", "p_primary", "p_floor", "p_holm", "verdict", "agrees",
)
RULE_WINDOW = "rule"


def price_claims(claims: tuple[Claim, ...] | list[Claim]) -> list[Claim]:
    """The claims whose rule has a primary test in the article's family (event-study rules)."""
    return [c for c in claims if c.rule.in_family]


@dataclass(frozen=True)
class Specification:
    """One point of the grid.

    Attributes
    ----------
    model : expected-return model (:data:`research.claims.params.MODELS`).
    market_proxy : the proxy ticker; None for :data:`PROXY_FREE_MODELS`.
    proxy_role : the proxy as the grid lists it (a ticker, ``"theme"``, or ``"-"``).
    estimation_length : estimation window length (sessions).
    window : the CAR window (trading days) forced on every rule row; None = the rule's.
    """

    model: str
    market_proxy: str | None
    proxy_role: str
    estimation_length: int
    window: tuple[int, int] | None

    @property
    def key(self) -> tuple[str, str, int, str]:
        """The key aligning this specification across claims (for the Holm family)."""
        return (self.model, self.proxy_role, self.estimation_length, self.window_label)

    @property
    def window_label(self) -> str:
        return RULE_WINDOW if self.window is None else f"({self.window[0]:+d},{self.window[1]:+d})"

    def label(self) -> str:
        """E.g. ``"market / SPY / 250 / rule"``."""
        proxy = self.market_proxy or "-"
        if self.proxy_role == "theme":
            proxy += " (theme)"
        return f"{self.model} / {proxy} / {self.estimation_length} / {self.window_label}"

    def params(self, base: EvalParams) -> EvalParams:
        """``base`` under this specification. The minimum of valid estimation returns is
        capped at a shorter length, and for a longer one it is 90% of it (a long window is
        only used where the data hold it, not filled with the history there is)."""
        n = self.estimation_length
        min_obs = (min(base.min_estimation_obs, n) if n <= base.estimation_length
                   else max(base.min_estimation_obs, math.ceil(0.9 * n)))
        return replace(base, model=self.model, market_proxy=self.market_proxy or base.market_proxy,
                       estimation_length=n, min_estimation_obs=min_obs)


def _tuple(value: Any, name: str) -> tuple:
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        raise ParameterError(f"robustness.{name} must be a list, got {value!r}")
    out = tuple(value)
    if not out:
        raise ParameterError(f"robustness.{name} is empty; give at least one value")
    return out


@dataclass(frozen=True)
class SpecificationGrid:
    """The specifications every price claim is judged under (frozen, validated).

    Parameters
    ----------
    proxies : market proxies (tickers) of the proxy-using models; the claim's
        ``theme_proxy`` is added to them. Default ("SPY", "QQQ", "IWM").
    models : default all of :data:`research.claims.params.MODELS`.
    estimation_lengths : sessions, default (120, 250, 500).
    windows : CAR windows (trading days) besides the rule's, default ((0,0), (0,1), (-1,1)).
    threshold : share of estimable specifications below which a verdict is fragile,
        default 0.8.
    """

    proxies: tuple[str, ...] = ("SPY", "QQQ", "IWM")
    models: tuple[str, ...] = MODELS
    estimation_lengths: tuple[int, ...] = (120, 250, 500)
    windows: tuple[tuple[int, int], ...] = ((0, 0), (0, 1), (-1, 1))
    threshold: float = 0.8

    def __post_init__(self) -> None:
        set_ = lambda k, v: object.__setattr__(self, k, v)  # noqa: E731
        proxies = _tuple(self.proxies, "proxies")
        if not all(isinstance(p, str) and p.strip() for p in proxies):
            raise ParameterError(f"robustness.proxies must be tickers, got {list(proxies)!r}")
        set_("proxies", tuple(dict.fromkeys(p.strip().upper() for p in proxies)))
        models = _tuple(self.models, "models")
        bad = [m for m in models if m not in MODELS]
        if bad:
            raise ParameterError(f"robustness.models {bad} are not models; choose from {MODELS}")
        set_("models", tuple(dict.fromkeys(models)))
        lengths = _tuple(self.estimation_lengths, "estimation_lengths")
        if not all(isinstance(n, int) and not isinstance(n, bool) and n >= 30 for n in lengths):
            raise ParameterError(f"robustness.estimation_lengths must be integers >= 30, got {list(lengths)!r}")
        set_("estimation_lengths", tuple(dict.fromkeys(lengths)))
        wins = []
        for w in _tuple(self.windows, "windows"):
            if (isinstance(w, (str, bytes)) or len(w) != 2 or not all(isinstance(x, int) for x in w)
                    or w[0] > w[1]):
                raise ParameterError(f"robustness.windows: {w!r} is not a [start, end] pair with start <= end")
            wins.append((int(w[0]), int(w[1])))
        set_("windows", tuple(dict.fromkeys(wins)))
        t = self.threshold
        if isinstance(t, bool) or not isinstance(t, (int, float)) or not (0 < float(t) <= 1):
            raise ParameterError(f"robustness.threshold={t!r} must be a share in (0, 1], e.g. 0.8")
        set_("threshold", float(t))

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any] | None) -> SpecificationGrid:
        """From ``article.yaml``'s ``robustness:`` mapping (missing keys: the defaults)."""
        values = dict(values or {})
        unknown = sorted(set(values) - {"proxies", "models", "estimation_lengths", "windows", "threshold"})
        if unknown:
            raise ParameterError(f"robustness: unknown key(s) {unknown}; allowed: proxies, models, "
                                 "estimation_lengths, windows, threshold")
        if "windows" in values:
            values["windows"] = tuple(tuple(w) for w in values["windows"])
        return cls(**values)

    def specifications(self, claim: Claim, base: EvalParams) -> tuple[Specification, ...]:
        """The grid for one claim under the (resolved, overridden) parameters ``base``: what
        the claim's ``spec:`` pins stays fixed; the headline specification is always in."""
        pinned = set(claim.spec)
        models = (base.model,) if "model" in pinned else self.models
        lengths = (base.estimation_length,) if "estimation_length" in pinned else self.estimation_lengths
        roles = [(p, p) for p in self.proxies]
        if claim.theme_proxy and claim.theme_proxy not in self.proxies:
            roles.append(("theme", claim.theme_proxy))
        if "market_proxy" in pinned:
            roles = [(str(base.market_proxy), str(base.market_proxy))]
        wins: list[tuple[int, int] | None] = [None, *self.windows]
        out = [Specification(base.model, None if base.model in PROXY_FREE_MODELS else base.market_proxy,
                             "-" if base.model in PROXY_FREE_MODELS else str(base.market_proxy),
                             base.estimation_length, None)]
        for m in models:
            for n in lengths:
                for role, proxy in ([("-", None)] if m in PROXY_FREE_MODELS else roles):
                    out += [Specification(m, proxy, role, n, w) for w in wins]
        return tuple(dict.fromkeys(out))


@dataclass(frozen=True, eq=False)
class Robustness:
    """A claim's verdict across the specification grid.

    Attributes
    ----------
    claim_id : the claim.
    headline_verdict : the verdict under the headline specification.
    table : one row per specification (:data:`GRID_COLUMNS`); ``estimate``/``ci_*`` in
        simple-return units (0.1 = 10%), ``status`` "ok" or why the specification is left
        out of the share (not estimable, underpowered).
    statistic : what ``estimate`` is, in words.
    threshold : the fragility threshold (share).
    """

    claim_id: str
    headline_verdict: str
    table: pd.DataFrame
    statistic: str
    threshold: float

    @property
    def estimable(self) -> pd.DataFrame:
        return self.table[self.table["status"] == "ok"]

    @property
    def n_specs(self) -> int:
        """Estimable specifications."""
        return len(self.estimable)

    @property
    def share(self) -> float:
        """Share of the estimable specifications whose verdict equals the headline's."""
        ok = self.estimable
        return float(ok["agrees"].mean()) if len(ok) else float("nan")

    @property
    def fragile(self) -> bool:
        """The headline verdict holds in fewer than ``threshold`` of the specifications."""
        return finite(self.share) and self.share < self.threshold

    def verdict_counts(self) -> dict[str, int]:
        return {str(k): int(v) for k, v in self.estimable["verdict"].value_counts().sort_index().items()}

    def summary(self) -> str:
        """Plain text: the share, the verdicts' counts and the disagreeing specifications."""
        lines = [f"{self.claim_id}: '{self.headline_verdict}' holds in {self.share:.0%} of {self.n_specs} "
                 f"specifications" + (" - FRAGILE" if self.fragile else "") + f" (threshold {self.threshold:.0%})",
                 "verdicts: " + ", ".join(f"{k} {v}" for k, v in self.verdict_counts().items()),
                 f"estimate: {self.statistic}"]
        off = self.estimable[~self.estimable["agrees"]]
        for r in off.itertuples(index=False):
            floor = " (its floor)" if finite(r.p_floor) and abs(r.p_primary - r.p_floor) < 1e-9 else ""
            lines.append(f"  {r.model} / {r.market_proxy if isinstance(r.market_proxy, str) else '-'} / "
                         f"{r.estimation_length} / {r.window}: {r.verdict} (estimate {r.estimate:+.2%}, "
                         f"p {r.p_primary:.4f}{floor}, Holm p {r.p_holm:.4f})")
        skipped = len(self.table) - self.n_specs
        if skipped:
            lines.append(f"{skipped} specification(s) not estimable or underpowered (shown, not counted).")
        return "\n".join(lines)

    @classmethod
    def from_dict(cls, claim_id: str, d: Mapping[str, Any]) -> Robustness:
        """Inverse of :meth:`to_dict` (the numbers as rounded there)."""
        table = pd.DataFrame(list(d["grid"]), columns=list(GRID_COLUMNS))
        for c in ("estimate", "ci_low", "ci_high", "p_primary", "p_floor", "p_holm"):
            table[c] = table[c].astype("float64")
        table["agrees"] = table["agrees"].astype(bool)
        table["headline"] = table["headline"].astype(bool)
        return cls(claim_id, d["headline_verdict"], table, d["statistic"], float(d["threshold"]))

    def to_dict(self) -> dict[str, Any]:
        """The ``robustness`` entry of a verdict in claims.json."""
        return to_jsonable({
            "headline_verdict": self.headline_verdict, "share": self.share, "n_specs": self.n_specs,
            "n_left_out": len(self.table) - self.n_specs, "threshold": self.threshold,
            "fragile": self.fragile, "statistic": self.statistic,
            "grid": self.table.reindex(columns=list(GRID_COLUMNS)).to_dict(orient="records"),
        })


# --------------------------------------------------------------------------------------
def _estimate(rows: pd.DataFrame, alpha: float) -> tuple[float, float, float]:
    car = rows["car"].to_numpy(dtype=float)
    se = rows["car_se"].to_numpy(dtype=float)
    if not len(car) or not np.isfinite(car).all():
        return math.nan, math.nan, math.nan
    est = float(car.mean())
    s = float(np.sqrt(np.nansum(se ** 2)) / len(car))
    z = float(norm.ppf(1 - alpha / 2))
    return est, est - z * s, est + z * s


def _rule(claim: Claim) -> EventCarRule:
    if not isinstance(claim.rule, EventCarRule):
        raise TypeError(f"claim {claim.id}: rule {claim.rule.type!r} has no specification grid")
    return claim.rule


def _statistic(claim: Claim, n_rows: int) -> str:
    return _rule(claim).statistic if n_rows == 1 else f"the mean CAR of the rule's {n_rows} rows"


def _self_test(claim: Claim, spec: Specification) -> bool:
    """The specification would test the market proxy against itself (the proxy is one of
    the series the rule judges: a pair's ticker or a basket member)."""
    named = _rule(claim).judged_series(claim)
    return spec.market_proxy is not None and claim_model(spec.model).uses_proxy and spec.market_proxy in named


def _claim_rows(claim: Claim, base: EvalParams, panel: ClaimPanel, specs: tuple[Specification, ...]
                ) -> list[dict[str, Any]]:
    """One record per specification: its raw verdict (before the caps) and primary test."""
    out: list[dict[str, Any]] = []
    panel = _rule_rows_only(claim, panel)
    fixed = [w for w in dict.fromkeys(s.window for s in specs) if w is not None]
    groups: dict[tuple, list[Specification]] = {}
    for s in specs:
        groups.setdefault((s.model, s.market_proxy, s.estimation_length), []).append(s)
    for (model, _proxy, _n), group in groups.items():
        p = group[0].params(base)
        if _self_test(claim, group[0]) or (claim_model(model).etf_factors and not all(
                t in panel.returns.columns for t in ETF_FACTOR_TICKERS)):
            why = "tests the market proxy against itself" if _self_test(claim, group[0]) else "ETF factors missing"
            out += [{"spec": s, "status": why} for s in group]
            continue
        if p.market_proxy not in panel.returns.columns:
            out += [{"spec": s, "status": f"{p.market_proxy} is not in the price data"} for s in group]
            continue
        study = study_on_panel(panel, claim, p, windows=_windows(claim, p, panel, fixed), lean=True)
        rule_ws = sorted({w for _, _, w in event_targets(claim, study)})
        for s in group:
            if s.window is not None and [s.window] == rule_ws:
                continue  # the rule's own window: already the "rule" specification
            ej = judge_event_claim(claim, study, p, window=s.window)
            if ej is None or ej.primary is None or ej.rows["status"].ne("ok").any():
                out.append({"spec": s, "status": "a rule row could not be estimated"})
                continue
            est, lo, hi = _estimate(ej.rows, p.alpha)
            out.append({"spec": s, "status": "ok", "verdict_raw": ej.judgement.verdict, "primary": ej.primary,
                        "estimate": est, "ci_low": lo, "ci_high": hi, "n_rows": len(ej.rows),
                        "window": sorted({w for _, _, w in ej.targets})})
    return out


def _rule_rows_only(claim: Claim, panel: ClaimPanel) -> ClaimPanel:
    """The panel with only the series the rule judges (the basket, or the pairs): the
    members of a basket are evidence shown beside a verdict, not part of it."""
    ev = panel.events
    keep = _rule(claim).judged_rows(claim, ev)
    return replace(panel, events=ev[keep].reset_index(drop=True))


def _windows(claim: Claim, p: EvalParams, panel: ClaimPanel, fixed: list[tuple[int, int]]
             ) -> tuple[tuple[int, int], ...]:
    rule_w = _rule(claim).window
    rule = [rule_w] if rule_w is not None else [(0, 0), *panel.uncertain_windows]
    return tuple(dict.fromkeys([*rule, *fixed]))


def run_grid(article: Any, params: EvalParams, grid: SpecificationGrid | None = None, *,
             claim_ids: list[str] | None = None) -> dict[str, Robustness]:
    """Judge every price claim of the article under every specification of the grid.

    Parameters
    ----------
    article : the :class:`~research.claims.article.Article`.
    params : evaluation parameters (resolved against the article here; each claim's
        ``spec:`` applied on top).
    grid : default ``SpecificationGrid.from_mapping(article.robustness)``.
    claim_ids : return only these claims (the Holm families still take every price claim).

    Returns
    -------
    dict claim id -> :class:`Robustness`, for the price claims with a testable event.
    """
    grid = grid if grid is not None else SpecificationGrid.from_mapping(article.robustness)
    base = params.resolve(article)
    extra = tuple(dict.fromkeys([*grid.proxies, *ETF_FACTOR_TICKERS]))
    per: dict[str, list[dict[str, Any]]] = {}
    heads: dict[str, Specification] = {}
    for c in price_claims(article.claims):
        p = base.override(c.spec)
        specs = grid.specifications(c, p)
        heads[c.id] = specs[0]
        theme = (c.theme_proxy,) if c.theme_proxy else ()
        panel = claim_panel(c, p, article=article, extra_tickers=extra + theme, windows=grid.windows)
        if panel.events.empty:
            continue
        per[c.id] = _claim_rows(c, p, panel, specs)
    return {cid: r for cid, r in _finish(article, base, grid, per, heads).items()
            if claim_ids is None or cid in claim_ids}


def _family_p(per: dict[str, list[dict[str, Any]]], heads: dict[str, Specification],
              base: EvalParams) -> dict[tuple, dict[str, float]]:
    """Spec key -> claim -> raw primary p under that specification (a claim lacking the key,
    e.g. without a theme ETF, enters with its own proxy at that key, else its headline p)."""
    by_claim = {cid: {r["spec"].key: r["primary"].p_value for r in rows if r["status"] == "ok"}
                for cid, rows in per.items()}
    keys = {k for d in by_claim.values() for k in d}
    out: dict[tuple, dict[str, float]] = {}
    for k in keys:
        fam = {}
        for cid, d in by_claim.items():
            own = (k[0], str(base.market_proxy) if k[1] not in ("-",) else "-", k[2], k[3])
            p = d.get(k, d.get(own, d.get(heads[cid].key)))
            fam[cid] = float(p) if finite(p) else math.nan
        out[k] = fam
    return out


def _finish(article: Any, base: EvalParams, grid: SpecificationGrid, per: dict[str, list[dict[str, Any]]],
            heads: dict[str, Specification]) -> dict[str, Robustness]:
    fams = {k: adjust_pvalues(f) for k, f in _family_p(per, heads, base).items()}
    out: dict[str, Robustness] = {}
    for cid, rows in per.items():
        claim = article.claim(cid)
        alpha = base.override(claim.spec).alpha
        recs = []
        for r in rows:
            s: Specification = r["spec"]
            rec = {"model": s.model, "market_proxy": s.market_proxy, "proxy_role": s.proxy_role,
                   "estimation_length": s.estimation_length, "window": s.window_label,
                   "window_start": s.window[0] if s.window else None, "window_end": s.window[1] if s.window else None,
                   "headline": s == heads[cid], "status": r["status"], "estimate": math.nan, "ci_low": math.nan,
                   "ci_high": math.nan, "p_primary": math.nan, "p_floor": math.nan, "p_holm": math.nan,
                   "verdict": None}
            if r["status"] == "ok":
                adj = fams[s.key][cid]
                prim: PrimaryTest = r["primary"]
                inf = Inference(prim, Multiplicity(adj["p_holm"], adj["p_bh"], adj["family_size"]))
                verdict, _ = capped_verdict(claim, r["verdict_raw"], inf, alpha)
                floor = prim.p_floor
                if finite(floor) and float(floor) * adj["family_size"] >= alpha:
                    rec["status"] = (f"underpowered: the placebo's floor {float(floor):.4f} times "
                                     f"{adj['family_size']} claims is not below alpha {alpha:g}")
                rec.update(estimate=r["estimate"], ci_low=r["ci_low"], ci_high=r["ci_high"],
                           p_primary=prim.p_value if finite(prim.p_value) else None, p_holm=adj["p_holm"],
                           verdict=verdict, p_floor=prim.p_floor if finite(prim.p_floor) else math.nan)
                if s.window is None and len(r["window"]) == 1:
                    rec["window_start"], rec["window_end"] = r["window"][0]
            recs.append(rec)
        table = pd.DataFrame(recs, columns=list(GRID_COLUMNS))
        head = table[table["headline"]]
        hv = head["verdict"].iloc[0] if len(head) and head["verdict"].iloc[0] else NOT_TESTABLE
        table["agrees"] = table["verdict"] == hv
        n_rows = next((r["n_rows"] for r in rows if r["status"] == "ok"), 1)
        out[cid] = Robustness(cid, hv, table, _statistic(claim, n_rows), grid.threshold)
    return out
