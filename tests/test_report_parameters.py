"""Notebook parameters: inspection of the parameters cell, typing of -p values, and
validation of every parameter before anything runs."""

from __future__ import annotations

import math

import nbformat
import pytest
from hypothesis import given
from hypothesis import strategies as st

pytest.register_assert_rewrite("_report_sites")  # before the import (it is also a plugin)
from _report_sites import FIXTURE_PORTFOLIO, FIXTURES
from research.errors import ParameterError
from research.report.parameters import NotebookParameter, coerce_value, inspect_parameters
from research.report.portfolio import load_portfolio
from research.report.runner import plan_runs


def test_inspect_typed_fixture_notebook():
    params = inspect_parameters(FIXTURES / "typed.ipynb")
    assert list(params) == ["window", "alpha", "market_proxy", "event_windows", "tickers",
                            "use_placebo", "label", "verdict_path"]
    assert params["window"].type_name == "int" and params["window"].default == 250
    assert params["window"].help == "trading days"
    assert params["alpha"].type_name == "float" and params["alpha"].default == 0.05
    assert params["market_proxy"].type_name == "str" and params["market_proxy"].default == "SPY"
    assert params["event_windows"].type_name == "tuple" and params["event_windows"].default == ((0, 0), (0, 1))
    assert params["tickers"].type_name == "list"
    assert params["use_placebo"].type_name == "bool"
    assert params["label"].type_name == "any" and params["label"].nullable
    assert params["verdict_path"].default == ""


def test_inspect_recovers_annotations_papermill_cannot_parse(tmp_path):
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell('draws: int | None = 1000\nname = "x"')
    cell.metadata["tags"] = ["parameters"]
    nb.cells.append(cell)
    path = tmp_path / "n.ipynb"
    nbformat.write(nb, path)
    params = inspect_parameters(path)
    assert params["draws"].type_name == "int" and params["draws"].nullable
    assert coerce_value(params["draws"], "250") == 250
    assert coerce_value(params["draws"], "None") is None
    with pytest.raises(ParameterError):
        coerce_value(params["draws"], "many")


def P(type_name, default, nullable=False):
    return NotebookParameter("x", type_name, nullable, default, repr(default))


@pytest.mark.parametrize("param, raw, expected", [
    (P("str", "SPY"), "IWM", "IWM"),
    (P("int", 250), "250", 250),
    (P("int", 250), "-11", -11),
    (P("float", 0.05), "0.05", 0.05),
    (P("float", 0.05), "1e-3", 0.001),
    (P("float", 0.05), "2", 2.0),
    (P("bool", True), "no", False),
    (P("bool", False), "TRUE", True),
    (P("tuple", ((0, 0), (0, 1))), "[[0,0],[0,1]]", [[0, 0], [0, 1]]),
    (P("tuple", ((0, 0), (0, 1))), "[[-1, 1]]", [[-1, 1]]),
    (P("tuple", ((0, 0),)), "[[0, 5]]", [[0, 5]]),
    (P("list", ["RGTI", "QBTS"]), "RGTI,IONQ", ["RGTI", "IONQ"]),
    (P("list", ["RGTI", "QBTS"]), '["IONQ"]', ["IONQ"]),
    (P("list", ["RGTI", "QBTS"]), "[IONQ, QUBT]", ["IONQ", "QUBT"]),
    (P("dict", {"a": 1}), "{b: 2}", {"b": 2}),
    (P("any", None, nullable=True), "250", 250),
    (P("any", None, nullable=True), "IWM", "IWM"),
    (P("any", None, nullable=True), "null", None),
    # typed values from portfolio.yml
    (P("float", 0.05), 1, 1.0),
    (P("tuple", ((0, 0),)), [[0, 1]], [[0, 1]]),
])
def test_coerce_accepts(param, raw, expected):
    got = coerce_value(param, raw)
    assert got == expected and type(got) is type(expected)


