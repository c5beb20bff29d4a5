"""The markdown summary of bench results (bench/results/latest.md and the README section)."""

from __future__ import annotations

import json
import re
from pathlib import Path

README_START = "<!-- bench:start -->"
README_END = "<!-- bench:end -->"

ROWS = [
    ("baseline", "baseline: plain DuckDB SQL on the inbox files"),
    ("floor", "fair floor: the same logical work in one DuckDB SQL script (`floor.sql`)"),
    ("load", "load inbox (`load_inbox`)"),
    ("gate_raw", "quality gate, raw"),
    ("dbt_build", "dbt build, full"),
    ("gate_marts", "quality gate, marts"),
    ("publish", "publish serving file"),
    ("export", "export (csv, latest school year)"),
    ("full", "**full pipeline** (sum of the above)"),
    ("load_day", "load one new day"),
    ("gate_raw_day", "quality gate, raw (new loads only)"),
    ("dbt_build_incremental", "dbt build, incremental"),
    ("gate_marts_day", "quality gate, marts (day)"),
    ("publish_day", "publish (day)"),
    ("daily", "**daily run** (sum of the day stages, each its own process as in Airflow)"),
    ("daily_one_process", "**daily run in one process** (`ouderpeil run`: one GX import)"),
]


def _fmt(x, digits=1):
    return "–" if x is None else f"{x:,.{digits}f}"


def _ratio(x) -> str:
    """× baseline: two decimals below 0.1, so a small stage does not read as 0."""
    return "–" if x is None else f"{x:,.2f}" if x < 0.1 else f"{x:,.1f}"


def _cells(res: dict, key: str) -> list[str]:
    """seconds, CPU s, MiB, × baseline, × fair floor."""
    fair = (res.get("floor") or {}).get("seconds") if (res.get("floor") or {}).get("ok") else None
    cells = _base_cells(res, key)
    seconds = _seconds(res, key)
    if key == "floor":
        return cells[:3] + [
            _ratio(seconds / res["baseline"]["seconds"])
            if seconds and (res.get("baseline") or {}).get("ok")
            else "–",
            "1.0" if fair else "–",
        ]
    bold = key in ("full", "daily", "daily_one_process")
    ratio = _ratio(seconds / fair) if seconds is not None and fair else "–"
    return cells + [f"**{ratio}**" if bold and ratio != "–" else ratio]


def _seconds(res: dict, key: str) -> float | None:
    if key in ("baseline", "floor"):
        b = res.get(key) or {}
        return b.get("seconds") if b.get("ok") else None
    if key == "full":
        return res["totals"]["full_pipeline_seconds"]
    if key == "daily":
        return res["totals"]["daily_run_seconds"]
    s = res["stages"].get(key) or {}
    return s.get("seconds") if s.get("ok") else None


def _base_cells(res: dict, key: str) -> list[str]:
    base = (res.get("baseline") or {}).get("seconds")
    if key in ("baseline", "floor"):
        b = res.get(key) or {}
        if not b:
            return ["not run", "–", "–", "–"]
        if not b.get("ok"):
            return ["failed", "–", "–", "–"]
        return [
            _fmt(b["seconds"], 2),
            _fmt(b.get("cpu_seconds")),
            _fmt(b.get("maxrss_mib"), 0),
            "1.0",
        ]
    if key in ("full", "daily"):
        t = res["totals"]
        seconds = t[f"{key}_pipeline_seconds" if key == "full" else "daily_run_seconds"]
        if seconds is None:
            return ["–", "–", "–", "–"]
        stages = [res["stages"][n] for n in _group(key) if n in res["stages"]]
        peak = max((s.get("maxrss_mib", 0) for s in stages), default=None)
        cpus = [s.get("cpu_seconds") for s in stages]
        cpu = None if None in cpus else sum(cpus)
        return [
            f"**{_fmt(seconds)}**",
            _fmt(cpu),
            _fmt(peak, 0),
            f"**{_fmt(seconds / base)}**" if base else "–",
        ]
    if key == "daily_one_process":
        s = res["stages"].get(key) or {}
        if not s.get("ok"):
            return ["–", "–", "–", "–"]
        return [
            f"**{_fmt(s['seconds'])}**",
            _fmt(s.get("cpu_seconds")),
            _fmt(s.get("maxrss_mib"), 0),
            f"**{_fmt(s['seconds'] / base)}**" if base else "–",
        ]
    s = res["stages"].get(key)
    if not s:
        return ["–", "–", "–", "–"]
    if not s.get("ok"):
        return ["not run" if s.get("skipped") else "failed", "–", "–", "–"]
    return [
        _fmt(s["seconds"]),
        _fmt(s.get("cpu_seconds")),
        _fmt(s.get("maxrss_mib"), 0),
        _ratio(s["seconds"] / base) if base else "–",
    ]


