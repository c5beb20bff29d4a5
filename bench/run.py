"""`make bench`: time every pipeline stage against a plain DuckDB SQL baseline.

    python -m bench.run [--scales board,region] [--skip-superset] [--skip-airflow]
                        [--skip-audit] [--audit-scales small,board] [--query-runs 30]
                        [--update-readme]

Per scale:
1. Sample data are generated once and cached under bench/work/<scale>/ (regenerated when the
   generator's code, the scale or the seed change), plus one extra day for the incremental run.
2. Every stage runs in its own process (`python -m bench.stage <stage>`) on a fresh data
   directory, in pipeline order: load, raw gate, full dbt build, marts gate, publish, export;
   then the dashboard queries against the serving file; then one new day: load, incremental
   dbt build, marts gate, publish. Peak memory is the stage process's own peak RSS (VmHWM)
   or that of a subprocess it ran (dbt), CPU time comes from os.wait4.
3. Two floors: bench/baseline.sql computes four indicators straight from the inbox files
   (reads only); bench/floor.sql does the same logical work as the pipeline (typed parsing with
   rejects counted, de-duplication, final message status, the core indicators at every grain
   with Wilson intervals and suppression) in one plain DuckDB script that writes its tables to
   a file. Every stage and the whole pipeline are reported as ratios to both.
4. With ouderpeil.orchestration.local present, the whole chain runs once more through the
   Airflow DAGs; Airflow overhead = that time minus the stage times.

Results: bench/results/<scale>-<date>.json and bench/results/latest.md; `--update-readme`
copies the table into README.md between `<!-- bench:start -->` and `<!-- bench:end -->`.
The machine is shared and noisy: the load average is recorded with every stage.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import importlib.util
import json
import os
import platform
import secrets
import shutil
import statistics
import subprocess
import sys
import threading
import time
from importlib import metadata
from pathlib import Path

from bench import report
from ouderpeil.headless_chromium import find_binary

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
SUPERSET_PYTHON = REPO_ROOT / ".venv-superset" / "bin" / "python"

ALL_SCALES = ["small", "board", "region"]
FULL_STAGES = ["load", "gate_raw", "dbt_build", "gate_marts", "publish", "export"]
# Stages whose output no later stage reads: the chain goes on when one of them fails.
NOTHING_NEEDS = {"gate_raw", "gate_raw_day"}
# What the build DAG runs after a day's load: the raw gate looks at the new loads only.
DAY_STAGES = ["load_day", "gate_raw_day", "dbt_build_incremental", "gate_marts_day", "publish_day"]
# The same day again on a copy of the state after the full run, all steps in one process.
DAY_ONE_PROCESS = "daily_one_process"
# The attacker on the published file after the full run (issue 13); not a pipeline stage.
AUDIT_STAGE = "disclosure_audit"
# What run_pipeline_dags does, to subtract from its wall time.
AIRFLOW_COVERS = FULL_STAGES
DAILY_TARGET_SECONDS = 15.0
FULL_TARGET_RATIO = 2.0
# Issue 19, as ratios within one run (absolute seconds differ ~2x between machines here):
# full run <= 10 x the baseline at board scale, <= 8 x at region; a day <= 3 x the board
# baseline as separate processes; region day <= 1.5 x board day (report.py, across scales).
FULL_TARGET_RATIO_BY_SCALE = {"small": 10.0, "board": 10.0, "region": 8.0}
DAILY_TARGET_RATIO = 3.0
# The extra day for the incremental run: a school day (Tuesday) inside the sample data's
# last school year; generate_day gives its ids a date prefix, so they are new.
INCREMENTAL_DAY = "2026-03-10"
PACKAGES = [
    "duckdb",
    "dbt-core",
    "dbt-duckdb",
    "great-expectations",
    "apache-airflow",
    "astronomer-cosmos",
    "pandas",
    "pyarrow",
]


# --------------------------------------------------------------------------- sample data


def _generator_fingerprint() -> str:
    """Hash of the generator's code: cached data are rebuilt when the generator changes."""
    spec = importlib.util.find_spec("ouderpeil.generate")
    if spec is None or not spec.origin:
        return "missing"
    root = Path(spec.origin).parent
    h = hashlib.sha256()
    files = (
        [root]
        if root.is_file()
        else sorted(
            p for p in root.rglob("*") if p.suffix in (".py", ".yaml", ".yml", ".csv", ".json")
        )
    )
    for p in files:
        h.update(p.name.encode())
        h.update(p.read_bytes())
    return h.hexdigest()[:16]


def _dir_stats(path: Path) -> dict:
    files = [p for p in path.rglob("*") if p.is_file() and not p.name.startswith(".bench")]
    return {"files": len(files), "bytes": sum(p.stat().st_size for p in files)}


