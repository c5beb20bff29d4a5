"""SQL of the Superset charts in dashboards/, the way Superset builds it from a chart's
query_context (filters, columns, saved or ad-hoc metrics, order, row limit).

Only what the Ouderpeil charts use is translated; a chart with anything else (time ranges,
series limits, post-processing) is still timed on its base query. Plain stdlib + PyYAML, so it
runs in either virtualenv.
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml


def _quote(name: str) -> str:
    return '"' + str(name).replace('"', '""') + '"'


def _literal(value) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


# Superset's DuckDB engine spec: time grain -> expression around the column.
TIME_GRAINS = {
    "P1D": "DATE_TRUNC('day', {col})",
    "P1W": "DATE_TRUNC('week', {col})",
    "P1M": "DATE_TRUNC('month', {col})",
    "P3M": "DATE_TRUNC('quarter', {col})",
    "P1Y": "DATE_TRUNC('year', {col})",
}


def _col_ref(name: str, calculated: dict) -> str:
    """A column by name; a dataset's calculated column becomes its expression, as in Superset."""
    return f"({calculated[name]})" if name in calculated else _quote(name)


def _filter_sql(f: dict, calculated: dict) -> str | None:
    col, op, val = _col_ref(f["col"], calculated), f["op"].upper(), f.get("val")
    if op in ("==", "!=", ">", "<", ">=", "<="):
        return f"{col} {'=' if op == '==' else op} {_literal(val)}"
    if op in ("IN", "NOT IN"):
        vals = val if isinstance(val, list) else [val]
        return f"{col} {op} ({', '.join(_literal(v) for v in vals)})"
    if op in ("LIKE", "ILIKE", "NOT LIKE"):
        return f"{col} {op} {_literal(val)}"
    if op in ("IS NULL", "IS NOT NULL"):
        return f"{col} {op}"
    if op in ("IS TRUE", "IS FALSE"):
        return f"{col} {op}"
    return None  # TEMPORAL_RANGE and friends: not used by Ouderpeil's charts


def _column_sql(col, calculated: dict) -> tuple[str, str]:
    if isinstance(col, dict):
        raw = col.get("sqlExpression") or col.get("column_name")
        expr = (
            _col_ref(raw, calculated)
            if raw in calculated
            else (col.get("sqlExpression") or _quote(raw))
        )
        if col.get("timeGrain") in TIME_GRAINS:
            expr = TIME_GRAINS[col["timeGrain"]].format(col=expr)
        return expr, col.get("label") or raw
    return _col_ref(col, calculated), col


def _metric_sql(metric, saved: dict) -> tuple[str, str]:
    if isinstance(metric, str):
        return saved[metric], metric
    if metric.get("expressionType") == "SQL":
        return metric["sqlExpression"], metric.get("label") or metric["sqlExpression"]
    column = metric["column"]["column_name"]
    label = metric.get("label") or f"{metric['aggregate']}({column})"
    return f"{metric['aggregate']}({_quote(column)})", label


def query_sql(query: dict, dataset: dict) -> str:
    saved = {m["metric_name"]: m["expression"] for m in dataset.get("metrics") or []}
    calculated = {
        c["column_name"]: c["expression"]
        for c in dataset.get("columns") or []
        if c.get("expression")
    }
    source = (
        f"({dataset['sql']}) AS virtual_table"
        if dataset.get("sql")
        else f"{_quote(dataset.get('schema') or 'main')}.{_quote(dataset['table_name'])}"
    )
    columns = [_column_sql(c, calculated) for c in query.get("columns") or []]
    metrics = [_metric_sql(m, saved) for m in query.get("metrics") or []]
    select = [f"{expr} AS {_quote(label)}" for expr, label in columns + metrics]
    where = [w for w in (_filter_sql(f, calculated) for f in query.get("filters") or []) if w]
    extras = query.get("extras") or {}
    if extras.get("where"):
        where.append(f"({extras['where']})")
    sql = f"SELECT {', '.join(select) or '*'} FROM {source}"
    if where:
        sql += " WHERE " + " AND ".join(where)
    if metrics and columns:
        sql += " GROUP BY " + ", ".join(expr for expr, _ in columns)
    if extras.get("having"):
        sql += f" HAVING {extras['having']}"
    order = []
    for target, ascending in query.get("orderby") or []:
        expr = (
            _metric_sql(target, saved)[0]
            if isinstance(target, dict) or target in saved
            else _col_ref(target, calculated)
        )
        order.append(f"{expr} {'ASC' if ascending else 'DESC'}")
    if order:
        sql += " ORDER BY " + ", ".join(order)
    if query.get("row_limit"):
        sql += f" LIMIT {int(query['row_limit'])}"
    return sql


def queries_from_dashboards(dashboards_dir: Path, params: dict | None = None) -> dict[str, str]:
    """{chart file stem: SQL} for every chart with a query_context and a known dataset."""
    datasets = {}
    for path in (dashboards_dir / "datasets").rglob("*.yaml"):
        d = yaml.safe_load(path.read_text())
        datasets[d["uuid"]] = d
    out = {}
    for path in sorted((dashboards_dir / "charts").glob("*.yaml")):
        chart = yaml.safe_load(path.read_text())
        dataset = datasets.get(chart.get("dataset_uuid"))
        if not dataset or not chart.get("query_context"):
            continue
        context = json.loads(chart["query_context"])
        for i, query in enumerate(context.get("queries") or []):
            out[path.stem + (f"#{i}" if i else "")] = query_sql(query, dataset)
    return out


if __name__ == "__main__":
    import sys

    for name, sql in queries_from_dashboards(Path(sys.argv[1])).items():
        print(f"-- {name}\n{sql};\n")
