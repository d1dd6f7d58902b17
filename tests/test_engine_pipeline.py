"""The pipeline's shape: public steps, no private cross-imports, no import cycle; typed
errors for bad input; the one missing-day rule of the CAR variance; one id format."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

import research.eventstudy as es
from research.data import close_panel, load_prices, returns
from research.errors import EventStudyError, InsufficientDataError
from research.eventstudy import EventStudySpec, run_event_study
from research.eventstudy.pipeline import ScreenReason, first_occurrence
from research.eventstudy.stats import car_moments

PKG = Path(es.__file__).parent


def _imports(path: Path) -> list[tuple[str, list[str]]]:
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("research.eventstudy"):
            out.append((node.module, [a.name for a in node.names]))
    return out


def _modules() -> dict[str, Path]:
    """Every module of the layer by dotted name below ``research.eventstudy`` (``"stats.rank"``;
    a package by its own name, ``"stats"``); the layer's ``__init__`` left out."""
    out = {}
    for p in PKG.rglob("*.py"):
        parts = p.relative_to(PKG).with_suffix("").parts
        parts = parts[:-1] if parts[-1] == "__init__" else parts
        if parts:
            out[".".join(parts)] = p
    return out


def test_stats_is_a_package_of_concepts():
    mods = _modules()
    assert {"stats", "stats.inputs", "stats.parallel", "stats.car", "stats.rank", "stats.parametric",
            "stats.battery"} <= set(mods)


def test_no_module_imports_another_modules_private_names():
    bad = [(name, m, n) for name, p in _modules().items() for m, names in _imports(p) for n in names
           if n.startswith("_") and m != "research.eventstudy"]
    assert bad == []


def test_eventstudy_imports_form_no_cycle():
    mods = _modules()
    graph: dict[str, set[str]] = {name: set() for name in mods}
    for name, p in mods.items():
        for m, names in _imports(p):
            if m == "research.eventstudy":
                targets = names
            else:
                target = m[len("research.eventstudy."):]
                # a package's __init__ re-exports its modules: importing from a module of
                # a package does not import from the package's other modules
                targets = [target]
            for t in targets:
                if t in graph and t != name and not name.startswith(t + "."):
                    graph[name].add(t)
    state: dict[str, int] = {}

    def visit(n: str, path: list[str]) -> None:
        state[n] = 1
        for m in graph[n]:
            assert state.get(m) != 1, f"import cycle: {' -> '.join(path + [n, m])}"
            if m not in state:
                visit(m, path + [n])
        state[n] = 2

    for n in graph:
        if n not in state:
            visit(n, [])
    assert "engine" not in graph["placebo"] and "pipeline" in graph["placebo"]
    # the battery sits on the bottom layer: its modules import only models and each other,
    # downward (inputs, parallel <- car <- rank <- parametric <- battery)
    order = ["stats.inputs", "stats.parallel", "stats.car", "stats.rank", "stats.parametric", "stats.battery"]
    for i, name in enumerate(order):
        assert graph[name] <= {"models", *order[:i]}, (name, graph[name])
    assert "stats.parametric" in graph["stats.battery"] and "stats.car" in graph["stats.rank"]


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    return returns(close_panel(load_prices(["MP", "SPY"], source="snapshot")))


def test_none_ticker_is_a_typed_error_naming_the_row(panel):
    ev = pd.DataFrame({"event_id": ["ok", "bad"], "ticker": ["MP", None],
                       "date": ["2025-07-10", "2025-07-11"], "timing": ["pre_open"] * 2})
    with pytest.raises(EventStudyError, match=r"\['bad'\] have no ticker"):
        run_event_study(ev, returns=panel)
    ev.loc[1, "ticker"] = np.nan
    with pytest.raises(EventStudyError, match="no ticker"):
        run_event_study(ev, returns=panel)