def cached_data(kind: str, target: Path, scale: str, seed: int, make) -> dict:
    """Run make(target) unless target already holds data for the same scale, seed and code."""
    marker = target / ".bench-generated.json"
    key = {"kind": kind, "scale": scale, "seed": seed, "generator": _generator_fingerprint()}
    if marker.exists():
        info = json.loads(marker.read_text())
        if info.get("key") == key:
            return {**info, "cached": True}
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    print(f"bench: generating {kind} data, scale {scale}, seed {seed} -> {target}", flush=True)
    start = time.perf_counter()
    summary = make(target)
    info = {
        "key": key,
        "seconds": time.perf_counter() - start,
        "summary": summary,
        **_dir_stats(target),
    }
    marker.write_text(json.dumps(info, indent=2, default=str))
    return {**info, "cached": False}


def prepare_data(work: Path, scale: str, seed: int) -> dict:
    from ouderpeil.generate import generate

    inbox = cached_data(
        "inbox", work / "inbox", scale, seed, lambda out: generate(out, scale=scale, seed=seed)
    )
    try:
        from ouderpeil.generate import generate_day
    except ImportError:
        day = None
    else:
        day = cached_data(
            "day",
            work / "day",
            scale,
            seed,
            lambda out: generate_day(out, scale=scale, seed=seed, day=INCREMENTAL_DAY),
        )
    return {"inbox": inbox, "day": day}


def link_tree(src: Path, dst: Path) -> None:
    """Put src's files into dst as hard links (no copy; the loader only reads or moves them)."""
    for path in src.rglob("*"):
        if path.is_file() and not path.name.startswith(".bench"):
            target = dst / path.relative_to(src)
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(path, target)
            except OSError:
                shutil.copy2(path, target)


def warm_hash_cache(data_dir: Path) -> float:
    """Hash the inbox files the loader's hash cache no longer recognises; seconds taken.

    Hard-linking the inbox (copy_state, link_tree) changes the inode change time of every
    linked file, and the cache (ouderpeil/loading/hash_cache.py) rightly re-reads a file whose
    ctime changed. In production nothing links the inbox between two loads, so a day's load
    finds the cache warm; here it is warmed, untimed, before a day stage, else the day would
    pay for re-reading the whole history (1 GB at board scale, 9.4 GB at region)."""
    from types import SimpleNamespace

    from ouderpeil.loading.hash_cache import HashCache
    from ouderpeil.loading.loader import file_sha256

    started = time.perf_counter()
    cache = HashCache(SimpleNamespace(data_dir=data_dir))
    for path in sorted((data_dir / "inbox").rglob("*")):
        if path.is_file():
            file_sha256(path, cache)  # the loader's own lookup: reads only what the cache lacks
    cache.save()
    return time.perf_counter() - started


# --------------------------------------------------------------------------- processes


class MemoryWatch(threading.Thread):
    """Samples the RSS of a process and all its descendants; kills the tree above a limit.

    The sum over the tree is what the machine has to hold at once (e.g. a stage process
    together with its dbt subprocess). The limit turns "this stage does not fit" into a failed
    stage instead of the kernel's OOM killer picking a neighbour on a shared machine."""

    def __init__(self, pid: int, limit_bytes: float, interval: float = 0.5):
        super().__init__(daemon=True)
        self.pid, self.limit, self.interval = pid, limit_bytes, interval
        self.peak_bytes = 0
        self.killed = False
        self._halt = threading.Event()

    def _tree(self):
        import psutil

        try:
            root = psutil.Process(self.pid)
            return [root] + root.children(recursive=True)
        except psutil.Error:
            return []

    def run(self) -> None:
        import psutil

        while not self._halt.wait(self.interval):
            procs = self._tree()
            rss = 0
            for p in procs:
                try:
                    rss += p.memory_info().rss
                except psutil.Error:
                    pass
            self.peak_bytes = max(self.peak_bytes, rss)
            if self.limit and rss > self.limit:
                self.killed = True
                for p in reversed(procs):
                    try:
                        p.kill()
                    except psutil.Error:
                        pass
                return

    def stop(self) -> None:
        self._halt.set()


def run_process(
    cmd: list[str], env: dict, log: Path, timeout: float, max_rss_bytes: float = 0
) -> dict:
    """Run cmd to completion: wall time, CPU time (os.wait4), sampled RSS of the tree."""
    log.parent.mkdir(parents=True, exist_ok=True)
    load_before = os.getloadavg()
    with log.open("w") as out:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, cwd=REPO_ROOT, stdout=out, stderr=subprocess.STDOUT)
        timer = threading.Timer(timeout, proc.kill)
        timer.start()
        watch = MemoryWatch(proc.pid, max_rss_bytes)
        watch.start()
        try:
            _, status, rusage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
            watch.stop()
        wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    # rusage.ru_maxrss is not used: on Linux it includes this (parent) process's RSS at fork.
    # The stage reports its own peak (VmHWM) and that of its subprocesses instead.
    result = {
        "process_seconds": wall,
        "returncode": proc.returncode,
        "cpu_seconds": rusage.ru_utime + rusage.ru_stime,  # with reaped subprocesses
        "tree_rss_sampled_peak_mib": watch.peak_bytes / 2**20,
        "loadavg_before": [round(x, 2) for x in load_before],
        "loadavg_after": [round(x, 2) for x in os.getloadavg()],
        "log": str(log),
    }
    if watch.killed:
        result["killed"] = (
            f"killed: the process tree went above --max-rss-gib ({max_rss_bytes / 2**30:.1f} GiB)"
        )
    return result


