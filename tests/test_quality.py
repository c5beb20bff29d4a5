"""The quality gate on real DuckDB files with real GX validations.

Most tests corrupt one thing in the hand-made warehouse (test_quality_handmade.py, which passes
both gates untouched) and check that the gate names it; the slow ones run on the real sample
data and dbt build.
"""

from __future__ import annotations

import json
import math
from dataclasses import replace

import duckdb
import pytest
from handmade_warehouse import build_handmade_warehouse, build_wide_marts, corrupt

from ouderpeil.contracts import SOURCES
from ouderpeil.errors import QualityGateFailed
from ouderpeil.quality import gate, validate
from ouderpeil.quality.records import read_record
from ouderpeil.quality.suites import load_suites, raw_suite


@pytest.fixture
def handmade(settings):
    build_handmade_warehouse(settings)
    return settings


def _blocking(result):
    return {(f.table, f.expectation, f.column) for f in result.failures}


def _warnings(result):
    return {(f.table, f.expectation, f.column) for f in result.warnings}


def test_raw_suite_files_match_the_contracts(settings):
    """expectations/raw_<source>.json is what contracts.py says (regenerate with
    `python -m ouderpeil.quality.suites`)."""
    suites = {s["name"]: s for s in load_suites(settings.expectations_dir, "raw")}
    for source in SOURCES.values():
        assert suites[f"raw_{source.name}"] == json.loads(json.dumps(raw_suite(source))), (
            f"expectations/raw_{source.name}.json is out of date with contracts.py"
        )


def test_every_expectation_says_whether_it_blocks(settings):
    for layer in ("raw", "marts"):
        for suite in load_suites(settings.expectations_dir, layer):
            for exp in suite["expectations"]:
                assert exp["meta"]["severity"] in ("blocking", "warning"), exp
                assert exp["meta"]["why"], exp


def test_corrupted_raw_tables_fail_the_gate_naming_each_expectation(handmade):
    s = handmade
    corrupt(s, "UPDATE raw.contact_logs SET channel = 'fax' WHERE contact_id = 'C1'")
    corrupt(
        s,
        "UPDATE raw.contact_logs SET contact_at = TIMESTAMP '2099-03-01 10:00' "
        "WHERE contact_id = 'C2'",
    )
    corrupt(
        s,
        "UPDATE raw.message_events SET occurred_at = TIMESTAMPTZ '2099-03-01 10:00+00' "
        "WHERE event_id = 'E1-0'",
    )
    corrupt(s, "UPDATE raw.messages SET school_id = '99ZZ00' WHERE message_id = 'M3'")
    corrupt(s, "UPDATE raw.families SET parent_education = NULL WHERE school_id = '90AA00'")
    with pytest.raises(QualityGateFailed) as exc:
        gate(s, layer="raw", run_id="bad-raw")
    msg = str(exc.value)
    for expected in (
        "raw.contact_logs column channel: expect_column_values_to_be_in_set",
        "raw.contact_logs column contact_at: expect_column_max_to_be_between",
        "raw.message_events column occurred_at: expect_column_max_to_be_between",
        "raw.families column parent_education: expect_column_values_to_not_be_null",
        "messages.school_id -> schools: 1 of 90 rows",
    ):
        assert expected in msg, msg
    record = read_record(s, "raw", "bad-raw")
    assert record["success"] is False and len(record["failures"]) == 5


def test_schema_drift_and_missing_tables_block(handmade):
    s = handmade
    corrupt(s, "ALTER TABLE raw.messages ADD COLUMN body VARCHAR")
    corrupt(s, "DROP TABLE raw.survey_responses")
    result = validate(s, layer="raw", run_id="drift")
    assert not result.success
    assert ("raw.messages", "expect_table_columns_to_match_set", None) in _blocking(result)
    assert ("raw.survey_responses", "table_exists", None) in _blocking(result)


