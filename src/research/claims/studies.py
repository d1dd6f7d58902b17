"""Run the event studies a claim needs and turn them into an evidence table.

One call of :func:`research.eventstudy.run_event_study` per claim: every (event, ticker)
pair of the claim, plus the claim's equal-weighted basket as one more series per event
(the portfolio approach of :mod:`research.eventstudy.portfolio`: the basket's daily return
is the mean of its members' simple returns that day, so a member enters the basket from
its first traded session). Events
after the as-of date are excluded and named in the notes.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from research.claims.article import Article, load_article
from research.claims.params import EvalParams, claim_model
from research.claims.power import minimum_detectable
from research.claims.registry import Claim
from research.claims.verdict import EVIDENCE_COLUMNS, empty_evidence
from research.data import align_event, available_tickers, close_panel, load_prices, returns
from research.eventstudy import EstimationWindow, EventStudyResult, EventStudySpec, run_event_study
from research.eventstudy.portfolio import basket_returns, late_members
from research.errors import ParameterError
from research.vocab import SEP, basket_id, engine_id

__all__ = ["ClaimStudy", "ClaimPanel", "claim_panel", "study_on_panel", "run_claim_study", "ETF_FACTORS",
           "ETF_FACTOR_TICKERS", "etf_factors", "claim_windows", "day0_table", "RUNUP_WINDOW",
           "placebo_exclusions"]

#: The pre-event run-up window (trading days): a significant CAR(-5,-1) means the move
#: started before the news (a leak, or earlier news), and is flagged with the evidence.
RUNUP_WINDOW: tuple[int, int] = (-5, -1)




@dataclass(frozen=True, eq=False)
class ClaimStudy:
    """The event studies behind one claim.

    Attributes
    ----------
    result : the engine's EventStudyResult (event ids ``"<event_id>|<ticker>"``), or None
        when no event could be studied.
    evidence : evidence table (:data:`~research.claims.verdict.EVIDENCE_COLUMNS`), one row
        per event x ticker-or-basket x window.
    returns : daily simple returns used (sessions x tickers, incl. basket columns).
    closes : adjusted closes of the tickers (sessions x tickers).
    day0 : DataFrame event_id -> date, timing, day0, uncertain, note.
    excluded : tuple of (event_id, reason) of events left out (post-article).
    notes : caveats (missing tickers, skipped estimations, windows past the as-of date).
    data_source : source label for the verdict.
    """

    result: EventStudyResult | None
    evidence: pd.DataFrame
    returns: pd.DataFrame
    closes: pd.DataFrame
    day0: pd.DataFrame
    excluded: tuple[tuple[str, str], ...]
    notes: tuple[str, ...]
    data_source: str


def claim_windows(claim: Claim, params: EvalParams,
                  uncertain_windows: tuple[tuple[int, int], ...] = ()) -> tuple[tuple[int, int], ...]:
    """Union of the parameter windows, the claim's windows, its rule window, (0,0) and the
    windows covering uncertain day 0s (``uncertain_windows``: (0,+1) for an unknown hour,
    (-1,+1) for an uncertain date; see :func:`research.data.align_event`), in that order,
    and the pre-event run-up window :data:`RUNUP_WINDOW`."""
    out: list[tuple[int, int]] = []
    cands = list(params.event_windows) + list(claim.windows)
    rule_window = claim.rule.rule_window()
    if rule_window is not None:
        cands.append(rule_window)
    if uncertain_windows:
        cands += [(0, 0), *uncertain_windows]
    cands.append(RUNUP_WINDOW)
    for w in cands:
        if w not in out:
            out.append(w)
    return tuple(out)


def day0_table(event_ids: list[str] | tuple[str, ...] | None = None, *, article: Article | None = None
               ) -> pd.DataFrame:
    """The article's events with their day-0 session (index ``event_id``).

    Parameters
    ----------
    event_ids : keep only these events (default: all).
    article : the article (default: the shipped article).

    Columns: date, timing, day0, uncertain, uncertain_window ((0,1), (-1,1) or None), note,
    tickers (tuple), post_article,
    reported_move.
    """
    if article is None:
        article = load_article()
    ev = article.events_frame()
    if event_ids is not None:
        ev = ev[ev["event_id"].isin(list(event_ids))]
    rows = []
    for r in ev.itertuples(index=False):
        a = align_event(r.date, r.timing)
        rows.append({"event_id": r.event_id, "date": r.date, "timing": r.timing, "day0": a.day0,
                     "uncertain": a.uncertain, "uncertain_window": a.window, "note": a.note, "tickers": tuple(r.tickers),
                     "post_article": bool(r.post_article), "reported_move": r.reported_move})
    out = pd.DataFrame(rows, columns=["event_id", "date", "timing", "day0", "uncertain", "uncertain_window", "note",
                                      "tickers", "post_article", "reported_move"])
    out["day0"] = pd.to_datetime(out["day0"]).astype("datetime64[ns]")
    return out.set_index("event_id")


def _days_after(windows: tuple[tuple[int, int], ...]) -> int:
    """Calendar days to load after the last day 0 (generous: 1.6x the longest window)."""
    last = max(b for _, b in windows)
    return int(max(last, 1) * 1.6) + 10


#: The three-factor ETF model (``model="etf3"``): factor name -> (long, short) tickers;
#: the market (SPY), size (small minus large: IWM - SPY) and growth (Nasdaq-100 minus
#: S&P 500: QQQ - SPY) as daily return differences of liquid ETFs.
ETF_FACTORS: dict[str, tuple[str, ...]] = {"MKT": ("SPY",), "SMB_ETF": ("IWM", "SPY"), "GRW_ETF": ("QQQ", "SPY")}
#: The tickers :data:`ETF_FACTORS` needs, each once.
ETF_FACTOR_TICKERS: tuple[str, ...] = tuple(dict.fromkeys(t for legs in ETF_FACTORS.values() for t in legs))


def etf_factors(rets: pd.DataFrame) -> pd.DataFrame:
    """The :data:`ETF_FACTORS` daily returns from a returns panel holding their tickers."""
    out = {}
    for name, legs in ETF_FACTORS.items():
        missing = [t for t in legs if t not in rets.columns]
        if missing:
            raise ParameterError(f"model='etf3' needs the ETF(s) {missing} in the price data; use model='market'")
        out[name] = rets[legs[0]] - (rets[legs[1]] if len(legs) > 1 else 0.0)
    return pd.DataFrame(out, index=rets.index).dropna()


def _tickers_of(params: EvalParams) -> list[str]:
    """Tickers the specification needs besides the claim's: the proxy, the ETF factors."""
    extra = list(ETF_FACTOR_TICKERS) if claim_model(params.model).etf_factors else []
    return list(dict.fromkeys([params.market_proxy, *extra]))


