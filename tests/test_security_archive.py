"""Raw inputs retired (issue 16, PRIVACY.md item 5): a loaded file leaves the inbox for the
archive (or is deleted at once), retention empties the archive and the quarantine with the
raw rows' cutoff, and a file dropped again is still recognised as loaded. Real files, a
real DuckDB warehouse."""

from __future__ import annotations

import datetime as dt
import os

import duckdb

from ouderpeil.loading import archive, load_file, load_inbox
from ouderpeil.retention import purge, retention_cutoff

SCHOOLS_CSV = """school_id,school_name,sector,board_id,board_name,municipality,schoolweging
12AB00,OBS De Regenboog,po,41000,Stichting Primo,Utrecht,31.5
34CD00,Het Lyceum,vo,41000,Stichting Primo,Utrecht,28.0
"""


def drop(settings, name="schools.csv", text=SCHOOLS_CSV, source="schools"):
    folder = settings.inbox_dir / source
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def archived(settings) -> list:
    root = settings.data_dir / "archive"
    return (
        sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
        if root.exists()
        else []
    )


def test_a_loaded_file_moves_to_the_archive_and_is_skipped_when_dropped_again(
    settings, monkeypatch
):
    monkeypatch.delenv(archive.MODE_ENV, raising=False)
    path = drop(settings)
    report = load_inbox(settings)
    assert [f.status for f in report.files] == ["loaded"]
    today = dt.date.today().isoformat()
    assert not path.exists()
    assert archived(settings) == [f"schools/{today}/schools.csv"]
    kept = settings.data_dir / "archive" / "schools" / today / "schools.csv"
    assert kept.read_text(encoding="utf-8") == SCHOOLS_CSV  # the file as it came, whole
    assert os.stat(kept).st_mode & 0o777 == 0o600
    # The same bytes again, under another name too: recognised by the hash, nothing loaded.
    drop(settings)
    drop(settings, name="scholen-kopie.csv")
    again = load_inbox(settings)
    assert {f.status for f in again.files} == {"skipped"} and len(again.files) == 2
    assert not list((settings.inbox_dir / "schools").iterdir())
    assert len(archived(settings)) == 3  # schools.csv, schools.1.csv, scholen-kopie.csv
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        assert con.execute("select count(*) from raw.schools").fetchall() == [(2,)]
    finally:
        con.close()


def test_delete_mode_removes_the_file_at_once(settings, monkeypatch):
    monkeypatch.setenv(archive.MODE_ENV, "delete")
    path = drop(settings)
    assert load_inbox(settings).files[0].status == "loaded"
    assert not path.exists() and archived(settings) == []
    drop(settings)
    assert load_inbox(settings).files[0].status == "skipped"
    assert not path.exists()


def test_a_file_outside_the_inbox_and_a_file_that_failed_stay_where_they_are(
    settings, tmp_path, monkeypatch
):
    monkeypatch.delenv(archive.MODE_ENV, raising=False)
    outside = tmp_path / "elders" / "schools.csv"
    outside.parent.mkdir()
    outside.write_text(SCHOOLS_CSV, encoding="utf-8")
    assert load_file(settings, "schools", outside).status == "loaded"
    assert outside.exists() and archived(settings) == []
    # An empty file is quarantined (moved by the loader, with its note), not archived.
    empty = drop(settings, name="leeg.csv", text="")
    assert load_inbox(settings).files[0].status == "quarantined"
    assert not empty.exists() and archived(settings) == []
    assert (settings.quarantine_dir / "schools" / "leeg.csv").exists()


def test_retention_empties_archive_and_quarantine_with_the_raw_rows_cutoff(settings, monkeypatch):
    monkeypatch.delenv(archive.MODE_ENV, raising=False)
    today = dt.date(2026, 11, 26)
    cutoff, _ = retention_cutoff(today, 2)  # 1 August 2025
    root = settings.data_dir / "archive" / "contact_logs"
    old_day = root / (cutoff - dt.timedelta(days=1)).isoformat()
    kept_day = root / cutoff.isoformat()
    for day in (old_day, kept_day):
        day.mkdir(parents=True)
        (day / "contacten.csv").write_text("namen en telefoonnummers", encoding="utf-8")
    (root / "notes").mkdir()  # not a day folder of ours: left alone
    quarantine = settings.quarantine_dir / "families"
    quarantine.mkdir(parents=True)
    for name, when in (("oud.csv", cutoff - dt.timedelta(days=40)), ("nieuw.csv", cutoff)):
        (quarantine / name).write_text("x", encoding="utf-8")
        note = quarantine / f"{name}.reason.txt"
        note.write_text("reason: empty file\n", encoding="utf-8")
        stamp = dt.datetime.combine(when, dt.time(12)).timestamp()
        os.utime(note, (stamp, stamp))
    # A loaded file dropped into the inbox again (the ingest DAG never loads it): swept.
    drop(settings)
    load_inbox(settings)
    again = drop(settings)
    monkeypatch.setenv(archive.MODE_ENV, "keep")
    load_inbox(settings)  # in keep mode the loader leaves it
    assert again.exists()
    monkeypatch.delenv(archive.MODE_ENV)

    summary = purge(settings, keep_school_years=2, today=today, compact=False)
    assert summary["raw_files"] == {"archived": 1, "quarantined": 1, "retired_from_inbox": 1}
    assert not old_day.exists() and (kept_day / "contacten.csv").exists()
    assert (root / "notes").exists()
    assert sorted(p.name for p in quarantine.iterdir()) == ["nieuw.csv", "nieuw.csv.reason.txt"]
    assert not again.exists()
    # Hashes stay in raw_load_files: the archived file, dropped once more, is still skipped.
    drop(settings)
    assert load_inbox(settings).files[0].status == "skipped"
