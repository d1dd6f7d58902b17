"""events.csv / facts.csv -> typed records; the shipped article checked against the originals in ../shared/article."""

from __future__ import annotations

import csv
import dataclasses

import pandas as pd
import pytest

import research.data as d
from research.data import paths
from research.errors import CalendarError, MalformedDataError

ART = paths.default_article_dir()


def _csv(name):
    with open(ART / name, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


# The shipped article directory is the project's own copy of the article (what every report
# reads); it is checked against the original in ../shared/article below.
def _ids_as_claims(data: bytes, column: str) -> bytes:
    """The shared CSVs write claim ids as numbers ("6 7"); the shipped copies as the ids of
    claims.yaml ("C6 C7"). Everything else is byte-identical."""
    import io

    rows = list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))
    i = rows[0].index(column)
    for r in rows[1:]:
        if r:
            r[i] = " ".join(f"C{int(x)}" for x in r[i].split())
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows(rows)
    return buf.getvalue().encode("utf-8")


@pytest.mark.parametrize("name", paths.ARTICLE_FILES)
def test_copies_equal_shared(name, shared_article):
    shared = (shared_article / name).read_bytes()
    if name in ("events.csv", "facts.csv"):
        shared = _ids_as_claims(shared, "claim_ids" if name == "events.csv" else "claim_id")
    assert (ART / name).read_bytes() == shared


def test_events_records():
    ev = d.load_events()
    raw = _csv("events.csv")
    assert [e.event_id for e in ev] == [r["event_id"] for r in raw] and len(ev) == 23
    by = {e.event_id: e for e in ev}
    e1 = by["ev01_dod_mp_partnership"]
    assert e1.date == pd.Timestamp("2025-07-10") and e1.timing == "pre_open"
    assert e1.tickers == ("MP", "USAR", "METC", "UAMY") and e1.claim_ids == ("C6", "C7")
    assert len(e1.source_urls) == 3 and all(u.startswith("https://") for u in e1.source_urls)
    assert {e.event_id for e in ev if e.post_article} == {"ev23_us_australia_framework"}
    assert {e.event_id for e in ev if e.timing == "unknown"} >= {"ev10_dimon_bbc", "ev20_dwave_q1_2025"}
    with pytest.raises(dataclasses.FrozenInstanceError):
        e1.timing = "intraday"  # type: ignore[misc]


def test_every_event_ticker_is_in_snapshot_and_aligns():
    avail = set(d.available_tickers())
    for e in d.load_events():
        assert set(e.tickers) <= avail, e.event_id
        a = d.align_event(e.date, e.timing)
        assert a.day0 >= e.date


def test_events_frame():
    df = d.events_frame()
    assert list(df.columns) == ["event_id", "date", "timing", "title", "tickers", "claim_ids",
                                "reported_move", "source_urls", "post_article"]
    assert str(df["date"].dtype) == "datetime64[ns]" and df["event_id"].is_unique
    long = df.explode("tickers")
    assert len(long) == sum(len(r["tickers"].split()) for r in _csv("events.csv"))


def test_facts_records():
    facts = {f.fact_id: f for f in d.load_facts()}
    raw = _csv("facts.csv")
    assert list(facts) == [r["fact_id"] for r in raw]
    assert facts["f01"].value == 1500.0 and facts["f01"].unit == "USD bn" and facts["f01"].claim_ids == ("C1",)
    assert facts["f08"].value == "2025-12-01" and facts["f08"].unit == "date"
    assert facts["f58"].value is None and facts["f58"].verified is False
    assert facts["f37"].verified is False and facts["f37"].source_urls == ()
    assert facts["f21"].claim_ids == ("C4", "C5") and facts["f21"].verified
    numeric = [f for f in facts.values() if isinstance(f.value, float)]
    assert len(numeric) == sum(1 for r in raw if r["unit"] != "date" and r["value"] != "NA")
    ff = d.facts_frame()
    assert len(ff) == len(raw) and ff["fact_id"].is_unique


def _write(tmp_path, name, header, rows):
    p = tmp_path / name
    with open(p, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return p


def _event_rows():
    with open(ART / "events.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    return rows[0], [r[:] for r in rows[1:4]]


def test_unparseable_event_date(tmp_path):
    header, rows = _event_rows()
    rows[1][1] = "2025-10-32"
    p = _write(tmp_path, "events.csv", header, rows)
    with pytest.raises(CalendarError, match=r"events\.csv row 3 \(ev02_exim_loi_tanbreez\): date '2025-10-32'") as ei:
        d.load_events(p)
    assert isinstance(ei.value, MalformedDataError)


def test_malformed_event_rows(tmp_path):
    header, rows = _event_rows()
    bad = [r[:] for r in rows]
    bad[0] = bad[0][:5]
    with pytest.raises(MalformedDataError, match=r"row 2: 5 fields, expected 8"):
        d.load_events(_write(tmp_path, "a.csv", header, bad))
    bad = [r[:] for r in rows]
    bad[2][2] = "overnight"
    with pytest.raises(MalformedDataError, match=r"row 4 .*timing 'overnight'"):
        d.load_events(_write(tmp_path, "b.csv", header, bad))
    bad = [r[:] for r in rows]
    bad[0][5] = "C6,C7"
    with pytest.raises(MalformedDataError, match=r"row 2: claim ids 'C6,C7' must be space-separated ids"):
        d.load_events(_write(tmp_path, "c.csv", header, bad))
    with pytest.raises(MalformedDataError, match="appears twice"):
        d.load_events(_write(tmp_path, "d.csv", header, rows + [rows[0]]))
    with pytest.raises(MalformedDataError, match="header"):
        d.load_events(_write(tmp_path, "e.csv", header[:-1] + ["urls"], rows))
    with pytest.raises(MalformedDataError, match="research article new DIR"):
        d.load_events(tmp_path / "missing.csv")


def test_malformed_fact_value(tmp_path):
    with open(ART / "facts.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    rows[3][5] = "lots"
    with pytest.raises(MalformedDataError, match=r"facts\.csv row 4 \(f03\): value 'lots' is not a number"):
        d.load_facts(_write(tmp_path, "facts.csv", rows[0], rows[1:]))
