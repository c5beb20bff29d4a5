"""What a load did, per file: counts, ignored columns, status. Never holds data values."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

LOADED = "loaded"
QUARANTINED = "quarantined"
SKIPPED = "skipped"  # the same file (content hash) was loaded before
WAITING = "waiting"  # still being written (not settled): stays in the inbox for a later run


@dataclass
class FileLoadResult:
    source: str
    file_name: str
    file_hash: str
    status: str  # loaded | quarantined | skipped | waiting
    profile: str | None = None
    rows_in: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    ignored_columns: list[str] = field(default_factory=list)
    reject_reasons: dict[str, int] = field(default_factory=dict)  # reason -> reject lines
    message: str | None = None  # why a file was quarantined or skipped
    load_id: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class LoadReport:
    files: list[FileLoadResult] = field(default_factory=list)

    @property
    def rows_loaded(self) -> int:
        return sum(f.rows_loaded for f in self.files)

    @property
    def rows_rejected(self) -> int:
        return sum(f.rows_rejected for f in self.files)

    @property
    def quarantined(self) -> list[FileLoadResult]:
        return [f for f in self.files if f.status == QUARANTINED]

    def to_dict(self) -> dict:
        return {
            "files": [f.to_dict() for f in self.files],
            "totals": {
                "files": len(self.files),
                "rows_loaded": self.rows_loaded,
                "rows_rejected": self.rows_rejected,
                "quarantined": len(self.quarantined),
            },
        }

    def to_text(self) -> str:
        if not self.files:
            return "load report: no new files in the inbox"
        lines = ["load report"]
        skipped = [f for f in self.files if f.status == SKIPPED]
        for f in self.files:
            if f.status == SKIPPED:
                continue  # summed up below: old files would drown the new ones
            lines.append(
                f"- {f.source}/{f.file_name}: {f.status}"
                + (f" (profile {f.profile})" if f.profile else "")
            )
            if f.status == LOADED:
                lines.append(
                    f"    rows_in {f.rows_in}, loaded {f.rows_loaded}, rejected {f.rows_rejected}"
                )
                if f.reject_reasons:
                    lines.append(
                        "    rejects: "
                        + ", ".join(
                            f"{reason} {n}" for reason, n in sorted(f.reject_reasons.items())
                        )
                    )
            if f.ignored_columns:
                lines.append("    ignored columns (never read): " + ", ".join(f.ignored_columns))
            if f.message:
                lines.append(f"    {f.message}")
        if skipped:
            lines.append(
                f"{len(skipped)} file(s) skipped, already loaded (same content hash): "
                + ", ".join(f"{f.source}/{f.file_name}" for f in skipped[:10])
                + (", ..." if len(skipped) > 10 else "")
            )
        lines.append(
            f"total: {len(self.files)} file(s), {self.rows_loaded} rows loaded, "
            f"{self.rows_rejected} rejected, {len(self.quarantined)} quarantined"
        )
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.to_text()
