"""The loader: inbox files into ``raw.<source>``, one DuckDB transaction per file.

Per file: hash (skip if loaded before) -> reader (format, encoding, separator) -> profile from
the header -> stage the mapped columns as text in a TEMP table -> pseudonymise person ids ->
then in one transaction: parse and validate in SQL -> insert good rows, rejects and the file's
bookkeeping row -> commit. A file that cannot be read at all goes to quarantine; any other
failure rolls the file back and is raised.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import stat
import tempfile
import time
import uuid
from pathlib import Path

import duckdb

from ouderpeil.config import Settings
from ouderpeil.contracts import SOURCES, Source
from ouderpeil.errors import OuderpeilError, SourceFileError
from ouderpeil.loading import archive, readers, warehouse
from ouderpeil.loading.hash_cache import HashCache
from ouderpeil.loading.normalise import normalise_staged
from ouderpeil.loading.profiles import HeaderMatch, detect_profile
from ouderpeil.loading.pseudonymise import load_key, pseudonymise_columns
from ouderpeil.loading.report import (
    LOADED,
    QUARANTINED,
    SKIPPED,
    WAITING,
    FileLoadResult,
    LoadReport,
)
from ouderpeil.loading.validation import build_checked, build_rejects

log = logging.getLogger(__name__)

# Reference data first: school ids are checked against raw.schools.
LOAD_ORDER = (
    "schools",
    "families",
    "contact_logs",
    "messages",
    "message_events",
    "survey_responses",
)
FORMAT_BY_SUFFIX = {
    ".csv": "csv",
    ".txt": "csv",
    ".xlsx": "xlsx",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
}

STAGED, CHECKED, REJECTS = "ld_staged", "ld_checked", "ld_rejects"
REJECTED_ROWS = "ld_rejected_rows"  # row numbers in REJECTS, once each
CELL_PROBLEMS = "ld_cell_problems"  # normalise.py: cells that could not be read for sure

# Files that change (docs/LOADING.md "Files that change"): a file is read once its size and
# modification time have not changed for SETTLE seconds, or at once when the writer put a
# completion marker `<name>.done` beside it. A file that changes while it is read waits too.
SETTLE_ENV, SETTLE_DEFAULT = "OUDERPEIL_INBOX_SETTLE_SECONDS", 2.0
DONE_SUFFIX = ".done"


def load_inbox(settings: Settings, sources: list[str] | None = None) -> LoadReport:
    """Load every new file under ``settings.inbox_dir/<source>/``, sources in dependency order."""
    if isinstance(sources, str):
        sources = [sources]
    wanted = list(LOAD_ORDER) if not sources else list(sources)
    unknown = [s for s in wanted if s not in SOURCES]
    if unknown:
        raise OuderpeilError(
            f"unknown source(s) {', '.join(unknown)}; known: {', '.join(LOAD_ORDER)}"
        )
    report = LoadReport()
    hashes = HashCache(settings)
    con = warehouse.connect(settings)
    try:
        warehouse.ensure_raw_tables(con)
        _remove_stale_work_dirs(settings)
        key = load_key(settings)
        for name in (s for s in LOAD_ORDER if s in wanted):
            folder = settings.inbox_dir / name
            for path, refusal in inbox_entries(folder):
                if refusal:
                    report.files.append(
                        _quarantine(
                            con, settings, SOURCES[name], path, None, uuid.uuid4().hex, refusal
                        )
                    )
                    continue
                report.files.append(
                    archive.retire(
                        settings, path, _load_one(con, settings, SOURCES[name], path, key, hashes)
                    )
                )
    finally:
        con.close()
        hashes.save()
    log.info(
        "load finished: %d file(s), %d rows loaded, %d rejected, %d quarantined",
        len(report.files),
        report.rows_loaded,
        report.rows_rejected,
        len(report.quarantined),
    )
    return report


def load_file(settings: Settings, source: str, path: Path | str) -> FileLoadResult:
    """Load one file of ``source`` (a name from contracts.SOURCES)."""
    if source not in SOURCES:
        raise OuderpeilError(f"unknown source {source!r}; known: {', '.join(LOAD_ORDER)}")
    hashes = HashCache(settings)
    path = Path(path)
    con = warehouse.connect(settings)
    try:
        warehouse.ensure_raw_tables(con)
        refusal = entry_refusal(path)
        if refusal:
            return _quarantine(
                con, settings, SOURCES[source], path, None, uuid.uuid4().hex, refusal
            )
        return archive.retire(
            settings,
            Path(path),
            _load_one(con, settings, SOURCES[source], Path(path), load_key(settings), hashes),
        )
    finally:
        con.close()
        hashes.save()


def _not_data(name: str) -> bool:
    """Hidden files (a writer's `.name.part` in progress), reason notes and completion markers
    are not data files."""
    return name.startswith(".") or name.endswith(".reason.txt") or name.endswith(DONE_SUFFIX)


def entry_refusal(path: Path) -> str | None:
    """Why an inbox entry is not read, or None for a regular file. Never follows a link."""
    try:
        st = path.lstat()
    except FileNotFoundError:
        return f"{path.name}: the entry disappeared before it was read"
    if stat.S_ISLNK(st.st_mode):
        target = os.readlink(path)
        return (
            f"{path.name}: a symbolic link (to {target!r}); links are never followed, "
            "put the file itself in the inbox"
        )
    if stat.S_ISDIR(st.st_mode):
        return f"{path.name}: a directory, not a file; folders inside a source folder are not read"
    if not stat.S_ISREG(st.st_mode):
        kind = (
            "a named pipe"
            if stat.S_ISFIFO(st.st_mode)
            else "a socket"
            if stat.S_ISSOCK(st.st_mode)
            else "a device"
        )
        return f"{path.name}: {kind}, not a regular file"
    return None


def inbox_entries(folder: Path) -> list[tuple[Path, str | None]]:
    """Every entry of one inbox folder in name order, with the reason it is refused (links,
    directories, devices, pipes) or None for a data file. Nothing here is followed: a link
    to a file elsewhere is refused, not read."""
    if folder.is_symlink():
        log.error("inbox folder %s is a symbolic link; not read", folder)
        return []
    if not folder.is_dir():
        return []
    return sorted(
        ((p, entry_refusal(p)) for p in folder.iterdir() if not _not_data(p.name)),
        key=lambda e: e[0].name,
    )


def inbox_files(folder: Path) -> list[Path]:
    """Regular data files of one inbox folder in name order."""
    return [p for p, refusal in inbox_entries(folder) if refusal is None]


def settle_seconds() -> float:
    return float(os.environ.get(SETTLE_ENV, SETTLE_DEFAULT))


def _stamp(path: Path) -> tuple[int, int]:
    st = path.lstat()
    return st.st_size, st.st_mtime_ns


def wait_until_settled(path: Path, settle: float | None = None) -> bool:
    """True once the file's size and mtime have stood still for ``settle`` seconds (at once
    with a completion marker); False when it keeps changing for three settle periods."""
    settle = settle_seconds() if settle is None else settle
    if settle <= 0 or path.with_name(path.name + DONE_SUFFIX).exists():
        return True
    deadline = time.monotonic() + 3 * settle
    stamp = _stamp(path)
    while True:
        age = time.time() - stamp[1] / 1e9
        if age >= settle:
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(min(settle - age, settle) + 0.05)
        now = _stamp(path)
        if now != stamp:
            stamp = now


def _remove_stale_work_dirs(settings: Settings) -> None:
    """Work folders of a load that was killed (the connection we hold proves no other load
    runs on this warehouse)."""
    for stale in settings.warehouse_path.parent.glob(".ouderpeil-load-*"):
        shutil.rmtree(stale, ignore_errors=True)


def file_sha256(path: Path, hashes: HashCache | None = None) -> str:
    """The file's content hash; from `hashes` when the file looks unchanged since."""
    known = hashes.get(path) if hashes else None
    if known:
        return known
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    if hashes:
        hashes.put(path, digest.hexdigest())
    return digest.hexdigest()