def test_clear_person_id_blocks_and_never_reaches_gx_results(handmade):
    s = handmade
    corrupt(
        s, "UPDATE raw.messages SET family_ref = 'jan.jansen@example.nl' WHERE message_id = 'M4'"
    )
    result = validate(s, layer="raw", run_id="leak")
    assert ("raw.messages", "expect_column_values_to_match_regex", "family_ref") in _blocking(
        result
    )
    # Raw results keep counts only: the leaked id is not copied into results or Data Docs.
    for path in s.gx_dir.rglob("*"):
        if path.is_file() and path.suffix in (".json", ".html"):
            assert "jan.jansen" not in path.read_text(errors="ignore"), path


def test_unknown_families_warn_a_few_and_block_many(handmade):
    s = handmade
    # 2 of 90 contacts lose their family: a warning, the gate passes.
    corrupt(
        s,
        "DELETE FROM raw.families WHERE family_ref IN "
        "(SELECT family_ref FROM raw.contact_logs WHERE contact_id IN ('C10', 'C11'))",
    )
    few = gate(s, layer="raw", run_id="few-orphans")
    assert few.success
    assert ("raw.references", "expect_column_values_to_be_between", "orphans") in _warnings(few)
    assert any("contact_logs.family_ref -> families: 2 of 90" in f.observed for f in few.warnings)
    # A third of the families gone (e.g. another HMAC key): blocking. Rows deleted by hand are
    # only seen by a full validation (the gate after a pass reads the new loads' rows).
    corrupt(s, "DELETE FROM raw.families WHERE school_id = '92CA00'")
    many = validate(s, layer="raw", run_id="many-orphans", full=True)
    assert not many.success
    assert ("raw.references", "expect_column_values_to_be_between", "orphan_share") in _blocking(
        many
    )


def test_corrupted_marts_fail_the_gate(handmade):
    s = handmade
    corrupt(
        s,
        "UPDATE marts.fct_indicator SET value = 1.4, ci_high = 1.5 "
        "WHERE indicator_code = 'contact_reach' AND ses_group = 'laag' AND NOT suppressed",
    )
    corrupt(s, "UPDATE marts.fct_indicator SET value = 0.5, numerator = 3 WHERE suppressed")
    corrupt(
        s,
        "UPDATE marts.fct_indicator SET suppressed = false, suppression_reason = NULL, "
        "value = 7, ci_low = 6, ci_high = 8 "
        "WHERE n < 10 AND indicator_code = 'comm_grade'",
    )
    corrupt(
        s,
        "UPDATE marts.fct_indicator SET ci_low = value + 0.01 "
        "WHERE indicator_code = 'contact_home_visits' AND ses_group = 'midden' "
        "AND NOT suppressed",
    )
    with pytest.raises(QualityGateFailed) as exc:
        gate(s, layer="marts", run_id="bad-marts")
    msg = str(exc.value)
    for expected in (
        "column value: expect_column_values_to_be_between where unit == 'aandeel' and "
        "is_gap == False",
        "column value: expect_column_values_to_be_null where suppressed == True",
        "column numerator: expect_column_values_to_be_null where suppressed == True",
        "column n: expect_column_values_to_be_between where suppressed == False",
        "column value, ci_low: expect_column_pair_values_a_to_be_greater_than_b",
    ):
        assert expected in msg, msg


def test_a_missing_sector_blocks(handmade):
    s = handmade
    corrupt(s, "DELETE FROM marts.fct_indicator WHERE sector = 'mbo'")
    result = validate(s, layer="marts", run_id="no-mbo")
    assert (
        "marts.fct_indicator",
        "expect_column_distinct_values_to_contain_set",
        "sector",
    ) in _blocking(result)
    assert result.parameters["expected_sectors"] == ["mbo", "po", "vo"]


def test_warning_expectations_report_but_do_not_block(handmade):
    s = handmade
    corrupt(
        s,
        "UPDATE marts.fct_indicator SET gap_significant = false "
        "WHERE NOT ends_with(indicator_code, '_gap') AND period = '2025-10'",
    )
    result = gate(s, layer="marts", run_id="warn-only")
    assert result.success and not result.failures
    assert (
        "marts.fct_indicator",
        "expect_column_values_to_be_null",
        "gap_significant",
    ) in _warnings(result)