def measure(
    cmd: list[str],
    env: dict,
    log: Path,
    result_file: Path,
    timeout: float,
    max_rss_bytes: float = 0,
) -> dict:
    """Run a stage process and merge what it wrote about itself with what we saw from outside."""
    result_file.unlink(missing_ok=True)
    outside = run_process(cmd, env, log, timeout, max_rss_bytes)
    inside = (
        json.loads(result_file.read_text())
        if result_file.exists()
        else {
            "ok": False,
            "error": outside.get("killed")
            or f"no result (exit code {outside['returncode']}), see {log}",
        }
    )
    merged = {**outside, **inside}
    # Peak memory of the stage: its own process or any child it waited for (dbt, Airflow).
    merged["maxrss_mib"] = max(
        inside.get("maxrss_self_mib", 0), inside.get("maxrss_children_mib", 0)
    )
    merged.setdefault("seconds", outside["process_seconds"])
    return merged


# Modules every stage imports; compiled once before the timed stages (see python_env).
WARM_UP_IMPORTS = (
    "ouderpeil.loading, ouderpeil.quality, ouderpeil.publish, ouderpeil.export, "
    "ouderpeil.transform, dbt.cli.main, great_expectations, pandas, pyarrow"
)


def python_env(args, base: dict | None = None) -> dict:
    """The environment of every process the bench starts.

    Compiled bytecode is cached under bench/work/pycache (PYTHONPYCACHEPREFIX), never in the
    virtualenv or the repo. Without it, a shell that sets PYTHONDONTWRITEBYTECODE=1 (as these
    sandboxes do) makes every stage recompile Airflow, dbt and GX from source, which a deployed
    environment (pyc written on first import, or installed with --compile-bytecode) never
    does. `--no-bytecode-cache` measures the environment exactly as it is instead.
    """
    env = dict(os.environ if base is None else base)
    if args.bytecode_cache:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(args.work_dir / "pycache")
    return env


def warm_up(args, log: Path) -> dict:
    """Import the heavy modules once, so no timed stage pays for compiling them."""
    code = f"import {WARM_UP_IMPORTS}"
    if not args.skip_airflow:
        code += (
            "\ntry:\n    import airflow.models, airflow.sdk, cosmos\nexcept ImportError:\n    pass"
        )
    result = run_process([sys.executable, "-c", code], python_env(args), log, args.timeout)
    return {
        "bytecode_cache": args.bytecode_cache,
        "seconds": result["process_seconds"],
        "cpu_seconds": result["cpu_seconds"],
        "returncode": result["returncode"],
    }


