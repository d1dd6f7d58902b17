"""The evaluation parameters shared by the notebooks and the report: :class:`EvalParams`.

A notebook's ``parameters`` cell holds the same names as the fields below (plus
``verdict_path``, which belongs to the report); ``EvalParams.from_mapping(globals())``-style
construction accepts the lists papermill injects (``[[0, 0], [0, 1]]``) and turns them into
tuples. Every field is validated; a bad value raises :class:`~research.errors.ParameterError`
naming the parameter and the fix.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

import pandas as pd

from research.data.calendar import calendar_range, sessions, to_date
from research.data.sources import available_tickers, ticker_span, unknown_ticker_error
from research.eventstudy.models import ExpectedReturnModel, get_model
from research.errors import CalendarError, ParameterError

__all__ = ["EvalParams", "SOURCES", "MODELS", "CLAIM_MODELS", "ClaimModel", "claim_model", "check_windows_fit"]

SOURCES: tuple[str, ...] = ("snapshot", "yfinance", "auto")


@dataclass(frozen=True)
class ClaimModel:
    """An expected-return model a notebook parameter can name.

    Attributes
    ----------
    name : str
        The parameter's value (``model=...``).
    engine : str
        The event-study model it runs (:data:`research.eventstudy.models.REGISTRY`).
    etf_factors : bool
        Whether its regressors are the ETF factors (:data:`research.claims.studies.ETF_FACTORS`).
    """

    name: str
    engine: str
    etf_factors: bool = False

    @property
    def expected_return(self) -> ExpectedReturnModel:
        """The event-study model object."""
        return get_model(self.engine)

    @property
    def uses_proxy(self) -> bool:
        """Whether the expected return uses the market proxy (a proxy that is itself a
        tested ticker then has an abnormal return of 0 by construction)."""
        return self.expected_return.uses_market


#: Expected-return models usable from a notebook: the models of :mod:`research.eventstudy`
#: and ``"etf3"``, its factor model on three ETF factors (market SPY, size IWM - SPY,
#: growth QQQ - SPY; :data:`research.claims.studies.ETF_FACTORS`). A general factor model
#: needs a factor table, which a notebook parameter cannot carry.
CLAIM_MODELS: dict[str, ClaimModel] = {m.name: m for m in (
    ClaimModel("market", "market"), ClaimModel("market_adjusted", "market_adjusted"),
    ClaimModel("mean_adjusted", "mean_adjusted"), ClaimModel("etf3", "factor", etf_factors=True))}
MODELS: tuple[str, ...] = tuple(CLAIM_MODELS)


def claim_model(name: str) -> ClaimModel:
    """The :class:`ClaimModel` named ``name`` (a validated :attr:`EvalParams.model`)."""
    try:
        return CLAIM_MODELS[name]
    except KeyError:
        raise ParameterError(f"parameter model={name!r} must be one of {MODELS}") from None
#: Placebo p-value methods and the history the exact placebo may use.
PLACEBO_METHODS: tuple[str, ...] = ("exact", "resample")
PLACEBO_HISTORIES: tuple[str, ...] = ("as_of", "all")


def _int(value: object, name: str) -> int:
    if isinstance(value, bool) or not hasattr(value, "__index__"):
        raise ParameterError(f"parameter {name} must be an integer, got {value!r} ({type(value).__name__})")
    return int(value)  # type: ignore[arg-type]


def _windows(value: object) -> tuple[tuple[int, int], ...]:
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        raise ParameterError(
            f"parameter event_windows must be a list of [start, end] pairs such as "
            f"[[0, 0], [0, 1]], got {value!r}"
        )
    out: list[tuple[int, int]] = []
    for w in value:  # type: ignore[union-attr]
        if isinstance(w, (str, bytes)) or not hasattr(w, "__len__") or len(w) != 2:
            raise ParameterError(
                f"event window {w!r} is not a [start, end] pair of trading days; write e.g. [-1, 1]"
            )
        a = _int(w[0], "event_windows (window start)")
        b = _int(w[1], "event_windows (window end)")
        if a > b:
            raise ParameterError(f"event window [{a}, {b}] is reversed; write it as [{b}, {a}]")
        if (a, b) not in out:
            out.append((a, b))
    if not out:
        raise ParameterError("parameter event_windows is empty; give at least one window such as [[0, 0]]")
    return tuple(out)


def check_windows_fit(p: EvalParams, first: pd.Timestamp, last: pd.Timestamp, where: str) -> None:
    """The estimation window and the event windows must fit in the sessions first..last.

    An event's day 0 is at most ``as_of``; its estimation window is the ``estimation_length``
    sessions ending ``estimation_end`` sessions from day 0, and its longest event window
    ends ``max(window ends)`` sessions after it. So the estimation window needs
    ``estimation_length <= sessions(first..as_of) + estimation_end``, and the whole span
    ``estimation_length - estimation_end + max end`` must fit in ``sessions(first..last)``.

    Raises
    ------
    ParameterError
        Naming the longest estimation_length / window end that fits ``where``.
    """
    first, last = pd.Timestamp(first), pd.Timestamp(last)
    pre = len(sessions(first, min(max(p.as_of_ts, first), last)))
    total = len(sessions(first, last))
    end, length = p.estimation_end, p.estimation_length
    b_max = max(0, max(b for _, b in p.event_windows))
    span = f"{where} ({first.date()} .. {last.date()}, {total} sessions)"
    if length > pre + end:
        raise ParameterError(
            f"parameter estimation_length={length} does not fit {span}: with estimation_end={end} "
            f"and as_of={p.as_of}, the longest that fits is {max(pre + end, 0)}")
    longest_end = total - length + end
    if b_max > longest_end:
        raise ParameterError(
            f"event window ending at +{b_max} does not fit {span} after an estimation window of "
            f"{length} sessions; the latest window end that fits is +{longest_end}")


@dataclass(frozen=True)
class EvalParams:
    """Parameters of a claim evaluation (frozen, validated on construction).

    Parameters
    ----------
    source : {"snapshot", "yfinance", "auto"}, default "snapshot"
        Price source for :func:`research.data.load_prices`.
    market_proxy : str or None, default None
        Market index ticker of the market model (e.g. "IWM" for small caps); None = the
        article's (``article.yaml`` ``market_proxy``).
    model : {"market", "market_adjusted", "mean_adjusted", "etf3"}, default "market"
        Expected-return model (``"etf3"``: three ETF factors, see :data:`MODELS`).
    estimation_length : int, default 250
        Estimation window length in trading days.
    estimation_end : int, default -11
        Last day of the estimation window relative to day 0 (negative).
    min_estimation_obs : int, default 120
        Minimum valid returns in the estimation window (fewer: the event is skipped).
    event_windows : tuple of (int, int), default ((0,0), (0,1), (-1,1), (0,5))
        CAR windows in trading days (inclusive) shown in addition to each claim's own.
    alpha : float, default 0.05
        Significance level of the verdict rules (two-sided tests), in (0, 0.5].
    placebo_draws : int, default 1000
        ``placebo_method="resample"`` only: random pseudo-event dates per event (0 = no
        placebo test).
    placebo_method : {"exact", "resample"}, default "exact"
        ``"exact"``: every admissible pseudo date of the ticker, no resampling
        (:func:`research.eventstudy.placebo.exact_placebo`); ``"resample"``: seeded draws.
    placebo_history : {"as_of", "all"}, default "as_of"
        Exact placebo: pseudo event windows end on or before the as-of date (the history
        the article could see), or use all history.
    placebo_min_gap : int, default 21
        Exact placebo: sessions between a pseudo day 0 and every catalogued event of the
        article on that ticker (one month of sessions).
    as_of : str or None, default None
        The as-of date (ISO). Events after it are excluded, price claims end on it. None =
        the article's (``article.yaml`` ``as_of``).
    seed : int or None, default None
        Seed of the placebo draws; None = the article's.

    The None defaults are resolved at evaluation time by :meth:`resolve` (the verdict
    records the values used); a claim's ``spec:`` overrides apply on top (:meth:`override`).
    """

    source: str = "snapshot"
    market_proxy: str | None = None
    model: str = "market"
    estimation_length: int = 250
    estimation_end: int = -11
    min_estimation_obs: int = 120
    event_windows: tuple[tuple[int, int], ...] = ((0, 0), (0, 1), (-1, 1), (0, 5))
    alpha: float = 0.05
    placebo_draws: int = 1000
    placebo_method: str = "exact"
    placebo_history: str = "as_of"
    placebo_min_gap: int = 21
    as_of: str | None = None
    seed: int | None = None

    def __post_init__(self) -> None:
        set_ = lambda k, v: object.__setattr__(self, k, v)  # noqa: E731
        if self.source not in SOURCES:
            raise ParameterError(f"parameter source={self.source!r} must be one of {SOURCES}")
        if self.market_proxy is not None:
            if not isinstance(self.market_proxy, str) or not self.market_proxy.strip():
                raise ParameterError(f"parameter market_proxy must be a ticker symbol, got {self.market_proxy!r}")
            set_("market_proxy", self.market_proxy.strip().upper())
        if self.model not in MODELS:
            raise ParameterError(f"parameter model={self.model!r} must be one of {MODELS}")
        length = _int(self.estimation_length, "estimation_length")
        end = _int(self.estimation_end, "estimation_end")
        min_obs = _int(self.min_estimation_obs, "min_estimation_obs")
        if length < 30:
            raise ParameterError(f"parameter estimation_length={length} is too short; use at least 30 trading days (default 250)")
        if end >= 0:
            raise ParameterError(f"parameter estimation_end={end} must be negative (before day 0), e.g. -11")
        if not 3 <= min_obs <= length:
            raise ParameterError(
                f"parameter min_estimation_obs={min_obs} must be between 3 and estimation_length={length}"
            )
        set_("estimation_length", length)
        set_("estimation_end", end)
        set_("min_estimation_obs", min_obs)
        windows = _windows(self.event_windows)
        for a, _ in windows:
            if a <= end:
                raise ParameterError(
                    f"event window starting at {a} overlaps the estimation window ending at "
                    f"{end}; start windows after estimation_end"
                )
        set_("event_windows", windows)
        if isinstance(self.alpha, bool) or not isinstance(self.alpha, (int, float)):
            raise ParameterError(f"parameter alpha must be a number such as 0.05, got {self.alpha!r}")
        alpha = float(self.alpha)
        if not (math.isfinite(alpha) and 0 < alpha <= 0.5):
            raise ParameterError(f"parameter alpha={alpha} must be in (0, 0.5], e.g. 0.05")
        set_("alpha", alpha)
        draws = _int(self.placebo_draws, "placebo_draws")
        if draws < 0:
            raise ParameterError(f"parameter placebo_draws={draws} must be >= 0 (0 disables the placebo test)")
        set_("placebo_draws", draws)
        if self.placebo_method not in PLACEBO_METHODS:
            raise ParameterError(f"parameter placebo_method={self.placebo_method!r} must be one of {PLACEBO_METHODS}")
        if self.placebo_history not in PLACEBO_HISTORIES:
            raise ParameterError(
                f"parameter placebo_history={self.placebo_history!r} must be one of {PLACEBO_HISTORIES}")
        gap = _int(self.placebo_min_gap, "placebo_min_gap")
        if gap < 1:
            raise ParameterError(f"parameter placebo_min_gap={gap} must be >= 1 session (default 21)")
        set_("placebo_min_gap", gap)
        if self.as_of is not None:
            try:  # the package's one date parser (tz-aware input is read as New York time)
                as_of = to_date(self.as_of if isinstance(self.as_of, str) else str(self.as_of), what="as_of")
            except CalendarError:
                raise ParameterError(f"parameter as_of={self.as_of!r} is not a date; use YYYY-MM-DD") from None
            set_("as_of", as_of.strftime("%Y-%m-%d"))
        if self.seed is not None:
            seed = _int(self.seed, "seed")
            if seed < 0:
                raise ParameterError(f"parameter seed={seed} must be a non-negative integer")
            set_("seed", seed)
        if self.source == "snapshot" and self.market_proxy is not None:
            self._check_against_snapshot()
        elif self.as_of is not None:  # the live universe is unknown in advance: at least the
            # calendar must hold it
            check_windows_fit(self, *calendar_range(), "the XNYS calendar")

    @property
    def resolved(self) -> bool:
        """True when no field is left to the article (market_proxy, as_of, seed all set)."""
        return self.market_proxy is not None and self.as_of is not None and self.seed is not None

    def resolve(self, article: Any) -> EvalParams:
        """These parameters with every None field taken from ``article`` (an
        :class:`~research.claims.article.Article`): market proxy, as-of date, seed."""
        if self.resolved:
            return self
        return replace(
            self,
            market_proxy=self.market_proxy if self.market_proxy is not None else article.market_proxy,
            as_of=self.as_of if self.as_of is not None else article.as_of.isoformat(),
            seed=self.seed if self.seed is not None else article.seed,
        )

    def override(self, spec: Mapping[str, Any]) -> EvalParams:
        """These parameters with a claim's ``spec:`` overrides applied (validated again)."""
        unknown = sorted(set(spec) - {f.name for f in fields(self)})
        if unknown:
            raise ParameterError(f"unknown specification key(s) {unknown}")
        return replace(self, **dict(spec)) if spec else self

    def _check_against_snapshot(self) -> None:
        """Offline, the data are known in advance: a market proxy the snapshot does not carry
        or an as-of date outside its coverage is a parameter error, raised before any
        notebook runs (with yfinance the universe is only known by asking)."""
        have = available_tickers()
        if self.market_proxy not in have:
            raise ParameterError(
                f"parameter market_proxy: {unknown_ticker_error(self.market_proxy, have)}"
            )
        if self.as_of is None:
            return  # checked once resolved against the article
        first, last = ticker_span(self.market_proxy)
        as_of = self.as_of_ts
        if not first <= as_of <= last:
            raise ParameterError(
                f"parameter as_of={self.as_of} is outside the snapshot's data for the market proxy "
                f"{self.market_proxy} ({first.date()} .. {last.date()}); choose a date "
                "in that range (or leave as_of unset to use the article's)"
            )
        check_windows_fit(self, first, last, f"the snapshot's {self.market_proxy} data")

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any], *, ignore: tuple[str, ...] = ("verdict_path",)) -> EvalParams:
        """Build from a mapping (a notebook's parameters; lists accepted for windows).

        Keys not among the fields raise :class:`ParameterError`, except those in ``ignore``
        (the report's ``verdict_path``).
        """
        if not isinstance(values, Mapping):
            raise ParameterError(f"EvalParams.from_mapping needs a mapping, got {type(values).__name__}")
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - names - set(ignore))
        if unknown:
            raise ParameterError(f"unknown parameter(s) {unknown}; known: {sorted(names)}")
        return cls(**{k: v for k, v in values.items() if k in names})

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (windows as lists)."""
        d = asdict(self)
        d["event_windows"] = [list(w) for w in self.event_windows]
        return d

    @property
    def as_of_ts(self) -> pd.Timestamp:
        """``as_of`` as a tz-naive Timestamp (call :meth:`resolve` first when it is None)."""
        if self.as_of is None:
            raise ParameterError("as_of is not set: resolve the parameters against the article first "
                                 "(EvalParams.resolve(article))")
        return pd.Timestamp(self.as_of)
