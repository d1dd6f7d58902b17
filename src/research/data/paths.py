"""Where the package's data lives.

The repository's ``data/`` directory holds the embedded price snapshot
(``data/snapshot``) and the article records (``data/article``). Set the environment
variable ``RESEARCH_DATA_DIR`` to use another data directory (e.g. a temporary copy in
tests). The yfinance cache defaults to ``<repo>/.cache/yfinance`` (git-ignored);
override it with ``RESEARCH_CACHE_DIR``.
"""

from __future__ import annotations

import os
from pathlib import Path

#: ``src/research/data/paths.py`` -> the repository root (editable/src-layout install).
REPO_ROOT: Path = Path(__file__).resolve().parents[3]

SNAPSHOT_FILE = "prices.parquet"
MANIFEST_FILE = "MANIFEST.json"
ARTICLE_FILES = ("source-article-ja.txt", "claims.md", "events.csv", "facts.csv")


def data_dir() -> Path:
    """The data directory: ``$RESEARCH_DATA_DIR`` if set, else ``<repo>/data``."""
    env = os.environ.get("RESEARCH_DATA_DIR")
    return Path(env).expanduser().resolve() if env else REPO_ROOT / "data"


def snapshot_dir() -> Path:
    """Directory of the embedded snapshot (``prices.parquet`` + ``MANIFEST.json``)."""
    return data_dir() / "snapshot"


def article_dir() -> Path:
    """Directory of the article copies (``events.csv``, ``facts.csv``, ...)."""
    return data_dir() / "article"


def cache_dir() -> Path:
    """yfinance cache directory: ``$RESEARCH_CACHE_DIR`` or ``<repo>/.cache/yfinance``."""
    env = os.environ.get("RESEARCH_CACHE_DIR")
    return Path(env).expanduser().resolve() if env else REPO_ROOT / ".cache" / "yfinance"


def shared_market_data() -> Path:
    """Default source of ``build-snapshot``: ``<repo>/../shared/market-data``."""
    return REPO_ROOT.parent / "shared" / "market-data"