@pytest.mark.parametrize("param, raw", [
    (P("int", 250), "abc"),
    (P("int", 250), "2.5"),
    (P("int", 250), True),
    (P("float", 0.05), "abc"),
    (P("float", 0.05), "nan"),
    (P("float", 0.05), "inf"),
    (P("bool", True), "maybe"),
    (P("tuple", ((0, 0),)), "[[0, 'a']]"),
    (P("tuple", ((0, 0),)), "[[0.5, 1]]"),
    (P("tuple", ((0, 0),)), "5"),
    (P("list", [1, 2]), "[1, x]"),
    (P("dict", {"a": 1}), "[1]"),
    (P("str", "SPY"), ["SPY"]),
    (P("int", 250), "None"),
])
def test_coerce_rejects_with_a_message_naming_the_parameter(param, raw):
    with pytest.raises(ParameterError, match=r"parameter 'x(\[\d+\])*'.*declared as x: "):
        coerce_value(param, raw)


@given(st.integers(min_value=-10**12, max_value=10**12))
def test_int_roundtrip(n):
    assert coerce_value(P("int", 0), str(n)) == n


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_float_roundtrip(x):
    assert coerce_value(P("float", 0.5), repr(x)) == x


@given(st.lists(st.tuples(st.integers(-300, 300), st.integers(-300, 300)), min_size=1, max_size=6))
def test_window_lists_roundtrip(windows):
    raw = "[" + ",".join(f"[{a},{b}]" for a, b in windows) + "]"
    assert coerce_value(P("tuple", ((0, 0),)), raw) == [list(w) for w in windows]


# ---- plan_runs: everything is validated before anything runs --------------------------
@pytest.fixture()
def portfolio():
    return load_portfolio(FIXTURE_PORTFOLIO)


def test_plan_applies_overrides_to_declaring_notebooks_and_injects_verdict_path(portfolio, tmp_path):
    plans, missing = plan_runs(portfolio, parameters=[("alpha", "0.1"), ("window", "60")], output_dir=tmp_path)
    assert not missing
    by = {p.name: p for p in plans}
    assert by["passing"].parameters["alpha"] == 0.1 and "window" not in by["passing"].parameters
    assert by["typed"].parameters["window"] == 60  # -p wins over portfolio.yml's 120
    assert by["failing"].parameters["alpha"] == 0.1
    for p in plans:
        assert p.parameters["verdict_path"] == str(tmp_path / ".verdicts" / f"{p.name}.json")
    assert list(tmp_path.iterdir()) == []  # planning writes nothing


def test_plan_uses_portfolio_yml_overrides(portfolio, tmp_path):
    plans, _ = plan_runs(portfolio, output_dir=tmp_path)
    assert {p.name: dict(p.parameters) for p in plans}["typed"]["window"] == 120


@pytest.mark.parametrize("overrides, notebooks, message", [
    ([("alpah", "0.1")], None, "unknown parameter 'alpah'"),
    ([("window", "abc")], None, "cannot use 'abc' as an integer"),
    ([("window", "60")], ["passing"], "unknown parameter 'window'"),  # declared only by typed
    ([("alpha", "x"), ("window", "2.5")], None, "cannot use '2.5' as an integer"),
    ([("verdict_path", "/tmp/x.json")], None, "set by the report runner"),
    ([], ["nope"], "unknown notebook(s) 'nope'"),
])
def test_invalid_parameters_fail_before_anything_runs(portfolio, tmp_path, overrides, notebooks, message):
    out = tmp_path / "reports"
    with pytest.raises(ParameterError) as info:
        plan_runs(portfolio, parameters=overrides, notebooks=notebooks, output_dir=out)
    text = str(info.value)
    assert message in text
    if notebooks != ["nope"]:
        assert "valid parameters" in text and "alpha: float = 0.05" in text
    assert not out.exists()


def test_all_problems_are_reported_at_once(portfolio, tmp_path):
    with pytest.raises(ParameterError) as info:
        plan_runs(portfolio, parameters=[("alpha", "x"), ("bogus", "1")], output_dir=tmp_path)
    assert "cannot use 'x' as a finite number" in str(info.value)
    assert "unknown parameter 'bogus'" in str(info.value)
    # parameters declared by only some notebooks say which
    assert "window: int = 250   [typed]" in str(info.value)


