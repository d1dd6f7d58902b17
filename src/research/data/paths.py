"""Where the package's data lives.

The repository's ``data/`` directory holds the embedded price snapshot
(``data/snapshot``) and the shipped article, one directory per article under
``data/articles/`` (see docs/ARTICLES.md). Set the environment
variable ``RESEARCH_DATA_DIR`` to use another data directory (e.g. a temporary copy in
tests). The yfinance cache defaults to ``<repo>/.cache/yfinance`` (git-ignored);
override it with ``RESEARCH_CACHE_DIR``.
"""

from __future__ import annotations

import os
from pathlib import Path

from research.errors import MalformedDataError, PathError

#: ``src/research/data/paths.py`` -> the repository root (editable/src-layout install).
REPO_ROOT: Path = Path(__file__).resolve().parents[3]

SNAPSHOT_FILE = "prices.parquet"
MANIFEST_FILE = "MANIFEST.json"
#: Sessions whose implausible-looking close jump is real (``ticker,date,reason``); read
#: beside the market data and in the data directory (research.data.validate).
ALLOWED_JUMPS_FILE = "allowed_jumps.csv"
ARTICLE_FILES = ("source-article-ja.txt", "claims.md", "events.csv", "facts.csv")


def data_dir() -> Path:
    """The data directory: ``$RESEARCH_DATA_DIR`` if set, else ``<repo>/data``."""
    env = os.environ.get("RESEARCH_DATA_DIR")
    return Path(env).expanduser().resolve() if env else REPO_ROOT / "data"


def snapshot_dir() -> Path:
    """Directory of the embedded snapshot (``prices.parquet`` + ``MANIFEST.json``)."""
    return data_dir() / "snapshot"


ARTICLE_YAML = "article.yaml"


def articles_dir() -> Path:
    """Directory of the shipped articles: ``<data>/articles``."""
    return data_dir() / "articles"


def default_article_dir() -> Path:
    """The shipped article's directory: ``$RESEARCH_ARTICLE_DIR`` if set, else the one
    directory under ``<data>/articles`` that holds an ``article.yaml``.

    Raises
    ------
    MalformedDataError
        No such directory, or several (then pass the article directory explicitly).
    """
    env = os.environ.get("RESEARCH_ARTICLE_DIR")
    if env:
        return Path(env).expanduser().resolve()
    root = articles_dir()
    found = sorted(p for p in root.iterdir() if (p / ARTICLE_YAML).is_file()) if root.is_dir() else []
    if len(found) != 1:
        raise MalformedDataError(
            f"{root} holds {len(found)} article directories ({', '.join(p.name for p in found) or 'none'}); "
            "pass the article directory explicitly (e.g. load_article('data/articles/<id>')) or set "
            "RESEARCH_ARTICLE_DIR"
        )
    return found[0]


def article_dir() -> Path:
    """Alias of :func:`default_article_dir` (the shipped article's files)."""
    return default_article_dir()


def cache_dir() -> Path:
    """yfinance cache directory: ``$RESEARCH_CACHE_DIR`` or ``<repo>/.cache/yfinance``."""
    env = os.environ.get("RESEARCH_CACHE_DIR")
    return Path(env).expanduser().resolve() if env else REPO_ROOT / ".cache" / "yfinance"


def results_cache_dir() -> Path:
    """Cache of computed results keyed by their inputs' content (e.g. the specification
    grid): ``$RESEARCH_RESULTS_CACHE`` or ``<repo>/.cache/results`` (git-ignored)."""
    env = os.environ.get("RESEARCH_RESULTS_CACHE")
    return Path(env).expanduser().resolve() if env else REPO_ROOT / ".cache" / "results"


def require_directory(path: Path | str, what: str, fix: str = "pass a directory (it is created if missing)") -> Path:
    """``path`` if it is, or can become, a directory; else a one-line :class:`PathError`.

    Refused: ``path`` or its nearest existing ancestor is not a directory (a file, say).

    Parameters
    ----------
    path : the directory to use.
    what : what it is, for the message (e.g. ``"--out"``).
    fix : what to do instead, for the message.
    """
    p = Path(path)
    for q in (p, *p.parents):
        if q.is_dir():
            return p
        if q.exists() or q.is_symlink():
            why = "is a file, not a directory" if q == p else f"is inside {q}, which is a file"
            raise PathError(f"{what} {p} {why}; {fix}")
    return p


def require_file_slot(path: Path | str, what: str, fix: str) -> Path:
    """``path`` unless a directory sits where that file belongs (then a one-line :class:`PathError`)."""
    p = Path(path)
    if p.is_dir():
        raise PathError(f"{what} {p} is a directory, not a file; {fix}")
    return p


def shared_market_data() -> Path:
    """Default source of ``build-snapshot``: ``<repo>/../shared/market-data``."""
    return REPO_ROOT.parent / "shared" / "market-data"

