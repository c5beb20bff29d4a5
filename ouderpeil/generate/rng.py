"""Deterministic random streams: one independent stream per (seed, purpose, school, year).

Keying each stream by what it generates (instead of drawing everything from one stream in
sequence) keeps outputs stable: generating one day, or adding a source, never shifts the
numbers of another source or school.
"""

from __future__ import annotations

import zlib

import numpy as np


def stream(seed: int, *keys: str | int) -> np.random.Generator:
    words = [int(seed) & 0xFFFFFFFF]
    for k in keys:
        words.append(zlib.crc32(k.encode()) if isinstance(k, str) else int(k) & 0xFFFFFFFF)
    return np.random.default_rng(np.random.SeedSequence(words))


def pick(rng: np.random.Generator, options, p, size: int) -> np.ndarray:
    """Vectorised categorical draw of ``size`` items from ``options`` with probabilities ``p``."""
    p = np.asarray(p, dtype=float)
    cum = np.cumsum(p / p.sum())
    idx = np.searchsorted(cum, rng.random(size), side="right")
    return np.asarray(options)[np.minimum(idx, len(options) - 1)]


def pick_rows(rng: np.random.Generator, probs: np.ndarray) -> np.ndarray:
    """One categorical draw per row of a (n, k) probability matrix; returns column indices."""
    cum = np.cumsum(probs / probs.sum(axis=1, keepdims=True), axis=1)
    u = rng.random(len(probs))[:, None]
    return np.minimum((u > cum).sum(axis=1), probs.shape[1] - 1)
