"""The loader on real files in a temporary inbox and a real DuckDB warehouse: rejects,
idempotency, one transaction per file, quarantine, event deduplication and late matching."""

from __future__ import annotations

import pytest
from loading_helpers import (
    CONTACT_HEADER,
    KEY,
    assert_counts_add_up,
    by_name,
    query,
    rejects_of,
    warehouse_snapshot,
    write,
)

from ouderpeil.errors import OuderpeilError
from ouderpeil.loading import FileLoadResult, LoadReport, load_inbox, loader
from ouderpeil.loading.pseudonymise import pseudonym


# --------------------------------------------------------------------------- reject reasons
def test_every_field_reason_is_rejected_with_row_column_and_value(schools_loaded):
    settings = schools_loaded
    good = "2025-10-03 14:30:00,tienminutengesprek,school,leervorderingen,gehouden,10,false"
    rows = [
        f"C1,12AB00,F1,S1,T1,{good}",  # row 2
        "C2,12AB00,,S1,T1,2025-10-03 14:30:00,telefoon,ouder,gedrag,gehouden,5,true",  # 3
        "C3,12AB00,F3,S3,T1,2025-10-03 14:30:00,telefoon,ouder,gedrag,gehouden,tien,",  # 4
        "C4,12AB00,F4,S4,T1,gisteren,telefoon,ouder,gedrag,gehouden,5,",  # 5
        "C5,12AB00,F5,S5,T1,2025-10-03 14:30:00,telefoon,ouder,gedrag,gehouden,5,misschien",
        "C6,12AB00,F6,S6,T1,2025-10-03 14:30:00,postduif,ouder,gedrag,gehouden,5,",  # 7
        "C7,12AB00,F7,S7,T1,2025-10-03 14:30:00,telefoon,ouder,gedrag,gehouden,900,",  # 8
        f"C1,12AB00,F8,S8,T1,{good}",  # 9
        f"C8,99ZZ00,F9,S9,T1,{good}",  # 10
        f"C9,34CD00,F10,S10,,{good}",  # 11
    ]
    write(settings, "contact_logs", "contacts.csv", CONTACT_HEADER + "\n" + "\n".join(rows) + "\n")
    report = load_inbox(settings, sources=["contact_logs"])

    [result] = report.files
    assert (result.rows_in, result.rows_loaded, result.rows_rejected) == (10, 2, 8)
    assert rejects_of(settings, "contacts.csv") == [
        (3, "family_ref", None, "missing_required"),
        (4, "duration_min", "tien", "invalid_int"),
        (5, "contact_at", "gisteren", "invalid_timestamp"),
        (6, "interpreter", "misschien", "invalid_bool"),
        (7, "channel", "postduif", "unknown_code"),
        (8, "duration_min", "900", "out_of_range"),
        (9, "contact_id", "C1", "duplicate_key"),
        (10, "school_id", "99ZZ00", "unknown_school_id"),
    ]
    assert query(settings, "SELECT contact_id, _row_number FROM raw.contact_logs ORDER BY 1") == [
        ("C1", 2),
        ("C9", 11),
    ]
    assert result.reject_reasons["duplicate_key"] == 1
    assert_counts_add_up(settings)


def test_invalid_decimal_and_date_and_unknown_label_are_rejected(schools_loaded):
    settings = schools_loaded
    write(
        settings,
        "schools",
        "more.csv",
        "school_id,school_name,sector,board_id,schoolweging\n"
        "77GH00,A,po,41000,31.5.1\n"
        '78GH00,B,po,41000,"1.234,5"\n'
        "79GH00,C,po,41000,120\n",
    )
    write(
        settings,
        "families",
        "gezinnen.csv",
        "Gezinsnummer;BRIN-vestiging;Ingeschreven vanaf;Opleidingsniveau ouders\n"
        "G1;12AB00;31-02-2025;Laag\n"
        "G2;12AB00;01-08-2025;Middelmatig\n"
        "G3;12AB00;01-08-2025;Midden (havo/vwo/mbo 2-4)\n",
    )
    load_inbox(settings, sources=["schools", "families"])
    assert rejects_of(settings, "more.csv") == [
        (2, "schoolweging", "31.5.1", "invalid_decimal"),
        (3, "schoolweging", "1.234,5", "invalid_decimal"),
        (4, "schoolweging", "120", "out_of_range"),
    ]
    # An unknown label is rejected with the label, never guessed.
    assert rejects_of(settings, "gezinnen.csv") == [
        (2, "enrolled_from", "31-02-2025", "invalid_date"),
        (3, "parent_education", "Middelmatig", "unknown_code"),
    ]
    assert query(settings, "SELECT parent_education FROM raw.families") == [("midden",)]
    assert_counts_add_up(settings)


