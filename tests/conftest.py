"""Fixtures for tests that need ``../shared`` (see ``_requirements``: skip on a lone clone,
fail when ``RESEARCH_REQUIRE_SHARED=1``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from _requirements import require_shared


@pytest.fixture()
def shared_market_data() -> Path:
    """``../shared/market-data`` (the price archive the snapshot is built from)."""
    return require_shared("market-data")


@pytest.fixture()
def shared_article() -> Path:
    """``../shared/article`` (the article's original files)."""
    return require_shared("article")


@pytest.fixture()
def estudy2_reference() -> Path:
    """``../shared/reference/estudy2`` with the GPL-3 inputs ``rates.csv``, ``rates_indx.csv``."""
    require_shared("reference", "estudy2", "rates_indx.csv")
    return require_shared("reference", "estudy2", "rates.csv").parent
