"""Portfolio (basket) approach for events that hit several stocks on the same day.

When one piece of news moves a whole basket on one day (e.g. a sector's names on the
day of a policy announcement), the individual abnormal returns are cross-correlated and the usual
cross-sectional tests over-reject. The portfolio approach sidesteps that: form the
**equal-weighted basket return** and treat the basket as ONE event, with its own
estimation window, market-model fit and single-event CAR t-test (Campbell, Lo and
MacKinlay 1997, sec. 4.4.3 / "clustering"). The same engine is used, so the basket gets
CAR, BHAR, t, p and (optionally) placebo p-values exactly like a stock.

Basket return (daily rebalanced, equal weights)::

    R_basket,t = mean over members i with a return on day t of R_i,t     (simple returns)

For ``return_type="log"`` the basket's simple return is converted with ``log(1 + R)``.

Members that list late (or have gaps)
-------------------------------------
By default (``require_all=False``) the mean is over the members *available that day*:
before a member's first return the basket is the mean of the others, and the member
enters the average from its first return on. The estimation window therefore may mix
compositions; the result's ``notes`` name every member whose data start inside (or
after the start of) the estimation window, and whether some event-span day has fewer
members than the basket (the events table gains a ``basket_members`` column). With ``require_all=True`` a day counts
only if every member has a return (otherwise NaN), so the basket's composition is
fixed but the event may be skipped for lack of estimation data (reason given).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from research.errors import EventStudyError, UnknownTickerError
from research.eventstudy.engine import run_event_study
from research.eventstudy.events import combined_id
from research.eventstudy.pipeline import load_return_panel, validate_panel
from research.eventstudy.result import EventStudyResult
from research.eventstudy.spec import EventStudySpec

__all__ = ["portfolio_event_study", "basket_returns", "basket_name", "late_members"]


def basket_name(tickers: list[str] | tuple[str, ...]) -> str:
    """Column name used for the basket: the combined id ``"basket:AAA+BBB"``
    (:func:`research.eventstudy.events.combined_id`)."""
    return combined_id("basket", "+".join(tickers))


def basket_returns(simple_returns: pd.DataFrame, tickers: list[str] | tuple[str, ...], *,
                   require_all: bool = False) -> tuple[pd.Series, pd.Series]:
    """Equal-weighted basket of simple returns.

    Returns
    -------
    (basket simple returns, number of members present each day)
    """
    sub = simple_returns[list(tickers)]
    n = sub.notna().sum(axis=1)
    basket = sub.mean(axis=1, skipna=True)
    if require_all:
        basket = basket.where(n == len(tickers))
    basket = basket.where(n > 0)
    return basket, n


def late_members(returns: pd.DataFrame, members: Sequence[str], est_start: pd.Timestamp) -> list[str]:
    """Basket members with no return on or before ``est_start`` (the first estimation
    session): they listed, or their data start, inside the estimation window."""
    out = []
    for t in members:
        fv = returns[t].first_valid_index()
        if fv is None or fv > est_start:
            out.append(t)
    return out


def portfolio_event_study(
    tickers: list[str] | tuple[str, ...] | str,
    date: object = None,
    timing: str = "pre_open",
    spec: EventStudySpec | None = None,
    *,
    day0: object = None,
    event_id: str | None = None,
    returns: pd.DataFrame | None = None,
    source: str = "snapshot",
    require_all: bool = False,
    placebo_draws: int = 0,
    seed: int = 0,
) -> EventStudyResult:
    """Event study of an equal-weighted basket treated as one event.

    Parameters
    ----------
    tickers : list of str or space-separated str
        Basket members (at least one, unique).
    date, timing : event date and timing (see :func:`research.data.align_event`),
        or ``day0`` (a session) instead.
    spec : EventStudySpec, optional (default ``EventStudySpec()``).
    event_id : str, optional; default ``"basket:" + date``.
    returns : pandas.DataFrame, optional
        Wide returns (``spec.return_type`` units) with the members and the market proxy.
    source : data source when ``returns`` is None (default "snapshot").
    require_all : bool, default False
        See the module docstring (late listers).
    placebo_draws, seed : as in :func:`run_event_study`.

    Returns
    -------
    EventStudyResult with one event (ticker = the basket name), plus ``notes`` naming the
    members and late listers, and ``volume`` None.
    """
    spec = EventStudySpec() if spec is None else spec
    if isinstance(tickers, str):
        tickers = tickers.split()
    members = [str(t).strip() for t in tickers]
    if not members:
        raise EventStudyError("portfolio_event_study needs at least one ticker in the basket")
    if len(set(members)) != len(members):
        raise EventStudyError(f"basket tickers are not unique: {members}; list each member once")
    if date is None and day0 is None:
        raise EventStudyError("give the event's date (and timing) or its day0 session")
    need = members + ([spec.market] if spec.uses_market else [])
    if returns is None:
        simple, _, unknown = load_return_panel(need, "simple", source=source)
        if unknown:
            raise UnknownTickerError(
                f"basket member(s) {unknown} are not available from source={source!r}; "
                "drop them from the basket"
            )
    else:
        returns = validate_panel(returns, "returns")
        missing = [t for t in members if t not in returns.columns]
        if missing:
            raise UnknownTickerError(
                f"basket member(s) {missing} are not columns of the returns panel; add them "
                "or drop them from the basket"
            )
        simple = np.expm1(returns) if spec.return_type == "log" else returns
    basket, n_present = basket_returns(simple, members, require_all=require_all)
    name = basket_name(members)
    panel = pd.DataFrame({name: basket})
    if spec.uses_market:
        if spec.market not in simple.columns:
            raise UnknownTickerError(
                f"market proxy {spec.market!r} is not in the returns data; add it or choose "
                "another proxy, e.g. EventStudySpec(market='IWM')"
            )
        panel[spec.market] = simple[spec.market]
    if spec.return_type == "log":
        panel = np.log1p(panel)
    eid = event_id or combined_id("basket", date if date is not None else day0)
    row: dict[str, object] = {"event_id": [eid], "ticker": [name]}
    if day0 is not None:
        row["day0"] = [pd.Timestamp(day0)]
        if date is not None:
            row["date"] = [date]
        row["timing"] = [timing]
    else:
        row["date"] = [date]
        row["timing"] = [timing]
    res = run_event_study(pd.DataFrame(row), spec, returns=panel, volume=False,
                          placebo_draws=placebo_draws, seed=seed)
    notes = list(res.notes)
    notes.append(f"equal-weighted basket of {len(members)} members: {' '.join(members)} "
                 f"({'all members required each day' if require_all else 'mean of the members available each day'})")
    d0 = res.events["day0"].iat[0]
    if pd.notna(d0) and d0 in panel.index:
        pos = panel.index.get_loc(d0)
        est_start = panel.index[max(pos + spec.estimation.start, 0)]
        late = []
        for t in late_members(simple, members, est_start):
            fv = simple[t].first_valid_index()
            late.append(f"{t} (first return {fv:%Y-%m-%d})" if fv is not None else f"{t} (no data)")
        if late:
            notes.append("members without returns at the start of the estimation window "
                         f"({est_start:%Y-%m-%d}): {', '.join(late)}; "
                         + ("the estimation uses only days when all members trade"
                            if require_all else "they enter the average from their first return"))
        tmin, tmax = spec.event_span
        span = panel.index[max(pos + tmin, 0): pos + tmax + 1]
        counts = n_present.reindex(span).to_numpy()
        if (counts < len(members)).any():
            notes.append(f"on some event-span days fewer than {len(members)} members have returns "
                         f"(min {int(np.nanmin(counts))})")
    events = res.events.copy()
    events["basket_members"] = len(members)
    return EventStudyResult(events=events, ar=res.ar, car=res.car, aar=res.aar,
                            tests=res.tests, spec=res.spec, volume=None, placebo=res.placebo,
                            notes=tuple(notes), car_path=res.car_path)