class ScaleRun:
    def __init__(self, scale: str, args, hmac_key: str):
        self.scale = scale
        self.args = args
        self.work = args.work_dir / scale
        self.result_dir = self.work / "results"
        self.logs = self.work / "logs"
        self.hmac_key = hmac_key
        self.max_rss = args.max_rss_gib * 2**30
        self.stages: dict[str, dict] = {}

    def env_for(self, data_dir: Path, inbox: Path | None = None) -> dict:
        env = {k: v for k, v in python_env(self.args).items() if not k.startswith("OUDERPEIL_")}
        env.update(
            {
                "OUDERPEIL_DATA_DIR": str(data_dir),
                "OUDERPEIL_INBOX_DIR": str(inbox or data_dir / "inbox"),
                "OUDERPEIL_HMAC_KEY": self.hmac_key,
                "OUDERPEIL_HMAC_KEY_FILE": str(data_dir / "no-key-file-in-bench"),
                # Synthetic data, generated once and loaded by several stages: files stay.
                "OUDERPEIL_RAW_FILES": "keep",
                "PYTHONPATH": str(REPO_ROOT),
                # dbt: no version check and no anonymous usage tracking over the network.
                "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
                "DBT_NO_VERSION_CHECK": "true",
            }
        )
        return env

    def stage(
        self, name: str, data_dir: Path, run_id: str = "bench", inbox: Path | None = None
    ) -> dict:
        res = self._measure_stage(name, name, self.env_for(data_dir, inbox), run_id)
        self.stages[name] = res
        return res

    def _measure_stage(self, stage: str, name: str, env: dict, run_id: str) -> dict:
        """`bench.stage <stage>` in a process of its own; result and log under `name`."""
        cmd = [
            sys.executable,
            "-m",
            "bench.stage",
            stage,
            "--result",
            str(self.result_dir / f"{name}.json"),
            "--run-id",
            run_id,
        ]
        print(f"bench[{self.scale}]: {name} ...", end=" ", flush=True)
        res = measure(
            cmd,
            env,
            self.logs / f"{name}.log",
            self.result_dir / f"{name}.json",
            self.args.timeout,
            self.max_rss,
        )
        print(
            f"{res['seconds']:.1f} s, {res['maxrss_mib']:.0f} MiB"
            + ("" if res.get("ok") else f"  FAILED: {res.get('error')}"),
            flush=True,
        )
        return res

    def selected(self, names: list[str]) -> list[str]:
        """The `--stages` among names, in pipeline order. What a stage needs must be among
        them (publish needs gate_marts of the same run); gate_raw is the one to leave out."""
        if not self.args.stages:
            return names
        return [n for n in names if n in self.args.stages]

    def chain(self, names: list[str], data_dir: Path, run_id: str) -> bool:
        """Stages in order with one run id (publish needs the gate result of its own run).

        A failed stage stops the chain, except one whose output no later stage reads
        (gate_raw: at region scale it can hit --max-rss-gib, the rest is still worth timing)."""
        for name in names:
            if not self.stage(name, data_dir, run_id).get("ok") and name not in NOTHING_NEEDS:
                for rest in names[names.index(name) + 1 :]:
                    self.stages[rest] = {
                        "ok": False,
                        "skipped": True,
                        "error": f"not run: {name} failed",
                    }
                return False
        return True

    @staticmethod
    def copy_state(data_dir: Path, target: Path) -> Path:
        """A copy of a data directory (warehouse, serving file, GX and dbt state), its inbox
        as hard links."""
        shutil.rmtree(target.parent, ignore_errors=True)
        shutil.copytree(data_dir, target, ignore=shutil.ignore_patterns("inbox"))
        link_tree(data_dir / "inbox", target / "inbox")
        return target

    def queries(self, serving: Path, python: Path, engine: str) -> dict:
        name = f"dashboard_queries_{engine}"
        result = self.result_dir / f"{name}.json"
        cmd = [
            str(python),
            str(BENCH_DIR / "queries.py"),
            "--serving",
            str(serving),
            "--runs",
            str(self.args.query_runs),
            "--engine",
            engine,
            "--dashboards",
            str(REPO_ROOT / "dashboards"),
            "--result",
            str(result),
        ]
        print(f"bench[{self.scale}]: {name} ...", end=" ", flush=True)
        res = measure(
            cmd,
            python_env(self.args),
            self.logs / f"{name}.log",
            result,
            self.args.timeout,
            self.max_rss,
        )
        d = res.get("details") or {}
        print(
            f"p50 {d.get('p50_ms') or float('nan'):.1f} ms, p95 {d.get('p95_ms') or float('nan'):.1f} ms"
            if res.get("ok")
            else f"FAILED: {res.get('error')}",
            flush=True,
        )
        return res

    def browser(self, data_dir: Path) -> dict:
        """Every sector dashboard in headless Chromium on the serving file of `data_dir`."""
        name = "dashboards_browser"
        result = self.result_dir / f"{name}.json"
        cmd = [
            sys.executable,
            "-m",
            "bench.dashboards_browser",
            "--loads",
            str(self.args.browser_loads),
            "--result",
            str(result),
        ]
        print(f"bench[{self.scale}]: {name} ...", end=" ", flush=True)
        res = measure(
            cmd,
            self.env_for(data_dir),
            self.logs / f"{name}.log",
            result,
            self.args.timeout,
            self.max_rss,
        )
        d = res.get("details") or {}
        print(
            f"p50 {d.get('p50_seconds') or float('nan'):.2f} s, "
            f"p95 {d.get('p95_seconds') or float('nan'):.2f} s"
            if res.get("ok")
            else f"FAILED: {res.get('error')}",
            flush=True,
        )
        return res

    def baseline(self, inbox: Path) -> dict:
        """Median of a few runs of baseline.sql, reading the cached inbox in place."""
        runs = []
        for _ in range(self.args.baseline_runs):
            runs.append(self.stage("baseline", self.work / "baseline-data", inbox=inbox))
            self.stages.pop("baseline")
        ok = [r for r in runs if r.get("ok")]
        if not ok:
            return {**runs[-1], "runs": len(runs)}
        median = statistics.median(r["seconds"] for r in ok)
        typical = min(ok, key=lambda r: abs(r["seconds"] - median))
        return {
            **typical,
            "seconds": median,
            "runs": len(runs),
            "cpu_seconds": statistics.median(r["cpu_seconds"] for r in ok),
            "all_seconds": [round(r["seconds"], 3) for r in ok],
            "maxrss_mib": max(r["maxrss_mib"] for r in ok),
        }

    def floor(self, inbox: Path) -> dict:
        """Median of a few runs of floor.sql (the fair floor), each on a fresh database file."""
        runs = []
        for _ in range(self.args.baseline_runs):
            shutil.rmtree(self.work / "floor-data", ignore_errors=True)
            runs.append(self.stage("floor", self.work / "floor-data", inbox=inbox))
            self.stages.pop("floor")
        ok = [r for r in runs if r.get("ok")]
        if not ok:
            return {**runs[-1], "runs": len(runs)}
        median = statistics.median(r["seconds"] for r in ok)
        typical = min(ok, key=lambda r: abs(r["seconds"] - median))
        return {
            **typical,
            "seconds": median,
            "runs": len(runs),
            "cpu_seconds": statistics.median(r["cpu_seconds"] for r in ok),
            "all_seconds": [round(r["seconds"], 3) for r in ok],
            "maxrss_mib": max(r["maxrss_mib"] for r in ok),
        }

    def airflow(self, inbox: Path, dbt_tasks: str) -> dict:
        """The whole chain through the Airflow DAGs on a fresh data directory, then one new
        day through the ingest and build DAGs of the same Airflow home (res["day"]).

        dbt_tasks: OUDERPEIL_DBT_TASKS of ouderpeil.orchestration.dbt, `per_model` (a cosmos
        task per dbt node) or `single` (one `dbt build` task)."""
        af_dir = self.work / f"airflow-{dbt_tasks}" / "data"
        shutil.rmtree(af_dir.parent, ignore_errors=True)
        link_tree(inbox, af_dir / "inbox")
        env = {**self.env_for(af_dir), "OUDERPEIL_DBT_TASKS": dbt_tasks}
        res = self._measure_stage("airflow", f"airflow_{dbt_tasks}", env, "bench-airflow")
        res["dbt_tasks"] = dbt_tasks
        if res.get("ok") and (self.work / "day").is_dir():
            link_tree(self.work / "day", af_dir / "inbox")
            res["day"] = self._measure_stage(
                "airflow_day", f"airflow_{dbt_tasks}_day", env, "bench-airflow"
            )
        return res

    def run(self) -> dict:
        args = self.args
        started = dt.datetime.now(dt.UTC)
        shutil.rmtree(self.result_dir, ignore_errors=True)
        shutil.rmtree(self.logs, ignore_errors=True)
        self.result_dir.mkdir(parents=True)
        data_info = prepare_data(self.work, self.scale, args.seed)
        data_info["warm_up"] = warm_up(args, self.logs / "warm_up.log")
        inbox = self.work / "inbox"

        # Fresh data directory with the generated inbox linked in.
        data_dir = self.work / "run" / "data"
        shutil.rmtree(data_dir.parent, ignore_errors=True)
        shutil.rmtree(self.work / "run-saved", ignore_errors=True)
        link_tree(inbox, data_dir / "inbox")

        full_ok = self.chain(self.selected(FULL_STAGES), data_dir, f"bench-{self.scale}-full")
        serving = data_dir / "serving" / "ouderpeil.duckdb"
        queries = {}
        if self.stages.get("publish", {}).get("ok"):
            queries["duckdb"] = self.queries(serving, Path(sys.executable), "duckdb")
            if not args.skip_superset and SUPERSET_PYTHON.exists():
                queries["sqlalchemy"] = self.queries(serving, SUPERSET_PYTHON, "sqlalchemy")
            if (
                not (args.skip_browser or args.skip_superset)
                and SUPERSET_PYTHON.exists()
                and find_binary()
            ):
                queries["browser"] = self.browser(data_dir)
            # Can a withheld value be worked back from what was published? (issue 13)
            reason = audit_skip_reason(args, self.scale)
            if reason:
                # not a failure: the exit code ignores a stage left out by choice
                self.stages[AUDIT_STAGE] = {
                    "ok": False,
                    "skipped": True,
                    "by_choice": True,
                    "error": reason,
                }
            else:
                self.stage(AUDIT_STAGE, data_dir)

        day_stages = self.selected(DAY_STAGES)
        if full_ok and data_info["day"] and day_stages:
            saved = self.copy_state(data_dir, self.work / "run-saved" / "data")
            data_info["hash_cache_warm_seconds"] = [warm_hash_cache(data_dir)]
            link_tree(self.work / "day", data_dir / "inbox")
            self.chain(day_stages, data_dir, f"bench-{self.scale}-day")
            if day_stages == DAY_STAGES:
                # The same day from the same state at the same path (dbt's partial parsing
                # is keyed on the warehouse path in the profile).
                data_dir.rename(self.work / "run" / "data-day-stages")
                saved.rename(data_dir)
                data_info["hash_cache_warm_seconds"].append(warm_hash_cache(data_dir))
                link_tree(self.work / "day", data_dir / "inbox")
                self.stage(DAY_ONE_PROCESS, data_dir, f"bench-{self.scale}-day-one")

        baseline = self.baseline(inbox)
        floor = self.floor(inbox)

        airflow = {}
        if (
            not args.skip_airflow
            and importlib.util.find_spec("ouderpeil.orchestration.local") is not None
        ):
            for mode in args.airflow_dbt_tasks:
                airflow[mode] = self.airflow(inbox, mode)

        finished = dt.datetime.now(dt.UTC)
        return summarise(
            self.scale,
            args,
            started,
            finished,
            data_info,
            self.stages,
            baseline,
            queries,
            airflow,
            floor,
        )


