"""Owner-only metadata and secrets outside Superset (issue 16): the HMAC key and Airflow's
metadata DB. Superset's own files are checked on the running server in
test_security_superset.py."""

from __future__ import annotations

import os

import pytest
from conftest import make_settings


def test_the_hmac_key_file_is_owner_only(tmp_path):
    from ouderpeil.loading.pseudonymise import load_key

    settings = make_settings(
        tmp_path / "data",
        OUDERPEIL_HMAC_KEY="",
        OUDERPEIL_HMAC_KEY_FILE=str(tmp_path / "cfg" / "ouderpeil" / "hmac.key"),
    )
    load_key(settings)
    assert os.stat(settings.hmac_key_file).st_mode & 0o777 == 0o600
    assert os.stat(settings.hmac_key_file.parent).st_mode & 0o777 == 0o700


@pytest.mark.slow
def test_the_airflow_metadata_db_is_owner_only(tmp_path):
    from ouderpeil.orchestration.local import airflow_env, prepare_airflow_home

    settings = make_settings(tmp_path / "data")
    home = tmp_path / "airflow"
    prepare_airflow_home(settings, home, airflow_env(settings, home))
    assert os.stat(home).st_mode & 0o777 == 0o700
    assert os.stat(home / "airflow.db").st_mode & 0o777 == 0o600