def test_malformed_csv_row_is_rejected_and_the_rest_loads(schools_loaded):
    settings = schools_loaded
    write(
        settings,
        "messages",
        "berichten.csv",
        "message_id,school_id,family_ref,sent_at,channel,purpose,language,tip_id\n"
        "M1,12AB00,F1,2025-10-01 08:00:00,app,tip,nl,T1\n"
        "M2,12AB00,F1\n"
        "M3,12AB00,F2,2025-10-01 08:00:00,sms,voortgang,nl,,extra\n"
        "M4,12AB00,F2,2025-10-01 08:00:00,sms,voortgang,nl,\n"
        "M5,12AB00,F2,2025-10-01 08:00:00,sms,voortgang,nl,,,\n",
    )  # empty extras: fine
    [result] = load_inbox(settings, sources=["messages"]).files
    assert (result.rows_in, result.rows_loaded, result.rows_rejected) == (5, 3, 2)
    assert rejects_of(settings, "berichten.csv") == [
        (3, None, None, "malformed_row"),
        (4, None, None, "malformed_row"),
    ]
    assert_counts_add_up(settings)


def test_row_numbers_follow_the_file_in_a_large_file(schools_loaded):
    settings = schools_loaded
    # 250 000 rows span several DuckDB row groups (122 880 rows each).
    lines = ["message_id,school_id,family_ref,sent_at,channel,purpose,language,tip_id"]
    for i in range(250_000):
        channel = "postduif" if i in (4_321, 200_001) else "app"
        lines.append(f"M{i},12AB00,F{i % 700},2025-10-01 08:00:00,{channel},tip,nl,T1")
    write(settings, "messages", "groot.csv", "\n".join(lines) + "\n")
    [result] = load_inbox(settings, sources=["messages"]).files
    assert (result.rows_loaded, result.rows_rejected) == (249_998, 2)
    # Data row i is file row i + 2 (the header is row 1).
    assert rejects_of(settings, "groot.csv") == [
        (4_323, "channel", "postduif", "unknown_code"),
        (200_003, "channel", "postduif", "unknown_code"),
    ]
    assert query(
        settings,
        "SELECT count(*) FROM raw.messages "
        "WHERE _row_number <> CAST(substr(message_id, 2) AS INT) + 2",
    ) == [(0,)]


def test_school_ids_are_not_checked_before_schools_are_loaded(settings):
    write(
        settings,
        "families",
        "f.csv",
        "family_ref,school_id,enrolled_from,parent_education\nF1,99ZZ00,2025-08-01,laag\n",
    )
    [result] = load_inbox(settings).files
    assert (result.rows_loaded, result.rows_rejected) == (1, 0)


def test_duplicate_key_in_a_different_file_is_rejected(schools_loaded):
    settings = schools_loaded
    good = "2025-10-03 14:30:00,telefoon,ouder,gedrag,gehouden,5,"
    write(settings, "contact_logs", "a.csv", f"{CONTACT_HEADER}\nC1,12AB00,F1,,,{good}\n")
    load_inbox(settings)
    write(
        settings,
        "contact_logs",
        "b.csv",
        f"{CONTACT_HEADER}\nC1,12AB00,F2,,,{good}\nC2,12AB00,F2,,,{good}\n",
    )
    b = by_name(load_inbox(settings))["b.csv"]
    assert (b.file_name, b.status, b.rows_loaded, b.rows_rejected) == ("b.csv", "loaded", 1, 1)
    assert rejects_of(settings, "b.csv") == [(2, "contact_id", "C1", "duplicate_key")]
    assert query(settings, "SELECT contact_id, family_ref FROM raw.contact_logs ORDER BY 1") == [
        ("C1", pseudonym(KEY, "F1")),
        ("C2", pseudonym(KEY, "F2")),
    ]


