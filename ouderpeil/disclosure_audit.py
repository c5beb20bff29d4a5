"""The attacker: what can be worked back from a published indicator table alone?

The audit sees only what is published (the serving file's `indicator` table, an export, or
`marts.fct_indicator`) and the indicator catalogue. Every suppressed numerator is an unknown;
everything the table states about it becomes a linear constraint:

* additive structure (``ses``, ``school``, ``board``, ``month``): a total equals the sum of its
  parts, for numerators and for denominators; months only for indicators whose published,
  fully visible school years equal the sum of their months (else: a month never exceeds its
  school year, which still pins a month under a school year at zero);
* ``gap`` rows: value(laag) - value(hoog) = gap;
* ``weighted`` rows: at school x SES group a post-stratified value equals the unweighted one;
* bounds (the all-or-nothing route): value_min <= value <= value_max of the catalogue, so
  numerator in [value_min x denominator, value_max x denominator]; integral numerators
  where every published numerator of the indicator is a whole number.

Linear programming over each connected block of unknowns (scipy's HiGHS) gives the exact range
each unknown can take under all constraints together, which covers every chain of
differencing, interval and all-or-nothing steps (iterated propagation is a weaker version of
the same). A cell is *recovered* when its range pins the value (width below ``PIN_WIDTH`` of
the value, or a single whole number). Denominators the table withholds become unknowns too.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

RELATIONS = ("ses", "school", "board", "month", "gap", "weighted")
# A value known to within this (0.01 percentage point of a share) counts as recovered.
PIN_WIDTH = 1e-4
# Published figures are rounded to 9 decimals: equalities hold to within this.
BAND = 1e-6
KEY = ("indicator_code", "period_type", "period", "sector", "board_id", "school_id", "ses_group")
COLUMNS = KEY + (
    "school_year",
    "numerator",
    "denominator",
    "value",
    "ci_low",
    "ci_high",
    "n",
    "suppressed",
)


@dataclass(frozen=True)
class Recovery:
    key: tuple
    low: float  # range of the value the attacker can prove
    high: float
    route: str  # which constraints pinned it ("direct" = the table shows it)


@dataclass
class AuditResult:
    cells: int = 0
    suppressed: int = 0
    recovered: list[Recovery] = field(default_factory=list)
    unknowns: int = 0
    blocks: int = 0
    lps: int = 0
    seconds: float = 0.0
    relations: tuple = RELATIONS

    @property
    def recovered_keys(self) -> set:
        return {r.key for r in self.recovered}

    def summary(self) -> str:
        return (
            f"{len(self.recovered)} of {self.suppressed} suppressed cells recovered "
            f"({self.cells} cells, {self.unknowns} unknowns in {self.blocks} blocks, "
            f"{self.lps} LPs, {self.seconds:.1f} s, relations {', '.join(self.relations)})"
        )


# --------------------------------------------------------------------------- reading
def read_published(
    con, table: str = "indicator", catalogue: str = "indicator_catalogue", where: str = ""
) -> tuple[list[dict], dict]:
    """Rows of a published table and the catalogue, as dicts (only published columns)."""
    rows = con.execute(f"SELECT {', '.join(COLUMNS)} FROM {table} {where}").fetchall()
    cat = con.execute(
        f"SELECT indicator_code, base_code, variant, value_min, value_max, kind FROM {catalogue}"
    ).fetchall()
    return (
        [dict(zip(COLUMNS, r)) for r in rows],
        {
            c[0]: {
                "base_code": c[1],
                "variant": c[2],
                "value_min": c[3],
                "value_max": c[4],
                "scale": 100.0 if c[5] == "per_100" else 1.0,
            }
            for c in cat
        },
    )


def audit_file(path: Path, table: str = "indicator", relations=RELATIONS) -> AuditResult:
    import duckdb

    con = duckdb.connect(str(path), read_only=True)
    try:
        rows, catalogue = read_published(con, table)
    finally:
        con.close()
    return audit(rows, catalogue, relations)


# --------------------------------------------------------------------------- the model
class _Model:
    """Unknowns (suppressed numerators, withheld denominators) and linear constraints
    lo <= sum(coef * x) <= hi over them."""

    def __init__(self):
        self.index: dict = {}
        self.lower: list[float] = []
        self.upper: list[float] = []
        self.constraints: list[tuple[dict, float, float, str]] = []

    def var(self, name, lo=-math.inf, hi=math.inf) -> int:
        if name not in self.index:
            self.index[name] = len(self.lower)
            self.lower.append(lo)
            self.upper.append(hi)
        return self.index[name]

    def add(self, terms: dict, lo: float, hi: float, route: str) -> None:
        terms = {k: v for k, v in terms.items() if v != 0}
        if terms:
            self.constraints.append((terms, lo, hi, route))


def _is_whole(x) -> bool:
    return x is not None and abs(x - round(x)) < 1e-9


def audit(rows: list[dict], catalogue: dict, relations=RELATIONS) -> AuditResult:
    """Everything the published `rows` give away about their suppressed cells."""
    started = time.perf_counter()
    relations = tuple(relations)
    result = AuditResult(cells=len(rows), relations=relations)
    cells = {}
    gaps = []
    for r in rows:
        info = catalogue.get(r["indicator_code"])
        if info is None:
            raise ValueError(f"indicator {r['indicator_code']!r} is not in the catalogue")
        key = tuple(r[k] for k in KEY)
        if r["suppressed"]:
            result.suppressed += 1
            if any(r[c] is not None for c in ("value", "numerator", "ci_low", "ci_high")):
                shown = r["value"] if r["value"] is not None else math.nan
                result.recovered.append(Recovery(key, shown, shown, "direct"))
        if info["variant"] == "gap":
            if not r["suppressed"] and r["value"] is not None:
                gaps.append(r)
            continue
        cells[key] = r

    m = _Model()
    whole = _whole_numerators(cells)
    # unknowns and their bounds
    num_of, den_of = {}, {}
    for key, r in cells.items():
        info = catalogue[key[0]]
        # value = scale x numerator / denominator (per_100: the numerator is the plain count)
        vmin, vmax = (
            (b / info["scale"] if b is not None else None)
            for b in (info["value_min"], info["value_max"])
        )
        den = r["denominator"]
        if r["suppressed"] or r["numerator"] is None:
            if den is not None:
                lo = vmin * den if vmin is not None else -math.inf
                hi = vmax * den if vmax is not None else math.inf
                num_of[key] = m.var(("num", key), lo - BAND, hi + BAND)
            else:
                num_of[key] = m.var(("num", key))
                den_of[key] = m.var(("den", key), 0.0)
                if vmin is not None:
                    m.add({num_of[key]: 1.0, den_of[key]: -vmin}, -BAND, math.inf, "bounds")
                if vmax is not None:
                    m.add({num_of[key]: -1.0, den_of[key]: vmax}, -BAND, math.inf, "bounds")

    def num_term(key):  # (variable terms, constant)
        if key in num_of:
            return {num_of[key]: 1.0}, 0.0
        return {}, cells[key]["numerator"]

    def den_term(key):
        if key in den_of:
            return {den_of[key]: 1.0}, 0.0
        return {}, cells[key]["denominator"] or 0.0

    def add_sum(parent, parts, route, inequality=False):
        """parent = sum(parts) for numerators and denominators (or parent >= each part)."""
        for term in (num_term, den_term):
            if inequality:
                pt, pc = term(parent)
                for p in parts:
                    t, c = term(p)
                    terms = dict(pt)
                    for k, v in t.items():
                        terms[k] = terms.get(k, 0.0) - v
                    m.add(terms, c - pc - BAND, math.inf, route)
                continue
            terms, const = defaultdict(float), 0.0
            t, c = term(parent)
            for k, v in t.items():
                terms[k] += v
            const -= c
            for p in parts:
                t, c = term(p)
                for k, v in t.items():
                    terms[k] -= v
                const += c
            tol = BAND * (1 + len(parts))
            m.add(dict(terms), const - tol, const + tol, route)

    families = defaultdict(lambda: defaultdict(list))
    for key in cells:
        code, ptype, period, sector, board, school, ses = key
        if "ses" in relations:
            families["ses"][(code, ptype, period, sector, board, school)].append(key)
        if "school" in relations and board != "ALL":
            families["school"][(code, ptype, period, sector, board, ses)].append(key)
        if "board" in relations and school == "ALL":
            families["board"][(code, ptype, period, sector, ses)].append(key)
        if "month" in relations:
            families["month"][(code, cells[key]["school_year"], sector, board, school, ses)].append(
                key
            )
    is_parent = {
        "ses": lambda k: k[6] == "ALL",
        "school": lambda k: k[5] == "ALL",
        "board": lambda k: k[4] == "ALL",
        "month": lambda k: k[1] == "school_year",
    }
    additive, monotone = _month_relations(cells, families.get("month", {}))
    for route, groups in families.items():
        for gkey, members in groups.items():
            parents = [k for k in members if is_parent[route](k)]
            parts = [k for k in members if not is_parent[route](k)]
            if len(parents) != 1 or not parts:
                continue
            if route == "month" and not additive.get(gkey[0], False):
                # not seen to add up: where no published month exceeds its school year (counts
                # of units), none does; a school year at zero holds months at zero in any case
                year = cells[parents[0]]
                if monotone.get(gkey[0], False) or (
                    year["numerator"] == 0 and catalogue[gkey[0]]["value_min"] == 0
                ):
                    add_sum(parents[0], parts, "month", inequality=True)
            else:
                add_sum(parents[0], parts, route)

    if "gap" in relations:
        for g in gaps:
            base = catalogue[g["indicator_code"]]["base_code"]
            sides = [
                cells.get((base,) + tuple(g[k] for k in KEY[1:6]) + (s,)) for s in ("laag", "hoog")
            ]
            if None in sides or any(s["denominator"] in (None, 0) for s in sides):
                continue
            terms, const = defaultdict(float), 0.0
            scale = catalogue[base]["scale"]
            for side, sign in zip(sides, (1.0, -1.0)):
                t, c = num_term(tuple(side[k] for k in KEY))
                for k, v in t.items():
                    terms[k] += sign * v * scale / side["denominator"]
                const += sign * c * scale / side["denominator"]
            m.add(dict(terms), g["value"] - const - BAND, g["value"] - const + BAND, "gap")

    if "weighted" in relations:
        for key, r in cells.items():
            info = catalogue[key[0]]
            if info["variant"] != "weighted" or key[5] == "ALL" or key[6] == "ALL":
                continue
            b = cells.get((info["base_code"],) + key[1:])
            if b is None or b["n"] != r["n"] or not r["denominator"] or not b["denominator"]:
                continue
            terms, const = defaultdict(float), 0.0
            for cell, sign in ((r, 1.0), (b, -1.0)):
                t, c = num_term(tuple(cell[k] for k in KEY))
                for k, v in t.items():
                    terms[k] += sign * v / cell["denominator"]
                const += sign * c / cell["denominator"]
            m.add(dict(terms), -const - BAND, -const + BAND, "weighted")

    # an unknown whose range is at least this wide is free: no need to pin its ends exactly
    # (two whole numbers fit in any range at least 2 wide)
    wide = [2.0] * len(m.lower)
    for key, i in num_of.items():
        wide[i] = max(2.0, PIN_WIDTH * (cells[key]["denominator"] or 1.0))
    ranges, lps, blocks = _ranges(m, wide)
    result.unknowns, result.blocks, result.lps = len(m.lower), blocks, lps
    for key, i in num_of.items():
        lo, hi = ranges[i]
        r = cells[key]
        den = r["denominator"]
        if _free(lo, hi, wide[i]):  # shown free (possibly without solving its ends exactly)
            continue
        if key in whole and math.isfinite(lo) and math.isfinite(hi):
            lo_w, hi_w = math.ceil(lo - 1e-6), math.floor(hi + 1e-6)
            pinned_num = lo_w == hi_w
        else:
            pinned_num = (
                math.isfinite(lo)
                and math.isfinite(hi)
                and hi - lo <= PIN_WIDTH * max(den or 1.0, 1.0)
            )
        if key in den_of:  # denominator withheld: pinned at 0, or numerator and denominator
            dlo, dhi = ranges[den_of[key]]
            vmin = catalogue[key[0]]["value_min"]
            if (pinned_num and dhi - dlo <= PIN_WIDTH) or (vmin == 0 and hi <= 10 * BAND):
                result.recovered.append(Recovery(key, lo, hi, _route_of(m, i)))
            continue
        if pinned_num and den:
            scale = catalogue[key[0]]["scale"]
            result.recovered.append(
                Recovery(key, scale * lo / den, scale * hi / den, _route_of(m, i))
            )
    result.seconds = time.perf_counter() - started
    return result


def _whole_numerators(cells: dict) -> set:
    """Keys whose numerator is a whole number as far as the attacker can tell: every published
    numerator of that indicator is one."""
    by_code = defaultdict(lambda: True)
    for key, r in cells.items():
        if r["numerator"] is not None and not _is_whole(r["numerator"]):
            by_code[key[0]] = False
    return {k for k in cells if by_code[k[0]]}


def _month_relations(cells: dict, month_groups: dict) -> tuple[dict, dict]:
    """Per indicator, what the published, fully visible school years show: (do they equal the
    sum of their months, does no month exceed its school year). True when at least one
    instance shows it and none contradicts: what an attacker can see and would assume."""
    additive: dict = {}
    monotone: dict = {}
    for gkey, members in month_groups.items():
        year = [k for k in members if k[1] == "school_year"]
        months = [k for k in members if k[1] == "month"]
        if len(year) != 1 or len(months) < 2:  # one month adds up trivially: no evidence
            continue
        rows = [cells[k] for k in year + months]
        if any(r["numerator"] is None or r["denominator"] is None for r in rows):
            continue
        y, ms = rows[0], rows[1:]
        tol = 1e-6 * (1 + len(rows))
        adds = all(abs(y[c] - sum(r[c] for r in ms)) <= tol for c in ("numerator", "denominator"))
        below = all(r[c] <= y[c] + tol for r in ms for c in ("numerator", "denominator"))
        additive[gkey[0]] = additive.get(gkey[0], True) and adds
        monotone[gkey[0]] = monotone.get(gkey[0], True) and below
    return additive, monotone


def _route_of(m: _Model, i: int) -> str:
    routes = sorted({route for terms, _, _, route in m.constraints if i in terms})
    return "+".join(routes) or "bounds"


# --------------------------------------------------------------------------- solving
def _blocks(m: _Model) -> list[tuple[list[int], list[int]]]:
    """Connected blocks: (variables, constraint indices)."""
    parent = list(range(len(m.lower)))

    def find(x):
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for terms, *_ in m.constraints:
        vs = list(terms)
        for v in vs[1:]:
            a, b = find(vs[0]), find(v)
            if a != b:
                parent[a] = b
    vars_of, cons_of = defaultdict(list), defaultdict(list)
    for v in range(len(m.lower)):
        vars_of[find(v)].append(v)
    for ci, (terms, *_) in enumerate(m.constraints):
        cons_of[find(next(iter(terms)))].append(ci)
    return [(vars_of[r], cons_of[r]) for r in vars_of]


def _free(lo: float, hi: float, wide: float) -> bool:
    """Two feasible values this far apart leave the attacker in doubt: at least `wide`, or
    two different whole numbers (LP vertices of sums usually are)."""
    if hi - lo >= wide:
        return True
    return (
        wide <= 2.0
        and hi - lo >= 1 - 1e-6
        and abs(lo - round(lo)) < 1e-6
        and abs(hi - round(hi)) < 1e-6
    )


def _matrix(m: _Model, cis: list[int], local: dict):
    """lo <= a x <= hi as A_ub x <= b_ub over the variables in `local`."""
    from scipy.sparse import csr_matrix

    data, ri, cj, b = [], [], [], []
    row = 0
    for ci in cis:
        terms, lo, hi, _ = m.constraints[ci]
        for sign, bound in ((1.0, hi), (-1.0, -lo)):
            if not math.isfinite(bound):
                continue
            for v, coef in terms.items():
                data.append(sign * coef)
                ri.append(row)
                cj.append(local[v])
            b.append(bound)
            row += 1
    return csr_matrix((data, (ri, cj)), shape=(row, len(local))), np.array(b)


class _LP:
    def __init__(self, m: _Model, vs: list[int], cis: list[int]):
        self.local = {v: j for j, v in enumerate(vs)}
        self.a, self.b = _matrix(m, cis, self.local)
        self.bounds = [
            (
                m.lower[v] if math.isfinite(m.lower[v]) else None,
                m.upper[v] if math.isfinite(m.upper[v]) else None,
            )
            for v in vs
        ]
        self.routes = sorted({m.constraints[ci][3] for ci in cis})
        self.count = 0

    def solve(self, c):
        """(optimal x or None when unbounded, unbounded?)"""
        from scipy.optimize import linprog

        self.count += 1
        res = linprog(
            c,
            A_ub=self.a if self.a.shape[0] else None,
            b_ub=self.b if self.a.shape[0] else None,
            bounds=self.bounds,
            method="highs",
        )
        if res.status == 3:
            return None, True
        if res.status != 0:
            raise RuntimeError(
                f"audit LP failed ({res.message}); constraints of the routes "
                f"{', '.join(self.routes)} contradict each other"
            )
        return res.x, False


def _ranges(m: _Model, wide: list[float]) -> tuple[dict, int, int]:
    """Exact [min, max] of every unknown that could be pinned, under all constraints.

    First all blocks together: one feasible point and a few random directions prove most
    unknowns free in a handful of LPs; only the rest get their own min and max LP, in their
    own block."""
    n = len(m.lower)
    if n == 0:
        return {}, 0, 0
    blocks = _blocks(m)
    whole = _LP(m, list(range(n)), list(range(len(m.constraints))))
    lo = np.full(n, np.inf)
    hi = np.full(n, -np.inf)

    def absorb(x, idx=None):
        if idx is None:
            np.minimum(lo, x, out=lo)
            np.maximum(hi, x, out=hi)
        else:
            np.minimum.at(lo, idx, x)
            np.maximum.at(hi, idx, x)

    x0, _ = whole.solve(np.zeros(n))
    absorb(x0)
    rng = np.random.default_rng(0)
    for _ in range(4):
        c = rng.standard_normal(n)
        for sign in (1.0, -1.0):
            x, unbounded = whole.solve(sign * c)
            if x is not None:
                absorb(x)
            else:  # unbounded somewhere: fall back to coordinate LPs below
                break
    width = np.array(wide)
    lps = whole.count
    for vs, cis in blocks:
        open_ = [v for v in vs if not _free(lo[v], hi[v], width[v])]
        if not open_:
            continue
        lp = _LP(m, vs, cis)
        idx = np.array(vs)
        for v in open_:
            j = lp.local[v]
            for side in (-1.0, 1.0):  # maximise, then minimise
                if _free(lo[v], hi[v], width[v]):
                    break
                c = np.zeros(len(vs))
                c[j] = side
                x, unbounded = lp.solve(c)
                if unbounded:
                    if side < 0:
                        hi[v] = np.inf
                    else:
                        lo[v] = -np.inf
                    continue
                absorb(x, idx)
        lps += lp.count
    return {v: (float(lo[v]), float(hi[v])) for v in range(n)}, lps, len(blocks)


def main(argv=None) -> int:
    import argparse

    from ouderpeil.config import Settings

    p = argparse.ArgumentParser(
        description="Aanval op een gepubliceerd serving-bestand: kan een afgeschermde waarde "
        "worden teruggerekend? (docs/DISCLOSURE.md)"
    )
    p.add_argument(
        "path",
        type=Path,
        nargs="?",
        help="serving-bestand (standaard: het gepubliceerde, OUDERPEIL_SERVING of "
        "data/serving/ouderpeil.duckdb)",
    )
    p.add_argument("--table", default="indicator", help="tabel (standaard: indicator)")
    args = p.parse_args(argv)
    res = audit_file(args.path or Settings.from_env().serving_path, args.table)
    print(res.summary())
    for r in res.recovered[:50]:
        print("  recovered", r.key, f"[{r.low:.6g}, {r.high:.6g}]", r.route)
    return 1 if res.recovered else 0


if __name__ == "__main__":
    raise SystemExit(main())
