"""File format variations a Dutch school system produces: separators, encodings, decimal
commas, Dutch dates, Excel and JSON lines, and profile detection from the header."""

from __future__ import annotations

import datetime as dt
import json

import duckdb
import openpyxl
import pytest
from helpers import TEST_HMAC_KEY

from ouderpeil.contracts import SOURCES
from ouderpeil.errors import SourceFileError
from ouderpeil.loading import load_inbox
from ouderpeil.loading.profiles import detect_profile, load_profiles
from ouderpeil.loading.pseudonymise import pseudonym

KEY = bytes.fromhex(TEST_HMAC_KEY)


def write_bytes(settings, source: str, name: str, data: bytes):
    folder = settings.inbox_dir / source
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data)
    return folder / name


def query(settings, sql: str, params=None) -> list[tuple]:
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def only_result(report):
    [result] = report.files
    assert result.status == "loaded", result.message
    assert result.rows_in == result.rows_loaded + result.rows_rejected
    return result


@pytest.mark.parametrize("separator", [",", ";"])
def test_comma_and_semicolon_files_load_the_same_rows(settings, separator):
    rows = [
        [
            "school_id",
            "school_name",
            "sector",
            "board_id",
            "board_name",
            "municipality",
            "schoolweging",
        ],
        ["12AB00", "OBS De Regenboog", "po", "41000", "Stichting Primo", "Utrecht", "31.5"],
        ["34CD00", "Het Lyceum, Utrecht", "vo", "41000", "Stichting Primo", "Utrecht", ""],
    ]
    text = (
        "\n".join(separator.join(f'"{v}"' if separator in v else v for v in row) for row in rows)
        + "\n"
    )
    write_bytes(settings, "schools", "scholen.csv", text.encode())
    result = only_result(load_inbox(settings))
    assert (result.profile, result.rows_loaded) == ("canonical", 2)
    assert query(
        settings, "SELECT school_id, school_name, sector, schoolweging FROM raw.schools ORDER BY 1"
    ) == [("12AB00", "OBS De Regenboog", "po", 31.5), ("34CD00", "Het Lyceum, Utrecht", "vo", None)]


SIS_SCHOOLS = (
    "BRIN-vestiging;Naam school;Sector;Bestuursnummer;Naam bestuur;Gemeente;"
    "Schoolweging;Telefoonnummer\r\n"
    "12AB00;Basisschool Ëlckerlyc;Basisonderwijs;41000;Stichting Café €uro;"
    "Súdwest-Fryslân;31,5;0581-123456\r\n"
    "34CD00;Lyceum Zoë;VO;41000;Stichting Café €uro;Utrecht;28,25;030-1234567\r\n"
)


def expected_sis_schools():
    return [
        ("12AB00", "Basisschool Ëlckerlyc", "po", "Stichting Café €uro", "Súdwest-Fryslân", 31.5),
        ("34CD00", "Lyceum Zoë", "vo", "Stichting Café €uro", "Utrecht", 28.25),
    ]


@pytest.mark.parametrize("encoding", ["cp1252", "utf-8-sig", "utf-8"])
def test_encodings_and_decimal_commas(settings, encoding):
    write_bytes(settings, "schools", "scholen.csv", SIS_SCHOOLS.encode(encoding))
    result = only_result(load_inbox(settings))
    assert (result.profile, result.rows_loaded, result.rows_rejected) == ("generic_sis_nl", 2, 0)
    assert result.ignored_columns == ["Telefoonnummer"]
    assert (
        query(
            settings,
            "SELECT school_id, school_name, sector, board_name, municipality, "
            "schoolweging FROM raw.schools ORDER BY 1",
        )
        == expected_sis_schools()
    )


def test_bom_does_not_hide_the_first_canonical_header(settings):
    text = "school_id,school_name,sector,board_id\n12AB00,Één,po,41000\n"
    write_bytes(settings, "schools", "bom.csv", text.encode("utf-8-sig"))
    result = only_result(load_inbox(settings))
    assert result.ignored_columns == []
    assert query(settings, "SELECT school_id, school_name FROM raw.schools") == [("12AB00", "Één")]