def audit_skip_reason(args: argparse.Namespace, scale: str) -> str | None:
    """Why the disclosure audit does not run at this scale, or None when it does."""
    if args.skip_audit:
        return "not run: --skip-audit"
    if scale not in args.audit_scales.split(","):
        return f"not run: {scale} is not in --audit-scales {args.audit_scales}"
    return None


# --------------------------------------------------------------------------- results


def compute_totals(stages: dict, baseline: dict, floor: dict | None = None) -> dict:
    """Sums and ratios over the full run and the daily run. A stage that was not selected
    (`--stages`) is left out and named in `*_left_out`; a selected stage that failed makes
    the total None. Also sets each stage's ratio to the baseline."""
    base = baseline.get("seconds") if baseline.get("ok") else None
    # CPU seconds (process, imports and subprocesses included) suffer less from a busy machine
    # than wall time: a second view of the same ratio.
    base_cpu = baseline.get("cpu_seconds") if baseline.get("ok") else None
    fair = floor.get("seconds") if floor and floor.get("ok") else None
    for res in stages.values():
        if res.get("ok") and base:
            res["ratio_to_baseline"] = res["seconds"] / base
        if res.get("ok") and fair:
            res["ratio_to_floor"] = res["seconds"] / fair
        if res.get("ok") and base_cpu and res.get("cpu_seconds") is not None:
            res["cpu_ratio_to_baseline"] = res["cpu_seconds"] / base_cpu

    def sums(group: list[str]) -> dict:
        names = [n for n in group if n in stages]
        if not names or not all(stages[n].get("ok") for n in names):
            return {
                "seconds": None,
                "process_seconds": None,
                "cpu_seconds": None,
                "left_out": [n for n in group if n not in stages],
            }
        cpu = [stages[n].get("cpu_seconds") for n in names]
        return {
            "seconds": sum(stages[n]["seconds"] for n in names),
            "process_seconds": sum(stages[n]["process_seconds"] for n in names),
            # None when a stage's CPU time was not recorded (a resumed run)
            "cpu_seconds": None if None in cpu else sum(cpu),
            "left_out": [n for n in group if n not in stages],
        }

    full, daily = sums(FULL_STAGES), sums(DAY_STAGES)
    return {
        "full_pipeline_seconds": full["seconds"],
        "full_pipeline_process_seconds": full["process_seconds"],
        "full_pipeline_cpu_seconds": full["cpu_seconds"],
        "full_pipeline_left_out": full["left_out"],
        "full_pipeline_peak_mib": max(
            (stages[n]["maxrss_mib"] for n in FULL_STAGES if "maxrss_mib" in stages.get(n, {})),
            default=None,
        ),
        "full_ratio_to_baseline": (
            full["seconds"] / base if full["seconds"] is not None and base else None
        ),
        "full_cpu_ratio_to_baseline": (
            full["cpu_seconds"] / base_cpu if full["cpu_seconds"] is not None and base_cpu else None
        ),
        "daily_run_seconds": daily["seconds"],
        "daily_run_process_seconds": daily["process_seconds"],
        "daily_run_cpu_seconds": daily["cpu_seconds"],
        "daily_run_left_out": daily["left_out"],
        "daily_ratio_to_baseline": (
            daily["seconds"] / base if daily["seconds"] is not None and base else None
        ),
        "daily_one_process_seconds": (
            stages[DAY_ONE_PROCESS]["seconds"]
            if stages.get(DAY_ONE_PROCESS, {}).get("ok")
            else None
        ),
        "daily_run_peak_mib": max(
            (stages[n]["maxrss_mib"] for n in DAY_STAGES if "maxrss_mib" in stages.get(n, {})),
            default=None,
        ),
        "full_ratio_to_floor": (
            full["seconds"] / fair if full["seconds"] is not None and fair else None
        ),
        "daily_ratio_to_floor": (
            daily["seconds"] / fair if daily["seconds"] is not None and fair else None
        ),
        "full_cpu_ratio_to_floor": (
            full["cpu_seconds"] / floor["cpu_seconds"]
            if full["cpu_seconds"] is not None and fair and floor.get("cpu_seconds")
            else None
        ),
        "daily_cpu_ratio_to_baseline": (
            daily["cpu_seconds"] / base_cpu
            if daily["cpu_seconds"] is not None and base_cpu
            else None
        ),
    }