def test_row_count_may_not_collapse_against_the_last_publish(handmade):
    from ouderpeil.publish import publish

    s = handmade
    gate(s, layer="marts", run_id="run-1")
    publish(s, run_id="run-1")
    # Tolerance 0.5 by default: losing 60 % of the rows blocks.
    corrupt(
        s,
        "DELETE FROM marts.fct_indicator WHERE period_type = 'month' "
        "OR (school_year = '2024-2025' AND hash(indicator_code, school_id, ses_group) "
        "% 5 <> 0)",
    )
    con = duckdb.connect(str(s.warehouse_path))
    build_wide_marts(con)
    con.close()
    result = validate(s, layer="marts", run_id="run-2")
    assert ("marts.fct_indicator", "expect_table_row_count_to_be_between", None) in _blocking(
        result
    )
    published = result.parameters["last_published_rows"]
    assert result.parameters["min_row_count"] == math.ceil(published * 0.5)


def test_data_docs_are_built_on_every_run(handmade):
    first = validate(handmade, layer="marts", run_id="docs-1")
    assert first.data_docs_index and first.data_docs_index.is_file()
    assert first.data_docs_index.is_relative_to(handmade.gx_dir)
    validate(handmade, layer="marts", run_id="docs-2")
    index = first.data_docs_index.read_text()
    assert "docs-1" in index and "docs-2" in index


def test_gx_data_docs_are_rendered_only_when_asked(handmade, monkeypatch):
    """GX's own site renders empty offline (CDN scripts) and costs every gate time: it is built
    with OUDERPEIL_GX_DATA_DOCS=1 only; the offline report is written either way."""
    site = handmade.gx_dir / "gx" / "uncommitted" / "data_docs" / "local_site"
    monkeypatch.delenv("OUDERPEIL_GX_DATA_DOCS", raising=False)
    quiet = validate(handmade, layer="marts", run_id="site-off")
    assert quiet.data_docs_index and quiet.data_docs_index.is_file()
    assert not (site / "index.html").exists()
    monkeypatch.setenv("OUDERPEIL_GX_DATA_DOCS", "1")
    validate(handmade, layer="marts", run_id="site-on")
    assert "site-on" in (site / "index.html").read_text()


def test_results_store_keeps_the_last_runs_only(handmade, monkeypatch):
    monkeypatch.setenv("OUDERPEIL_GX_KEEP_RUNS", "2")
    for i in (1, 2, 3):
        last = validate(handmade, layer="marts", run_id=f"keep-{i}")
    store = handmade.gx_dir / "gx" / "uncommitted" / "validations" / "marts_fct_indicator"
    assert sorted(p.name for p in store.iterdir() if p.is_dir()) == ["keep-2", "keep-3"]
    # The pruned run's page is gone and the index (built once per gate) no longer lists it.
    index = last.data_docs_index.read_text()
    assert "keep-3" in index and "keep-2" in index and "keep-1" not in index
    assert not list(last.data_docs_index.parent.rglob("keep-1"))


def test_raw_gate_reads_only_the_columns_its_suite_names(handmade):
    """Columns no expectation names (load metadata) are not read into pandas; the column-set
    check runs on the column names alone (`SELECT * ... LIMIT 0`)."""
    from ouderpeil.quality import frames

    con = duckdb.connect(str(handmade.warehouse_path), read_only=True)
    try:
        suite = next(
            s for s in load_suites(handmade.expectations_dir, "raw") if s["name"] == "raw_messages"
        )
        shape, rest = frames.split_shape(suite)
        frame = frames.frame_for(con, rest)
        assert "_file_hash" not in frame.columns and "family_ref" in frame.columns
        assert len(frame) == con.execute("SELECT count(*) FROM raw.messages").fetchone()[0]
        assert [e["type"] for e in shape["expectations"]] == ["expect_table_columns_to_match_set"]
        assert len(frames.table_shape_frame(con, "raw.messages")) == 0
    finally:
        con.close()