@dataclass(frozen=True, eq=False)
class ClaimPanel:
    """What a claim's event studies need that does not depend on the specification: the
    engine's events table (day 0 aligned once), the returns of the claim's tickers, its
    basket and the proxies asked for, and the notes so far. Built by :func:`claim_panel`,
    run under a specification by :func:`study_on_panel`."""

    events: pd.DataFrame
    returns: pd.DataFrame
    closes: pd.DataFrame
    volume: pd.DataFrame
    day0: pd.DataFrame
    keep: tuple[str, ...]
    excluded: tuple[tuple[str, str], ...]
    notes: tuple[str, ...]
    baskets: dict[str, list[str]]
    exclusions: dict[str, list[pd.Timestamp]]
    uncertain_windows: tuple[tuple[int, int], ...]
    data_source: str


def claim_panel(claim: Claim, params: EvalParams, *, article: Article, extra_tickers: tuple[str, ...] = (),
                windows: tuple[tuple[int, int], ...] = ()) -> ClaimPanel | None:
    """Load the prices of a claim once (its tickers, its basket, the parameters' proxy and
    ``extra_tickers``, e.g. the proxies of a specification grid), up to the end of the
    longest of the claim's windows and ``windows``. When no event can be studied (all
    after the as-of date, or no ticker in the data) its ``events`` table is empty and
    :func:`study_on_panel` returns an empty study."""
    as_of = params.as_of_ts
    d0 = day0_table(claim.events, article=article)
    excluded = tuple(
        (e, f"day 0 {d0.loc[e, 'day0'].date()} is after the as-of date {params.as_of}"
            + (" (marked POST-ARTICLE in events.csv)" if d0.loc[e, "post_article"] else ""))
        for e in d0.index if d0.loc[e, "post_article"] or d0.loc[e, "day0"] > as_of
    )
    keep = [e for e in claim.events if e in d0.index and e not in dict(excluded)]
    notes: list[str] = [f"{e} excluded: {why}." for e, why in excluded]
    pairs = [(e, t) for e, t in claim.event_ticker_pairs() if e in keep]
    have = set(available_tickers()) if params.source == "snapshot" else None
    members = list(claim.basket_tickers)
    if have is not None:
        missing = sorted({t for _, t in pairs if t not in have} | {t for t in members if t not in have})
        if missing:
            notes.append(f"ticker(s) {missing} are not in the price data and were left out.")
        pairs = [(e, t) for e, t in pairs if t in have]
        members = [t for t in members if t in have]
    if not keep or (not pairs and not members):
        return ClaimPanel(pd.DataFrame(), pd.DataFrame(), pd.DataFrame(), pd.DataFrame(), d0, tuple(keep),
                          excluded, tuple(notes), {}, {}, (), params.source)
    uwin = tuple(dict.fromkeys(w for w in d0.loc[keep, "uncertain_window"] if w is not None))
    longest = claim_windows(claim, params, uwin) + tuple(windows)
    # Each ticker's whole history up to the last event window: the estimation windows need
    # ~260 sessions before day 0, and the placebo draws its pseudo-event dates (each with
    # its own estimation window) from the ticker's non-event history, so a short span
    # would leave it almost nothing to draw from.
    end = d0.loc[keep, "day0"].max() + pd.Timedelta(days=_days_after(longest))
    tickers = list(dict.fromkeys([t for _, t in pairs] + members + _tickers_of(params) + list(extra_tickers)))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        prices = load_prices(tickers, start=None, end=end.strftime("%Y-%m-%d"), source=params.source)
    for w in caught:
        notes.append(f"data: {w.message}")
    src = prices.attrs.get("source", {})
    used = sorted(set(src.values())) if isinstance(src, dict) else []
    data_source = params.source if used in ([], [params.source]) else f"{params.source} ({', '.join(used)})"
    closes = close_panel(prices, "close")
    rets = returns(closes, "simple")
    vol = close_panel(prices, "volume")
    rows = [{"event_id": engine_id(e, t), "ticker": t, "date": d0.loc[e, "date"],
             "timing": d0.loc[e, "timing"], "day0": d0.loc[e, "day0"]} for e, t in pairs]
    baskets: dict[str, list[str]] = {}
    if claim.basket and len(members) >= 2:
        label = basket_id(claim.basket)
        baskets[label] = members
        rets[label] = basket_returns(rets, members)[0]
        vol[label] = np.nan
        first_est = min(_session_after(rets.index, d0.loc[e, "day0"], params.estimation_end - params.estimation_length + 1)
                        for e in keep)
        late = late_members(rets, members, first_est)
        if late:
            notes.append(f"basket {claim.basket}: {', '.join(late)} started trading after the start of the "
                         "estimation window; the basket averages the members available each day.")
        rows += [{"event_id": engine_id(e, label), "ticker": label, "date": d0.loc[e, "date"],
                  "timing": d0.loc[e, "timing"], "day0": d0.loc[e, "day0"]} for e in keep]
    # day 0 aligned once (day0_table) and handed to the engine, so the evidence, the
    # confounders and the notes all use the same session
    events = pd.DataFrame(rows, columns=["event_id", "ticker", "date", "timing", "day0"])
    return ClaimPanel(events, rets, closes, vol, d0, tuple(keep), excluded, tuple(notes), baskets,
                      placebo_exclusions(article, baskets), uwin, data_source)


