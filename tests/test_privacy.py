"""docs/spec/PRIVACY.md items 1 and 2 at the loading boundary: a known name, phone number and e-mail
address in an input file (in free-text columns, unknown columns and as person ids) end up in no
table of the warehouse, not in the rejects, not in the load report and not in the logs."""

from __future__ import annotations

import json
import logging
import os
import stat

import duckdb
import openpyxl
import pytest
from helpers import TEST_HMAC_KEY, make_settings

from ouderpeil.loading import load_file, load_inbox
from ouderpeil.loading.pseudonymise import load_key, pseudonym

NAME = "Henriëtte Testpersoon-Verbeek"
PHONE = "06-98765432"
EMAIL = "henriette.testpersoon@example.nl"
SECRETS = (NAME, PHONE, EMAIL, "Testpersoon", "98765432", "henriette.testpersoon")
KEY = bytes.fromhex(TEST_HMAC_KEY)


def write(settings, source, name, text, encoding="utf-8"):
    folder = settings.inbox_dir / source
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(text.encode(encoding))


def write_inbox_with_personal_data(settings) -> None:
    write(
        settings,
        "schools",
        "scholen.csv",
        "BRIN-vestiging;Naam school;Sector;Bestuursnummer;Telefoonnummer;E-mailadres\n"
        f"12AB00;OBS De Regenboog;PO;41000;{PHONE};{EMAIL}\n",
        "cp1252",
    )
    # Person ids that are themselves contact details; free text in ignored and unknown columns.
    write(
        settings,
        "families",
        "gezinnen.csv",
        "Gezinsnummer;BRIN-vestiging;Ingeschreven vanaf;Opleidingsniveau ouders;"
        "Naam ouder/verzorger;Telefoonnummer;E-mailadres;Opmerking mentor\n"
        f"{EMAIL};12AB00;01-08-2025;Laag;{NAME};{PHONE};{EMAIL};Belt {NAME} op {PHONE}\n"
        f"{PHONE};12AB00;01-08-2025;Midden;{NAME};{PHONE};{EMAIL};\n"
        # rejected rows: the person id must not reach raw_rejects in clear either
        f"{NAME};12AB00;nooit;Laag;{NAME};{PHONE};{EMAIL};\n"
        f"{EMAIL};12AB00;01-08-2025;Laag;{NAME};{PHONE};{EMAIL};dubbel\n",
        "cp1252",
    )
    contacts = openpyxl.Workbook()
    contacts.active.append(
        [
            "Contactnummer",
            "BRIN-vestiging",
            "Gezinsnummer",
            "Leerlingnummer",
            "Medewerkernummer",
            "Datum/tijd",
            "Soort contact",
            "Geïnitieerd door",
            "Status",
            "Notitie",
            "Naam ouder/verzorger",
        ]
    )
    contacts.active.append(
        [
            "K1",
            "12AB00",
            EMAIL,
            NAME,
            PHONE,
            "03-10-2025 14:30",
            "Huisbezoek",
            "School",
            "Gehouden",
            f"{NAME} gebeld op {PHONE}",
            NAME,
        ]
    )
    contacts.active.append(
        [
            "K2",
            "12AB00",
            "",
            PHONE,
            EMAIL,
            "03-10-2025 14:30",
            "Huisbezoek",
            "School",
            "Gehouden",
            "",
            NAME,
        ]
    )  # missing family_ref: rejected
    (settings.inbox_dir / "contact_logs").mkdir(parents=True, exist_ok=True)
    contacts.save(settings.inbox_dir / "contact_logs" / "contacten.xlsx")
    write(
        settings,
        "messages",
        "berichten.csv",
        "Berichtnummer;BRIN-vestiging;Gezinsnummer;Verzonden op;Kanaal;Doel;Berichttekst;"
        "Ontvanger\n"
        f"B1;12AB00;{EMAIL};01-10-2025 08:00;App;Tip;Beste {NAME}, lees voor!;{EMAIL}\n",
    )
    write(
        settings,
        "message_events",
        "webhooks.jsonl",
        "\n".join(
            [
                json.dumps(
                    {
                        "event_id": "E1",
                        "message_id": "B1",
                        "event_type": "delivered",
                        "occurred_at": "2025-10-01T08:01:00+02:00",
                        "recipient": EMAIL,
                        "recipient_name": NAME,
                        "phone": PHONE,
                    }
                ),
                f'{{"event_id": "E2", "recipient": "{EMAIL}", broken',
            ]
        )
        + "\n",
    )
    write(
        settings,
        "survey_responses",
        "enquete.csv",
        "Respons-ID;Respondent;Gezinsnummer;BRIN-vestiging;Sector;Meting;Ingevuld op;"
        "Hoogste opleiding ouders;Opmerkingen;Naam;E-mailadres;Telefoonnummer\n"
        f"R1;{EMAIL};{PHONE};12AB00;Basisonderwijs;2025-voorjaar;02-04-2025 20:15;Hbo of wo;"
        f"Groet, {NAME};{NAME};{EMAIL};{PHONE}\n"
        f"R2;{NAME};;12AB00;Basisonderwijs;2025-voorjaar;02-04-2025 20:15;Onzin;;;;\n",
    )