def _group(key: str) -> list[str]:
    from bench.run import DAY_STAGES, FULL_STAGES

    return FULL_STAGES if key == "full" else DAY_STAGES


def markdown(results: list[dict]) -> str:
    if not results:
        return "(no results yet)\n"
    head = ["stage"]
    for r in results:
        head += [
            f"{r['scale']} s",
            f"{r['scale']} CPU s",
            f"{r['scale']} MiB",
            f"{r['scale']} × baseline",
            f"{r['scale']} × fair floor",
        ]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for key, label in ROWS:
        cells = [label]
        for r in results:
            cells += _cells(r, key)
        lines.append("| " + " | ".join(cells) + " |")

    extra = ["dashboard query p50 / p95 (ms)"]
    for r in results:
        q = (r.get("dashboard_queries") or {}).get("duckdb") or {}
        d = q.get("details") or {}
        extra += [
            f"{_fmt(d.get('p50_ms'))} / {_fmt(d.get('p95_ms'))}" if q.get("ok") else "–",
            "",
            _fmt(q.get("maxrss_mib"), 0) if q.get("ok") else "–",
            "",
            "",
        ]
    lines.append("| " + " | ".join(extra) + " |")
    shown = ["sector dashboards in Chromium, navigation → last chart drawn, p50 / p95 (s)"]
    for r in results:
        b = (r.get("dashboard_queries") or {}).get("browser") or {}
        # Results written before 2026-12-01 afternoon hold the numbers flat, not in details.
        d = b.get("details") or b
        shown += [
            f"{_fmt(d.get('p50_seconds'), 2)} / {_fmt(d.get('p95_seconds'), 2)}"
            if d.get("p50_seconds") is not None
            else ("failed" if b else "–"),
            "",
            _fmt(b.get("maxrss_mib"), 0) if b.get("ok") else "–",
            "",
            "",
        ]
    lines.append("| " + " | ".join(shown) + " |")
    audit = ["disclosure audit: withheld values recovered / withheld (of all rows)"]
    for r in results:
        a = (r.get("stages") or {}).get("disclosure_audit") or {}
        d = a.get("details") or {}
        audit += [
            f"{d['recovered']:,} / {d['suppressed']:,} (of {d['cells']:,})"
            if a.get("ok")
            else ("not run" if a.get("skipped") else "failed" if a else "–"),
            _fmt(a.get("cpu_seconds")) if a.get("ok") else "",
            _fmt(a.get("maxrss_mib"), 0) if a.get("ok") else "–",
            "",
            "",
        ]
    lines.append("| " + " | ".join(audit) + " |")
    modes = sorted({m for r in results for m in _airflow_runs(r)})
    for mode in modes or ["per_model"]:
        row = [f"Airflow overhead, dbt tasks {mode} (DAG runs − stages)"]
        for r in results:
            a = _airflow_runs(r).get(mode) or {}
            ok = a.get("ok") and a.get("overhead_seconds") is not None
            row += [
                _fmt(a.get("overhead_seconds")) if ok else "–",
                _fmt(a.get("overhead_cpu_seconds")) if ok else "–",
                _fmt(a.get("maxrss_mib"), 0) if ok else "–",
                "",
                "",
            ]
        lines.append("| " + " | ".join(row) + " |")
    for mode in modes:
        row = [f"Airflow overhead, daily run, dbt tasks {mode} (DAG runs − day stages)"]
        for r in results:
            a = (_airflow_runs(r).get(mode) or {}).get("day") or {}
            ok = a.get("ok") and a.get("overhead_seconds") is not None
            row += [
                _fmt(a.get("overhead_seconds")) if ok else "–",
                "",
                _fmt(a.get("maxrss_mib"), 0) if ok else "–",
                "",
                "",
            ]
        lines.append("| " + " | ".join(row) + " |")

    notes = [""]
    for r in results:
        m = r["machine"]
        d = (r.get("data") or {}).get("inbox") or {}
        loads = [s["loadavg_before"][0] for s in r["stages"].values() if "loadavg_before" in s]
        t, tg = r["totals"], r["targets"]
        left_out = sorted(
            set(t.get("full_pipeline_left_out") or []) | set(t.get("daily_run_left_out") or [])
        )
        notes.append(
            f"- **{r['scale']}** ({r['date']}, commit {m['git'].get('commit')}"
            f"{' +changes' if m['git'].get('dirty') else ''}): inbox {d.get('files', '?')} files, "
            f"{_fmt((d.get('bytes') or 0) / 2**20)} MiB; {m['cores']} cores, "
            f"{m['memory_gib']} GiB, DuckDB {m['versions'].get('duckdb')}, "
            f"dbt {m['versions'].get('dbt-core')}; load average during the run "
            f"{_fmt(min(loads, default=None), 1)}–{_fmt(max(loads, default=None), 1)}. "
            + (f"Targets: **not judged** — {tg['not_judged']} " if tg.get("not_judged") else "")
            + f"Targets (issue 19, ratios within this run): full ≤ "
            f"{_fmt(tg.get('full_ratio_target'), 0)} × baseline: "
            f"{_yes_no(tg.get('full_within_ratio_target'))} "
            f"({_fmt(t.get('full_ratio_to_baseline'))} ×; "
            f"{_fmt(t.get('full_ratio_to_floor'))} × the fair floor); daily run ≤ 3 × baseline "
            f"as separate processes: {_yes_no(tg.get('daily_within_3x_baseline'))} "
            f"({_fmt(t.get('daily_ratio_to_baseline'))} ×; "
            f"{_fmt(t.get('daily_run_process_seconds'))} s with process start-up); peak RSS of "
            f"every process ≤ 4 GiB: {_yes_no(tg.get('peak_rss_within_4gib'))}. "
            f"By CPU time (less sensitive to a busy machine): full "
            f"{_fmt(t.get('full_cpu_ratio_to_baseline'))} × the baseline, "
            f"{_fmt(t.get('full_cpu_ratio_to_floor'))} × the fair floor; daily run "
            f"{_fmt(t.get('daily_cpu_ratio_to_baseline'))} × the baseline."
            + (
                f" Not run at this scale (the sums leave them out): {', '.join(left_out)}."
                if left_out
                else ""
            )
        )
    notes += _day_cost_note({r["scale"]: r for r in results})
    notes.append("")
    notes.append(
        "Seconds are wall time inside each stage function, each stage in its own "
        "process: the process's start-up imports are excluded, what a stage imports "
        "when it runs (Great Expectations in the gates) and the dbt subprocess are "
        "included; CPU s is the process's user+system time (imports "
        "and subprocesses included), less sensitive to a busy machine than wall time; "
        "MiB is the peak RSS of the stage process or its dbt subprocess. Raw numbers: "
        "`bench/results/*.json`."
    )
    return "\n".join(lines + notes) + "\n"