def _skipped(source: Source, path: Path, file_hash: str) -> FileLoadResult:
    log.info(
        "%s/%s: skipped, this file (sha256 %s) is already loaded",
        source.name,
        path.name,
        file_hash[:12],
    )
    return FileLoadResult(
        source.name, path.name, file_hash, SKIPPED, message="already loaded (same content hash)"
    )


def _waiting(source: Source, path: Path) -> FileLoadResult:
    log.warning(
        "%s/%s: still being written (size or modification time changed); it stays in "
        "the inbox for the next run",
        source.name,
        path.name,
    )
    return FileLoadResult(
        source.name,
        path.name,
        "",
        WAITING,
        message="still being written (size or modification time changed "
        "within the settle period); loaded on a later run",
    )


def _load_one(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    source: Source,
    path: Path,
    key: bytes,
    hashes: HashCache,
) -> FileLoadResult:
    known = hashes.get(path)  # unchanged since it was hashed: no need to read it
    if known and warehouse.file_already_loaded(con, source.name, known):
        return _skipped(source, path, known)
    if not wait_until_settled(path):
        return _waiting(source, path)
    before = _stamp(path)
    # One read of the file gives the hash and, for text formats, the encoding check.
    check_text = FORMAT_BY_SUFFIX.get(path.suffix.lower()) in ("csv", "jsonl")
    file_hash, encoding = readers.hash_and_encoding(path, check_text)
    if _stamp(path) != before:  # written to while we read it
        return _waiting(source, path)
    hashes.put(path, file_hash)
    if warehouse.file_already_loaded(con, source.name, file_hash):
        return _skipped(source, path, file_hash)
    earlier = warehouse.loaded_under_name(con, source.name, path.name)
    load_id = uuid.uuid4().hex
    try:
        with tempfile.TemporaryDirectory(
            prefix=".ouderpeil-load-", dir=settings.warehouse_path.parent
        ) as tmp:
            # Staging only creates TEMP tables, outside the transaction: a DuckDB error while
            # parsing (which aborts a transaction) can then fall back to the Python reader.
            match = _stage(con, source, path, Path(tmp), key, encoding)
        if _stamp(path) != before:
            return _waiting(source, path)  # what was staged is not what the file holds now
        con.begin()
        try:
            replaced = warehouse.remove_earlier_load(con, source.name, path.name, earlier)
            result = _load_in_transaction(con, source, path.name, file_hash, load_id, match)
            if earlier:
                result.message = (
                    f"new content under a name loaded before: replaces the earlier load of "
                    f"{path.name} (sha256 {', '.join(h[:12] for h in earlier)}; "
                    f"{replaced} row(s) of it removed, in the same transaction)"
                )
                log.warning("%s/%s: %s", source.name, path.name, result.message)
            con.commit()
        except BaseException:
            con.rollback()
            raise
    except SourceFileError as exc:
        return _quarantine(con, settings, source, path, file_hash, load_id, str(exc))
    except Exception as exc:
        # Only the type: a database error text may quote a value of the file.
        log.error(
            "%s/%s: load failed (%s); the file is rolled back and stays in the inbox",
            source.name,
            path.name,
            type(exc).__name__,
        )
        raise
    finally:
        _drop_work_tables(con)
    log.info(
        "%s/%s: rows_in %d, loaded %d, rejected %d, profile %s, ignored columns %s",
        source.name,
        path.name,
        result.rows_in,
        result.rows_loaded,
        result.rows_rejected,
        result.profile,
        ", ".join(result.ignored_columns) or "none",
    )
    return result


