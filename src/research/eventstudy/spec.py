"""Frozen specification objects of an event study.

All day counts are **trading days** (XNYS sessions, or the rows of a user-supplied
returns panel) relative to day 0, the first session on which the market could react
to the event (see :func:`research.data.align_event`).

Example
-------
>>> spec = EventStudySpec(market="IWM")                       # small-cap proxy
>>> spec = EventStudySpec(windows=((0, 0), (0, 1)), model="market_adjusted")
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from research.errors import SpecificationError
from research.eventstudy.models import MODELS, ExpectedReturnModel, get_model

__all__ = ["EstimationWindow", "EventStudySpec", "MODELS", "RETURN_TYPES", "CONVENTIONS", "STANDARDIZE"]

RETURN_TYPES: tuple[str, ...] = ("simple", "log")
#: ``EventStudySpec.standardize`` values (see :mod:`research.eventstudy.garch`).
STANDARDIZE: tuple[str, ...] = ("garch",)
CONVENTIONS: tuple[str, ...] = ("textbook", "estudy2")


def _as_int(value: object, name: str) -> int:
    if isinstance(value, bool) or not hasattr(value, "__index__"):
        raise SpecificationError(f"{name} must be an integer number of trading days, got {value!r}")
    return int(value)  # type: ignore[arg-type]


@dataclass(frozen=True)
class EstimationWindow:
    """Estimation window, in trading days relative to day 0.

    Parameters
    ----------
    length : int, default 250
        Number of trading days in the window.
    end : int, default -11
        Last relative day of the window (inclusive). The window is
        ``[end - length + 1, end]``, i.e. ``[-260, -11]`` by default.
    min_obs : int, default 120
        Minimum number of valid (finite stock *and* regressor) returns in the window;
        events with fewer are kept in the result with ``status="skipped"``.
    """

    length: int = 250
    end: int = -11
    min_obs: int = 120

    def __post_init__(self) -> None:
        length = _as_int(self.length, "EstimationWindow.length")
        end = _as_int(self.end, "EstimationWindow.end")
        min_obs = _as_int(self.min_obs, "EstimationWindow.min_obs")
        if length < 3:
            raise SpecificationError(
                f"EstimationWindow.length={length} is too short; use at least 3 trading days "
                "(250 is the default)"
            )
        if end >= 0:
            raise SpecificationError(
                f"EstimationWindow.end={end} must be before day 0 (negative, e.g. -11) so the "
                "estimation window does not contain the event"
            )
        if not 3 <= min_obs <= length:
            raise SpecificationError(
                f"EstimationWindow.min_obs={min_obs} must be between 3 and length={length}; "
                "lower min_obs or lengthen the window"
            )
        object.__setattr__(self, "length", length)
        object.__setattr__(self, "end", end)
        object.__setattr__(self, "min_obs", min_obs)

    @property
    def start(self) -> int:
        """First relative day of the window (inclusive), ``end - length + 1``."""
        return self.end - self.length + 1


def _normalise_windows(windows: object) -> tuple[tuple[int, int], ...]:
    try:
        items = list(windows)  # type: ignore[call-overload]
    except TypeError:
        raise SpecificationError(
            f"windows must be a sequence of (start, end) pairs, got {windows!r}"
        ) from None
    if not items:
        raise SpecificationError("windows is empty; give at least one (start, end) pair such as (0, 0)")
    out: list[tuple[int, int]] = []
    for w in items:
        try:
            a, b = w
        except (TypeError, ValueError):
            raise SpecificationError(
                f"event window {w!r} is not a (start, end) pair; write e.g. (-1, 1)"
            ) from None
        a = _as_int(a, "event window start")
        b = _as_int(b, "event window end")
        if a > b:
            raise SpecificationError(
                f"event window ({a}, {b}) has reversed bounds; write it as ({b}, {a})"
            )
        if (a, b) not in out:
            out.append((a, b))
    return tuple(out)


@dataclass(frozen=True)
class EventStudySpec:
    """What to estimate and test.

    Parameters
    ----------
    estimation : EstimationWindow, default ``EstimationWindow()`` ([-260, -11], min 120 obs)
    windows : sequence of (int, int), default ((0,0), (-1,1), (0,1), (0,5), (-5,5), (0,20))
        Event (CAR) windows in relative trading days, both ends inclusive. Every window
        must start after ``estimation.end``.
    model : {"market", "market_adjusted", "mean_adjusted", "factor"}, default "market"
        Expected-return model: OLS market model, market-adjusted (AR = R - R_m),
        constant-mean-adjusted, or a multi-factor OLS model on ``factors``
        (:data:`research.eventstudy.models.REGISTRY`). A model object
        (:class:`research.eventstudy.models.ExpectedReturnModel`) is accepted too and
        stored by its name; :attr:`expected_return` is the object.
    market : str, default "SPY"
        Market proxy ticker (``"IWM"`` for small caps). Used by "market" and
        "market_adjusted"; ignored otherwise.
    return_type : {"simple", "log"}, default "simple"
        Daily returns ``P_t/P_{t-1} - 1`` or ``ln(P_t/P_{t-1})``.
    factors : pandas.DataFrame or None
        Required by ``model="factor"``: DatetimeIndex of sessions x factor columns, daily
        factor returns in the same units as ``return_type`` (decimal, not percent). A
        column named ``"RF"`` is treated as the risk-free rate: it is subtracted from
        the stock's return and not used as a regressor (Fama-French convention).
    convention : {"textbook", "estudy2"}, default "textbook"
        Variance conventions passed to :mod:`research.eventstudy.models` /
        :mod:`research.eventstudy.stats` (estudy2 reproduces the R package's numbers).
    standardize : {None, "garch"}, default None
        Opt-in volatility-aware statistic. ``"garch"``: every event also gets the
        GARCH(1,1)-standardized CAR (``result.car["scar"]``; Savickas 2003, see
        :mod:`research.eventstudy.garch`), and the placebo compares that statistic
        instead of the CAR t. None: today's statistics only.
    """

    estimation: EstimationWindow = field(default_factory=EstimationWindow)
    windows: tuple[tuple[int, int], ...] = ((0, 0), (-1, 1), (0, 1), (0, 5), (-5, 5), (0, 20))
    model: str = "market"
    market: str = "SPY"
    return_type: str = "simple"
    factors: pd.DataFrame | None = field(default=None, compare=False, repr=False)
    convention: str = "textbook"
    standardize: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.estimation, EstimationWindow):
            raise SpecificationError(
                f"estimation must be an EstimationWindow, got {type(self.estimation).__name__}; "
                "write estimation=EstimationWindow(length=250, end=-11, min_obs=120)"
            )
        windows = _normalise_windows(self.windows)
        for a, b in windows:
            if a <= self.estimation.end:
                raise SpecificationError(
                    f"event window ({a}, {b}) overlaps the estimation window "
                    f"[{self.estimation.start}, {self.estimation.end}]; start the event window "
                    f"after day {self.estimation.end} or move the estimation window earlier "
                    f"(EstimationWindow(end={a - 1}))"
                )
        object.__setattr__(self, "windows", windows)
        if isinstance(self.model, ExpectedReturnModel):
            object.__setattr__(self, "model", self.model.name)
        if not isinstance(self.model, str) or self.model not in MODELS:
            raise SpecificationError(
                f"unknown model {self.model!r}; choose one of {', '.join(MODELS)}"
            )
        model = self.expected_return
        if self.return_type not in RETURN_TYPES:
            raise SpecificationError(
                f"unknown return_type {self.return_type!r}; choose 'simple' or 'log'"
            )
        if self.convention not in CONVENTIONS:
            raise SpecificationError(
                f"unknown convention {self.convention!r}; choose 'textbook' or 'estudy2'"
            )
        if self.convention == "estudy2" and not model.estudy2:
            raise SpecificationError(
                "convention='estudy2' is defined for the single-index models only; use "
                f"convention='textbook' with model={self.model!r}"
            )
        if self.standardize is not None and self.standardize not in STANDARDIZE:
            raise SpecificationError(
                f"unknown standardize {self.standardize!r}; choose None (plain statistics) or "
                f"{', '.join(repr(s) for s in STANDARDIZE)}"
            )
        if not isinstance(self.market, str) or not self.market:
            raise SpecificationError(f"market must be a ticker string such as 'SPY', got {self.market!r}")
        if model.uses_factors:
            if not isinstance(self.factors, pd.DataFrame) or self.factors.empty:
                raise SpecificationError(
                    f"model={self.model!r} needs factors: pass factors=<DataFrame indexed by date with "
                    "one column per factor (e.g. Mkt-RF, SMB, HML, RF)>, or use model='market'"
                )
            regressors = [c for c in self.factors.columns if c != "RF"]
            if not regressors:
                raise SpecificationError(
                    "factors has no regressor columns besides 'RF'; add at least one factor column"
                )
            if not isinstance(self.factors.index, pd.DatetimeIndex):
                raise SpecificationError(
                    "factors must have a DatetimeIndex of sessions; set it with "
                    "factors.set_index(pd.to_datetime(factors['date']))"
                )
        elif self.factors is not None:
            raise SpecificationError(
                f"factors were given but model={self.model!r} does not use them; "
                "set model='factor' or drop factors"
            )

    @property
    def event_span(self) -> tuple[int, int]:
        """(first, last) relative day covered by the union of the event windows."""
        return (min(a for a, _ in self.windows), max(b for _, b in self.windows))

    @property
    def expected_return(self) -> ExpectedReturnModel:
        """The expected-return model object named by :attr:`model`."""
        return get_model(self.model)

    @property
    def uses_market(self) -> bool:
        """Whether the model needs the market proxy's returns."""
        return self.expected_return.uses_market

    @property
    def factor_columns(self) -> tuple[str, ...]:
        """Regressor columns of the factor model (``factors`` minus ``RF``)."""
        if self.factors is None:
            return ()
        return tuple(str(c) for c in self.factors.columns if c != "RF")

    def describe(self) -> dict[str, object]:
        """Plain-dict description (JSON-serialisable) for reports and verdict parameters."""
        return {
            "model": self.model,
            "market": self.market if self.uses_market else None,
            "return_type": self.return_type,
            "estimation_window": [self.estimation.start, self.estimation.end],
            "estimation_min_obs": self.estimation.min_obs,
            "windows": [list(w) for w in self.windows],
            "factors": list(self.factor_columns) or None,
            "convention": self.convention,
            # only when asked for: descriptions of plain studies stay as they were
            **({"standardize": self.standardize} if self.standardize is not None else {}),
        }