def every_text_value(settings) -> list[str]:
    """Every VARCHAR value of every table in every schema of the warehouse."""
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        columns = con.execute(
            "SELECT table_schema, table_name, column_name FROM information_schema.columns "
            "WHERE data_type = 'VARCHAR'"
        ).fetchall()
        assert len(columns) > 20
        values = []
        for schema, table, column in columns:
            values += [
                v
                for (v,) in con.execute(
                    f'SELECT DISTINCT "{column}" FROM "{schema}"."{table}" '
                    f'WHERE "{column}" IS NOT NULL'
                ).fetchall()
            ]
        return values
    finally:
        con.close()


def leaks(text: str) -> list[str]:
    low = text.casefold()
    return [s for s in SECRETS if s.casefold() in low]


def test_personal_data_reaches_no_table_report_or_log(settings, caplog, capsys):
    write_inbox_with_personal_data(settings)
    caplog.set_level(logging.DEBUG)
    report = load_inbox(settings)

    assert {f.status for f in report.files} == {"loaded"}
    assert report.rows_loaded >= 6 and report.rows_rejected >= 5
    values = every_text_value(settings)
    assert not [v for v in values if leaks(v)]
    # Positive control: the pseudonyms are there, so the ids really passed through the loader.
    assert pseudonym(KEY, EMAIL) in values and pseudonym(KEY, PHONE) in values
    assert pseudonym(KEY, NAME) in values  # staff_ref / respondent_ref / rejected family_ref
    assert not leaks(report.to_text())
    assert not leaks(json.dumps(report.to_dict(), ensure_ascii=False))
    captured = capsys.readouterr()
    assert not leaks(caplog.text + captured.out + captured.err)
    assert "Naam ouder/verzorger" in report.to_text()  # the ignored columns are named


def test_rejects_hold_pseudonyms_not_person_ids(settings):
    write_inbox_with_personal_data(settings)
    load_inbox(settings)
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        rejected = con.execute(
            "SELECT column_name, value, reason FROM raw.raw_rejects "
            "WHERE source = 'families' ORDER BY row_number"
        ).fetchall()
    finally:
        con.close()
    assert rejected == [
        ("enrolled_from", "nooit", "invalid_date"),
        (
            "family_ref,school_id,enrolled_from",
            f"{pseudonym(KEY, EMAIL)}|12AB00|01-08-2025",
            "duplicate_key",
        ),
    ]


def test_missing_key_file_is_created_private_and_reused(tmp_path):
    key_file = tmp_path / "secret" / "hmac.key"
    settings = make_settings(
        tmp_path / "data", OUDERPEIL_HMAC_KEY="", OUDERPEIL_HMAC_KEY_FILE=str(key_file)
    )
    assert settings.hmac_key is None
    key = load_key(settings)
    assert len(key) == 32
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    assert load_key(settings) == key  # the demo path keeps its pseudonyms stable

    write(
        settings,
        "families",
        "f.csv",
        "family_ref,school_id,enrolled_from,parent_education\nF1,12AB00,2025-08-01,laag\n",
    )
    load_file(settings, "families", settings.inbox_dir / "families" / "f.csv")
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    stored = con.execute("SELECT family_ref FROM raw.families").fetchall()
    con.close()
    assert stored == [(pseudonym(key, "F1"),)]
    assert not [v for v in every_text_value(settings) if key.hex() in v]


def test_key_from_environment_wins_and_a_different_key_gives_other_pseudonyms(tmp_path):
    key_file = tmp_path / "hmac.key"
    key_file.write_text("cd" * 32)
    from_env = make_settings(tmp_path / "a", OUDERPEIL_HMAC_KEY_FILE=str(key_file))
    from_file = make_settings(
        tmp_path / "b", OUDERPEIL_HMAC_KEY="", OUDERPEIL_HMAC_KEY_FILE=str(key_file)
    )
    assert load_key(from_env) == KEY
    assert load_key(from_file) == bytes.fromhex("cd" * 32)
    assert pseudonym(KEY, "F1") != pseudonym(load_key(from_file), "F1")
    assert pseudonym(KEY, "F1") == pseudonym(KEY, "F1")
    assert len(pseudonym(KEY, "F1")) == 64


@pytest.mark.parametrize("bad_key", ["not-hex", "abcd"])
def test_unusable_key_is_refused_without_printing_it(tmp_path, bad_key):
    from ouderpeil.errors import OuderpeilError

    settings = make_settings(tmp_path / "data", OUDERPEIL_HMAC_KEY=bad_key)
    with pytest.raises(OuderpeilError) as failure:
        load_key(settings)
    assert bad_key not in str(failure.value)