def study_on_panel(panel: ClaimPanel, claim: Claim, params: EvalParams, *,
                   windows: tuple[tuple[int, int], ...] | None = None, lean: bool = False) -> ClaimStudy:
    """The claim's event studies on a loaded :class:`ClaimPanel` under ``params``'
    specification (model, market proxy, estimation window, placebo settings).

    Parameters
    ----------
    windows : CAR windows to compute (default: :func:`claim_windows`).
    lean : skip what a verdict does not need (the cross-sectional test battery and
        abnormal volume), as the specification grid does; the evidence is the same.
    """
    if panel.events.empty:
        return ClaimStudy(None, empty_evidence(), pd.DataFrame(), pd.DataFrame(), panel.day0, panel.excluded,
                          panel.notes, params.source)
    as_of = params.as_of_ts
    notes = list(panel.notes)
    windows = windows or claim_windows(claim, params, panel.uncertain_windows)
    rets = panel.returns
    model = claim_model(params.model)
    factors = etf_factors(rets) if model.etf_factors else None
    spec = EventStudySpec(
        estimation=EstimationWindow(params.estimation_length, params.estimation_end, params.min_estimation_obs),
        windows=windows, model=model.engine, market=params.market_proxy,
        return_type="simple", factors=factors,
    )
    res = run_event_study(panel.events, spec, returns=rets, volume=False if lean else panel.volume,
                          placebo_draws=params.placebo_draws, tests=() if lean else None,
                          seed=params.seed, placebo_method=params.placebo_method,
                          placebo_exclude=panel.exclusions, placebo_min_gap=params.placebo_min_gap,
                          placebo_until=as_of if params.placebo_history == "as_of" else None)
    evidence = _evidence(res, params.alpha)
    skipped = res.events[res.events["status"] != "ok"]
    for r in skipped.itertuples(index=False):
        notes.append(f"{r.event_id.replace(SEP, ' / ')} not estimated: {r.reason}.")
    d0 = panel.day0
    late = [(w, e) for w in windows for e in panel.keep
            if _session_after(rets.index, d0.loc[e, "day0"], w[1]) > as_of]
    if late:
        ws = sorted({w for w, _ in late})
        notes.append(
            "event window(s) " + ", ".join(f"({a:+d},{b:+d})" for a, b in ws)
            + f" end after the as-of date {params.as_of} for some events: they use prices the "
            "article could not see and are shown for information only."
        )
    return ClaimStudy(res, evidence, rets, panel.closes, d0, panel.excluded, tuple(notes), panel.data_source)