def test_dutch_dates_and_timestamps_and_labels(settings):
    families = (
        "Gezinsnummer;BRIN-vestiging;Ingeschreven vanaf;Ingeschreven tot;"
        "Opleidingsniveau ouders;Thuistaal;Aantal kinderen op school\n"
        "G1;12AB00;01-08-2024;15/07/2025;Laag (max. vmbo/mbo-1);Arabisch;2\n"
        "G2;12AB00;2024-08-19;;hoog;Nederlands;1\n"
    )
    contacts = (
        "Contactnummer;BRIN-vestiging;Gezinsnummer;Datum/tijd;Soort contact;"
        "Geïnitieerd door;Onderwerp;Status;Duur (min);Tolk;Notitie\n"
        "K1;12AB00;G1;03-10-2025 14:30;Tienminutengesprek;School;Leervorderingen;"
        "Gehouden;10;ja;Moeder was boos\n"
        "K2;12AB00;G2;03/10/2025 15:05;Telefonisch;Ouder/verzorger;Ondersteuning thuis;"
        "Niet verschenen;;;\n"
    )
    write_bytes(settings, "families", "gezinnen.csv", families.encode("cp1252"))
    write_bytes(settings, "contact_logs", "contacten.csv", contacts.encode("cp1252"))
    report = load_inbox(settings)
    assert [(f.rows_loaded, f.rows_rejected) for f in report.files] == [(2, 0), (2, 0)]
    assert query(
        settings,
        "SELECT enrolled_from, enrolled_to, parent_education, home_language, "
        "n_children FROM raw.families ORDER BY family_ref = ?",
        [pseudonym(KEY, "G2")],
    ) == [
        (dt.date(2024, 8, 1), dt.date(2025, 7, 15), "laag", "ar", 2),
        (dt.date(2024, 8, 19), None, "hoog", "nl", 1),
    ]
    assert query(
        settings,
        "SELECT contact_id, contact_at, channel, initiated_by, topic, status, "
        "duration_min, interpreter FROM raw.contact_logs ORDER BY 1",
    ) == [
        (
            "K1",
            dt.datetime(2025, 10, 3, 14, 30),
            "tienminutengesprek",
            "school",
            "leervorderingen",
            "gehouden",
            10,
            True,
        ),
        (
            "K2",
            dt.datetime(2025, 10, 3, 15, 5),
            "telefoon",
            "ouder",
            "thuisondersteuning",
            "niet_verschenen",
            None,
            False,
        ),
    ]  # this profile reads an empty Tolk as "no"
    assert report.files[1].ignored_columns == ["Notitie"]


def test_xlsx_contact_log_with_excel_dates(settings):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(
        [
            "Contactnummer",
            "BRIN-vestiging",
            "Gezinsnummer",
            "Leerlingnummer",
            "Datum/tijd",
            "Soort contact",
            "Geïnitieerd door",
            "Status",
            "Duur (min)",
            "Tolk",
            "Notitie",
        ]
    )
    sheet.append(
        [
            1001,
            "12AB00",
            501,
            9001,
            dt.datetime(2025, 10, 3, 14, 30),
            "Rapportgesprek",
            "School",
            "Gehouden",
            15.0,
            "nee",
            "vrije tekst",
        ]
    )
    sheet.append([None] * 11)  # an empty row in the middle is not a record
    sheet.append(
        [
            1002,
            "12AB00",
            502,
            None,
            "06-10-2025 09:00",
            "Huisbezoek",
            "School",
            "Geannuleerd",
            None,
            None,
            None,
        ]
    )
    sheet.append(
        [1003, "12AB00", 503, None, "morgen", "Huisbezoek", "School", "Gehouden", None, None, None]
    )
    path = settings.inbox_dir / "contact_logs" / "contacten.xlsx"
    path.parent.mkdir(parents=True)
    workbook.save(path)

    result = only_result(load_inbox(settings))
    assert (result.profile, result.rows_in, result.rows_loaded) == ("generic_sis_nl", 3, 2)
    assert result.ignored_columns == ["Notitie"]
    assert query(
        settings,
        "SELECT contact_id, family_ref, student_ref, contact_at, channel, "
        "duration_min, _row_number FROM raw.contact_logs ORDER BY 1",
    ) == [
        (
            "1001",
            pseudonym(KEY, "501"),
            pseudonym(KEY, "9001"),
            dt.datetime(2025, 10, 3, 14, 30),
            "rapportgesprek",
            15,
            2,
        ),
        (
            "1002",
            pseudonym(KEY, "502"),
            None,
            dt.datetime(2025, 10, 6, 9, 0),
            "huisbezoek",
            None,
            4,
        ),
    ]
    assert query(
        settings, "SELECT row_number, column_name, value, reason FROM raw.raw_rejects"
    ) == [(5, "contact_at", "morgen", "invalid_timestamp")]


