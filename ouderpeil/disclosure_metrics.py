"""What disclosure control costs: the share of cells it hides and the share of laag-hoog gaps
still shown where both groups hold at least the minimum, per grain (docs/DISCLOSURE.md)."""

from __future__ import annotations

GRAINS = {  # name -> SQL condition on a published row
    "school": "board_id <> 'ALL' AND school_id <> 'ALL'",
    "board": "board_id <> 'ALL' AND school_id = 'ALL'",
    "sector": "board_id = 'ALL'",
}


def suppressed_share(con, table: str = "indicator") -> dict:
    rows, hidden = con.execute(
        f"SELECT count(*), count(*) FILTER (WHERE suppressed) FROM {table}"
    ).fetchall()[0]
    return {"rows": rows, "suppressed": hidden, "share": hidden / rows if rows else 0.0}


def gap_visibility(
    con, table: str = "indicator", catalogue: str = "indicator_catalogue", min_n: int = 10
) -> dict:
    """Per grain and period type: of the gaps whose laag and hoog rows both rest on at least
    `min_n` units, how many are shown."""
    out = {}
    for grain, where in GRAINS.items():
        for period_type in ("school_year", "month"):
            eligible, shown = con.execute(
                f"""
                SELECT count(*), count(*) FILTER (WHERE NOT g.suppressed)
                FROM {table} AS g
                JOIN {catalogue} AS c ON c.indicator_code = g.indicator_code AND c.variant = 'gap'
                JOIN {table} AS l ON l.indicator_code = c.base_code AND l.ses_group = 'laag'
                 AND l.period_type = g.period_type AND l.period = g.period
                 AND l.sector = g.sector AND l.board_id = g.board_id AND l.school_id = g.school_id
                JOIN {table} AS h ON h.indicator_code = c.base_code AND h.ses_group = 'hoog'
                 AND h.period_type = g.period_type AND h.period = g.period
                 AND h.sector = g.sector AND h.board_id = g.board_id AND h.school_id = g.school_id
                WHERE g.period_type = ? AND l.n >= ? AND h.n >= ?
                  AND {where.replace("board_id", "g.board_id").replace("school_id", "g.school_id")}
            """,
                [period_type, min_n, min_n],
            ).fetchall()[0]
            out[f"{grain}/{period_type}"] = {
                "eligible": eligible,
                "shown": shown,
                "share": shown / eligible if eligible else None,
            }
    return out