def test_keys_read_as_ranks_still_catch_nulls_and_duplicates(handmade):
    """Key columns checked only for nulls and uniqueness are read as integers (frames._select):
    the gate must still see the same nulls and duplicates."""
    s = handmade
    corrupt(s, "UPDATE raw.message_events SET event_id = 'E1-0' WHERE event_id = 'E2-0'")
    corrupt(s, "UPDATE raw.message_events SET message_id = NULL WHERE event_id = 'E3-0'")
    corrupt(s, "INSERT INTO raw.families SELECT * FROM raw.families LIMIT 1")
    result = validate(s, layer="raw", run_id="keys")
    assert ("raw.message_events", "expect_column_values_to_not_be_null", "message_id") in _blocking(
        result
    )
    dup = {(f.table, f.expectation): f.observed for f in result.warnings}
    assert dup[("raw.message_events", "expect_column_values_to_be_unique")].startswith("2 of ")
    assert dup[("raw.families", "expect_compound_columns_to_be_unique")].startswith("2 of ")


@pytest.mark.slow
def test_real_sample_data_passes_both_gates(built_settings):
    raw = validate(built_settings, layer="raw", run_id="sample-raw")
    assert raw.success, raw.summary()
    marts = validate(built_settings, layer="marts", run_id="sample-marts")
    assert marts.success, marts.summary()
    # Every indicator code of the real build is in the catalogue (unit found).
    assert not [f for f in marts.warnings + marts.failures if f.column == "unit"]


@pytest.mark.slow
def test_real_marts_corrupted_fail(built_settings, tmp_path):
    """A copy of the real warehouse with unsuppressed small cells must not pass."""
    import shutil

    from conftest import make_settings

    s = make_settings(tmp_path / "data")
    shutil.copy(built_settings.warehouse_path, s.warehouse_path)
    corrupt(
        s,
        "UPDATE marts.fct_indicator SET suppressed = false, value = 0.5 "
        "WHERE suppression_reason = 'n_below_10'",
    )
    result = validate(s, layer="marts", run_id="sample-bad")
    assert ("marts.fct_indicator", "expect_column_values_to_be_between", "n") in _blocking(result)


def _append_contact_load(settings, load_id: str, changes: str, from_id: str = "C1") -> None:
    """A new load of one contact row: a copy of contact `from_id` with `changes` applied."""
    corrupt(
        settings,
        f"""
        INSERT INTO raw.contact_logs
        SELECT * REPLACE ('{load_id}' AS _load_id, {changes})
        FROM raw.contact_logs WHERE contact_id = '{from_id}'""",
    )
    corrupt(
        settings,
        f"""
        INSERT INTO raw.raw_load_files VALUES ('{load_id}', 'contact_logs', '{load_id}.csv',
            'h-{load_id}', 'canonical', 1, 1, 0, '', 'loaded', TIMESTAMPTZ '2026-09-02 00:00+00')""",
    )


def test_raw_gate_after_a_pass_checks_the_new_loads(handmade):
    """Once a gate passed, the next one validates only loads it has not seen (and the older rows
    sharing a key with them); a failing gate remembers nothing; --full checks every row."""
    s = handmade
    first = validate(s, layer="raw", run_id="first")
    assert first.success and first.scope.startswith("all rows of 1 loads")

    _append_contact_load(s, "load-2", "'fax' AS channel, 'C-new' AS contact_id")
    second = validate(s, layer="raw", run_id="second")
    assert second.scope.startswith("rows of 1 new loads of 2"), second.scope
    unread = second.scope.split("not read: ")[1].split(", ")
    assert "raw.messages" in unread and "raw.contact_logs" not in unread  # no new load there
    assert ("raw.contact_logs", "expect_column_values_to_be_in_set", "channel") in _blocking(second)
    failed = next(f for f in second.failures if f.column == "channel")
    assert failed.observed.startswith("1 of 1 rows"), failed.observed  # only the new row read
    # Not remembered: the same load is checked (and fails) again.
    assert not validate(s, layer="raw", run_id="third").success

    corrupt(s, "DELETE FROM raw.contact_logs WHERE _load_id = 'load-2'")
    corrupt(s, "DELETE FROM raw.raw_load_files WHERE load_id = 'load-2'")
    # A key repeated across loads is found although the first row passed long ago.
    _append_contact_load(s, "load-3", "'telefoon' AS channel")
    dup = validate(s, layer="raw", run_id="dup")
    unique = next(
        f
        for f in dup.warnings + dup.failures
        if f.expectation == "expect_column_values_to_be_unique"
    )
    assert unique.column == "contact_id" and unique.observed.startswith("2 of 2 rows"), unique


