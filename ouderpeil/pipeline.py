"""The whole chain in one process, without Airflow: load, raw gate, build, marts gate, publish.

`ouderpeil run` calls it; so does the benchmark for the daily run in one process. The build DAG
runs the same steps as separate Airflow tasks, each its own process (and so each importing its
libraries: Great Expectations takes ~2.4 s per gate process).
"""

from __future__ import annotations

import time
from pathlib import Path

from ouderpeil.config import Settings


def run_chain(settings: Settings, run_id: str) -> tuple[Path, dict[str, float]]:
    """Returns the published serving file and the seconds of each step; raises what a step
    raises (SourceFileError, QualityGateFailed, DbtBuildFailed), so nothing is published
    after a failed step."""
    from ouderpeil.loading import load_inbox
    from ouderpeil.publish import publish
    from ouderpeil.quality import gate
    from ouderpeil.transform import build

    seconds: dict[str, float] = {}

    def step(name: str, fn):
        started = time.perf_counter()
        out = fn()
        seconds[name] = round(time.perf_counter() - started, 3)
        print(out if name in ("load", "build") else f"{name}: {seconds[name]} s")
        return out

    step("load", lambda: load_inbox(settings))
    step("gate_raw", lambda: gate(settings, layer="raw", run_id=run_id))
    step("build", lambda: build(settings))
    step("gate_marts", lambda: gate(settings, layer="marts", run_id=run_id))
    serving = step("publish", lambda: publish(settings, run_id=run_id))
    return serving, seconds
