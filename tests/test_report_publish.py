"""publish(): the sidecar a notebook writes for the report runner."""

from __future__ import annotations

import json
import math
import os

import pytest

from research.errors import ReportError
from research.report import publish
from research.atomic import atomic_write_text


class _Obj:
    """A verdict-like object (anything with to_dict())."""

    def __init__(self, cid: str, value: float) -> None:
        self.cid, self.value = cid, value

    def to_dict(self):
        return {"claim_id": self.cid, "verdict": "supported", "key_numbers": {"x": self.value}}


def test_publish_writes_notebook_and_verdicts(tmp_path):
    path = tmp_path / ".verdicts" / "01_quantum_rally.json"
    written = publish([_Obj("C8", 1.25), {"claim_id": "C9", "verdict": "not supported"}], str(path))
    assert written == path
    doc = json.loads(path.read_text())
    assert doc["notebook"] == "01_quantum_rally"
    assert [v["claim_id"] for v in doc["verdicts"]] == ["C8", "C9"]
    assert doc["verdicts"][0]["key_numbers"] == {"x": 1.25}


@pytest.mark.parametrize("path", ["", None])
def test_publish_is_a_no_op_without_path(path, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert publish([{"claim_id": "C1"}], path) is None
    assert list(tmp_path.iterdir()) == []


def test_publish_single_verdict_and_non_finite_numbers(tmp_path):
    path = tmp_path / "nb.json"
    publish(_Obj("C1", math.nan), path)
    text = path.read_text()
    assert "NaN" not in text
    assert json.loads(text)["verdicts"] == [{"claim_id": "C1", "verdict": "supported", "key_numbers": {"x": None}}]


def test_publish_rejects_objects_without_claim_id(tmp_path):
    with pytest.raises(ReportError, match="claim_id"):
        publish([{"verdict": "supported"}], tmp_path / "x.json")
    with pytest.raises(ReportError, match="to_dict"):
        publish([42], tmp_path / "x.json")
    assert not (tmp_path / "x.json").exists()


def test_publish_replaces_atomically(tmp_path, monkeypatch):
    """A crash while writing leaves the previous sidecar intact and no temp file behind."""
    path = tmp_path / "nb.json"
    publish([{"claim_id": "C1", "verdict": "supported"}], path)
    before = path.read_bytes()

    def boom(fd):  # fault injection: the disk write fails after the payload was written
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", boom)
    with pytest.raises(OSError, match="disk full"):
        publish([{"claim_id": "C1", "verdict": "not supported"}], path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["nb.json"]


def test_atomic_write_creates_parents_and_readable_file(tmp_path):
    dest = atomic_write_text(tmp_path / "a" / "b" / "page.html", "<p>x</p>")
    assert dest.read_text() == "<p>x</p>"
    assert dest.stat().st_mode & 0o044 == 0o044  # group/other readable, for hosting
