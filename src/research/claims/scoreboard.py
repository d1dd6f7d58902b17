"""The claim scoreboard: one row per verdict (claim, title, verdict, headline number)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pandas as pd

from research.claims.verdict import Verdict

__all__ = ["scoreboard", "headline", "evidence_table"]


def headline(v: Verdict | Any) -> str:
    """The verdict's headline number in words (first decisive key number), from
    ``key_numbers`` alone. The verdict's own one-sentence headline (with its p-value) is
    ``Verdict.headline``; :func:`scoreboard` shows that one.

    Reads the key numbers in sorted key order, so the headline is the same whether it is
    built from the Verdict or from its ``to_dict()`` (the index page), whose keys are sorted.
    """
    k = dict(sorted(v.key_numbers.items()))
    for name, val in k.items():
        if name.endswith(".basket_car") and isinstance(val, (int, float)):
            return f"basket CAR {val:+.2%} ({name.split('.')[0]})"
    if "growth_pct_reported" in k and k["growth_pct_reported"] is not None:
        return f"growth {k['growth_pct_reported']:.0f}% reported, {k['growth_pct_from_revenues']:.0f}% from revenues"
    per = {t: d for t, d in k.items() if isinstance(d, dict) and any(x.startswith("max_rolling") for x in d)}
    if per:
        parts, horizon = [], ""
        for t, d in per.items():
            name, mx = next((x, val) for x, val in sorted(d.items())
                            if x.startswith("max_rolling") and x.endswith("_return"))
            horizon = name.removeprefix("max_rolling_").removesuffix("d_return")
            parts.append(f"{t} {mx:+.0%}")
        return f"max {horizon}-session return: " + ", ".join(parts)
    pairs = {t: d for t, d in k.items() if isinstance(d, dict) and "car" in d}
    if pairs:
        return "; ".join(f"{t.split('@')[0]} CAR {d['car']:+.2%}" for t, d in pairs.items()
                         if isinstance(d["car"], (int, float)))
    return ""


def scoreboard(verdicts: Iterable[Verdict]) -> pd.DataFrame:
    """DataFrame with columns claim_id, title, verdict, fact_check, headline, robustness,
    fragile (one row per verdict; the headline is the verdict's sentence with its key number
    and p-value; robustness the share of the specification grid agreeing with the verdict,
    NaN without a grid; fragile True below the grid's threshold)."""
    rows: list[dict[str, Any]] = [
        {"claim_id": v.claim_id, "title": v.title, "verdict": v.verdict, "fact_check": v.fact_verdict,
         "headline": v.headline or headline(v),
         "robustness": float(v.robustness.share) if v.robustness is not None else float("nan"),
         "fragile": bool(v.robustness.fragile) if v.robustness is not None else False}
        for v in verdicts
    ]
    return pd.DataFrame(rows, columns=["claim_id", "title", "verdict", "fact_check", "headline", "robustness",
                                       "fragile"])


def evidence_table(verdicts: Iterable[Verdict]) -> pd.DataFrame:
    """All verdicts' evidence rows stacked, with a leading ``claim_id`` column; rows that
    appear under several claims (same event, ticker and window) are kept once (first claim)."""
    frames = [v.evidence.assign(claim_id=v.claim_id) for v in verdicts if not v.evidence.empty]
    if not frames:
        return pd.DataFrame()
    out = pd.concat(frames, ignore_index=True)
    out = out[["claim_id"] + [c for c in out.columns if c != "claim_id"]]
    return out.drop_duplicates(subset=["event_id", "ticker", "window_start", "window_end"]).reset_index(drop=True)
