"""The one vocabulary (:mod:`research.vocab`): ids, formats, verdict colours, strict JSON."""

from __future__ import annotations

import ast
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from research import vocab as V

SRC = Path(__file__).resolve().parents[1] / "src" / "research"


def test_ids_round_trip():
    assert V.basket_id("metals") == "basket:metals"
    assert V.parse_series("basket:metals") == ("metals", True)
    assert V.parse_series("basket: metals") == ("metals", True)
    assert V.parse_series("MP") == ("MP", False)
    assert V.series_display("basket:metals") == "basket: metals" and V.series_display("MP") == "MP"
    eid = V.engine_id("ev01", "basket:metals")
    assert eid == "ev01|basket:metals" and V.split_engine_id(eid) == ("ev01", "basket:metals")
    assert V.pair_key("MP", "ev01") == "MP@ev01" and V.basket_key("ev01", "basket_car") == "ev01.basket_car"


@pytest.mark.parametrize("x,note,short,text", [
    (0.01234, "0.0123", "0.012", "p = 0.012"),
    (0.00005, "<0.0001", "<0.001", "p < 0.001"),
    (0.0005, "0.0005", "<0.001", "p < 0.001"),
    (float("nan"), "n/a", "n/a", "p n/a"),
    (None, "n/a", "n/a", "p n/a"),
    ("x", "n/a", "n/a", "p n/a"),
])
def test_p_value_formats(x, note, short, text):
    assert (V.p_note(x), V.p_short(x), V.p_text(x)) == (note, short, text)


def test_percentages():
    assert V.pct(0.0912) == "+9.1%" and V.pct(-0.0912, 2) == "-9.12%" and V.pct(0.5, 0, signed=False) == "50%"
    assert V.pct(None) == "n/a" and V.pct(float("inf")) == "n/a"
    assert V.pct_points(4.23) == "+4.2%" and V.pct_points(-1.0, " pp") == "-1.0 pp" and V.pct_points(None) == ""
    assert V.window_label((0, 1)) == "(+0,+1)" and V.day("2025-07-10 00:00:00") == "2025-07-10"


def _luminance(hex_colour: str) -> float:
    """WCAG 2 relative luminance."""
    rgb = [int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def test_every_verdict_badge_is_readable_and_labelled():
    for verdict, st in V.VERDICT_STYLES.items():
        hi, lo = sorted((_luminance(st.background), _luminance(st.text)), reverse=True)
        assert (hi + 0.05) / (lo + 0.05) >= 4.5, verdict
        assert st.label == verdict
    three = [V.VERDICT_STYLES[v].background for v in (V.SUPPORTED, V.PARTLY, V.NOT_SUPPORTED)]
    assert len(set(three)) == 3
    assert V.verdict_style("odd").label == "odd"


def test_strict_json():
    obj = {"a": float("nan"), "b": np.float64(1.23456789), "c": pd.Timestamp("2025-07-10"), "d": (1, np.int64(2)),
           "e": -0.0000001, "f": np.bool_(True)}
    got = V.to_jsonable(obj)
    assert got == {"a": None, "b": 1.234568, "c": "2025-07-10", "d": [1, 2], "e": 0.0, "f": True}
    assert V.to_jsonable(1.23456789, None) == 1.23456789
    assert V.strict({"x": [math.inf, 1.5]}) == {"x": [None, 1.5]}
    with pytest.raises(ValueError):
        V.dumps({"x": math.nan})
    assert json.loads(V.dumps({"é": 1})) == {"é": 1} and "é" in V.dumps({"é": 1})


def test_the_vocabulary_imports_nothing_of_the_package():
    tree = ast.parse((SRC / "vocab.py").read_text(encoding="utf-8"))
    mods = [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    mods += [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
    assert not [m for m in mods if m.startswith("research")]


@pytest.mark.parametrize("needle", [
    '"<0.0001" if',          # the 4-decimal p format
    '"<0.001" if',           # the 3-decimal p format
    '"#1a7f37"', '"#9a6700"', '"#cf222e"', '"#1e7b34"',  # the old verdict colour tables
    'def _strict_json', 'def to_jsonable', 'f"basket:{',
])
def test_no_second_copy_in_claims_or_report(needle):
    hits = [str(p.relative_to(SRC)) for layer in ("claims", "report") for p in (SRC / layer).rglob("*.py")
            if needle in p.read_text(encoding="utf-8")]
    assert not hits, f"{needle} outside research.vocab: {hits}"
