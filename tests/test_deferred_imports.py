"""The gate defers scipy.stats and altair (ouderpeil/quality/deferred_imports.py): a gate that
does not need them must not execute them, and code that does need them must still get the
real thing. Each check runs in a fresh interpreter, since the point is what an import does."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest


def _run(code: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_importing_the_gate_runs_neither_scipy_stats_nor_altair():
    seen = _run(
        """
        import json, sys
        import ouderpeil.quality.gx_run  # imports Great Expectations
        from ouderpeil.quality.deferred_imports import is_loaded
        print(json.dumps({
            "gx": "great_expectations" in sys.modules,
            "stats": is_loaded("scipy.stats"),
            "altair": is_loaded("altair"),
            "spatial": "scipy.spatial" in sys.modules,
        }))
        """
    )
    assert seen == {"gx": True, "stats": False, "altair": False, "spatial": False}


def test_a_deferred_module_is_the_real_one_once_used():
    seen = _run(
        """
        import json, sys
        from ouderpeil.quality import deferred_imports
        assert deferred_imports.defer("scipy.stats") == ["scipy.stats"]
        from scipy import stats  # binds the stand-in, as GX's module does
        before = deferred_imports.is_loaded("scipy.stats")
        value = float(stats.entropy([0.5, 0.5], [0.9, 0.1]))  # first use runs scipy.stats
        import scipy.stats as real
        print(json.dumps({
            "before": before,
            "after": deferred_imports.is_loaded("scipy.stats"),
            "value": value,
            "same_function": stats.entropy is real.entropy,
            "same_module_in_sys": sys.modules["scipy.stats"] is real,
            "submodule": real.distributions.norm.cdf(0.0),
            "again": deferred_imports.defer("scipy.stats"),
        }))
        """
    )
    assert seen["before"] is False and seen["after"] is True
    assert seen["value"] == pytest.approx(0.5108256237659906)
    assert seen["same_function"] and seen["same_module_in_sys"]
    assert seen["submodule"] == 0.5
    assert seen["again"] == []  # already in sys.modules: never deferred twice


def test_the_expectation_that_needs_them_still_validates():
    """expect_column_kl_divergence_to_be_less_than (scipy.stats.entropy) through a real GX
    validation after the gate's import: a close distribution passes, a far one fails."""
    seen = _run(
        """
        import json
        import pandas as pd
        import ouderpeil.quality.gx_run  # defers, then imports GX
        import great_expectations as gx
        from great_expectations import expectations as gxe

        ctx = gx.get_context(mode="ephemeral")
        batch = ctx.data_sources.add_pandas("p").add_dataframe_asset("a")
        batch = batch.add_batch_definition_whole_dataframe("b")
        partition = {"values": ["a", "b"], "weights": [0.5, 0.5]}
        def check(values):
            frame = pd.DataFrame({"c": values})
            return batch.get_batch(batch_parameters={"dataframe": frame}).validate(
                gxe.ExpectColumnKLDivergenceToBeLessThan(
                    column="c", partition_object=partition, threshold=0.1
                )
            ).success
        print(json.dumps({"close": check(["a", "b"] * 50), "far": check(["a"] * 95 + ["b"] * 5)}))
        """
    )
    assert seen == {"close": True, "far": False}
