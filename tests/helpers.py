"""Plain helpers the test modules import (conftest.py holds fixtures only).

Import them as ``from helpers import make_settings`` (pytest puts tests/ on sys.path).
"""

from __future__ import annotations

from pathlib import Path

from ouderpeil.config import Settings

TEST_HMAC_KEY = "00" * 16 + "ab" * 16  # fixed test key: pseudonyms are stable across the suite


def make_settings(data_dir: Path, **extra_env: str) -> Settings:
    env = {
        "OUDERPEIL_DATA_DIR": str(data_dir),
        "OUDERPEIL_HMAC_KEY": TEST_HMAC_KEY,
        "OUDERPEIL_HMAC_KEY_FILE": str(data_dir / "no-key-file-in-tests"),
        **extra_env,
    }
    settings = Settings.from_env(env)
    settings.ensure_dirs()
    return settings