def test_empty_returns_table_is_a_typed_error(panel):
    ev = pd.DataFrame({"event_id": ["a"], "ticker": ["MP"], "date": ["2025-07-10"], "timing": ["pre_open"]})
    with pytest.raises(InsufficientDataError, match=r"returns table is empty \(0 dates x 2 tickers\)"):
        run_event_study(ev, returns=panel.iloc[:0])
    with pytest.raises(InsufficientDataError, match="empty"):
        run_event_study(ev, returns=pd.DataFrame(index=panel.index))


def test_screen_reasons_are_an_enum(panel):
    early = panel.index[panel.index.get_loc(panel["MP"].first_valid_index()) + 5]
    ev = pd.DataFrame({"event_id": ["ok", "early", "nope"], "ticker": ["MP", "MP", "ZZZ"],
                       "day0": pd.to_datetime(["2025-07-10", early, "2025-07-10"])})
    spec = EventStudySpec()
    pan = panel
    col = pan.columns.get_indexer(ev["ticker"])
    pos0 = np.where(col < 0, -1, pan.index.get_indexer(ev["day0"]))
    from research.eventstudy.pipeline import align_matrices, screen

    al = align_matrices(pan.to_numpy(), pan[["SPY"]].to_numpy(), np.maximum(col, 0), pos0, spec)
    ok, code = screen(al, spec)
    assert [ScreenReason(c) for c in code] == [ScreenReason.OK, ScreenReason.NO_ESTIMATION_DATA,
                                               ScreenReason.NO_DAY0]
    assert ok.tolist() == [True, False, False]


def test_one_missing_day_rule_single_event_and_battery(panel):
    """A window with a missing day: the single-event CAR is NaN (incomplete), the
    battery's CAR sums the present days with a variance over the same days -- both from
    car_moments, checked against statsmodels by hand."""
    p = panel.copy()
    d0 = p.index.get_loc(pd.Timestamp("2025-07-10"))
    p.iloc[d0 + 1, p.columns.get_loc("MP")] = np.nan
    spec = EventStudySpec(windows=((0, 0), (0, 2)))
    r = run_event_study(pd.DataFrame({"event_id": ["a"], "ticker": ["MP"], "day0": [p.index[d0]]}),
                        spec, returns=p, volume=False)
    c = r.car.set_index("window_end")
    assert np.isfinite(c.loc[0, "car"]) and np.isnan(c.loc[2, "car"]) and np.isnan(c.loc[2, "car_se"])
    e = p.iloc[d0 - 260: d0 - 10]
    fit = sm.OLS(e["MP"].to_numpy(), sm.add_constant(e["SPY"].to_numpy()), missing="drop").fit()
    x0 = np.column_stack([np.ones(3), p["SPY"].iloc[d0: d0 + 3]])
    ar = p["MP"].iloc[d0: d0 + 3].to_numpy() - x0 @ fit.params
    present = np.isfinite(ar)
    s = x0[present].sum(axis=0)
    car, v, complete = car_moments(ar[None, :], np.array([0]), np.array([2]),
                                   design=x0[None], xtx_inv=fit.normalized_cov_params[None])
    assert car[0, 0] == pytest.approx(np.nansum(ar), abs=1e-12)
    assert v[0, 0] == pytest.approx(present.sum() + s @ fit.normalized_cov_params @ s, rel=1e-10)
    assert not complete[0, 0]


def test_one_combined_id_format():
    from research.eventstudy.events import combined_id, expand_tickers
    from research.eventstudy.portfolio import basket_name

    ev = pd.DataFrame({"event_id": ["ev1"], "date": ["2025-10-13"], "timing": ["pre_open"],
                       "tickers": ["MP USAR"]})
    assert expand_tickers(ev)["event_id"].tolist() == ["ev1:MP", "ev1:USAR"]
    assert basket_name(["MP", "USAR"]) == combined_id("basket", "MP+USAR") == "basket:MP+USAR"


def test_first_occurrence_integer_dedup():
    col = np.array([3, 1, 3, 1, 0])
    pos = np.array([10, 10, 10, 11, 10])
    assert first_occurrence(col, pos).tolist() == [0, 1, 0, 3, 4]
