"""Raw input files leave the inbox once loaded (PRIVACY.md item 5, issue 16).

A school system's export holds names, phone numbers and e-mail addresses in clear. Once the
loader has its rows (pseudonymised) in the warehouse, or knows the file as loaded before
(same content hash), the file itself moves out of the inbox:

- ``OUDERPEIL_RAW_FILES=archive`` (default): to ``<archive>/<source>/<YYYY-MM-DD>/<name>``
  (the day it was archived; ``<archive>`` = ``OUDERPEIL_ARCHIVE_DIR``, default
  ``<data_dir>/archive``), owner-only. The retention DAG deletes archived files, like raw
  rows, once they are older than the kept school years; quarantined files go the same way.
- ``OUDERPEIL_RAW_FILES=delete``: deleted at once.
- ``OUDERPEIL_RAW_FILES=keep``: left in the inbox (the behaviour before issue 16), for an
  inbox a sync tool mirrors and would fill again. Not for production: the files then keep
  every name, phone number and e-mail address until the operator removes them.

A file dropped again after it was archived is still skipped: ``raw.raw_load_files`` keeps
its content hash (retention never deletes those rows). Files outside the inbox (``ouderpeil
load`` on a path elsewhere) are never moved.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import shutil
from pathlib import Path

from ouderpeil.config import Settings
from ouderpeil.loading.report import LOADED, SKIPPED, FileLoadResult

log = logging.getLogger(__name__)

MODE_ENV = "OUDERPEIL_RAW_FILES"
ARCHIVE_DIR_ENV = "OUDERPEIL_ARCHIVE_DIR"
MODES = ("archive", "delete", "keep")
REASON_SUFFIX = ".reason.txt"


def retirement_mode(env: dict | None = None) -> str:
    env = os.environ if env is None else env
    mode = (env.get(MODE_ENV) or "archive").strip().lower()
    if mode not in MODES:
        raise ValueError(f"{MODE_ENV}={mode!r}: choose one of {', '.join(MODES)}")
    return mode


def archive_dir(settings: Settings, env: dict | None = None) -> Path:
    env = os.environ if env is None else env
    return Path(env.get(ARCHIVE_DIR_ENV) or settings.data_dir / "archive").resolve()


def _in_inbox(settings: Settings, path: Path) -> bool:
    try:
        path.resolve().relative_to(settings.inbox_dir.resolve())
    except ValueError:
        return False
    return True


def retire(
    settings: Settings, path: Path, result: FileLoadResult, today: dt.date | None = None
) -> FileLoadResult:
    """Archive or delete an inbox file the warehouse holds (loaded now or before).

    Returns ``result`` unchanged, so the loader can wrap its call. A failure to move leaves
    the file in the inbox (the next load skips it by its hash and tries again).
    """
    if (
        result.status not in (LOADED, SKIPPED)
        or not path.is_file()
        or not _in_inbox(settings, path)
    ):
        return result
    mode = retirement_mode()
    if mode == "keep":
        return result
    try:
        if mode == "delete":
            path.unlink()
            log.info(
                "%s/%s: deleted from the inbox (loaded; %s=delete)",
                result.source,
                path.name,
                MODE_ENV,
            )
            return result
        folder = archive_dir(settings) / result.source / (today or dt.date.today()).isoformat()
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        target = folder / path.name
        n = 1
        while target.exists():  # the same name archived twice on one day: keep both
            target = folder / f"{path.stem}.{n}{path.suffix}"
            n += 1
        shutil.move(str(path), target)
        os.chmod(target, 0o600)
        log.info("%s/%s: archived to %s", result.source, path.name, target)
    except OSError as exc:
        log.warning(
            "%s/%s: could not be moved out of the inbox (%s); the next load tries again",
            result.source,
            path.name,
            type(exc).__name__,
        )
    return result


def purge_raw_files(settings: Settings, cutoff: dt.date) -> dict[str, int]:
    """Delete archived files archived before ``cutoff`` and quarantined files quarantined
    before it (the first kept day of retention). Returns how many files went."""
    deleted = {"archived": 0, "quarantined": 0}
    root = archive_dir(settings)
    if root.is_dir():
        for source in sorted(p for p in root.iterdir() if p.is_dir()):
            for day in sorted(p for p in source.iterdir() if p.is_dir()):
                try:
                    archived_on = dt.date.fromisoformat(day.name)
                except ValueError:
                    continue  # not a folder of ours: leave it
                if archived_on < cutoff:
                    deleted["archived"] += sum(1 for f in day.rglob("*") if f.is_file())
                    shutil.rmtree(day)
    quarantine = settings.quarantine_dir
    if quarantine.is_dir():
        for note in sorted(quarantine.rglob(f"*{REASON_SUFFIX}")):
            # The note is written when the file is quarantined: its time is the file's.
            noted = dt.datetime.fromtimestamp(note.stat().st_mtime).date()
            if noted < cutoff:
                data = note.with_name(note.name[: -len(REASON_SUFFIX)])
                if data.exists():
                    data.unlink()
                    deleted["quarantined"] += 1
                note.unlink()
    return deleted


def sweep_inbox(settings: Settings, loaded_hashes: dict[str, set[str]]) -> int:
    """Retire inbox files the warehouse already holds (dropped again after their load; the
    ingest DAG never schedules a load for them). Returns how many files left the inbox."""
    from ouderpeil.loading.loader import file_sha256, inbox_files

    if retirement_mode() == "keep":
        return 0
    moved = 0
    for source, hashes in loaded_hashes.items():
        for path in inbox_files(settings.inbox_dir / source):
            file_hash = file_sha256(path)
            if file_hash in hashes:
                retire(settings, path, FileLoadResult(source, path.name, file_hash, SKIPPED))
                moved += not path.exists()
    return moved