def run_claim_study(claim: Claim, params: EvalParams, *, article: Article) -> ClaimStudy:
    """Run the claim's event studies (pairs and basket) with the evaluation parameters.

    ``params`` must be resolved against the article, with the claim's ``spec:`` overrides
    applied (see :meth:`EvalParams.resolve`, :meth:`EvalParams.override`).
    Returns a :class:`ClaimStudy`; a claim without events returns an empty one.
    """
    return study_on_panel(claim_panel(claim, params, article=article), claim, params)


def placebo_exclusions(article: Article, baskets: dict[str, list[str]] | None = None) -> dict[str, list[pd.Timestamp]]:
    """Day 0s the exact placebo keeps its pseudo dates away from, per ticker: every
    catalogued event of the article that names the ticker (not only the claim's), and for a
    basket every event naming one of its members. The same for every claim, so one
    (ticker, day 0, window, specification) has one placebo p-value everywhere."""
    d0 = day0_table(article=article)
    out: dict[str, list[pd.Timestamp]] = {}
    for day0, tickers in zip(d0["day0"], d0["tickers"], strict=True):
        for t in tickers:
            out.setdefault(t, []).append(day0)
    for label, members in (baskets or {}).items():
        out[label] = sorted({d for m in members for d in out.get(m, [])})
    return out


def _placebo_columns(res: EventStudyResult, car: pd.DataFrame, alpha: float) -> pd.DataFrame:
    """Per evidence row: the placebo's n and floor, the placebo minimum detectable CAR at
    ``alpha`` (its critical |t| times the CAR's standard error; NaN unless alpha is one of
    :data:`~research.eventstudy.placebo.CRITICAL_LEVELS`) and the plain t-test's real size."""
    out = pd.DataFrame(index=car.index, columns=["p_placebo_n", "p_placebo_floor", "mde_placebo", "size_t_05"],
                       dtype="float64")
    pl = res.placebo
    if pl is None or "p_floor" not in pl.columns:
        return out
    key = ["event_id", "window_start", "window_end"]
    m = res.car[key].merge(pl, on=key, how="left")
    crit = f"t_crit_{round(alpha * 100):02d}"
    out["p_placebo_n"] = m["n_valid"].to_numpy(dtype=float)
    out["p_placebo_floor"] = m["p_floor"].to_numpy(dtype=float)
    out["size_t_05"] = m["size_t_05"].to_numpy(dtype=float)
    if crit in m.columns and abs(round(alpha * 100) - alpha * 100) < 1e-9:
        out["mde_placebo"] = m[crit].to_numpy(dtype=float) * car["car_se"].to_numpy(dtype=float)
    return out


def _session_after(index: pd.DatetimeIndex, day0: pd.Timestamp, k: int) -> pd.Timestamp:
    """The session ``k`` rows after (k < 0: before) ``day0`` in ``index`` (clipped to its ends)."""
    pos = index.searchsorted(day0)
    j = min(max(pos + k, 0), len(index) - 1)
    return index[j]


def _evidence(res: EventStudyResult, alpha: float) -> pd.DataFrame:
    car = res.car.copy()
    if car.empty:
        return empty_evidence()
    car = car.join(_placebo_columns(res, car, alpha))
    dof = res.car["event_id"].map(res.events.set_index("event_id")["n_obs"]).to_numpy(dtype=float) \
        - res.spec.expected_return.dof_params(len(res.spec.factor_columns))
    car["mde"] = minimum_detectable(car["car_se"].to_numpy(dtype=float), dof, alpha)
    split = car["event_id"].str.split(SEP, n=1, regex=False)
    car["event_id"] = split.str[0]
    status = res.events.set_index("event_id")["status"]
    car["status"] = res.car["event_id"].map(status).to_numpy()
    car["abnormal_volume"] = np.nan
    if res.volume is not None and not res.volume.empty:
        v0 = res.volume[res.volume["day"] == 0].set_index("event_id")["abnormal_log_volume"]
        car["abnormal_volume"] = res.car["event_id"].map(v0).astype("float64").to_numpy()
    car["day0"] = pd.to_datetime(car["day0"]).astype("datetime64[ns]")
    out = car.reindex(columns=list(EVIDENCE_COLUMNS))
    return out.reset_index(drop=True)