def summarise(
    scale, args, started, finished, data_info, stages, baseline, queries, airflow, floor=None
) -> dict:
    totals = compute_totals(stages, baseline, floor)
    base = baseline.get("seconds") if baseline.get("ok") else None
    full, daily = totals["full_pipeline_seconds"], totals["daily_run_seconds"]
    full_cpu = totals["full_pipeline_cpu_seconds"]
    airflow = {mode: dict(res) for mode, res in (airflow or {}).items()}
    for res in airflow.values():
        if res.get("ok") and full is not None and not totals["full_pipeline_left_out"]:
            res["overhead_seconds"] = res["seconds"] - full
            res["overhead_cpu_seconds"] = (
                res["cpu_seconds"] - full_cpu if full_cpu is not None else None
            )
            res["subtracted_stages"] = AIRFLOW_COVERS
        day = res.get("day") or {}
        if day.get("ok") and daily is not None and not totals["daily_run_left_out"]:
            day["overhead_seconds"] = day["seconds"] - daily
            day["subtracted_stages"] = DAY_STAGES
    targets = {
        "full_within_2x_baseline": (
            full <= FULL_TARGET_RATIO * base
            if full is not None and base and not totals["full_pipeline_left_out"]
            else None
        ),
        "daily_under_15s": daily < DAILY_TARGET_SECONDS if daily is not None else None,
        "daily_one_process_under_15s": (
            totals["daily_one_process_seconds"] < DAILY_TARGET_SECONDS
            if totals["daily_one_process_seconds"] is not None
            else None
        ),
        "daily_under_15s_with_process_startup": (
            totals["daily_run_process_seconds"] < DAILY_TARGET_SECONDS
            if daily is not None
            else None
        ),
        # issue 19
        "full_ratio_target": FULL_TARGET_RATIO_BY_SCALE.get(scale),
        "full_within_ratio_target": (
            totals["full_ratio_to_baseline"] <= FULL_TARGET_RATIO_BY_SCALE[scale]
            if totals["full_ratio_to_baseline"] is not None and not totals["full_pipeline_left_out"]
            else None
        ),
        "daily_within_3x_baseline": (
            totals["daily_ratio_to_baseline"] <= DAILY_TARGET_RATIO
            if totals["daily_ratio_to_baseline"] is not None and not totals["daily_run_left_out"]
            else None
        ),
        # per process: a stage process, or the dbt subprocess it waited for
        "peak_rss_within_4gib": (
            max(s["maxrss_mib"] for s in stages.values() if "maxrss_mib" in s) <= 4096
            if any("maxrss_mib" in s for s in stages.values())
            else None
        ),
    }
    return {
        "scale": scale,
        "seed": args.seed,
        "date": started.date().isoformat(),
        "started_at": started.isoformat(timespec="seconds"),
        "finished_at": finished.isoformat(timespec="seconds"),
        "machine": machine_info(),
        "data": data_info,
        "stages": stages,
        "baseline": baseline,
        "floor": floor or {},
        "dashboard_queries": queries,
        "airflow": airflow,
        "totals": totals,
        "targets": targets,
    }


