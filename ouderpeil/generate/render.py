"""Canonical records -> text cells of one export format (canonical or a Dutch profile)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ouderpeil.contracts import SOURCES
from ouderpeil.generate import freetext
from ouderpeil.generate.profiles import FileStyle


def format_datetimes(values: np.ndarray, fmt: str) -> np.ndarray:
    """Date/time text in ``fmt``. The formats the profiles use are cut from Arrow's ISO cast
    (ten times faster than strftime on millions of rows); others go through strftime."""
    arr = pa.array(np.asarray(values).astype("datetime64[s]"), pa.timestamp("s"))
    iso = arr.cast(pa.string())  # "YYYY-MM-DD HH:MM:SS"

    def cut(a, b):
        return pc.utf8_slice_codeunits(iso, a, b)

    fast = {
        "%Y-%m-%d": lambda: cut(0, 10),
        "%Y-%m-%dT%H:%M:%S": lambda: pc.utf8_replace_slice(iso, 10, 11, "T"),
        "%Y-%m-%d %H:%M:%S": lambda: iso,
        "%d-%m-%Y": lambda: pc.binary_join_element_wise(cut(8, 10), cut(5, 7), cut(0, 4), "-"),
        "%d-%m-%Y %H:%M": lambda: pc.binary_join_element_wise(
            cut(8, 10), "-", cut(5, 7), "-", cut(0, 4), " ", cut(11, 16), ""
        ),
    }
    out = fast[fmt]() if fmt in fast else pc.strftime(arr, format=fmt)
    return out.to_numpy(zero_copy_only=False)


def _numbers(values, decimals: int | None, decimal_sep: str) -> np.ndarray:
    v = pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(dtype=float)
    out = np.full(len(v), None, dtype=object)
    ok = ~np.isnan(v)
    if decimals is None:
        out[ok] = v[ok].astype("int64").astype(str)
    else:
        text = np.char.mod(f"%.{decimals}f", v[ok]).astype(object)
        out[ok] = [t.replace(".", decimal_sep) for t in text] if decimal_sep != "." else text
    return out


def _text(values) -> np.ndarray:
    out = np.asarray(values, dtype=object).copy()
    out[pd.isna(out)] = None
    return out


def render(df: pd.DataFrame, source: str, style: FileStyle) -> dict[str, np.ndarray]:
    """Text cells per canonical column (None = empty cell), labels and formats of ``style``."""
    cells: dict[str, np.ndarray] = {}
    for col in SOURCES[source].columns:
        if style.profile != "canonical" and col.name not in style.headers:
            continue
        v = df[col.name].to_numpy()
        if col.type == "date":
            t = format_datetimes(v, style.date_format)
        elif col.type in ("timestamp", "timestamptz"):
            t = format_datetimes(v, style.timestamp_format)
        elif col.type == "decimal":
            t = _numbers(v, 2, style.decimal)
        elif col.type == "int":
            t = _numbers(v, None, ".")
        elif col.type == "bool":
            t = np.where(
                pd.Series(v).astype(bool).to_numpy(), style.true_label, style.false_label
            ).astype(object)
        else:
            t = _text(v)
        labels = style.labels.get(col.name)
        if labels:
            mapped = pd.Series(t, dtype=object).map(labels).to_numpy(dtype=object)
            known = ~pd.isna(mapped)
            t = t.copy()
            t[known] = mapped[known]  # unmapped values (none expected) pass unchanged
        cells[col.name] = t
    return cells


def header_of(source: str, style: FileStyle) -> list[str]:
    """Export headers, canonical order, with the profile's free-text columns at the end."""
    if style.profile == "canonical":
        return SOURCES[source].column_names
    return [style.headers[c] for c in SOURCES[source].column_names if c in style.headers] + list(
        style.ignored
    )


def to_export_columns(
    cells: dict[str, np.ndarray], source: str, style: FileStyle, rng, extra: dict | None = None
) -> dict[str, np.ndarray]:
    """Rename canonical keys to export headers and fill the free-text columns with fakes."""
    n = len(next(iter(cells.values())))
    out = {
        style.headers.get(c, c) if style.profile != "canonical" else c: v for c, v in cells.items()
    }
    extra = extra or {}
    for header in style.ignored:
        key = header.casefold()
        if header in extra:
            out[header] = extra[header]
        elif "naam" in key:
            out[header] = freetext.names(rng, n)
        elif "telefoon" in key:
            out[header] = freetext.phones(rng, n)
        elif "e-mail" in key:
            out[header] = freetext.emails(rng, n)
        elif "adres" in key:
            out[header] = freetext.addresses(rng, n)
        elif "notitie" in key:
            out[header] = freetext.notes(rng, n)
        elif "opmerking" in key:
            out[header] = freetext.remarks(rng, n)
        else:
            out[header] = freetext.names(rng, n)
    return out