SURVEY_HEADER = [
    "Respons-ID",
    "Respondent",
    "BRIN-vestiging",
    "Sector",
    "Meting",
    "Ingevuld op",
    "Hoogste opleiding ouders",
    "Werkuren per week",
    "Rapportcijfer communicatie school",
    "Contact met school is",
    "Praat met kind over schooldag",
    "Voorlezen",
    "Vraagt school hoe te ondersteunen",
    "Ik kan thuis bijdragen",
    "Opmerkingen",
]


def test_xlsx_survey_with_codebook_labels(settings):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(SURVEY_HEADER)
    sheet.append(
        [
            "R1",
            "resp-1",
            "12AB00",
            "Basisonderwijs",
            "2025-voorjaar",
            dt.datetime(2025, 4, 2, 20, 15),
            "Hbo of wo",
            "20 tot 32 uur",
            8,
            "Voldoende",
            "Dagelijks",
            "Een paar keer per maand",
            "Ja",
            "Helemaal eens",
            "Fijne school!",
        ]
    )
    sheet.append(
        [
            "R2",
            None,
            "12AB00",
            "Basisonderwijs",
            "2025-voorjaar",
            "02-04-2025 21:00",
            "Wil ik niet zeggen",
            "Geen betaald werk",
            "7",
            "Weet niet",
            "Soms",
            "Zelden of nooit",
            "Nee",
            "Neutraal",
            None,
        ]
    )
    sheet.append(
        [
            "R3",
            None,
            "12AB00",
            "Basisonderwijs",
            "2025-voorjaar",
            "02-04-2025 21:00",
            "Hbo of wo",
            None,
            11,
            None,
            None,
            None,
            None,
            None,
            None,
        ]
    )
    path = settings.inbox_dir / "survey_responses" / "enquete.xlsx"
    path.parent.mkdir(parents=True)
    workbook.save(path)

    result = only_result(load_inbox(settings))
    assert (result.profile, result.rows_loaded, result.rows_rejected) == ("generic_survey_nl", 1, 2)
    assert result.ignored_columns == ["Opmerkingen"]
    assert query(
        settings,
        "SELECT response_id, respondent_ref, sector, submitted_at, "
        "parent_education, work_hours, q_comm_grade, q_contact_enough, "
        "q_talk_school, q_read_aloud, q_support_ask, q_can_contribute "
        "FROM raw.survey_responses",
    ) == [
        (
            "R1",
            pseudonym(KEY, "resp-1"),
            "po",
            dt.datetime(2025, 4, 2, 20, 15),
            "hoog",
            "20-31",
            8,
            "voldoende",
            "dagelijks",
            "maandelijks",
            1,
            5,
        )
    ]
    # Unknown labels are rejected with the row, never guessed.
    assert query(
        settings, "SELECT row_number, column_name, value, reason FROM raw.raw_rejects ORDER BY 1"
    ) == [(3, "q_talk_school", "Soms", "unknown_code"), (4, "q_comm_grade", "11", "out_of_range")]


def test_canonical_survey_csv_with_codes(settings):
    header = (
        "response_id,school_id,sector,wave,submitted_at,parent_education,q_support_ask,"
        "q_can_contribute,q_homework_help"
    )
    text = (
        f"{header}\nR1,34CD00,vo,2025-voorjaar,2025-04-02 20:15:00,midden,1,4,nvt\n"
        f"R2,34CD00,vo,2025-voorjaar,2025-04-02 20:15:00,midden,2,6,nooit\n"
    )
    write_bytes(settings, "survey_responses", "s.csv", text.encode())
    result = only_result(load_inbox(settings))
    assert (result.profile, result.rows_loaded) == ("canonical", 1)
    assert query(settings, "SELECT column_name, reason FROM raw.raw_rejects ORDER BY 1") == [
        ("q_can_contribute", "unknown_code"),
        ("q_homework_help", "unknown_code"),
        ("q_support_ask", "unknown_code"),
    ]


