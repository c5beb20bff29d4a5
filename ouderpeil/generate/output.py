"""Output files and their bookkeeping: rows written, dirt injected, the summary.

RowFile renders canonical rows in a file's profile and injects the reject-causing dirt per
chunk (dirt.py); Output collects what every file received for the summary that tests and the
loader's reject counts are compared with.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

from ouderpeil.contracts import SOURCES
from ouderpeil.generate import freetext
from ouderpeil.generate.dirt import (
    DIRT_RATES,
    REJECT_KINDS,
    DirtQuota,
    choose_disjoint,
    inject_rejects,
)
from ouderpeil.generate.profiles import file_style
from ouderpeil.generate.render import header_of, render, to_export_columns
from ouderpeil.generate.rng import stream
from ouderpeil.generate.writers import CsvWriter, write_xlsx


class Output:
    """Bookkeeping of written files, row counts and dirt for the summary."""

    def __init__(self, out_dir: Path):
        self.out_dir = out_dir
        self.files: list[dict] = []
        self.dirt: dict[str, dict[str, int]] = {}

    def add_dirt(self, source: str, counts: dict[str, int]) -> None:
        d = self.dirt.setdefault(source, {})
        for k, v in counts.items():
            d[k] = d.get(k, 0) + int(v)

    def add_file(
        self,
        path: Path,
        source: str,
        fmt: str,
        profile: str,
        rows: int,
        encoding: str | None,
        delimiter: str | None,
        **extra,
    ) -> None:
        self.files.append(
            {
                "path": str(path.relative_to(self.out_dir)),
                "source": source,
                "format": fmt,
                "profile": profile,
                "encoding": encoding,
                "delimiter": delimiter,
                "rows": int(rows),
                **extra,
            }
        )

    def summary(self, **head) -> dict:
        rows: dict[str, int] = {}
        for f in self.files:
            rows[f["source"]] = rows.get(f["source"], 0) + f["rows"]
        dirt = {kind: {} for kind in (*DIRT_RATES, "late_events")}
        for source, counts in self.dirt.items():
            for kind, v in counts.items():
                dirt.setdefault(kind, {})[source] = v
        totals = {kind: sum(v.values()) for kind, v in dirt.items()}
        expected_rejects = {
            s: sum(self.dirt.get(s, {}).get(k, 0) for k in REJECT_KINDS) for s in SOURCES
        }
        return {
            **head,
            "files": self.files,
            "rows": rows,
            "dirt": dirt,
            "dirt_totals": totals,
            "dirt_rates": dict(DIRT_RATES),
            "expected_rejects": expected_rejects,
        }


class RowFile:
    """A CSV file of one source in one style, written in chunks, with reject dirt (and
    duplicate rows for contact_logs) injected per chunk."""

    def __init__(
        self, output: Output, path: Path, source: str, profile: str, seed: int, dirty: bool = True
    ):
        self.output, self.path, self.source = output, path, source
        self.style = file_style(profile, source)
        self.header = header_of(source, self.style)
        self.writer = CsvWriter(path, self.style, self.header)
        kinds = REJECT_KINDS + (("duplicate_contact_rows",) if source == "contact_logs" else ())
        self.quota = DirtQuota(kinds) if dirty else None
        self.rng = stream(seed, "file", str(path.relative_to(output.out_dir)))
        self.col_types = {c.name: c.type for c in SOURCES[source].columns}

    def write(self, df: pd.DataFrame, extra: dict | None = None, clean: bool = False) -> None:
        """Append rows; ``clean`` chunks get no dirt (the quota catches up in later chunks)."""
        if len(df) == 0:
            return
        cells = render(df, self.source, self.style)
        if self.quota is not None and not clean:
            counts = self.quota.next_chunk(len(df))
            rows = choose_disjoint(self.rng, len(df), counts)
            inject_rejects(self.rng, cells, self.source, self.style.profile, self.col_types, rows)
            issued = {k: len(v) for k, v in rows.items()}
            self.quota.record(issued)
            self.output.add_dirt(self.source, issued)
            dup = rows.get("duplicate_contact_rows")
            if dup is not None and len(dup):
                # The same contact exported twice: the copies follow later in the file.
                cells = {k: np.concatenate([v, v[dup]]) for k, v in cells.items()}
                if extra:
                    extra = {k: np.concatenate([v, v[dup]]) for k, v in extra.items()}
        columns = to_export_columns(cells, self.source, self.style, self.rng, extra)
        self.writer.write(columns)

    def close(self) -> None:
        self.writer.close()
        self.output.add_file(
            self.path,
            self.source,
            "csv",
            self.style.profile,
            self.writer.rows,
            self.style.encoding,
            self.style.delimiter,
        )


def message_bodies(file: RowFile, msgs: pd.DataFrame) -> dict | None:
    """Message bodies in the Dutch export (a free-text column the loader must drop)."""
    if "Berichttekst" not in file.style.ignored or len(msgs) == 0:
        return None
    return {"Berichttekst": freetext.bodies(file.rng, msgs["purpose"].to_numpy())}


def write_survey_xlsx(
    output: Output, path: Path, responses: pd.DataFrame, profile: str, seed: int
) -> None:
    """Survey tools export Excel: labels as text, grades as numbers, the submission time as a
    real date cell."""
    style = file_style(profile, "survey_responses")
    rng = stream(seed, "file", str(path.relative_to(output.out_dir)))
    cells = render(responses, "survey_responses", style)
    quota = DirtQuota(REJECT_KINDS)
    rows = choose_disjoint(rng, len(responses), quota.next_chunk(len(responses)))
    col_types = {c.name: c.type for c in SOURCES["survey_responses"].columns}
    inject_rejects(rng, cells, "survey_responses", profile, col_types, rows)
    output.add_dirt("survey_responses", {k: len(v) for k, v in rows.items()})
    # Excel cells: a date cell where the date is valid, numbers as numbers.
    bad = set(rows["bad_dates"].tolist())
    cells["submitted_at"] = np.array(
        [
            cells["submitted_at"][i] if i in bad else dt.datetime.fromisoformat(str(v))
            for i, v in enumerate(responses["submitted_at"].astype(str))
        ],
        dtype=object,
    )
    cells["q_comm_grade"] = np.array(
        [None if v is None else int(v) for v in cells["q_comm_grade"]], dtype=object
    )
    columns = to_export_columns(cells, "survey_responses", style, rng)
    header = header_of("survey_responses", style)
    n = write_xlsx(path, header, columns)
    output.add_file(path, "survey_responses", "xlsx", profile, n, None, None)
