"""The inbox itself, files that change under the loader, and two writers at once (issue 12,
items 5, 6 and 7), on real files, a real warehouse and real processes."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

import duckdb
import pytest
from loading_helpers import (  # noqa: F401
    CONTACT_HEADER,
    SCHOOLS_CSV,
    by_name,
    query,
    rejects_of,
    write,
)

from ouderpeil.loading import load_file, load_inbox, warehouse
from ouderpeil.loading.warehouse import WarehouseLocked

GOOD = "2025-10-03 14:30:00,telefoon,ouder,gedrag,gehouden,{},"


@pytest.fixture(autouse=True)
def keep_loaded_files_in_the_inbox(monkeypatch):
    """These tests change a file in place after a load, as a school system that rewrites its
    export does; that needs the file to stay in the inbox (OUDERPEIL_RAW_FILES=keep). Moving
    loaded files to the archive is tested in tests/test_security_archive.py."""
    monkeypatch.setenv("OUDERPEIL_RAW_FILES", "keep")


def contacts(n: int, minutes: int = 45, first: int = 1) -> str:
    return (
        CONTACT_HEADER
        + "\n"
        + "".join(f"C{i},12AB00,F{i},,,{GOOD.format(minutes)}\n" for i in range(first, first + n))
    )


# --------------------------------------------------------------------------- the inbox
def test_links_directories_and_pipes_are_never_followed_and_always_reported(settings, tmp_path):
    outside = tmp_path / "elsewhere.csv"
    outside.write_text(SCHOOLS_CSV, encoding="utf-8")
    folder = settings.inbox_dir / "schools"
    folder.mkdir(parents=True)
    (folder / "link.csv").symlink_to(outside)
    (folder / "dangling.csv").symlink_to(tmp_path / "does-not-exist.csv")
    (folder / "x.csv").mkdir()
    (folder / "x.csv" / "inner.csv").write_text(SCHOOLS_CSV, encoding="utf-8")
    os.mkfifo(folder / "pipe.csv")
    write(settings, "schools", "real.csv", SCHOOLS_CSV)

    report = load_inbox(settings, ["schools"])
    files = by_name(report)
    assert files["real.csv"].status == "loaded" and files["real.csv"].rows_loaded == 3
    for name, words in (
        ("link.csv", "symbolic link"),
        ("dangling.csv", "symbolic link"),
        ("x.csv", "directory"),
        ("pipe.csv", "named pipe"),
    ):
        assert files[name].status == "quarantined" and words in files[name].message, name
        note = settings.quarantine_dir / "schools" / f"{name}.reason.txt"
        assert words in note.read_text(encoding="utf-8"), name
        assert not os.path.lexists(folder / name)
    # nothing of the outside file (or the folder's file) was loaded: only real.csv's 3 rows
    assert query(settings, "SELECT count(*), count(DISTINCT _file_name) FROM raw.schools") == [
        (3, 1)
    ]
    assert outside.read_text(encoding="utf-8") == SCHOOLS_CSV  # the link's target untouched
    assert query(
        settings,
        "SELECT file_name, status FROM raw.raw_load_files WHERE status = 'quarantined' ORDER BY 1",
    ) == [
        ("dangling.csv", "quarantined"),
        ("link.csv", "quarantined"),
        ("pipe.csv", "quarantined"),
        ("x.csv", "quarantined"),
    ]
    assert "symbolic link" in report.to_text()


# --------------------------------------------------------------------------- files that change
def test_a_file_still_being_written_waits_for_a_later_run(settings, schools_loaded, monkeypatch):
    """A writer appends for ~1.5 s: with a 1 s settle period the loader does not read a half
    file; once complete, the file loads whole and right (the last value is 45, not 4)."""
    monkeypatch.setenv("OUDERPEIL_INBOX_SETTLE_SECONDS", "1")
    path = settings.inbox_dir / "contact_logs" / "growing.csv"
    path.parent.mkdir(parents=True)
    text = contacts(600)

    def writer():
        step = len(text) // 15 + 1
        with path.open("w", encoding="utf-8") as fh:
            for i in range(0, len(text), step):
                fh.write(text[i : i + step])
                fh.flush()
                time.sleep(0.1)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        time.sleep(0.15)
        first = by_name(load_inbox(settings, ["contact_logs"])).get("growing.csv")
    finally:
        thread.join()
    assert first is None or first.status in ("waiting", "loaded")
    assert path.read_text(encoding="utf-8") == text
    final = by_name(load_inbox(settings, ["contact_logs"]))
    done = first if first is not None and first.status == "loaded" else final["growing.csv"]
    assert done.status == "loaded" and done.rows_loaded == 600
    assert query(
        settings, "SELECT min(duration_min), max(duration_min), count(*) FROM raw.contact_logs"
    ) == [(45, 45, 600)]


def test_settle_wait_and_completion_marker(settings, schools_loaded, monkeypatch):
    from ouderpeil.loading.loader import wait_until_settled

    monkeypatch.setenv("OUDERPEIL_INBOX_SETTLE_SECONDS", "0.5")
    path = write(settings, "contact_logs", "fresh.csv", contacts(2))
    started = time.monotonic()
    assert wait_until_settled(path)
    assert time.monotonic() - started >= 0.4  # waited for the settle period
    (path.parent / "fresh.csv.done").write_text("", encoding="utf-8")
    started = time.monotonic()
    assert wait_until_settled(path) and time.monotonic() - started < 0.3  # marker: at once
    report = by_name(load_inbox(settings, ["contact_logs"]))
    assert set(report) == {"fresh.csv"}  # the marker itself is no data file


def test_changed_content_with_the_same_size_and_mtime_is_detected(settings, schools_loaded):
    path = write(settings, "contact_logs", "same.csv", contacts(3, minutes=45))
    assert load_file(settings, "contact_logs", path).rows_loaded == 3
    st = path.stat()
    path.write_text(contacts(3, minutes=54), encoding="utf-8")  # same size, other content
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert (path.stat().st_size, path.stat().st_mtime_ns) == (st.st_size, st.st_mtime_ns)
    result = by_name(load_inbox(settings, ["contact_logs"]))["same.csv"]
    assert result.status == "loaded" and "replaces the earlier load" in result.message
    # the rows of the earlier content are replaced, in one transaction: 3 rows, new values
    assert query(settings, "SELECT count(*), min(duration_min) FROM raw.contact_logs") == [(3, 54)]
    assert query(
        settings,
        "SELECT status, count(*) FROM raw.raw_load_files WHERE file_name = "
        "'same.csv' GROUP BY 1 ORDER BY 1",
    ) == [("loaded", 1), ("replaced", 1)]


def test_a_half_file_then_the_complete_file_under_the_same_name(settings, schools_loaded):
    """The issue's case: a half file got loaded anyway (no settle, say); the complete file
    under the same name replaces its rows instead of being rejected as duplicates."""
    full = contacts(500)
    half = (
        full[: len(full) // 2].rsplit("\n", 1)[0] + "\n" + "C251,12AB00,F251,,,2025-10-03 "
        "14:30:00,telefoon,ouder,gedrag,gehouden,4,\n"
    )
    path = write(settings, "contact_logs", "day.csv", half)
    first = load_file(settings, "contact_logs", path)
    path.write_text(full, encoding="utf-8")
    second = by_name(load_inbox(settings, ["contact_logs"]))["day.csv"]
    assert second.rows_loaded == 500 and second.rows_rejected == 0, second
    assert first.rows_loaded < 500
    assert query(settings, "SELECT count(*), min(duration_min) FROM raw.contact_logs") == [
        (500, 45)
    ]


# --------------------------------------------------------------------------- concurrency
HOLD_LOCK = """
import duckdb, sys, time
con = duckdb.connect(sys.argv[1])
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
"""


def test_a_second_writer_waits_then_fails_naming_the_holder(settings):
    settings.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(settings.warehouse_path), "30"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        started = time.monotonic()
        with pytest.raises(WarehouseLocked) as err:
            warehouse.connect(settings, timeout=1.5)
        waited = time.monotonic() - started
        assert 1.4 <= waited < 10
        assert f"process {holder.pid}" in str(err.value) and "waited 1.5 s" in str(err.value)
    finally:
        holder.kill()
        holder.wait()


def test_a_second_writer_gets_the_lock_once_the_first_ends(settings):
    settings.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(settings.warehouse_path), "1"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        con = warehouse.connect(settings, timeout=30)
        con.close()
    finally:
        holder.kill()
        holder.wait()


KILLED_PUBLISH = """
import duckdb, os, sys
tmp = sys.argv[1] + f".{os.getpid()}.tmp"
con = duckdb.connect(tmp)
con.execute("CREATE TABLE t AS SELECT range AS i FROM range(100000)")
os.kill(os.getpid(), 9)  # killed mid-way: tmp and its .wal stay behind
"""


def test_temporary_files_of_killed_publishes_are_removed(settings):
    from ouderpeil.publish import remove_stale_temp_files

    target = settings.serving_path
    target.parent.mkdir(parents=True, exist_ok=True)
    prefix = str(target.with_name(f".{target.name}"))
    for _ in range(3):
        subprocess.run([sys.executable, "-c", KILLED_PUBLISH, prefix], check=False)
    left = sorted(p.name for p in target.parent.iterdir())
    assert any(n.endswith(".tmp") for n in left) and any(n.endswith(".tmp.wal") for n in left)
    # a publish running right now (this process) is not touched... of another live process
    live = target.with_name(f".{target.name}.1.tmp")  # PID 1 is always alive
    live.write_bytes(b"")
    removed = remove_stale_temp_files(target)
    assert removed and sorted(p.name for p in target.parent.iterdir()) == [live.name]


def test_a_killed_load_leaves_no_work_folder_after_the_next_run(settings, schools_loaded):
    stale = settings.warehouse_path.parent / ".ouderpeil-load-killed"
    stale.mkdir()
    (stale / "x.utf8.csv").write_text("half", encoding="utf-8")
    load_inbox(settings, ["contact_logs"])
    assert not stale.exists()


def test_duckdb_lock_message_still_names_the_pid(settings):
    """The holder is read from DuckDB's lock error; if DuckDB stops naming the PID, the
    message says 'an unknown process' and this test says why."""
    settings.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(settings.warehouse_path), "30"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        holder.stdout.readline()
        with pytest.raises(duckdb.IOException, match=rf"PID {holder.pid}"):
            duckdb.connect(str(settings.warehouse_path))
    finally:
        holder.kill()
        holder.wait()