def test_jsonl_events_with_offsets_and_extra_keys(settings):
    lines = [
        {
            "event_id": "E1",
            "message_id": "M1",
            "event_type": "delivered",
            "occurred_at": "2025-10-01T08:01:00+02:00",
            "provider": "x",
        },
        {
            "event_id": "E2",
            "message_id": "M1",
            "event_type": "feedback",
            "occurred_at": "2025-10-01T06:30:00Z",
            "feedback": "nuttig",
        },
        {
            "event_id": "E3",
            "message_id": "M2",
            "event_type": "failed",
            "occurred_at": "2025-10-01T08:01:00+0200",
            "error_code": 30003,
        },
    ]
    data = "\r\n".join(json.dumps(line, ensure_ascii=False) for line in lines) + "\r\n"
    write_bytes(settings, "message_events", "webhooks.jsonl", data.encode())
    result = only_result(load_inbox(settings))
    assert (result.rows_loaded, result.ignored_columns) == (3, ["provider"])
    utc = dt.UTC
    rows = query(
        settings,
        "SELECT event_id, event_type, occurred_at, error_code, feedback, "
        "_row_number FROM raw.message_events ORDER BY 1",
    )
    assert [(r[0], r[1], r[2].astimezone(utc), r[3], r[4], r[5]) for r in rows] == [
        ("E1", "delivered", dt.datetime(2025, 10, 1, 6, 1, tzinfo=utc), None, None, 1),
        ("E2", "feedback", dt.datetime(2025, 10, 1, 6, 30, tzinfo=utc), None, "nuttig", 2),
        ("E3", "failed", dt.datetime(2025, 10, 1, 6, 1, tzinfo=utc), "30003", None, 3),
    ]


def test_profile_detection_prefers_the_profile_that_covers_required_columns():
    contacts = SOURCES["contact_logs"]
    sis_header = [
        "Contactnummer",
        "BRIN-vestiging",
        "Gezinsnummer",
        "Datum/tijd",
        "Soort contact",
        "Geïnitieerd door",
        "Status",
        "Telefoonnummer",
    ]
    match = detect_profile(contacts, sis_header, "x.csv")
    assert match.profile.profile == "generic_sis_nl"
    assert match.column_positions["channel"] == 4
    assert match.ignored_columns == ["Telefoonnummer"]
    canonical = detect_profile(contacts, [c.upper() for c in contacts.required_columns], "y.csv")
    assert canonical.profile.profile == "canonical"
    with pytest.raises(SourceFileError, match="lacks required contact_logs column.*status"):
        detect_profile(contacts, sis_header[:6], "z.csv")


def test_every_profile_maps_onto_contract_columns_and_codes():
    """A label in a profile must map onto a code the contract accepts."""
    for source_name, profiles in load_profiles().items():
        source = SOURCES[source_name]
        for profile in profiles:
            for column, labels in profile.values.items():
                codes = source.column(column).codes
                if codes is None:
                    continue
                allowed = {str(c) for c in codes}
                assert set(labels.values()) <= allowed, (profile.profile, column)


def test_quoted_line_breaks_trailing_separators_and_crlf(settings):
    """Notes with separators, quotes and line breaks are skipped cleanly; a record spanning
    two lines is one row (as Excel shows it), so later row numbers count records."""
    text = (
        "Contactnummer;BRIN-vestiging;Gezinsnummer;Datum/tijd;Soort contact;"
        "Geïnitieerd door;Status;Notitie;\r\n"
        'K1;12AB00;G1;03-10-2025 14:30;Huisbezoek;School;Gehouden;"Regel 1; met ""quote""'
        '\r\nregel 2";\r\n'
        "K2;12AB00;G2;03-10-2025 14:30;Huisbezoek;School;Misschien;;\r\n"
    )
    write_bytes(settings, "contact_logs", "c.csv", text.encode("cp1252"))
    result = only_result(load_inbox(settings, "contact_logs"))
    assert (result.rows_in, result.rows_loaded, result.ignored_columns) == (2, 1, ["Notitie"])
    assert query(
        settings, "SELECT row_number, column_name, value, reason FROM raw.raw_rejects"
    ) == [(3, "status", "Misschien", "unknown_code")]


