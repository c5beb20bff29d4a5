"""Latency of the dashboard queries against the serving file, p50/p95 per query.

Runs as a plain script with any interpreter that has duckdb (and, for `--engine sqlalchemy`,
SQLAlchemy + duckdb-engine, i.e. the Superset virtualenv), so it imports nothing from
ouderpeil:

    python bench/queries.py --serving data/serving/ouderpeil.duckdb --runs 30 --result q.json

The queries are the SQL of the charts in dashboards/ when their YAML can be read (see
chart_queries), else and in addition a representative set of what the dashboards ask: filters
on period, sector, board (row-level security adds `board_id = …` for board staff), SES
breakdowns and GROUP BYs on `indicator` and `channel_mix`.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

try:  # as `bench.queries` in the package, or as a script beside rss.py
    from bench.rss import peak_rss_mib
except ImportError:
    from rss import peak_rss_mib

# {period}, {board} and {indicator} are filled from the serving file itself.
REPRESENTATIVE_QUERIES = {
    "kpi_tiles": """
        SELECT indicator_code, indicator_label, value, ci_low, ci_high, value_display, suppressed
        FROM indicator
        WHERE period_type = 'school_year' AND period = '{period}'
          AND board_id = 'ALL' AND school_id = 'ALL' AND ses_group = 'ALL'
        ORDER BY indicator_group, indicator_code""",
    "trend_by_month": """
        SELECT period, sector, avg(value) AS value, sum(n) AS n
        FROM indicator
        WHERE indicator_code = '{indicator}' AND period_type = 'month'
          AND board_id = 'ALL' AND school_id = 'ALL' AND ses_group = 'ALL'
        GROUP BY period, sector ORDER BY period, sector""",
    "ses_by_school_rls": """
        SELECT school_name, ses_group, value, ci_low, ci_high, n, suppressed
        FROM indicator
        WHERE indicator_code = '{indicator}' AND period_type = 'school_year'
          AND period = '{period}' AND board_id = '{board}' AND school_id <> 'ALL'
          AND ses_group <> 'ALL'
        ORDER BY school_name, ses_group""",
    "gap_table": """
        SELECT indicator_label, sector, board_name, school_name, value, ci_low, ci_high,
               gap_significant
        FROM indicator
        WHERE indicator_group = 'gelijkheid' AND period_type = 'school_year'
          AND period = '{period}' AND NOT suppressed
        ORDER BY abs(value) DESC LIMIT 100""",
    "board_overview_group_by": """
        SELECT board_name, indicator_group, count(*) AS rows_,
               avg(value) AS mean_value, sum(CASE WHEN suppressed THEN 1 ELSE 0 END) AS n_suppressed
        FROM indicator
        WHERE period_type = 'school_year' AND period = '{period}' AND ses_group = 'ALL'
        GROUP BY board_name, indicator_group ORDER BY board_name, indicator_group""",
    "reference_comparison": """
        SELECT i.sector, i.indicator_code, i.value, i.reference_value
        FROM indicator i
        WHERE i.period_type = 'school_year' AND i.period = '{period}' AND i.board_id = 'ALL'
          AND i.school_id = 'ALL' AND i.ses_group = 'ALL' AND i.reference_value IS NOT NULL
        ORDER BY i.sector, i.indicator_code""",
    "channel_mix_board": """
        SELECT stream, channel, sum(n_items) AS n_items
        FROM channel_mix
        WHERE period_type = 'school_year' AND period = '{period}' AND board_id = '{board}'
          AND school_id = 'ALL' AND ses_group = 'ALL' AND NOT suppressed
        GROUP BY stream, channel ORDER BY stream, n_items DESC""",
    "channel_mix_by_ses_month": """
        SELECT period, ses_group, channel, sum(n_items) AS n_items, avg(share) AS share
        FROM channel_mix
        WHERE period_type = 'month' AND stream = 'contact' AND school_id = 'ALL'
          AND ses_group <> 'ALL'
        GROUP BY period, ses_group, channel ORDER BY period, ses_group, channel""",
}


def resolve_parameters(run) -> dict:
    """Pick a realistic period, board and indicator from the served data."""
    period = run("SELECT max(period) FROM indicator WHERE period_type = 'school_year'")[0][0]
    board = run(
        "SELECT board_id FROM indicator WHERE board_id <> 'ALL' "
        "GROUP BY board_id ORDER BY count(*) DESC, board_id LIMIT 1"
    )
    return {
        "period": period,
        "board": board[0][0] if board else "ALL",
        "indicator": "contact_reach",
    }


def chart_queries(dashboards_dir: Path | None, params: dict) -> dict:
    """SQL of the dashboards' charts, when dashboards/ holds something we can read."""
    if not dashboards_dir or not Path(dashboards_dir).is_dir():
        return {}
    try:  # as `bench.queries` in the package, or as a script beside chart_sql.py
        from bench.chart_sql import queries_from_dashboards
    except ImportError:
        try:
            from chart_sql import queries_from_dashboards
        except ImportError:
            return {}
    try:
        return queries_from_dashboards(Path(dashboards_dir), params)
    except Exception as exc:  # noqa: BLE001 - a chart we cannot translate is reported, not fatal
        print(f"bench: could not read chart SQL from {dashboards_dir}: {exc}", file=sys.stderr)
        return {}