# --------------------------------------------------------------------------- idempotency
def test_loading_the_same_files_again_changes_nothing(schools_loaded):
    settings = schools_loaded
    good = "2025-10-03 14:30:00,telefoon,ouder,gedrag,gehouden,5,"
    write(
        settings,
        "contact_logs",
        "a.csv",
        f"{CONTACT_HEADER}\nC1,12AB00,F1,,,{good}\nC1,12AB00,F1,,,{good}\n",
    )
    first = load_inbox(settings)
    assert [f.status for f in first.files] == ["loaded"]  # schools.csv was loaded: archived
    before = warehouse_snapshot(settings)

    # The same bytes under another name are the same file, too.
    write(
        settings,
        "contact_logs",
        "a-copy.csv",
        f"{CONTACT_HEADER}\nC1,12AB00,F1,,,{good}\nC1,12AB00,F1,,,{good}\n",
    )
    again = load_inbox(settings)
    assert {f.status for f in again.files} == {"skipped"}
    assert warehouse_snapshot(settings) == before
    assert "skipped" in again.to_text()


def test_files_loaded_before_are_not_read_again_unless_they_change(schools_loaded, monkeypatch):
    """Loaded files stay in the inbox; a file with the same size and modification time as
    when it was hashed is recognised without reading it (loading/hash_cache.py)."""
    import os

    from ouderpeil.loading import readers

    settings = schools_loaded
    monkeypatch.setenv("OUDERPEIL_RAW_FILES", "keep")  # files stay (loading/archive.py)
    good = "2025-10-03 14:30:00,telefoon,ouder,gedrag,gehouden,5,"
    path = write(settings, "contact_logs", "a.csv", f"{CONTACT_HEADER}\nC1,12AB00,F1,,,{good}\n")
    assert by_name(load_inbox(settings))["a.csv"].status == "loaded"

    def no_reading(*args, **kwargs):
        raise AssertionError("an unchanged, loaded file was read again")

    with monkeypatch.context() as patched:
        patched.setattr(readers, "hash_and_encoding", no_reading)
        assert {f.status for f in load_inbox(settings).files} == {"skipped"}

    # Appended to (new size and time): read, hashed and loaded as the new content of a.csv,
    # which replaces the earlier load of that name (docs/LOADING.md "Files that change").
    path.write_text(path.read_text() + f"C2,12AB00,F2,,,{good}\n", encoding="utf-8")
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns - 10**9))
    again = by_name(load_inbox(settings))["a.csv"]
    assert again.status == "loaded" and again.rows_loaded == 2
    assert "replaces the earlier load" in again.message


# --------------------------------------------------------------------------- transactions
def test_a_failure_half_way_leaves_the_warehouse_as_before(schools_loaded, monkeypatch):
    settings = schools_loaded
    good = "2025-10-03 14:30:00,telefoon,ouder,gedrag,gehouden,5,"
    path = write(
        settings,
        "contact_logs",
        "a.csv",
        f"{CONTACT_HEADER}\nC1,12AB00,F1,,,{good}\nC2,99ZZ00,F1,,,{good}\n",
    )
    before = warehouse_snapshot(settings)
    inserted = []

    def rows_then_crash(con, *args, **kwargs):
        inserted.append(con.execute("SELECT count(*) FROM raw.contact_logs").fetchone()[0])
        raise RuntimeError("disk full (injected)")

    # Raw rows are inserted before the rejects: the crash comes after real inserts.
    monkeypatch.setattr(loader, "_insert_rejects", rows_then_crash)
    with pytest.raises(RuntimeError, match="injected"):
        load_inbox(settings)
    assert inserted == [1]
    assert warehouse_snapshot(settings) == before
    assert path.exists()

    monkeypatch.undo()
    result = by_name(load_inbox(settings))["a.csv"]
    assert (result.status, result.rows_loaded, result.rows_rejected) == ("loaded", 1, 1)
    assert_counts_add_up(settings)