def test_raw_gate_rereads_everything_when_asked_or_when_suites_change(handmade, tmp_path):
    import shutil

    s = handmade
    assert validate(s, layer="raw", run_id="pass").success
    # Raw rows are append-only; an edit in place is only seen by a full validation.
    corrupt(s, "UPDATE raw.contact_logs SET channel = 'fax' WHERE contact_id = 'C1'")
    assert validate(s, layer="raw", run_id="incremental").success
    full = validate(s, layer="raw", run_id="full", full=True)
    assert full.scope.startswith("all rows") and not full.success

    corrupt(s, "UPDATE raw.contact_logs SET channel = 'telefoon' WHERE contact_id = 'C1'")
    assert validate(s, layer="raw", run_id="pass-again", full=True).success
    corrupt(s, "UPDATE raw.contact_logs SET channel = 'fax' WHERE contact_id = 'C1'")
    changed = tmp_path / "expectations"
    shutil.copytree(s.expectations_dir, changed)
    path = changed / "raw_contact_logs.json"
    suite = json.loads(path.read_text())
    suite["expectations"][-1]["meta"]["why"] += " (edited)"
    path.write_text(json.dumps(suite))
    edited = validate(replace(s, expectations_dir=changed), layer="raw", run_id="new-suites")
    assert edited.scope == "all rows of 1 loads (the raw suites changed)"
    assert not edited.success


def _failures_seen(result) -> set:
    return {
        (f.table, f.expectation, f.column, f.where, f.observed, f.severity)
        for f in result.failures + result.warnings
    }


_ABOUT = ("column", "column_list", "row_condition", "value_set", "regex")


def _stored_counts(settings, run_name: str) -> dict:
    """(suite, expectation, column) -> (success, element and unexpected count, observed value)
    as the GX results store keeps them for one gate run."""
    from ouderpeil.quality import gx_run

    store = gx_run.context(settings.gx_dir).validation_results_store
    counts = {}
    for key in store.list_keys():
        if key.run_id.run_name != run_name:
            continue
        suite = key.expectation_suite_identifier.name
        for r in store.get(key).results:
            res = r.result or {}
            seen = (
                res.get("element_count"),
                res.get("unexpected_count"),
                res.get("observed_value"),
            )
            # Not "now" (resolved per run) nor the batch id: what the expectation is about.
            about = {k: v for k, v in r.expectation_config.kwargs.items() if k in _ABOUT}
            counts[(suite, r.expectation_config.type, str(about))] = (
                r.success,
                *map(str, seen),
            )
    assert counts, f"no stored results for run {run_name}"
    return counts