def connect(serving: Path, engine: str):
    """Return run(sql) -> rows over a read-only connection, as Superset opens the file."""
    if engine == "sqlalchemy":
        import sqlalchemy as sa

        eng = sa.create_engine(f"duckdb:///{serving.resolve()}", connect_args={"read_only": True})
        conn = eng.connect()

        def run(sql):
            return conn.execute(sa.text(sql)).fetchall()

        return run, conn.close

    import duckdb

    con = duckdb.connect(str(serving), read_only=True)

    def run(sql):
        return con.execute(sql).fetchall()

    return run, con.close


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def bench_queries(
    serving: Path, runs: int, engine: str = "duckdb", dashboards_dir: Path | None = None
) -> dict:
    run, close = connect(serving, engine)
    try:
        params = resolve_parameters(run)
        queries = {name: sql.format(**params) for name, sql in REPRESENTATIVE_QUERIES.items()}
        charts = chart_queries(dashboards_dir, params)
        queries.update({f"chart:{name}": sql for name, sql in charts.items()})
        results, all_ms = {}, []
        for name, sql in queries.items():
            try:
                rows = run(sql)  # warm-up, as a dashboard reload would find the file cached
            except Exception as exc:  # noqa: BLE001
                results[name] = {"error": f"{type(exc).__name__}: {exc}"[:500]}
                continue
            ms = []
            for _ in range(runs):
                t = time.perf_counter()
                run(sql)
                ms.append((time.perf_counter() - t) * 1000)
            all_ms += ms
            results[name] = {
                "rows": len(rows),
                "p50_ms": percentile(ms, 0.5),
                "p95_ms": percentile(ms, 0.95),
                "mean_ms": statistics.fmean(ms),
            }
    finally:
        close()
    ok = [r for r in results.values() if "error" not in r]
    return {
        "engine": engine,
        "runs_per_query": runs,
        "parameters": params,
        "n_queries": len(ok),
        "n_chart_queries": len(charts),
        "p50_ms": percentile(all_ms, 0.5) if all_ms else None,
        "p95_ms": percentile(all_ms, 0.95) if all_ms else None,
        "total_seconds": sum(all_ms) / 1000,
        "queries": results,
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--serving", required=True, type=Path)
    p.add_argument("--runs", type=int, default=30)
    p.add_argument("--engine", choices=["duckdb", "sqlalchemy"], default="duckdb")
    p.add_argument("--dashboards", type=Path)
    p.add_argument("--result", required=True, type=Path)
    args = p.parse_args(argv)
    start = time.perf_counter()
    out = {"stage": f"dashboard_queries_{args.engine}", "ok": False}
    try:
        out["details"] = bench_queries(args.serving, args.runs, args.engine, args.dashboards)
        out["ok"] = out["details"]["n_queries"] > 0
        if not out["ok"]:
            out["error"] = "no query ran"
    except Exception as exc:  # noqa: BLE001
        out["error"] = f"{type(exc).__name__}: {exc}"[:4000]
    out["seconds"] = time.perf_counter() - start
    out["maxrss_self_mib"] = peak_rss_mib()
    args.result.write_text(json.dumps(out, indent=2, default=str))
    return 0 if out["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
