"""Rendering canonical records in a school system's export format.

A profile YAML (ouderpeil/profiles/) maps export headers and labels onto canonical names and
codes; the generator reads it at runtime and inverts it, so a file rendered here is exactly
what the loader's profile maps back. Where several headers or labels map onto one canonical
value, the first one in the YAML is used.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import yaml

PROFILES_DIR = Path(__file__).resolve().parent.parent / "profiles"


@dataclass(frozen=True)
class FileStyle:
    """How one file is written: profile, text formats, separator and encoding."""

    profile: str
    delimiter: str
    encoding: str  # python codec name
    crlf: bool
    date_format: str
    timestamp_format: str
    true_label: str
    false_label: str
    decimal: str
    headers: dict = field(default_factory=dict)  # canonical -> export header
    labels: dict = field(default_factory=dict)  # canonical column -> {code: label}
    ignored: tuple = ()  # free-text headers of the profile


@cache
def _load(name: str) -> dict:
    return yaml.safe_load((PROFILES_DIR / f"{name}.yaml").read_text(encoding="utf-8"))


def _invert(mapping: dict) -> dict:
    out: dict = {}
    for label, code in mapping.items():
        out.setdefault(str(code), str(label))
    return out


@cache
def file_style(profile: str, source: str, encoding: str | None = None) -> FileStyle:
    """The style of a file of ``source`` in ``profile`` (canonical, generic_sis_nl, ...)."""
    doc = _load(profile)
    if profile == "canonical":
        return FileStyle(
            "canonical",
            ",",
            encoding or "utf-8",
            False,
            "%Y-%m-%d",
            "%Y-%m-%dT%H:%M:%S",
            "true",
            "false",
            ".",
        )
    spec = doc["sources"][source]
    headers = {}
    for header, canonical in spec["columns"].items():
        headers.setdefault(canonical, header)
    labels = {col: _invert(vals) for col, vals in (spec.get("values") or {}).items()}
    if spec.get("codebook"):
        codebook = _load(Path(spec["codebook"]).stem)
        for col, vals in codebook.items():
            labels.setdefault(col, _invert(vals))
    sis = profile == "generic_sis_nl"
    return FileStyle(
        profile=profile,
        delimiter=";",
        encoding=encoding or ("cp1252" if sis else "utf-8-sig"),
        crlf=sis,
        date_format="%d-%m-%Y",
        timestamp_format="%d-%m-%Y %H:%M",
        true_label=str(doc.get("true_values", ["ja"])[0]),
        false_label=str(doc.get("false_values", ["nee"])[0]),
        decimal=str(doc.get("decimal", ",")),
        headers=headers,
        labels=labels,
        ignored=tuple(spec.get("ignore") or ()),
    )