# --------------------------------------------------------------------------- quarantine
@pytest.mark.parametrize(
    "name, content, reason",
    [
        ("leeg.csv", b"", "empty"),
        ("spaties.csv", b"  \r\n\r\n", "empty"),
        ("foto.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
        ("onbekend.csv", b"Kolom A;Kolom B\n1;2\n", "no contact_logs columns recognised"),
        ("half.csv", b"contact_id,school_id,family_ref\nC1,12AB00,F1\n", "lacks required"),
        ("kapot.xlsx", b"PK\x03\x04 not really a zip", "not a readable Excel workbook"),
        ("contacten.pdf", b"%PDF-1.4", "not accepted for contact_logs"),
    ],
)
def test_unreadable_file_is_quarantined_and_others_still_load(
    schools_loaded, name, content, reason
):
    settings = schools_loaded
    good = "2025-10-03 14:30:00,telefoon,ouder,gedrag,gehouden,5,"
    (settings.inbox_dir / "contact_logs").mkdir(parents=True, exist_ok=True)
    (settings.inbox_dir / "contact_logs" / name).write_bytes(content)
    write(settings, "contact_logs", "zz-goed.csv", f"{CONTACT_HEADER}\nC1,12AB00,F1,,,{good}\n")

    report = load_inbox(settings, sources=["contact_logs"])
    statuses = {f.file_name: f.status for f in report.files}
    assert statuses == {name: "quarantined", "zz-goed.csv": "loaded"}
    assert not (settings.inbox_dir / "contact_logs" / name).exists()
    moved = settings.quarantine_dir / "contact_logs" / name
    assert moved.read_bytes() == content
    note = (settings.quarantine_dir / "contact_logs" / f"{name}.reason.txt").read_text()
    assert f"file: {name}" in note and reason in note
    assert query(
        settings, "SELECT status, rows_in FROM raw.raw_load_files WHERE file_name = ?", [name]
    ) == [("quarantined", 0)]
    assert reason in report.to_text()


def test_unknown_source_is_an_error(settings):
    with pytest.raises(OuderpeilError, match="unknown source"):
        load_inbox(settings, sources=["leerlingen"])


# --------------------------------------------------------------------------- message events
def event(event_id: str, message_id: str, event_type: str = "delivered", **extra) -> str:
    import json

    return json.dumps(
        {
            "event_id": event_id,
            "message_id": message_id,
            "event_type": event_type,
            "occurred_at": "2025-10-01T08:01:00+02:00",
            **extra,
        }
    )


def test_events_are_deduplicated_within_and_across_files(settings):
    write(
        settings,
        "message_events",
        "a.jsonl",
        "\n".join([event("E1", "M1"), event("E2", "M1", "read"), event("E1", "M1")]) + "\n",
    )
    write(
        settings,
        "message_events",
        "b.jsonl",
        "\n".join([event("E2", "M1", "read"), event("E3", "M2", "failed", error_code="30003")])
        + "\n",
    )
    report = load_inbox(settings)
    assert [(f.rows_in, f.rows_loaded, f.rows_rejected) for f in report.files] == [
        (3, 2, 1),
        (2, 1, 1),
    ]
    assert query(
        settings, "SELECT event_id, count(*) FROM raw.message_events GROUP BY 1 ORDER BY 1"
    ) == [("E1", 1), ("E2", 1), ("E3", 1)]
    assert rejects_of(settings, "b.jsonl") == [(1, "event_id", "E2", "duplicate_key")]
    assert_counts_add_up(settings)


def test_events_before_their_messages_are_kept_and_match_later(schools_loaded):
    settings = schools_loaded
    write(
        settings,
        "message_events",
        "vroeg.jsonl",
        "\n".join([event("E1", "M1", "sent"), event("E2", "M1", "read"), event("E3", "M9", "sent")])
        + "\n",
    )
    load_inbox(settings)
    assert query(settings, "SELECT count(*) FROM raw.message_events") == [(3,)]
    assert query(settings, "SELECT count(*) FROM raw.raw_rejects") == [(0,)]

    write(
        settings,
        "messages",
        "laat.csv",
        "message_id,school_id,family_ref,sent_at,channel,purpose,language,tip_id\n"
        "M1,12AB00,F1,2025-10-01 08:00:00,app,tip,nl,T1\n",
    )
    load_inbox(settings)
    assert query(
        settings,
        "SELECT e.event_id FROM raw.message_events e JOIN raw.messages m "
        "USING (message_id) ORDER BY 1",
    ) == [("E1",), ("E2",)]


def test_malformed_json_line_is_rejected_with_its_line_number(settings):
    write(
        settings,
        "message_events",
        "webhook.jsonl",
        event("E1", "M1")
        + '\n{"event_id": "E2", \n\n[1, 2]\n'
        + event("E3", "M1", "opened")
        + "\n"
        + event("E4", "M1").replace("+02:00", "")
        + "\n",
    )
    [result] = load_inbox(settings).files
    assert (result.rows_in, result.rows_loaded, result.rows_rejected) == (5, 1, 4)
    assert rejects_of(settings, "webhook.jsonl") == [
        (2, None, None, "malformed_json"),
        (4, None, None, "malformed_json"),
        (5, "event_type", "opened", "unknown_code"),
        (6, "occurred_at", "2025-10-01T08:01:00", "invalid_timestamp"),
    ]


# --------------------------------------------------------------------------- report
def test_report_lists_counts_ignored_columns_and_status(schools_loaded):
    settings = schools_loaded
    write(
        settings,
        "families",
        "gezinnen.csv",
        "Gezinsnummer;BRIN-vestiging;Ingeschreven vanaf;Opleidingsniveau ouders;Notitie;Hobby\n"
        "G1;12AB00;01-08-2025;Laag;x;y\nG2;12AB00;01-08-2025;Vaag;x;y\n",
    )
    report = load_inbox(settings, sources=["families"])
    assert isinstance(report, LoadReport)
    [result] = report.files
    assert isinstance(result, FileLoadResult)
    assert result.ignored_columns == ["Notitie", "Hobby"]
    text = report.to_text()
    for part in (
        "families/gezinnen.csv",
        "rows_in 2",
        "loaded 1",
        "rejected 1",
        "Notitie, Hobby",
        "loaded (profile generic_sis_nl)",
    ):
        assert part in text
    as_dict = report.to_dict()
    assert as_dict["files"][0]["rows_in"] == 2
    assert as_dict["files"][0]["ignored_columns"] == ["Notitie", "Hobby"]
    assert as_dict["totals"]["rows_loaded"] == 1
    assert query(
        settings,
        "SELECT ignored_columns, profile FROM raw.raw_load_files WHERE file_name = 'gezinnen.csv'",
    ) == [('["Notitie", "Hobby"]', "generic_sis_nl")]


def test_quarantine_never_overwrites_an_earlier_quarantined_file(settings):
    write(settings, "messages", "export.csv", "")
    load_inbox(settings)
    write(settings, "messages", "export.csv", "alleen;onzin\n1;2\n")
    report = load_inbox(settings)
    assert [f.status for f in report.quarantined] == ["quarantined"]
    folder = settings.quarantine_dir / "messages"
    assert (folder / "export.csv").read_bytes() == b""
    assert (folder / "export.1.csv").read_bytes() == b"alleen;onzin\n1;2\n"
    assert "no messages columns recognised" in (folder / "export.1.csv.reason.txt").read_text()
    assert query(
        settings, "SELECT count(*) FROM raw.raw_load_files WHERE status = 'quarantined'"
    ) == [(2,)]


def test_empty_inbox_gives_an_empty_report(settings):
    report = load_inbox(settings)
    assert report.files == []
    assert "no new files" in report.to_text()
    assert query(settings, "SELECT count(*) FROM raw.raw_load_files") == [(0,)]


def test_fast_and_tolerant_csv_readers_load_the_same_values(schools_loaded):
    """A clean file goes through DuckDB's reader, a file with one malformed row through
    Python's csv module; the good rows must come out identical."""
    settings = schools_loaded
    header = "message_id;school_id;family_ref;sent_at;channel;purpose;language;tip_id"
    rows = [
        'M1;12AB00;F1;2025-10-01 08:00:00;app;tip;nl;"T;1"',
        "M2; 12AB00 ;F2;2025-10-01T09:30:00;email;voortgang;;",
        'M3;12AB00;"F ""3""";2025-10-01 10:00;sms;herinnering;ar;',
    ]
    write(settings, "messages", "fast.csv", "\n".join([header] + rows) + "\n")
    tolerant = [r.replace("M", "N", 1) for r in rows] + ["N4;12AB00"]
    write(settings, "messages", "tolerant.csv", "\n".join([header] + tolerant) + "\n")
    report = load_inbox(settings, sources=["messages"])
    assert [(f.rows_loaded, f.rows_rejected) for f in report.files] == [(3, 0), (3, 1)]
    columns = "school_id, family_ref, sent_at, channel, purpose, language, tip_id, _row_number"
    fast = query(
        settings,
        f"SELECT {columns} FROM raw.messages WHERE _file_name = 'fast.csv' ORDER BY _row_number",
    )
    slow = query(
        settings,
        f"SELECT {columns} FROM raw.messages "
        "WHERE _file_name = 'tolerant.csv' ORDER BY _row_number",
    )
    assert fast == slow
    assert fast[0][-2] == "T;1" and fast[1][0] == "12AB00" and fast[1][-3] is None
    assert fast[2][1] == pseudonym(KEY, 'F "3"')
