"""The claim scoreboard: one row per verdict (claim, title, verdict, headline number)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pandas as pd

from research.claims.verdict import KeyNumbers, Verdict, VerdictRecord
from research.vocab import basket_key, finite, pair_key

__all__ = ["scoreboard", "headline", "evidence_table"]


def headline(v: Verdict | VerdictRecord | KeyNumbers) -> str:
    """The verdict's headline number in words (first decisive key number), from its typed
    key numbers alone. The verdict's own one-sentence headline (with its p-value) is
    ``Verdict.headline``; :func:`scoreboard` shows that one.

    Targets are taken in the order of their published key names, so the headline is the
    same whether it is built from the Verdict or from its ``to_dict()`` (the index page).
    """
    k = v if isinstance(v, KeyNumbers) else v.key
    baskets = sorted((t for t in k.targets if t.basket and finite(t.car)), key=lambda t: basket_key(t.event_id, "basket_car"))
    if baskets:
        return f"basket CAR {baskets[0].car:+.2%} ({baskets[0].event_id})"
    reported = k.get("growth_pct_reported")
    if reported is not None:
        return f"growth {reported:.0f}% reported, {k.get('growth_pct_from_revenues'):.0f}% from revenues"
    if k.rolling:
        rows = sorted(k.rolling, key=lambda r: r.ticker)
        return f"max {rows[-1].horizon}-session return: " + ", ".join(f"{r.ticker} {r.max_return:+.0%}" for r in rows)
    pairs = sorted((t for t in k.targets if not t.basket), key=lambda t: pair_key(t.name, t.event_id))
    return "; ".join(f"{t.name} CAR {t.car:+.2%}" for t in pairs if finite(t.car))


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
