"""Source profiles: how one school system's export maps onto the canonical contract.

A profile (``ouderpeil/profiles/<name>.yaml``) names, per source, which header holds which
canonical column, which answer labels stand for which code, and which columns are free text
to be ignored. The loader picks the profile whose headers cover the source's required columns.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

from ouderpeil.contracts import SOURCES, Source
from ouderpeil.errors import SourceFileError
from ouderpeil.loading.dates import check_formats

NON_BREAKING_SPACES = ("\u00a0", "\u202f", "\u2007")
PROFILES_DIR = Path(__file__).resolve().parent.parent / "profiles"
CANONICAL = "canonical"

# ISO formats every profile also accepts: Excel date cells arrive as ISO text (see readers.py).
ISO_DATE_FORMATS = ("%Y-%m-%d",)
ISO_TIMESTAMP_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d %H:%M:%S.%f",
    "%Y-%m-%dT%H:%M:%S.%f",
)


def normalise_header(name: object) -> str:
    """Header cells compare without surrounding spaces, BOM or case."""
    return str(name or "").replace("\ufeff", "").strip().casefold()


def normalise_label(label: object) -> str:
    """Answer labels compare as normalise.py leaves staged text (NFC, non-breaking spaces as
    spaces, trimmed), without case. Lower case as DuckDB's lower() does it, so that the
    label maps built here and the CASE lower(value) in validation.py agree."""
    text = unicodedata.normalize("NFC", str(label))
    for space in NON_BREAKING_SPACES:
        text = text.replace(space, " ")
    return text.strip().lower()


@dataclass(frozen=True)
class SourceProfile:
    """One profile's reading of one source."""

    profile: str
    source: Source
    columns: dict[str, str]  # normalised header -> canonical column
    values: dict[str, dict[str, str]]  # canonical column -> normalised label -> code
    ignore: frozenset[str]  # normalised headers of free-text columns
    decimal: str = "."
    date_formats: tuple[str, ...] = ISO_DATE_FORMATS
    timestamp_formats: tuple[str, ...] = ISO_TIMESTAMP_FORMATS
    true_values: tuple[str, ...] = ("true", "1")
    false_values: tuple[str, ...] = ("false", "0")
    excel_serial_dates: bool = False  # a bare Excel serial number in a date column is a day


@dataclass(frozen=True)
class HeaderMatch:
    """The outcome of matching a file's header against a profile."""

    profile: SourceProfile
    column_positions: dict[str, int]  # canonical column -> position in the header
    ignored_columns: list[str] = field(default_factory=list)  # header cells never read


def _merge_formats(own: list | None, iso: tuple[str, ...]) -> tuple[str, ...]:
    formats = list(own or [])
    formats += [f for f in iso if f not in formats]
    return tuple(formats)


def _source_profile(doc: dict, source: Source, profiles_dir: Path) -> SourceProfile | None:
    if doc["name"] == CANONICAL:
        columns = {normalise_header(c): c for c in source.column_names}
        spec: dict = {}
    else:
        spec = (doc.get("sources") or {}).get(source.name)
        if not spec:
            return None
        columns = {normalise_header(h): c for h, c in (spec.get("columns") or {}).items()}
        unknown = set(columns.values()) - set(source.column_names)
        if unknown:
            raise ValueError(
                f"profile {doc['name']}: {source.name} maps to unknown columns {sorted(unknown)}"
            )
    values: dict[str, dict[str, str]] = {}
    if spec.get("codebook"):
        codebook = yaml.safe_load((profiles_dir / spec["codebook"]).read_text(encoding="utf-8"))
        for column, labels in codebook.items():
            values.setdefault(column, {}).update(
                {normalise_label(k): str(v) for k, v in labels.items()}
            )
    for column, labels in (spec.get("values") or {}).items():
        values.setdefault(column, {}).update(
            {normalise_label(k): str(v) for k, v in labels.items()}
        )
    return SourceProfile(
        profile=doc["name"],
        source=source,
        columns=columns,
        values=values,
        ignore=frozenset(normalise_header(h) for h in spec.get("ignore") or []),
        decimal=str(doc.get("decimal", ".")),
        date_formats=_merge_formats(doc.get("date_formats"), ISO_DATE_FORMATS),
        timestamp_formats=_merge_formats(doc.get("timestamp_formats"), ISO_TIMESTAMP_FORMATS),
        true_values=tuple(str(v).casefold() for v in doc.get("true_values") or ("true", "1")),
        false_values=tuple(str(v).casefold() for v in doc.get("false_values") or ("false", "0")),
        excel_serial_dates=bool(doc.get("excel_serial_dates", False)),
    )


@lru_cache(maxsize=8)
def load_profiles(profiles_dir: Path = PROFILES_DIR) -> dict[str, list[SourceProfile]]:
    """Every profile that knows a source, per source; the canonical profile comes first."""
    docs = []
    for path in sorted(profiles_dir.glob("*.yaml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if "name" in doc:  # the codebook has no name: it is part of a profile, not one itself
            docs.append(doc)
    docs.sort(key=lambda d: (d["name"] != CANONICAL, d["name"]))
    for doc in docs:  # a profile that would have to guess day-first or month-first is refused
        check_formats(doc["name"], _merge_formats(doc.get("date_formats"), ISO_DATE_FORMATS))
        check_formats(
            doc["name"], _merge_formats(doc.get("timestamp_formats"), ISO_TIMESTAMP_FORMATS)
        )
    per_source: dict[str, list[SourceProfile]] = {}
    for source in SOURCES.values():
        found = (_source_profile(d, source, profiles_dir) for d in docs)
        per_source[source.name] = [p for p in found if p is not None]
    return per_source


def _match(profile: SourceProfile, header: list[str]) -> HeaderMatch:
    positions: dict[str, int] = {}
    ignored: list[str] = []
    for position, cell in enumerate(header):
        canonical = profile.columns.get(normalise_header(cell))
        if canonical is None or canonical in positions:
            # Free text, an unknown column or a repeated one: never read (docs/spec/PRIVACY.md item 2).
            name = str(cell).replace("\ufeff", "").strip()
            if name:  # a blank header cell (trailing separator) holds nothing worth naming
                ignored.append(name)
        else:
            positions[canonical] = position
    return HeaderMatch(profile, positions, ignored)


def detect_profile(
    source: Source, header: list[str], file_name: str, profiles_dir: Path = PROFILES_DIR
) -> HeaderMatch:
    """The profile whose headers cover the source's required columns, the best-covering one
    when several do. Raises SourceFileError (quarantine) when none does."""
    best: HeaderMatch | None = None
    closest: HeaderMatch | None = None
    for profile in load_profiles(profiles_dir)[source.name]:
        match = _match(profile, header)
        if closest is None or len(match.column_positions) > len(closest.column_positions):
            closest = match
        if all(c in match.column_positions for c in source.required_columns):
            if best is None or len(match.column_positions) > len(best.column_positions):
                best = match
    if best is not None:
        return best
    if closest is None or not closest.column_positions:
        raise SourceFileError(
            f"{file_name}: no {source.name} columns recognised in the header by any profile "
            f"({', '.join(p.profile for p in load_profiles(profiles_dir)[source.name])})"
        )
    missing = [c for c in source.required_columns if c not in closest.column_positions]
    raise SourceFileError(
        f"{file_name}: header lacks required {source.name} column(s) {', '.join(missing)} "
        f"(closest profile: {closest.profile.profile})"
    )