def test_xlsx_header_below_title_rows(settings):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["Export contactmomenten OBS De Regenboog"])
    sheet.append(["Aangemaakt op", dt.datetime(2025, 10, 7, 8, 0)])
    sheet.append([])
    sheet.append(
        [
            "Contactnummer",
            "BRIN-vestiging",
            "Gezinsnummer",
            "Datum/tijd",
            "Soort contact",
            "Geïnitieerd door",
            "Status",
        ]
    )
    sheet.append(["K1", "12AB00", "G1", "03-10-2025 14:30", "Ouderavond", "School", "Gehouden"])
    sheet.append(["K2", "12AB00", "G2", "03-10-2025 14:30", "Ouderavond", "Ouder", "Vergeten"])
    path = settings.inbox_dir / "contact_logs" / "export.xlsx"
    path.parent.mkdir(parents=True)
    workbook.save(path)
    result = only_result(load_inbox(settings))
    assert (result.profile, result.rows_in, result.rows_loaded) == ("generic_sis_nl", 2, 1)
    assert query(settings, "SELECT _row_number FROM raw.contact_logs") == [(5,)]
    assert query(settings, "SELECT row_number, value, reason FROM raw.raw_rejects") == [
        (6, "Vergeten", "unknown_code")
    ]


def test_jsonl_with_bom_and_a_control_character_line(settings):
    """A BOM before line 1 is not JSON; a raw \\x01 (never valid in JSON) sends the file to the
    Python line splitter, which must number lines exactly as Arrow does."""
    good = [
        json.dumps(
            {
                "event_id": f"E{i}",
                "message_id": "M1",
                "event_type": "sent",
                "occurred_at": "2025-10-01T08:01:00+02:00",
            }
        )
        for i in range(3)
    ]
    data = "\ufeff" + good[0] + "\n\n" + '{"event_id": "E9",\x01 "x": 1}\n' + "\n".join(good[1:])
    write_bytes(settings, "message_events", "e.jsonl", data.encode())
    result = only_result(load_inbox(settings))
    assert (result.rows_in, result.rows_loaded) == (4, 3)
    assert query(settings, "SELECT event_id, _row_number FROM raw.message_events ORDER BY 1") == [
        ("E0", 1),
        ("E1", 4),
        ("E2", 5),
    ]
    assert query(settings, "SELECT row_number, reason FROM raw.raw_rejects") == [
        (3, "malformed_json")
    ]


def _event(i: int, **extra) -> dict:
    return {
        "event_id": f"E{i}",
        "message_id": "M1",
        "event_type": "sent",
        "occurred_at": "2025-10-01T08:01:00+02:00",
        **extra,
    }


def _load_with_block_bytes(settings, monkeypatch, block_bytes: int, data: str):
    """Loads one JSONL file with blocks of ``block_bytes``; the result and the loaded rows."""
    from ouderpeil.loading.readers import JsonLinesReader

    monkeypatch.setattr(JsonLinesReader, "BLOCK_BYTES", block_bytes)
    monkeypatch.setattr(JsonLinesReader, "PYTHON_BATCH_LINES", 3)
    write_bytes(settings, "message_events", "e.jsonl", data.encode())
    result = only_result(load_inbox(settings))
    rows = query(
        settings,
        "SELECT event_id, event_type, feedback, _row_number "
        "FROM raw.message_events ORDER BY _row_number",
    )
    rejects = query(
        settings, "SELECT row_number, column_name, reason FROM raw.raw_rejects ORDER BY 1, 2"
    )
    return (
        (
            result.profile,
            result.rows_in,
            result.rows_loaded,
            result.ignored_columns,
            result.reject_reasons,
        ),
        rows,
        rejects,
    )


@pytest.mark.parametrize(
    "late_line",
    [
        # an unmapped key first seen late: an ignored column, the staged table stands
        json.dumps(_event(50, provider="x")),
        # a mapped key first seen late: still read (the file is staged again)
        json.dumps(_event(50, event_type="feedback", feedback="nuttig")),
        # a raw \x01 late in the file: the Python splitter takes over mid-stage
        '{"event_id": "E9",\x01 "x": 1}',
    ],
)
def test_jsonl_keys_first_seen_after_the_first_block(tmp_path, monkeypatch, late_line):
    """The profile is picked from the first block's keys (one pass over the file); keys first
    seen later give the same result as reading all keys up front."""
    from tests.conftest import make_settings

    lines = [json.dumps(_event(i)) for i in range(40)]
    data = "\n".join(lines[:30] + [late_line] + lines[30:]) + "\n"
    small = _load_with_block_bytes(make_settings(tmp_path / "small"), monkeypatch, 256, data)
    whole = _load_with_block_bytes(make_settings(tmp_path / "whole"), monkeypatch, 1 << 20, data)
    assert small == whole
    if "provider" in late_line:
        assert small[0][3] == ["provider"]
    if "feedback" in late_line:
        assert ("E50", "feedback", "nuttig", 31) in small[1]