def open_reader(con, source: Source, path: Path, workdir: Path, encoding=None):
    """The reader for a file's format, if the source accepts that format. ``encoding`` is the
    verdict of ``readers.hash_and_encoding`` (None: the reader checks the file itself)."""
    file_format = FORMAT_BY_SUFFIX.get(path.suffix.lower())
    if file_format not in source.file_formats:
        raise SourceFileError(
            f"{path.name}: format {path.suffix or '(none)'} is not accepted for {source.name} "
            f"(accepted: {', '.join(source.file_formats)})"
        )
    if file_format == "csv":
        return readers.CsvReader(path, workdir, encoding)
    if file_format == "xlsx":
        return readers.XlsxReader(path, workdir)
    return readers.JsonLinesReader(path, workdir, con, encoding)


def _stage(
    con, source: Source, path: Path, workdir: Path, key: bytes, encoding=None
) -> HeaderMatch:
    """Read the mapped columns of a file into the TEMP table STAGED (never the warehouse),
    pick its profile and pseudonymise the person ids straight away."""
    _drop_work_tables(con)
    reader = open_reader(con, source, path, workdir, encoding)
    match = _detect_header(con, source, reader, path.name)
    column_types = {c.name: c.type for c in source.columns}
    reader.stage(con, STAGED, match.column_positions, column_types)
    if getattr(reader, "late_keys", None):
        match = _add_late_keys(con, source, reader, match, column_types, path.name)
    normalise_staged(con, STAGED, CELL_PROBLEMS, source, list(match.column_positions))
    person_ids = [
        c.name for c in source.columns if c.person_id and c.name in match.column_positions
    ]
    pseudonymise_columns(con, STAGED, person_ids, key)
    return match