def _mem_total_gib() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 2**20
    except OSError:
        pass
    return 0.0


def machine_info() -> dict:
    mem_kib = None
    cpu_model = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kib = int(line.split()[1])
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = {}
    for pkg in PACKAGES:
        try:
            versions[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            versions[pkg] = None
    return {
        "hostname": platform.node(),
        "cores": os.cpu_count(),
        "affinity_cores": len(os.sched_getaffinity(0))
        if hasattr(os, "sched_getaffinity")
        else None,
        "cpu_model": cpu_model,
        "memory_gib": round(mem_kib / 1024 / 1024, 1) if mem_kib else None,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "versions": versions,
        "git": _git_info(),
        "loadavg_at_end": [round(x, 2) for x in os.getloadavg()],
    }


def _git_info() -> dict:
    def git(*a):
        try:
            return subprocess.run(
                ["git", *a], cwd=REPO_ROOT, capture_output=True, text=True, timeout=10
            ).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return None

    status = git("status", "--porcelain")
    return {
        "commit": git("rev-parse", "--short", "HEAD"),
        "dirty": bool(status) if status is not None else None,
    }


def write_results(results: list[dict], results_dir: Path) -> list[Path]:
    results_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for res in results:
        path = results_dir / f"{res['scale']}-{res['date']}.json"
        path.write_text(json.dumps(res, indent=2, default=str) + "\n")
        written.append(path)
    # latest.md: the newest result of every scale, also of scales not run this time.
    latest = results_dir / "latest.md"
    latest.write_text(report.markdown(report.latest_results(results_dir, ALL_SCALES)))
    written.append(latest)
    return written


def parse_args(argv=None):
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument(
        "--scales",
        default="board,region",
        help="comma-separated: small, board, region (default: board,region)",
    )
    p.add_argument("--seed", type=int, default=1)
    p.add_argument(
        "--query-runs", type=int, default=30, help="runs per dashboard query (after one warm-up)"
    )
    p.add_argument("--baseline-runs", type=int, default=3, help="median of this many runs")
    p.add_argument(
        "--skip-superset",
        action="store_true",
        help="skip the dashboard queries through Superset's driver "
        "(SQLAlchemy + duckdb-engine in .venv-superset)",
    )
    p.add_argument(
        "--skip-browser",
        action="store_true",
        help="skip the dashboards in headless Chromium (also skipped by --skip-superset)",
    )
    p.add_argument(
        "--browser-loads", type=int, default=5, help="loads of each sector dashboard in Chromium"
    )
    p.add_argument(
        "--skip-airflow", action="store_true", help="skip the extra run through the Airflow DAGs"
    )
    p.add_argument(
        "--skip-audit",
        action="store_true",
        help="skip the disclosure audit of the published file (minutes at board scale)",
    )
    p.add_argument(
        "--audit-scales",
        default="small,board",
        help="comma-separated scales whose published file gets the disclosure audit "
        "(default: small,board; at region it ran over 2 h without finishing: its cost grows "
        "much faster than the rows)",
    )
    p.add_argument(
        "--no-bytecode-cache",
        dest="bytecode_cache",
        action="store_false",
        help="do not cache compiled bytecode under work/pycache (measure the shell's "
        "PYTHONDONTWRITEBYTECODE as it is)",
    )
    p.add_argument(
        "--airflow-dbt-tasks",
        default="per_model",
        help="comma-separated OUDERPEIL_DBT_TASKS modes to run the Airflow chain "
        "with: per_model (cosmos, a task per dbt node), single (default: "
        "per_model)",
    )
    p.add_argument(
        "--stages",
        help="comma-separated subset of the stages, in pipeline order "
        "(e.g. load,gate_raw); default all. Baseline always runs.",
    )
    p.add_argument("--timeout", type=float, default=3 * 3600, help="per stage, seconds")
    p.add_argument(
        "--max-rss-gib",
        type=float,
        default=round(0.7 * _mem_total_gib(), 1),
        help="kill a stage whose process tree holds more memory than this "
        "(default 70 %% of RAM; 0 = no limit)",
    )
    p.add_argument("--work-dir", type=Path, default=BENCH_DIR / "work")
    p.add_argument("--results-dir", type=Path, default=BENCH_DIR / "results")
    p.add_argument(
        "--update-readme",
        action="store_true",
        help="copy the table into README.md between the bench markers",
    )
    p.add_argument("--readme", type=Path, default=REPO_ROOT / "README.md")
    p.add_argument(
        "--readme-only",
        action="store_true",
        help="only update the README from the newest result file of each scale in --results-dir",
    )
    args = p.parse_args(argv)
    args.scales = [s.strip() for s in args.scales.split(",") if s.strip()]
    if args.stages:
        args.stages = [x.strip() for x in args.stages.split(",") if x.strip()]
        bad = set(args.stages) - set(FULL_STAGES + DAY_STAGES)
        if bad:
            p.error(f"unknown stage(s): {', '.join(sorted(bad))}")
    args.airflow_dbt_tasks = [m.strip() for m in args.airflow_dbt_tasks.split(",") if m.strip()]
    if set(args.airflow_dbt_tasks) - {"per_model", "single"}:
        p.error("--airflow-dbt-tasks takes per_model and/or single")
    bad = set(args.scales) - set(ALL_SCALES)
    if bad:
        p.error(f"unknown scale(s): {', '.join(sorted(bad))}")
    args.work_dir = args.work_dir.resolve()
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.readme_only:
        results = report.latest_results(args.results_dir, ALL_SCALES)
        report.update_readme(args.readme, report.markdown(results))
        print(f"bench: updated {args.readme}")
        return 0
    hmac_key = secrets.token_hex(32)  # throw-away key: the bench data are synthetic
    results = []
    for scale in args.scales:
        results.append(ScaleRun(scale, args, hmac_key).run())
        # Write after every scale, so a long region run does not lose the board numbers.
        written = write_results(results, args.results_dir)
    for path in written:
        print(f"bench: wrote {path}")
    table = (args.results_dir / "latest.md").read_text()
    print()
    print(table)
    if args.update_readme:
        report.update_readme(args.readme, table)
        print(f"bench: updated {args.readme}")
    failed = [
        f"{r['scale']}:{n}"
        for r in results
        for n, s in r["stages"].items()
        if not (s.get("ok") or s.get("by_choice"))
    ]
    if failed:
        print(f"bench: stages that failed or did not run: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
