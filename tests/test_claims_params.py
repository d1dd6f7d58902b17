"""EvalParams: defaults of the contract, notebook-style construction, validation."""

from __future__ import annotations

import dataclasses

import pytest

from research.claims import EvalParams
from research.errors import ParameterError


def test_defaults_leave_the_article_values_to_the_article():
    p = EvalParams()
    assert (p.source, p.model) == ("snapshot", "market")
    assert (p.estimation_length, p.estimation_end, p.min_estimation_obs) == (250, -11, 120)
    assert p.event_windows == ((0, 0), (0, 1), (-1, 1), (0, 5))
    assert (p.alpha, p.placebo_draws) == (0.05, 1000)
    # as-of date, market proxy and seed come from the article at evaluation time
    assert (p.market_proxy, p.as_of, p.seed) == (None, None, None) and not p.resolved
    with pytest.raises(ParameterError, match="resolve the parameters against the article"):
        p.as_of_ts


def test_resolve_takes_the_article_values_and_keeps_explicit_ones():
    import yaml

    from research.claims import load_article

    art = load_article()
    meta = yaml.safe_load((art.path / "article.yaml").read_text(encoding="utf-8"))
    r = EvalParams().resolve(art)
    assert (r.market_proxy, r.as_of, r.seed) == (meta["market_proxy"], str(meta["as_of"]), meta["seed"])
    assert r.resolved
    q = EvalParams(market_proxy="IWM", seed=7).resolve(art)
    assert (q.market_proxy, q.as_of, q.seed) == ("IWM", str(meta["as_of"]), 7)


def test_override_applies_a_claim_spec_and_validates_it():
    p = EvalParams(market_proxy="SPY", as_of="2025-10-15", seed=1)
    assert p.override({"model": "mean_adjusted"}).model == "mean_adjusted"
    assert p.override({}) is p
    with pytest.raises(ParameterError, match="model='nope'"):
        p.override({"model": "nope"})


def test_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        EvalParams().alpha = 0.1  # type: ignore[misc]


def test_from_mapping_accepts_papermill_lists_and_ignores_verdict_path():
    p = EvalParams.from_mapping({"event_windows": [[0, 0], [-1, 1]], "market_proxy": "iwm",
                                 "verdict_path": "x.json", "alpha": 0.1})
    assert p.event_windows == ((0, 0), (-1, 1))
    assert p.market_proxy == "IWM"
    assert p.alpha == 0.1
    assert p == EvalParams(event_windows=((0, 0), (-1, 1)), market_proxy="IWM", alpha=0.1)


def test_to_dict_round_trips():
    p = EvalParams(alpha=0.01, as_of="2025-10-14")
    assert EvalParams.from_mapping(p.to_dict()) == p
    assert p.to_dict()["event_windows"] == [[0, 0], [0, 1], [-1, 1], [0, 5]]


@pytest.mark.parametrize("kwargs, message", [
    ({"source": "bloomberg"}, "source"),
    ({"model": "capm"}, "model"),
    ({"market_proxy": ""}, "market_proxy"),
    ({"estimation_length": 2.5}, "estimation_length"),
    ({"estimation_length": 10}, "too short"),
    ({"estimation_end": 0}, "negative"),
    ({"min_estimation_obs": 500}, "min_estimation_obs"),
    ({"event_windows": [[1, 0]]}, "reversed"),
    ({"event_windows": []}, "empty"),
    ({"event_windows": "0,1"}, "pairs"),
    ({"event_windows": [[0, 1, 2]]}, "pair"),
    ({"event_windows": [[-20, 0]]}, "overlaps the estimation window"),
    ({"alpha": 0.0}, "alpha"),
    ({"alpha": 0.7}, "alpha"),
    ({"alpha": True}, "alpha"),
    ({"alpha": "0.05"}, "alpha"),
    ({"placebo_draws": -1}, "placebo_draws"),
    ({"as_of": "mid October"}, "as_of"),
    ({"seed": -3}, "seed"),
])
def test_bad_values_raise_parameter_error(kwargs, message):
    with pytest.raises(ParameterError, match=message):
        EvalParams(**kwargs)


def test_unknown_key_raises():
    with pytest.raises(ParameterError, match="unknown parameter.*marketproxy"):
        EvalParams.from_mapping({"marketproxy": "SPY"})


def test_market_proxy_not_in_snapshot_is_a_parameter_error_naming_nearest():
    with pytest.raises(ParameterError, match=r"FOO is not in the snapshot.*nearest available"):
        EvalParams(market_proxy="FOO")


def test_as_of_outside_the_proxy_coverage_states_the_range():
    with pytest.raises(ParameterError, match=r"as_of=2010-01-01 is outside.*2023-01-03 \.\. 2026-05-29"):
        EvalParams(as_of="2010-01-01", market_proxy="SPY")


def test_report_rejects_unknown_proxy_before_running(tmp_path, capsys):
    from research.report.cli import main

    code = main(["-p", "market_proxy", "FOO", "--output", str(tmp_path / "r"), "--no-progress"])
    assert code == 2
    assert "FOO is not in the snapshot" in capsys.readouterr().err
    assert not (tmp_path / "r").exists() or not any((tmp_path / "r").rglob("*.html"))
