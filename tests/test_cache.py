"""The one results cache (:mod:`research.cache`): content keys, one computation for
concurrent processes, authenticated entries, a bad entry recomputed."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from research.cache import ResultCache, code_version, content_key, file_digest

SRC = Path(__file__).resolve().parents[1] / "src"


def test_keys_are_over_content_not_file_times(tmp_path):
    f = tmp_path / "a.txt"
    f.write_bytes(b"same bytes")
    d1 = file_digest(f)
    os.utime(f, (1_000_000, 1_000_000))
    assert file_digest(f) == d1
    f.write_bytes(b"other bytes")
    assert file_digest(f) != d1 and file_digest(tmp_path / "missing") == ""
    assert content_key("x", {"b": 1, "a": 2}) == content_key("x", {"a": 2, "b": 1})
    assert content_key("x", {"a": 1}) != content_key("x", {"a": 2})
    assert len(code_version()) == 64 and code_version() == code_version()


def _cache(tmp_path):
    return ResultCache(tmp_path / "cache", "test")


def test_an_entry_round_trips_and_a_second_call_computes_nothing(tmp_path):
    calls = []

    def compute():
        calls.append(1)
        return "value"

    c = _cache(tmp_path)
    assert c.get_or_compute("k1", compute, encode=str.encode, decode=bytes.decode) == ("value", True)
    assert c.get_or_compute("k1", compute, encode=str.encode, decode=bytes.decode) == ("value", False)
    assert calls == [1]
    assert (tmp_path / "cache" / "test" / ".hmac-key").stat().st_mode & 0o777 == 0o600
    assert not [p for p in (tmp_path / "cache" / "test").iterdir() if p.name.endswith(".tmp")]


@pytest.mark.parametrize("damage", ["edited", "truncated", "garbage", "swapped", "refused"])
def test_a_bad_entry_is_recomputed_with_one_warning(tmp_path, caplog, damage):
    c = _cache(tmp_path)
    c.get_or_compute("k1", lambda: "good", encode=str.encode, decode=bytes.decode)
    c.get_or_compute("k2", lambda: "other", encode=str.encode, decode=bytes.decode)
    path = c.path("k1")
    raw = path.read_bytes()
    if damage == "edited":
        path.write_bytes(raw.replace(b"good", b"evil"))
    elif damage == "truncated":
        path.write_bytes(raw[:10])
    elif damage == "garbage":
        path.write_bytes(b"\x00" * 50)
    elif damage == "swapped":  # a valid entry of another key copied over this one
        path.write_bytes(c.path("k2").read_bytes())
    decode = bytes.decode if damage != "refused" else (lambda b: (_ for _ in ()).throw(ValueError("bad shape")))
    caplog.clear()
    with caplog.at_level("WARNING", logger="research.cache"):
        got = c.get_or_compute("k1", lambda: "good", encode=str.encode, decode=decode)
    assert got == ("good", True)
    assert len(caplog.records) == 1 and "recomputing" in caplog.records[0].getMessage()


def test_a_foreign_key_file_turns_the_disk_cache_off(tmp_path):
    folder = tmp_path / "cache" / "test"
    folder.mkdir(parents=True)
    (folder / ".hmac-key").write_bytes(b"x" * 32)
    os.chmod(folder / ".hmac-key", 0o644)  # readable by others: not a secret
    c = ResultCache(tmp_path / "cache", "test")
    assert not c.enabled
    assert c.get_or_compute("k", lambda: "v", encode=str.encode, decode=bytes.decode) == ("v", True)
    assert not c.path("k").exists()


def test_two_processes_compute_one_entry_once(tmp_path):
    """Two real processes ask for the same key at once: one computes (slowly), the other
    waits on the lock and reads its entry."""
    log = tmp_path / "computed.log"
    script = textwrap.dedent(f"""
        import os, sys, time
        sys.path.insert(0, {str(SRC)!r})
        from research.cache import ResultCache
        def compute():
            with open({str(log)!r}, "a") as fh:
                fh.write(str(os.getpid()) + "\\n")
            time.sleep(1.5)
            return "shared"
        c = ResultCache({str(tmp_path / "cache")!r}, "test")
        value, computed = c.get_or_compute("k", compute, encode=str.encode, decode=bytes.decode)
        print(value, computed)
    """)
    procs = [subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True) for _ in range(2)]
    outs = sorted(p.communicate(timeout=60)[0].strip() for p in procs)
    assert outs == ["shared False", "shared True"]
    assert len(log.read_text().splitlines()) == 1