def _detect_header(con, source: Source, reader, file_name: str) -> HeaderMatch:
    """The profile of the file's header; for Excel the header may follow some title rows."""
    candidates = getattr(reader, "header_candidates", None)
    if isinstance(reader, readers.JsonLinesReader) and not reader.all_keys_read:
        try:
            return detect_profile(source, reader.header, file_name)
        except SourceFileError:
            # The first block's keys lack a column the profile needs: rare enough for an
            # extra pass that reads every key.
            reader.read_all_keys(con)
    if not candidates:
        return detect_profile(source, reader.header, file_name)
    first_error = None
    for index, (_, header) in enumerate(candidates):
        try:
            match = detect_profile(source, header, file_name)
        except SourceFileError as exc:
            first_error = first_error or exc
            continue
        reader.use_header(index)
        return match
    raise first_error


def _add_late_keys(
    con, source: Source, reader, match: HeaderMatch, column_types: dict[str, str], file_name: str
) -> HeaderMatch:
    """JSONL keys first seen after the first block: the match on the whole file's keys, as if
    they had all been known up front. Usually they map to nothing (the match differs only in
    its ignored columns) and the staged table stands; if they change the profile or the keys
    read, the file is staged again with the full header."""
    first = (
        match.profile.profile,
        {name: reader.header[pos] for name, pos in match.column_positions.items()},
    )
    reader.add_late_keys()
    full = detect_profile(source, reader.header, file_name)
    if (
        full.profile.profile,
        {name: reader.header[pos] for name, pos in full.column_positions.items()},
    ) != first:
        con.execute(f"DROP TABLE {STAGED}")
        reader.stage(con, STAGED, full.column_positions, column_types)
    return full


def _load_in_transaction(
    con, source: Source, file_name: str, file_hash: str, load_id: str, match: HeaderMatch
) -> FileLoadResult:
    present = set(match.column_positions)
    build_checked(con, STAGED, CHECKED, source, match.profile, present)
    check_schools = (
        "school_id" in present and source.name != "schools" and warehouse.schools_known(con)
    )
    build_rejects(con, CHECKED, REJECTS, source, check_schools, CELL_PROBLEMS)
    # REJECTS has a line per rejected column; the row filter and count need each row once.
    con.execute(f"CREATE TEMP TABLE {REJECTED_ROWS} AS SELECT DISTINCT row_number FROM {REJECTS}")

    rows_loaded = _insert_rows(con, source, file_name, file_hash, load_id, match)
    _insert_rejects(con, source, file_name, file_hash, load_id)
    result = _summarise(con, source, file_name, file_hash, load_id, match, rows_loaded)
    _record_load_file(con, result)
    return result


def _drop_work_tables(con) -> None:
    for table in (
        STAGED,
        f"{STAGED}_in",
        f"{STAGED}_pseudonymised",
        f"{STAGED}_normalised",
        CHECKED,
        REJECTS,
        REJECTED_ROWS,
        CELL_PROBLEMS,
        f"{CELL_PROBLEMS}_rows",
    ):
        con.execute(f"DROP TABLE IF EXISTS {table}")


