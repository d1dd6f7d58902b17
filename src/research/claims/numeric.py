"""Small numeric predicates shared by the claims layer."""

from __future__ import annotations

import math
from typing import Any

__all__ = ["finite"]


def finite(x: Any) -> bool:
    """True when ``x`` converts to a finite float (False for None, NaN, inf, text)."""
    try:
        return x is not None and math.isfinite(float(x))
    except (TypeError, ValueError):
        return False
