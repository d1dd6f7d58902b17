"""Where the package's data lives.

The repository's ``data/`` directory holds the embedded price snapshot
(``data/snapshot``) and the article records (``data/article``). Set the environment
variable ``RESEARCH_DATA_DIR`` to use another data directory (e.g. a temporary copy in
tests). The yfinance cache defaults to ``<repo>/.cache/yfinance`` (git-ignored);
override it with ``RESEARCH_CACHE_DIR``.
"""

from __future__ import annotations

import os
import tempfile
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


def atomic_write_bytes(path: Path, payload: bytes) -> None:
    """Write ``payload`` to ``path`` atomically (temp file in the same dir + ``os.replace``).

    A crash leaves either the old file or the new one, never a half-written file.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    tmp = Path(name)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
            fh.flush()
            os.fsync(fh.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp creates 0600; use the usual file mode
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def atomic_write_text(path: Path, text: str) -> None:
    """UTF-8 text variant of :func:`atomic_write_bytes`."""
    atomic_write_bytes(path, text.encode("utf-8"))
