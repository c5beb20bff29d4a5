"""The unprivileged system user Superset runs as, and the little file access it needs.

Superset must never be able to read the pseudonymisation key (``hmac.key``, mode 0600 in a
0700 directory), the warehouse or anything else of the pipeline. Started by root (the demo,
the tests here), Superset runs as the system user ``ouderpeil-superset`` (created on first
use, no login shell, no home of its own); it gets:

* traverse-only access (``x``, no listing) to the directories above the files it needs:
  its Python, the code, the serving file and its own home; given as a POSIX ACL entry for
  that one user, so nobody else gains anything (``o+x`` only where ACLs are unsupported);
* its home directory (metadata DB, secret key, credentials, caches), owned by it, 0700.

Started by an ordinary user, Superset runs as that user (nothing to switch to); the key is
then kept from it by DuckDB's locked configuration and its environment only (docs/DASHBOARDS.md).
"""

from __future__ import annotations

import errno
import logging
import os
import pwd
import shutil
import struct
import subprocess
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

DEFAULT_USER = "ouderpeil-superset"
_ACL_XATTR = "system.posix_acl_access"
_ACL_VERSION = 2
_USER_OBJ, _USER, _GROUP_OBJ, _GROUP, _MASK, _OTHER = 0x01, 0x02, 0x04, 0x08, 0x10, 0x20
_UNDEFINED_ID = 0xFFFFFFFF
_EXECUTE = 0o1


@dataclass(frozen=True)
class SystemUser:
    name: str
    uid: int
    gid: int


def superset_user() -> SystemUser | None:
    """The user to run Superset as: the system user when we are root, else None (ourselves)."""
    if os.geteuid() != 0:
        return None
    name = os.environ.get("OUDERPEIL_SUPERSET_USER", DEFAULT_USER)
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        useradd = shutil.which("useradd") or "/usr/sbin/useradd"
        subprocess.run(
            [
                useradd,
                "--system",
                "--user-group",
                "--no-create-home",
                "--home-dir",
                "/nonexistent",
                "--shell",
                "/usr/sbin/nologin",
                name,
            ],
            check=True,
            capture_output=True,
        )
        entry = pwd.getpwnam(name)
    if entry.pw_uid == 0:
        raise RuntimeError(f"OUDERPEIL_SUPERSET_USER={name} is root; choose an unprivileged user")
    return SystemUser(name, entry.pw_uid, entry.pw_gid)


def _can_traverse(st: os.stat_result, user: SystemUser) -> bool:
    if st.st_uid == user.uid:
        return bool(st.st_mode & 0o100)
    if st.st_gid == user.gid:
        return bool(st.st_mode & 0o010)
    return bool(st.st_mode & 0o001)


def _read_acl(path: Path) -> list[tuple[int, int, int]]:
    try:
        raw = os.getxattr(path, _ACL_XATTR)
    except OSError as exc:
        if exc.errno in (errno.ENODATA, getattr(errno, "ENOATTR", errno.ENODATA)):
            return []
        raise
    return [struct.unpack_from("<HHI", raw, 4 + 8 * i) for i in range((len(raw) - 4) // 8)]


def _grant_traverse_acl(path: Path, uid: int) -> None:
    """Add ``user:<uid>:--x`` to the directory's access ACL (keeps every other entry)."""
    mode = os.stat(path).st_mode
    entries = {(tag, eid): perm for tag, perm, eid in _read_acl(path)}
    if not entries:  # the ACL the mode bits stand for
        entries = {
            (_USER_OBJ, _UNDEFINED_ID): (mode >> 6) & 7,
            (_GROUP_OBJ, _UNDEFINED_ID): (mode >> 3) & 7,
            (_OTHER, _UNDEFINED_ID): mode & 7,
        }
    entries[(_USER, uid)] = entries.get((_USER, uid), 0) | _EXECUTE
    named = [perm for (tag, _), perm in entries.items() if tag in (_USER, _GROUP)]
    group_obj = entries[(_GROUP_OBJ, _UNDEFINED_ID)]
    entries[(_MASK, _UNDEFINED_ID)] = group_obj | _EXECUTE | _or(named)
    blob = struct.pack("<I", _ACL_VERSION) + b"".join(
        struct.pack("<HHI", tag, perm, eid) for (tag, eid), perm in sorted(entries.items())
    )
    os.setxattr(path, _ACL_XATTR, blob)


def _or(perms: list[int]) -> int:
    out = 0
    for p in perms:
        out |= p
    return out


def grant_traverse(paths: list[Path], user: SystemUser) -> list[Path]:
    """Let ``user`` pass through every directory above ``paths`` (not list them, not read
    their other files). Returns the directories that needed a grant."""
    granted = []
    seen: set[Path] = set()
    for target in paths:
        for folder in Path(target).resolve().parents:
            if folder in seen:
                continue
            seen.add(folder)
            st = os.stat(folder)
            if _can_traverse(st, user):
                continue
            try:
                _grant_traverse_acl(folder, user.uid)
            except OSError:  # no ACL support on this file system
                os.chmod(folder, st.st_mode | 0o001)
            granted.append(folder)
    if granted:
        log.info("Superset user %s may now traverse %s", user.name, ", ".join(map(str, granted)))
    return granted


def give_home(home: Path, user: SystemUser) -> None:
    """The Superset home and all in it belong to ``user``; the home is 0700."""
    for root, dirs, files in os.walk(home):
        for name in dirs + files:
            os.chown(Path(root) / name, user.uid, user.gid, follow_symlinks=False)
    os.chown(home, user.uid, user.gid)
    os.chmod(home, 0o700)


def can_read_as(user: SystemUser, path: Path) -> bool:
    """Whether ``user`` can open ``path`` for reading: tried for real, as that user."""
    probe = subprocess.run(
        ["/bin/sh", "-c", 'exec 3< "$1"', "probe", str(path)],
        user=user.uid,
        group=user.gid,
        extra_groups=[],
        capture_output=True,
    )
    return probe.returncode == 0
