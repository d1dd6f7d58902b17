"""``load_article`` loads a directory once per process and again only when its content
changes: a file it read, the prose files present, the follow-up intro (content, not mtimes)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from research.claims.article import load_article
from research.errors import ClaimError

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "articles" / "chips-and-tariffs"


@pytest.fixture()
def art(tmp_path: Path) -> Path:
    d = tmp_path / "article"
    shutil.copytree(FIXTURE, d)
    return d


def test_an_unchanged_directory_is_loaded_once(art):
    a = load_article(art)
    assert load_article(art) is a
    assert "claims.yaml" in a.files and "events.csv" in a.files


def test_a_changed_file_is_read_again_even_with_the_same_mtime(art):
    a = load_article(art)
    meta = art / "article.yaml"
    st = meta.stat()
    text = meta.read_text(encoding="utf-8")
    new_title = "A title changed behind the cache's back"
    meta.write_text(text.replace(f"title: {a.title}", f"title: {new_title}", 1) if f"title: {a.title}" in text
                    else text.replace("title:", f"title: {new_title} #", 1), encoding="utf-8")
    os.utime(meta, ns=(st.st_atime_ns, st.st_mtime_ns))  # same modification time: content decides
    b = load_article(art)
    assert b is not a and b.fingerprint != a.fingerprint
    assert new_title in b.title


def test_a_new_prose_file_and_a_broken_file_are_seen(art):
    a = load_article(art)
    (art / "prose").mkdir(exist_ok=True)
    (art / "prose" / f"{a.claims[0].id}.md").write_text("Bespoke prose.", encoding="utf-8")
    b = load_article(art)
    assert b is not a and b.prose[a.claims[0].id] == "Bespoke prose."
    (art / "claims.yaml").write_text("claims: [", encoding="utf-8")
    with pytest.raises(ClaimError, match="claims.yaml"):
        load_article(art)