def _insert_rows(
    con, source: Source, file_name: str, file_hash: str, load_id: str, match: HeaderMatch
) -> int:
    canonical = ", ".join(source.column_names)
    typed = ", ".join(f"t_{c}" for c in source.column_names)
    return con.execute(
        f"""
        INSERT INTO raw.{source.name}
          ({canonical}, _file_name, _file_hash, _row_number, _loaded_at, _source_profile, _load_id)
        SELECT {typed}, ?, ?, _row_number, now(), ?, ?
        FROM {CHECKED} c ANTI JOIN {REJECTED_ROWS} r ON r.row_number = c._row_number
    """,
        [file_name, file_hash, match.profile.profile, load_id],
    ).fetchall()[0][0]


def _insert_rejects(con, source: Source, file_name: str, file_hash: str, load_id: str) -> None:
    con.execute(
        f"""
        INSERT INTO raw.raw_rejects
        SELECT ?, ?, ?, ?, row_number, column_name, value, reason, now()
        FROM {REJECTS} ORDER BY row_number, column_name
    """,
        [load_id, source.name, file_name, file_hash],
    )


def _summarise(
    con,
    source: Source,
    file_name: str,
    file_hash: str,
    load_id: str,
    match: HeaderMatch,
    rows_loaded: int,
) -> FileLoadResult:
    rows_in = con.execute(f"SELECT count(*) FROM {CHECKED}").fetchall()[0][0]
    rows_rejected = con.execute(f"SELECT count(*) FROM {REJECTED_ROWS}").fetchall()[0][0]
    if rows_in != rows_loaded + rows_rejected:  # a bug, not a data problem: roll back
        raise OuderpeilError(
            f"{source.name}/{file_name}: rows_in {rows_in} != loaded "
            f"{rows_loaded} + rejected {rows_rejected}"
        )
    reasons = dict(
        con.execute(
            f"SELECT reason, count(*) FROM {REJECTS} GROUP BY reason ORDER BY reason"
        ).fetchall()
    )
    return FileLoadResult(
        source.name,
        file_name,
        file_hash,
        LOADED,
        profile=match.profile.profile,
        rows_in=rows_in,
        rows_loaded=rows_loaded,
        rows_rejected=rows_rejected,
        ignored_columns=list(match.ignored_columns),
        reject_reasons=reasons,
        load_id=load_id,
    )


def _record_load_file(con, result: FileLoadResult) -> None:
    con.execute(
        "INSERT INTO raw.raw_load_files VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, now())",
        [
            result.load_id,
            result.source,
            result.file_name,
            result.file_hash,
            result.profile,
            result.rows_in,
            result.rows_loaded,
            result.rows_rejected,
            json.dumps(result.ignored_columns, ensure_ascii=False),
            result.status,
        ],
    )


def _quarantine(
    con, settings: Settings, source: Source, path: Path, file_hash: str, load_id: str, reason: str
) -> FileLoadResult:
    """Move an unreadable file aside with a note saying why; other files still load."""
    folder = settings.quarantine_dir / source.name
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / path.name
    n = 1
    while os.path.lexists(target):  # never overwrite an earlier quarantined file of that name
        target = folder / f"{path.stem}.{n}{path.suffix}"
        n += 1
    if path.is_symlink() or (os.path.lexists(path) and not path.is_file()):
        os.rename(path, target)  # the link, folder or pipe itself: nothing followed or read
    elif path.exists():
        shutil.move(str(path), target)
    target.with_name(target.name + ".reason.txt").write_text(
        f"file: {path.name}\nsource: {source.name}\nsha256: {file_hash or '-'}\nreason: {reason}\n",
        encoding="utf-8",
    )
    result = FileLoadResult(
        source.name, path.name, file_hash or "", QUARANTINED, message=reason, load_id=load_id
    )
    con.begin()
    try:
        _record_load_file(con, result)
        con.commit()
    except BaseException:
        con.rollback()
        raise
    log.warning("%s/%s: quarantined to %s: %s", source.name, path.name, target, reason)
    return result