def _airflow_runs(result: dict) -> dict:
    """{dbt task mode: result}; results written before the modes existed had one run."""
    a = result.get("airflow") or {}
    if "ok" in a:  # an old single-run result
        return {"per_model": a}
    return a


def _yes_no(v) -> str:
    return "–" if v is None else ("yes" if v else "**no**")


def latest_results(results_dir: Path, scales: list[str]) -> list[dict]:
    """The newest result file of each scale."""
    out = []
    for scale in scales:
        files = sorted(results_dir.glob(f"{scale}-*.json"))
        if files:
            out.append(json.loads(files[-1].read_text()))
    return out


def update_readme(readme: Path, table: str) -> None:
    text = readme.read_text()
    pattern = re.compile(re.escape(README_START) + r".*?" + re.escape(README_END), re.S)
    if not pattern.search(text):
        raise SystemExit(f"{readme} has no {README_START} … {README_END} section")
    text = pattern.sub(lambda _: f"{README_START}\n{table.rstrip()}\n{README_END}", text)
    readme.write_text(text)


def _day_cost_note(by_scale: dict) -> list[str]:
    """Region day against board day: a ratio only when both come from one machine on one day.
    Seconds differ about 2 x between these machines, so a ratio across two runs would
    measure the machines, not the pipeline."""
    board, region = by_scale.get("board"), by_scale.get("region")
    if not (board and region):
        return []
    days = [r["totals"].get("daily_run_seconds") for r in (board, region)]
    if not all(days):
        return []
    if _measured_on(board) != _measured_on(region):
        return [
            f"- A day costs what it holds (region daily run ≤ 1.5 × the board daily run): "
            f"not comparable here, the scales were measured on different days "
            f"({board.get('date')}, {region.get('date')}), possibly on different machines."
        ]
    ratio = days[1] / days[0]
    return [
        f"- A day costs what it holds: region daily run = {ratio:.2f} × the board daily run "
        f"(target ≤ 1.5: {_yes_no(ratio <= 1.5)})."
    ]


def _measured_on(result: dict) -> tuple:
    """The day and machine of a result (hostnames repeat across these sandboxes)."""
    machine = result.get("machine", {})
    return result.get("date"), machine.get("hostname"), machine.get("cpu_model")
