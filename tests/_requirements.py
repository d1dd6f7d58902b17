"""One decision for every test that needs something a lone clone cannot have.

Two things live outside the repository:

* ``../shared`` (or ``$RESEARCH_SHARED_DIR``): the article's sources, the market-data
  archive and the estudy2 reference inputs (GPL data that must stay out of the project);
* a headless Chromium (the Debian package ``chromium``).

On a lone clone a test that needs one of them is **skipped** with one clear reason. Where
they are provided (CI: ``.ci/run`` sets ``RESEARCH_REQUIRE_SHARED=1`` and
``RESEARCH_REQUIRE_BROWSER=1``) a missing input is a **failure**, never a skip.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

__all__ = ["REQUIRE_BROWSER", "REQUIRE_SHARED", "require_chromium", "require_shared", "shared_root"]

ROOT = Path(__file__).resolve().parents[1]
REQUIRE_SHARED = "RESEARCH_REQUIRE_SHARED"
REQUIRE_BROWSER = "RESEARCH_REQUIRE_BROWSER"


def _required(var: str) -> bool:
    return os.environ.get(var, "").strip().lower() in {"1", "true", "yes"}


def _missing(var: str, reason: str) -> None:
    if _required(var):
        pytest.fail(f"{reason} ({var}=1: required here, not skipped)", pytrace=False)
    pytest.skip(reason)


def shared_root() -> Path:
    """``$RESEARCH_SHARED_DIR`` or the folder ``shared`` beside the repository."""
    env = os.environ.get("RESEARCH_SHARED_DIR")
    return Path(env) if env else ROOT.parent / "shared"


def require_shared(*parts: str) -> Path:
    """The path ``<shared>/<parts...>``; skip (or fail when required) if it does not exist."""
    path = shared_root().joinpath(*parts)
    if not path.exists():
        _missing(REQUIRE_SHARED,
                 f"needs {path} (the shared folder beside the clone, not part of the project; "
                 f"set RESEARCH_SHARED_DIR to use another place)")
    return path


def require_chromium() -> str:
    """The headless Chromium executable; skip (or fail when required) if there is none."""
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        _missing(REQUIRE_BROWSER,
                 "needs headless Chromium on PATH (`apt-get install -y chromium`)")
    return exe  # type: ignore[return-value]
