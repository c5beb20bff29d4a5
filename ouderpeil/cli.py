"""`ouderpeil <command>`: every pipeline step from the shell, the same functions the DAGs call."""
from __future__ import annotations

import argparse
import json
import sys
import uuid
from pathlib import Path

from ouderpeil.config import Settings
from ouderpeil.errors import OuderpeilError


def _run_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def cmd_generate(args, settings: Settings) -> None:
    from ouderpeil.generate import generate

    out = Path(args.out) if args.out else settings.inbox_dir
    summary = generate(out, scale=args.scale, seed=args.seed)
    print(json.dumps(summary, indent=2, default=str))


def cmd_load(args, settings: Settings) -> None:
    from ouderpeil.loading import load_inbox

    report = load_inbox(settings, sources=args.source or None)
    print(report.to_text() if hasattr(report, "to_text") else report)


def cmd_build(args, settings: Settings) -> None:
    from ouderpeil.transform import build, run_dbt

    if args.command == "build" and not (args.select or args.vars or args.full_refresh):
        print(build(settings))  # as the build DAG: the school years new loads touch
        return
    vars_ = json.loads(args.vars) if args.vars else None
    result = run_dbt(settings, command=args.command, select=args.select, vars=vars_,
                     full_refresh=args.full_refresh)
    print(result)


def cmd_validate(args, settings: Settings) -> None:
    from ouderpeil.quality import gate

    gate(settings, layer=args.layer, run_id=args.run_id or _run_id("cli"), full=args.full)
    print(f"quality gate passed for layer {args.layer}")


def cmd_publish(args, settings: Settings) -> None:
    from ouderpeil.publish import publish

    print(publish(settings, run_id=args.run_id or _run_id("cli")))


def cmd_export(args, settings: Settings) -> None:
    from ouderpeil.export import export

    out = export(settings, period=args.period, sector=args.sector, board=args.board,
                 fmt=args.format, out=Path(args.out) if args.out else None)
    print(out)


def cmd_retention(args, settings: Settings) -> None:
    from ouderpeil.retention import purge_and_rebuild

    print(json.dumps(purge_and_rebuild(settings, keep_school_years=args.keep_school_years), indent=2,
                     default=str))


def cmd_run(args, settings: Settings) -> None:
    """The whole chain without Airflow, in one process: load, gate, build, gate, publish."""
    from ouderpeil.pipeline import run_chain

    serving, seconds = run_chain(settings, args.run_id or _run_id("run"))
    print(f"published {serving}; seconds per step: {seconds}")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="ouderpeil", description=__doc__)
    sub = p.add_subparsers(dest="cmd", required=True)

    g = sub.add_parser("generate", help="write sample inbox files")
    g.add_argument("--scale", choices=["small", "demo", "board", "region"], default="small")
    g.add_argument("--seed", type=int, default=1)
    g.add_argument("--out", help="inbox folder (default: the configured inbox)")
    g.set_defaults(func=cmd_generate)

    lo = sub.add_parser("load", help="load new inbox files into the warehouse")
    lo.add_argument("--source", action="append", help="only this source (repeatable)")
    lo.set_defaults(func=cmd_load)

    b = sub.add_parser("build", help="run dbt against the warehouse (plain `build`: the school "
                                     "years new loads touch, see ouderpeil/build_plan.py)")
    b.add_argument("command", nargs="?", default="build", help="dbt command (default: build)")
    b.add_argument("--select")
    b.add_argument("--vars", help="dbt vars as JSON")
    b.add_argument("--full-refresh", action="store_true")
    b.set_defaults(func=cmd_build)

    v = sub.add_parser("validate", help="run the Great Expectations gate")
    v.add_argument("--layer", choices=["raw", "marts"], default="marts")
    v.add_argument("--run-id")
    v.add_argument("--full", action="store_true",
                   help="raw: validate every row, not only loads no earlier gate passed")
    v.set_defaults(func=cmd_validate)

    pb = sub.add_parser("publish", help="swap in a new serving file for Superset and exports")
    pb.add_argument("--run-id")
    pb.set_defaults(func=cmd_publish)

    e = sub.add_parser("export", help="indicator export for inspectors")
    e.add_argument("--period", required=True, help="school year, e.g. 2025-2026")
    e.add_argument("--sector", choices=["po", "vo", "mbo"])
    e.add_argument("--board")
    e.add_argument("--format", choices=["csv", "parquet", "xlsx"], default="csv")
    e.add_argument("--out")
    e.set_defaults(func=cmd_export)

    r = sub.add_parser("retention", help="delete raw person-level rows past the retention")
    r.add_argument("--keep-school-years", type=int)
    r.set_defaults(func=cmd_retention)

    rn = sub.add_parser("run", help="load, build, gate and publish without Airflow")
    rn.add_argument("--run-id")
    rn.set_defaults(func=cmd_run)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    settings = Settings.from_env()
    settings.ensure_dirs()
    try:
        args.func(args, settings)
    except OuderpeilError as exc:
        print(f"ouderpeil: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