def test_raw_gate_in_batches_finds_exactly_what_one_frame_finds(handmade, monkeypatch):
    """A large raw table is validated in batches split by its unique key
    (frames.raw_table_batches, batch_results): every failure, count, share and maximum must
    be what one frame of the whole table gives, duplicates spread over the table included."""
    from ouderpeil.quality import frames

    s = handmade
    corrupt(s, "UPDATE raw.message_events SET event_id = 'E1-0' WHERE event_id IN ('E2-0', 'E9-0')")
    corrupt(s, "UPDATE raw.message_events SET message_id = NULL WHERE event_id = 'E3-0'")
    corrupt(s, "UPDATE raw.message_events SET event_type = 'geopend' WHERE event_id = 'E4-0'")
    corrupt(
        s,
        "UPDATE raw.message_events SET occurred_at = TIMESTAMPTZ '2099-03-01 10:00+00' "
        "WHERE event_id = 'E5-0'",
    )
    corrupt(s, "UPDATE raw.messages SET channel = 'fax' WHERE message_id IN ('M3', 'M40')")
    corrupt(s, "INSERT INTO raw.families SELECT * FROM raw.families LIMIT 2")
    corrupt(s, "UPDATE raw.contact_logs SET duration_min = 900 WHERE contact_id = 'C7'")

    monkeypatch.setenv(frames.BATCH_ROWS_ENV, str(10**9))
    whole = validate(s, layer="raw", run_id="one-frame", full=True)
    monkeypatch.setenv(frames.BATCH_ROWS_ENV, "40")  # 3 batches of messages, 7 of events
    batched = validate(s, layer="raw", run_id="batches", full=True)

    assert not whole.success and len(_failures_seen(whole)) >= 7, whole.summary()
    assert _failures_seen(batched) == _failures_seen(whole)
    assert batched.expectations_evaluated == whole.expectations_evaluated
    # The gate record, and the GX results store the Data Docs and the offline report are
    # rendered from, hold the sum, not the last batch.
    stored = read_record(s, "raw", "batches")
    assert len(stored["failures"]) == len(whole.failures)
    assert _stored_counts(s, "batches") == _stored_counts(s, "one-frame")

    # The batches really split the table, each key in one batch only.
    con = duckdb.connect(str(s.warehouse_path), read_only=True)
    try:
        suite = next(
            x for x in load_suites(s.expectations_dir, "raw") if x["name"] == "raw_message_events"
        )
        _, rest = frames.split_shape(suite)
        batches = list(frames.raw_table_batches(con, "raw.message_events", rest, max_rows=40))
        (rows,) = con.execute("SELECT count(*) FROM raw.message_events").fetchone()
        assert len(batches) > 3 and sum(len(b) for b in batches) == rows
        assert max(len(b) for b in batches) < rows / 2
    finally:
        con.close()


def test_raw_gate_in_batches_after_a_pass_finds_keys_repeated_across_loads(handmade, monkeypatch):
    from ouderpeil.quality import frames

    s = handmade
    assert validate(s, layer="raw", run_id="pass").success
    monkeypatch.setenv(frames.BATCH_ROWS_ENV, "1")  # the new row and the old one: 2 batches
    _append_contact_load(s, "load-2", "'fax' AS channel")  # C1 again, and a channel not allowed
    second = validate(s, layer="raw", run_id="second")
    seen = {(f.expectation, f.column): f.observed for f in second.failures + second.warnings}
    assert seen[("expect_column_values_to_be_unique", "contact_id")].startswith("2 of 2 rows")
    assert seen[("expect_column_values_to_be_in_set", "channel")].startswith("1 of 2 rows")


def test_only_suites_whose_results_add_up_are_split():
    from ouderpeil.quality.frames import batchable

    def suite(*exps):
        return {"expectations": [{"type": t, "kwargs": kw} for t, kw in exps]}

    unique = ("expect_column_values_to_be_unique", {"column": "k"})
    assert batchable(suite(unique, ("expect_column_max_to_be_between", {"max_value": 3})))
    assert batchable(suite(("expect_compound_columns_to_be_unique", {"column_list": ["a", "b"]})))
    assert not batchable(suite(("expect_column_max_to_be_between", {"min_value": 3})))
    assert not batchable(suite(("expect_column_values_to_not_be_null", {"mostly": 0.9})))
    assert not batchable(suite(("expect_column_mean_to_be_between", {"max_value": 3})))
    assert not batchable(suite(unique, ("expect_column_values_to_be_unique", {"column": "j"})))
