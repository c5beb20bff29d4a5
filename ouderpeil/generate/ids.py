"""Source-system identifiers as text, built vectorised (pyarrow) for millions of rows."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


def prefixed(prefix: str, numbers: np.ndarray, width: int) -> np.ndarray:
    """``prefix`` + zero-padded number, e.g. prefixed("C", [7], 4) -> ["C0007"]."""
    digits = pc.utf8_lpad(
        pa.array(np.asarray(numbers, dtype="int64")).cast(pa.string()), width, "0"
    )
    return pc.binary_join_element_wise(prefix, digits, "").to_numpy(zero_copy_only=False)


def student_ref(family_index: np.ndarray, child: np.ndarray) -> np.ndarray:
    """Pupil numbers: each family's children get consecutive numbers."""
    return prefixed("L", np.asarray(family_index) * 4 + np.asarray(child) + 1, 9)


def staff_ref(school_index: np.ndarray | int, staff: np.ndarray) -> np.ndarray:
    return prefixed("W", np.asarray(school_index) * 1000 + np.asarray(staff) + 1, 6)
