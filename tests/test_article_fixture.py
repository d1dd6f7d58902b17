"""A second article the package has never seen (tests/fixtures/articles/chips-and-tariffs:
real dated moves of snapshot tickers) goes through `research article new/check` and
`evaluate`; every expected verdict is derived here from the snapshot's returns with
statsmodels / pandas, not from the package's output."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
import yaml
from scipy import stats

from research import cli
from research.claims import EvalParams, RULES, evaluate, evaluate_all, load_article
from research.data import close_panel, load_prices, returns

FIXTURE = Path(__file__).parent / "fixtures" / "articles" / "chips-and-tariffs"
ALPHA = 0.05
EST_LEN, EST_END = 250, -11          # EvalParams defaults: estimation window [-260, -11]


@pytest.fixture(scope="module")
def article():
    return load_article(FIXTURE)


@pytest.fixture(scope="module")
def verdicts(article):
    return {v.claim_id: v for v in evaluate_all(EvalParams(placebo_draws=0), article=article)}


@pytest.fixture(scope="module")
def rets():
    tickers = ["NVDA", "AVGO", "AMD", "PLTR", "SPY"]
    closes = close_panel(load_prices(tickers, start="2023-01-01", end="2025-05-30", source="snapshot"), "close")
    return closes, returns(closes, "simple")


def _estimation(r: pd.Series, day0: str) -> tuple[int, pd.Series]:
    i = r.index.get_loc(pd.Timestamp(day0))
    return i, r.iloc[i + EST_END - EST_LEN + 1: i + EST_END + 1]


def _market_model(y: pd.Series, m: pd.Series, day0: str, window=(0, 0)) -> tuple[float, float, int]:
    """CAR, t (CAR / (sigma * sqrt(L)), OLS residual sigma) and the residual df, by statsmodels."""
    i, est = _estimation(y, day0)
    fit = sm.OLS(est.to_numpy(), sm.add_constant(m.loc[est.index].to_numpy())).fit()
    a, b = fit.params
    sl = slice(i + window[0], i + window[1] + 1)
    car = float((y.iloc[sl] - (a + b * m.iloc[sl])).sum())
    return car, car / (math.sqrt(fit.scale) * math.sqrt(window[1] - window[0] + 1)), int(fit.df_resid)


def _p(t: float, df: int) -> float:
    return float(2 * stats.t.sf(abs(t), df))


# ---- new / check -------------------------------------------------------------------
def test_check_passes_and_prints_each_events_day0(capsys):
    assert cli.main(["article", "check", str(FIXTURE)]) == 0
    out = capsys.readouterr().out
    assert "ev-liberation-day: 2025-04-02 after_close -> day 0 2025-04-03" in out   # after the close: next session
    assert "ev-deepseek: 2025-01-27 pre_open -> day 0 2025-01-27" in out
    assert "OK -- 6 claim(s), 7 event(s), 3 fact(s), 3 page(s)" in out


def test_new_writes_a_scaffold_that_passes_check(tmp_path, capsys):
    d = tmp_path / "My Article"
    assert cli.main(["article", "new", str(d)]) == 0
    assert cli.main(["article", "check", str(d)]) == 0
    art = load_article(d)
    assert art.id == "my-article" and [c.id for c in art.claims] == ["outlook"]
    assert [p.claims for p in art.layout.pages] == [("outlook",)]
    text = (d / "claims.yaml").read_text(encoding="utf-8")
    for rule_type in RULES:   # one commented example of every registered rule type
        assert f"type: {rule_type}" in text, rule_type
    assert (d / "events.csv").read_text().startswith("event_id,date,timing") and len(
        (d / "events.csv").read_text().splitlines()) == 1
    # refuses to overwrite an existing article
    assert cli.main(["article", "new", str(d)]) == 1
    assert "already holds" in capsys.readouterr().err


def test_every_scaffold_example_is_a_valid_claim(tmp_path):
    """Uncommenting the scaffold's examples gives claims the schema accepts (the references
    they need -- events, facts, baskets -- are added here)."""
    d = tmp_path / "ex"
    cli.main(["article", "new", str(d)])
    text = (d / "claims.yaml").read_text(encoding="utf-8")
    examples = "\n".join(ln[1:] for ln in text.splitlines() if ln.startswith("#  ") or ln.startswith("#    "))
    for old, new in (("AAA", "NVDA"), ("BBB", "AVGO"), ("CCC", "AMD")):
        examples = examples.replace(old, new)
    claims = yaml.safe_load(examples)
    doc = yaml.safe_load(text)
    doc["claims"] += claims
    (d / "claims.yaml").write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    ids = [c["id"] for c in doc["claims"]]
    lay = yaml.safe_load((d / "layout.yaml").read_text())
    lay["pages"][0]["claims"] = ids
    (d / "layout.yaml").write_text(yaml.safe_dump(lay), encoding="utf-8")
    meta = yaml.safe_load((d / "article.yaml").read_text())
    meta["baskets"] = {"chips": ["NVDA", "AVGO"]}
    (d / "article.yaml").write_text(yaml.safe_dump(meta), encoding="utf-8")
    (d / "article.md").write_text("\n".join(q for c in doc["claims"] for q in c["quote"]), encoding="utf-8")
    ev = "event_id,date,timing,title,tickers,claim_ids,reported_move,source_urls\n"
    for e in ("ev-news", "ev-deal-a", "ev-deal-b", "ev-results"):
        ev += f"{e},2025-01-27,pre_open,t,NVDA,{ids[1]},,\n"
    (d / "events.csv").write_text(ev, encoding="utf-8")
    (d / "facts.csv").write_text("fact_id,claim_id,metric,entity,period,value,unit,source_urls\n"
                                 "f-rev-now,revenue-grew,revenue,A,Q1,15,USD m,https://x\n"
                                 "f-rev-before,revenue-grew,revenue,A,Q0,2.5,USD m,https://x\n"
                                 "f-prize-date,prize,date,A,2025,2025-01-07,date,https://x\n", encoding="utf-8")
    art = load_article(d)
    assert {c.rule.type for c in art.claims} == set(RULES)


def test_check_reports_every_problem_with_file_line_and_claim(tmp_path, capsys):
    d = tmp_path / "bad"
    shutil.copytree(FIXTURE, d)
    text = (d / "claims.yaml").read_text(encoding="utf-8")
    text = text.replace("      direction: down\n      window: [0, 0]", "      direction: sideways\n      window: [0, 0]")
    text = text.replace("    tickers: [NVDA, AVGO]\n", "    tickers: [NVDA, AVGO, NVDAA]\n")
    (d / "claims.yaml").write_text(text, encoding="utf-8")
    assert cli.main(["article", "check", str(d)]) == 1
    err = capsys.readouterr().err
    assert "claim deepseek-selloff: error: claims/0/rule/direction: 'sideways' is not allowed" in err
    assert "claims.yaml:" in err and "error(s)" in err


def test_check_warns_when_a_claim_tests_its_market_proxy(tmp_path, capsys):
    d = tmp_path / "proxy"
    shutil.copytree(FIXTURE, d)
    text = (d / "claims.yaml").read_text(encoding="utf-8")
    text = text.replace("    spec:\n      model: mean_adjusted      # SPY against SPY under the market model would be 0 by construction\n", "")
    (d / "claims.yaml").write_text(text, encoding="utf-8")
    assert cli.main(["article", "check", str(d)]) == 0
    out = capsys.readouterr().out
    assert "claim liberation-day-crash: warning: the market proxy SPY is itself a tested ticker" in out
    # and indeed: SPY against SPY has no abnormal return to test
    v = evaluate("liberation-day-crash", EvalParams(placebo_draws=0), article=load_article(d))
    assert v.verdict != "supported"
    assert abs(v.evidence.query("window_start == 0 and window_end == 1")["car"].iloc[0]) < 1e-9


# ---- verdicts derived independently ----------------------------------------------------
def test_fall_claim_basket_crashed(verdicts, rets):
    _, r = rets
    basket = r[["NVDA", "AVGO", "AMD"]].mean(axis=1)       # equal weights, simple returns
    car, t, df = _market_model(basket, r["SPY"], "2025-01-27")
    expected = "supported" if car < 0 and _p(t, df) < ALPHA else "not supported"
    v = verdicts["deepseek-selloff"]
    assert expected == "supported" and v.verdict == expected and v.direction == "down"
    assert v.key_numbers["ev-deepseek.basket_car"] == pytest.approx(car, abs=1e-6)
    assert v.key_numbers["ev-deepseek.basket_t_stat"] == pytest.approx(t, rel=0.02)
    # the old up-only rule would have called this crash "not supported": the sign decides
    assert car < -0.05


def test_market_wide_claim_needs_the_mean_adjusted_model(verdicts, rets):
    _, r = rets
    spy = r["SPY"]
    i, est = _estimation(spy, "2025-04-03")
    car = float((spy.iloc[i:i + 2] - est.mean()).sum())
    t = car / (est.std(ddof=1) * math.sqrt(2))
    expected = "supported" if car < 0 and _p(t, len(est) - 1) < ALPHA else "not supported"
    v = verdicts["liberation-day-crash"]
    assert expected == "supported" and v.verdict == expected
    assert v.specification.model == "mean_adjusted" and v.specification.overrides == ("model",)
    assert v.parameters.model == "mean_adjusted"
    assert any("overrides model='mean_adjusted' (parameter: 'market')" in n for n in v.notes)
    row = v.evidence.query("ticker == 'SPY' and window_start == 0 and window_end == 1").iloc[0]
    assert row["car"] == pytest.approx(car, abs=1e-6) and row["t_stat"] == pytest.approx(t, rel=0.02)


def test_fact_claim_is_checked_against_facts_csv(verdicts, article):
    facts = {f.fact_id: f.value for f in article.facts}
    outcomes = [facts["f-pause-days"] == 90,                                # "90 days"
                abs(facts["f-baseline"] - 20) <= 0.05 * abs(facts["f-baseline"]),  # "20%" vs the fact
                str(facts["f-pause-date"]).startswith("2025-04")]           # "in April 2025"
    expected = ("accurate" if all(outcomes) else "wrong" if not any(outcomes) else "partly wrong")
    v = verdicts["tariff-facts"]
    assert expected == "partly wrong" and v.fact_verdict == expected and v.check == ("fact",)
    assert v.verdict == "partly supported" and v.direction == ""
    assert [i.outcome for i in v.fact_items] == ["accurate" if o else "wrong" for o in outcomes]
    assert "The baseline tariff is 20%" in v.headline


def test_rolling_return_claim(verdicts, rets):
    closes, _ = rets
    c = closes.loc[:"2025-04-15", ["NVDA", "AVGO"]]
    roll = (c / c.shift(21) - 1).tail(30)
    lows = roll.min()
    expected = ("supported" if (lows < -0.15).all() else "partly supported" if (lows < -0.15).any()
                else "not supported")
    v = verdicts["chip-slump"]
    assert expected == "supported" and v.verdict == expected
    for t in ("NVDA", "AVGO"):
        assert v.key_numbers[t]["min_rolling_21d_return"] == pytest.approx(lows[t], abs=1e-9)
        assert f"{t} {lows[t]:+.0%}" in v.headline


def test_all_rose_pairs_claim(verdicts, rets, article):
    _, r = rets
    pairs = [("NVDA", "2024-05-23"), ("AMD", "2024-07-31"), ("AVGO", "2024-12-13"), ("PLTR", "2025-02-04")]
    est = [_market_model(r[t], r["SPY"], d) for t, d in pairs]
    cars, ts = [e[0] for e in est], [e[1] for e in est]
    z = sum(ts) / math.sqrt(len(ts))                                  # Stouffer: standardised CARs combined
    p_joint = 2 * stats.norm.sf(abs(z))
    expected = "supported" if all(c > 0 for c in cars) and p_joint < ALPHA and z > 0 else "not supported"
    v = verdicts["results-pops"]
    assert expected == "supported" and v.verdict == expected
    assert v.key_numbers["joint_parametric_z"] == pytest.approx(z, rel=0.02)
    assert v.key_numbers["pairs_in_direction"] == 4
    # AMD rose but alone is not significant: a power note, not a refutation
    amd_p = _p(ts[1], est[1][2])
    assert cars[1] > 0 and amd_p > ALPHA
    assert any("AMD rose" in n and "not a refutation" in n for n in v.notes)
    # under "each" (every member significant on its own) the same data give "partly supported"
    each = yaml.safe_load((FIXTURE / "claims.yaml").read_text(encoding="utf-8"))
    assert any(c["id"] == "results-pops" and c["rule"]["members"] == "all" for c in each["claims"])


def test_each_member_semantic_caps_at_partly(tmp_path):
    d = tmp_path / "each"
    shutil.copytree(FIXTURE, d)
    text = (d / "claims.yaml").read_text(encoding="utf-8").replace("      members: all\n", "      members: each\n")
    (d / "claims.yaml").write_text(text, encoding="utf-8")
    v = evaluate("results-pops", EvalParams(placebo_draws=0), article=load_article(d))
    assert v.verdict == "partly supported"


def test_as_of_and_seed_default_to_the_articles(verdicts, article):
    v = verdicts["chip-slump"]
    assert v.as_of == article.as_of.isoformat() == v.specification.as_of
    assert v.parameters.seed == article.seed and v.parameters.market_proxy == article.market_proxy


def test_article_api(article):
    assert article.id == "chips-and-tariffs" and article.language == "en"
    assert article.baskets["chips"] == ("NVDA", "AVGO", "AMD")
    assert article.claim("results-pops").checks == ("price",)
    assert article.claim_prose("deepseek-selloff").startswith("The DeepSeek selloff")
    assert article.claim_prose("chip-slump") is None
    assert article.layout.page_of("tariff-facts").name == "shocks"
    assert article.layout.pages[1].intro_md.startswith("Two shocks")
    assert list(article.events_frame()["event_id"])[:2] == ["ev-deepseek", "ev-liberation-day"]
    assert article.facts_frame().set_index("fact_id").loc["f-baseline", "value"] == 10.0
    assert "Chip stocks crashed" in article.text
    assert np.isfinite(article.facts_frame().set_index("fact_id").loc["f-pause-days", "value"])