def test_jsonl_required_key_first_seen_after_the_first_block(tmp_path, monkeypatch):
    """When the first block lacks a key the profile requires, every key is read first."""
    from tests.conftest import make_settings

    early = [
        json.dumps({k: v for k, v in _event(i).items() if k != "occurred_at"}) for i in range(30)
    ]
    data = "\n".join(early + [json.dumps(_event(i)) for i in range(30, 40)])
    small = _load_with_block_bytes(make_settings(tmp_path / "small"), monkeypatch, 256, data)
    whole = _load_with_block_bytes(make_settings(tmp_path / "whole"), monkeypatch, 1 << 20, data)
    assert small == whole
    assert small[0][:3] == ("canonical", 40, 10)


def _encoding_by_two_reads(path, chunk: int) -> str:
    """The encoding check as it was before it shared the hashing read (the reference)."""
    import codecs

    if path.stat().st_size == 0:
        return "empty"
    for encoding in ("utf-8-sig", "cp1252"):
        decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
        try:
            with path.open("rb") as fh:
                while block := fh.read(chunk):
                    if b"\x00" in block:
                        return "binary"
                    decoder.decode(block)
                decoder.decode(b"", final=True)
            return encoding
        except UnicodeDecodeError:
            continue
    return "neither"


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"abc\n",
        "\ufeffé;ü\n".encode(),
        "é".encode("cp1252"),
        b"a\x00b",
        "é".encode()[:1],
        b"x\x81",
        b"\xe9\x00",
        b"\x00\xe9",
        b"\xe9abc\x81",
        b"abc\x81\x00",
        b"abc\x00\x81",
        "ok é".encode() + b"\xe9" + b"\x00",
        b"\x9d" + "é".encode(),
        "ā".encode() + b"\x00x\xe9y",
        b"\xe9a\x00b\x81c",
    ],
)
def test_hash_and_encoding_match_two_separate_reads(tmp_path, monkeypatch, data):
    """One read gives the sha256 and the same encoding verdict (or error) as decoding the file
    on its own, also when a NUL, a non-UTF-8 byte and a byte cp1252 lacks fall in different
    chunks (chunks of 2 bytes here)."""
    import hashlib

    from ouderpeil.loading import readers

    monkeypatch.setattr(readers, "CHUNK", 2)
    path = tmp_path / "f.csv"
    path.write_bytes(data)
    digest, verdict = readers.hash_and_encoding(path)
    assert digest == hashlib.sha256(data).hexdigest()
    expected = _encoding_by_two_reads(path, 2)
    if isinstance(verdict, SourceFileError):
        assert expected in str(verdict)  # "empty", "binary" or "neither"
    else:
        assert verdict == expected


def test_jsonl_keys_come_only_from_lines_that_are_objects(settings):
    """Keys are collected from the lines loaded as objects only: a BOM or spaces before "{"
    are fine; a tab before it, broken JSON or an array make the line malformed_json and its
    keys are not reported."""
    lines = [
        "\ufeff" + json.dumps(_event(1, bom_key=1)),
        " " + json.dumps(_event(2, space_key=1)),
        "\t" + json.dumps(_event(3, tab_key=1)),
        '{"broken_key": }',
        json.dumps([_event(5, array_key=1)]),
    ]
    write_bytes(settings, "message_events", "e.jsonl", "\n".join(lines).encode())
    result = only_result(load_inbox(settings))
    assert (result.rows_loaded, result.ignored_columns) == (2, ["bom_key", "space_key"])
    assert query(settings, "SELECT row_number, reason FROM raw.raw_rejects ORDER BY 1") == [
        (3, "malformed_json"),
        (4, "malformed_json"),
        (5, "malformed_json"),
    ]
