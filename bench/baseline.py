"""Run bench/baseline.sql against an inbox folder (`python -m bench.baseline <inbox>`).

DuckDB reads UTF-8 only (its strict Latin-1 mode rejects the € and quotes of Windows-1252, and
the `encodings` extension cannot be installed offline), so Windows-1252 exports are first
transcoded to UTF-8 into a scratch mirror of the inbox; the other files are linked, not copied.
That step is part of the baseline's time, as it is part of the loader's.
"""

from __future__ import annotations

import codecs
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

BASELINE_SQL = Path(__file__).with_name("baseline.sql")
READ_EXTENSIONS = (".csv", ".jsonl")
CHUNK = 1 << 22


def _is_utf8(path: Path) -> bool:
    decoder = codecs.getincrementaldecoder("utf-8")(errors="strict")
    try:
        with path.open("rb") as fh:
            while chunk := fh.read(CHUNK):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        return True
    except UnicodeDecodeError:
        return False


def utf8_mirror(inbox_dir: Path, scratch: Path) -> dict:
    """Mirror the inbox's readable files under scratch, transcoding non-UTF-8 CSVs."""
    transcoded, linked, skipped = [], [], []
    for path in sorted(p for p in inbox_dir.rglob("*") if p.is_file()):
        rel = path.relative_to(inbox_dir)
        if path.suffix not in READ_EXTENSIONS or path.name.startswith("."):
            if not path.name.startswith("."):
                skipped.append(str(rel))
            continue
        target = scratch / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if path.suffix == ".csv" and not _is_utf8(path):
            with (
                path.open("r", encoding="cp1252", newline="") as src,
                target.open("w", encoding="utf-8", newline="") as dst,
            ):
                shutil.copyfileobj(src, dst, CHUNK)
            transcoded.append(str(rel))
        else:
            os.symlink(path.resolve(), target)
            linked.append(str(rel))
    return {"transcoded": transcoded, "linked": len(linked), "skipped": skipped}


def run_baseline_sql(inbox_dir: Path, show: bool = False) -> dict:
    """Transcode where needed, execute the script in an in-memory DuckDB, return what it did."""
    import duckdb

    inbox_dir = Path(inbox_dir).resolve()
    with tempfile.TemporaryDirectory(prefix="ouderpeil-baseline-") as tmp:
        start = time.perf_counter()
        files = utf8_mirror(inbox_dir, Path(tmp))
        transcode_seconds = time.perf_counter() - start
        con = duckdb.connect()
        try:
            con.execute(f"SET file_search_path = '{tmp}'")
            start = time.perf_counter()
            rows = con.execute(BASELINE_SQL.read_text()).fetchall()
            sql_seconds = time.perf_counter() - start
            columns = [d[0] for d in con.description]
        finally:
            con.close()
    if show:
        print("\t".join(columns))
        for row in rows:
            print(
                "\t".join(
                    "" if v is None else f"{v:.4f}" if isinstance(v, float) else str(v) for v in row
                )
            )
    return {
        "rows": len(rows),
        "transcode_seconds": transcode_seconds,
        "sql_seconds": sql_seconds,
        "indicators": sorted({r[0] for r in rows}),
        "files": files,
    }


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python -m bench.baseline <inbox folder>")
    info = run_baseline_sql(Path(sys.argv[1]), show=True)
    print(
        f"\n{info['rows']} rows; transcoding {info['transcode_seconds']:.2f} s, "
        f"SQL {info['sql_seconds']:.2f} s; transcoded {info['files']['transcoded']}; "
        f"skipped {info['files']['skipped']}"
    )