def test_ill_typed_portfolio_yml_override(tmp_path):
    yml = tmp_path / "p.yml"
    yml.write_text(f"notebooks:\n  - name: typed\n    path: {FIXTURES / 'typed.ipynb'}\n"
                   "    parameters: {window: twelve, nonsense: 1}\n")
    with pytest.raises(ParameterError) as info:
        plan_runs(load_portfolio(yml), output_dir=tmp_path / "out")
    assert "cannot use 'twelve' as an integer" in str(info.value)
    assert "portfolio file sets 'nonsense'" in str(info.value)
    assert not (tmp_path / "out").exists()


def test_missing_notebook_file_is_a_per_notebook_failure(tmp_path):
    yml = tmp_path / "p.yml"
    yml.write_text(f"notebooks:\n  - name: gone\n    path: gone.ipynb\n    claims: [C1]\n"
                   f"  - name: typed\n    path: {FIXTURES / 'typed.ipynb'}\n")
    plans, missing = plan_runs(load_portfolio(yml), output_dir=tmp_path / "out")
    assert [p.name for p in plans] == ["typed"]
    assert [m.name for m in missing] == ["gone"] and "not found" in missing[0].error
    assert math.isfinite(plans[0].parameters.get("alpha", 0.0))


def test_unknown_parameter_suggests_the_nearest_name(portfolio, tmp_path):
    with pytest.raises(ParameterError, match=r"unknown parameter 'windwo'.*did you mean 'window'\?"):
        plan_runs(portfolio, parameters=[("windwo", "60")], output_dir=tmp_path)


def test_one_line_per_problem_not_per_notebook(portfolio, tmp_path):
    with pytest.raises(ParameterError) as info:
        plan_runs(portfolio, parameters=[("alpha", "abc")], output_dir=tmp_path)
    lines = [ln for ln in str(info.value).splitlines() if "cannot use 'abc'" in ln]
    assert len(lines) == 1 and lines[0].endswith("[all selected notebooks]")


# ---- the real portfolio: EvalParams validates values of the right type -----------------
@pytest.mark.parametrize("overrides, message", [
    ([("model", "foo")], "must be one of"),
    ([("alpha", "0.9")], "must be in (0, 0.5]"),
    ([("event_windows", "[[-20, 0]]")], "overlaps the estimation window"),
    ([("source", "bloomberg")], "source='bloomberg'"),
])
def test_real_portfolio_rejects_out_of_range_values_before_running(tmp_path, overrides, message):
    out = tmp_path / "reports"
    with pytest.raises(ParameterError) as info:
        plan_runs(load_portfolio(), parameters=overrides, output_dir=out)
    assert message in str(info.value)
    assert not out.exists()


def test_real_portfolio_accepts_the_documented_examples(tmp_path):
    plans, missing = plan_runs(load_portfolio(), output_dir=tmp_path, parameters=[
        ("market_proxy", "IWM"), ("estimation_length", "250"), ("alpha", "0.05"),
        ("event_windows", "[[0,0],[0,1]]")])
    assert not missing and len(plans) == 6
    for p in plans:
        assert p.parameters["market_proxy"] == "IWM"
        if p.name == "what_happened_next":  # follows prices; no event-study parameters
            assert "event_windows" not in p.parameters and "alpha" not in p.parameters
            continue
        assert p.parameters["event_windows"] == [[0, 0], [0, 1]]
        assert p.parameters["estimation_length"] == 250 and p.parameters["alpha"] == 0.05


def test_unimportable_validator_is_a_report_error(tmp_path):
    from research.errors import ReportError

    yml = tmp_path / "p.yml"
    yml.write_text(f"validator: 'research.nope:check'\nnotebooks:\n  - name: typed\n    path: {FIXTURES / 'typed.ipynb'}\n")
    with pytest.raises(ReportError, match="cannot be imported"):
        plan_runs(load_portfolio(yml), output_dir=tmp_path / "out")
