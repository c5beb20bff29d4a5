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
    result = run_dbt(
        settings,
        command=args.command,
        select=args.select,
        vars=vars_,
        full_refresh=args.full_refresh,
    )
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

    out = export(
        settings,
        period=args.period,
        sector=args.sector,
        board=args.board,
        fmt=args.format,
        out=Path(args.out) if args.out else None,
    )
    print(out)


def cmd_retention(args, settings: Settings) -> None:
    from ouderpeil.retention import purge_and_rebuild

    print(
        json.dumps(
            purge_and_rebuild(settings, keep_school_years=args.keep_school_years),
            indent=2,
            default=str,
        )
    )


def cmd_run(args, settings: Settings) -> None:
    """The whole chain without Airflow, in one process: load, gate, build, gate, publish."""
    from ouderpeil.pipeline import run_chain

    serving, seconds = run_chain(settings, args.run_id or _run_id("run"))
    print(f"published {serving}; seconds per step: {seconds}")


def cmd_airflow(args, settings: Settings) -> int:
    """The venv's airflow with the demo's Airflow home and settings (docs/DATA_ENGINEERS.md)."""
    from ouderpeil.orchestration.commands import run_airflow_cli

    return run_airflow_cli(settings, args.airflow_args)


def _finished(result: dict) -> int:
    return 0 if result.get("state") in ("success", "queued", None) else 1


def cmd_trigger(args, settings: Settings) -> int:
    from ouderpeil.orchestration.commands import parse_conf, trigger

    return _finished(trigger(settings, args.dag_id, parse_conf(args.conf), wait=not args.no_wait))


def cmd_backfill(args, settings: Settings) -> int:
    from ouderpeil.orchestration.commands import backfill

    return _finished(backfill(settings, args.period, wait=not args.no_wait, local=args.local))


def cmd_rerun(args, settings: Settings) -> int:
    from ouderpeil.orchestration.commands import rerun_failed

    return _finished(rerun_failed(settings, args.dag_id, args.run_id, wait=not args.no_wait))


def cmd_clear_task(args, settings: Settings) -> int:
    from ouderpeil.orchestration.commands import clear_task

    return _finished(
        clear_task(
            settings,
            args.dag_id,
            args.task,
            args.run_id,
            downstream=not args.only_this,
            wait=not args.no_wait,
        )
    )


def _add_airflow_commands(sub) -> None:
    """Commands against the demo's running Airflow (ouderpeil.orchestration.commands)."""
    no_wait = {
        "action": "store_true",
        "help": "terugkeren zodra de run in de wachtrij staat, niet wachten",
    }
    a = sub.add_parser(
        "airflow",
        help="de `airflow`-CLI van de venv met de AIRFLOW_HOME en "
        "instellingen van de demo, bijv. `ouderpeil airflow dags list`",
        description="Draait de airflow-CLI van de venv met de AIRFLOW_HOME, poorten en "
        "OUDERPEIL_*-instellingen van de demo (docs/DATA_ENGINEERS.md).",
    )
    a.add_argument(
        "airflow_args",
        nargs=argparse.REMAINDER,
        help="argumenten die ongewijzigd naar airflow gaan",
    )
    a.set_defaults(func=cmd_airflow)

    t = sub.add_parser(
        "trigger",
        help="een DAG-run starten op de draaiende Airflow en erop wachten",
        description="Start een DAG-run op de draaiende Airflow van de demo, wacht tot hij "
        "klaar is en meldt de uitkomst; bij een mislukte run de samenvatting uit failures.log.",
    )
    t.add_argument("dag_id", help="bijv. ouderpeil_ingest, ouderpeil_export")
    t.add_argument(
        "--conf",
        help="parameters van de run als JSON-object, bijv. "
        '\'{"period": "2025-2026", "format": "xlsx"}\'',
    )
    t.add_argument("--no-wait", **no_wait)
    t.set_defaults(func=cmd_trigger)

    bf = sub.add_parser(
        "backfill",
        help="een schooljaar opnieuw opbouwen (de build-DAG met een periode)",
        description="Bouwt een schooljaar opnieuw op met de build-DAG, zonder andere "
        "schooljaren te raken.",
    )
    bf.add_argument("--period", required=True, help="schooljaar, bijv. 2024-2025")
    bf.add_argument(
        "--local",
        action="store_true",
        help="zonder draaiende Airflow: de DAG hier eenmaal draaien met `airflow dags test`",
    )
    bf.add_argument("--no-wait", **no_wait)
    bf.set_defaults(func=cmd_backfill)

    rr = sub.add_parser(
        "rerun",
        help="de mislukte taken van een mislukte DAG-run opnieuw draaien",
        description="Zet de mislukte taken van een mislukte DAG-run opnieuw in en wacht erop.",
    )
    rr.add_argument("dag_id", help="bijv. ouderpeil_build")
    rr.add_argument("--run-id", help="die run (standaard: de nieuwste mislukte run)")
    rr.add_argument("--no-wait", **no_wait)
    rr.set_defaults(func=cmd_rerun)

    ct = sub.add_parser(
        "clear-task",
        help="een taak van een DAG-run wissen zodat hij opnieuw draait",
        description="Wist een taak (en standaard de taken erna) van een DAG-run, zodat de "
        "scheduler hem opnieuw draait.",
    )
    ct.add_argument("dag_id", help="bijv. ouderpeil_build")
    ct.add_argument("task", help="taak-id, bijv. gate_marts of dbt.fct_indicator_model_build")
    ct.add_argument("--run-id", help="die run (standaard: de nieuwste run)")
    ct.add_argument(
        "--only-this", action="store_true", help="alleen deze taak wissen, niet de taken erna"
    )
    ct.add_argument("--no-wait", **no_wait)
    ct.set_defaults(func=cmd_clear_task)


def build_parser() -> argparse.ArgumentParser:
    # Help texts are Dutch: inspectors and board staff run `ouderpeil export` themselves.
    # docs/CLI.md is generated from this parser (python -m ouderpeil.cli_reference).
    p = argparse.ArgumentParser(
        prog="ouderpeil",
        description="Elke stap van de Ouderpeil-pijplijn vanaf de commandoregel: dezelfde "
        "functies die de Airflow-DAG's aanroepen.",
    )
    sub = p.add_subparsers(dest="cmd", required=True, metavar="<opdracht>")

    g = sub.add_parser(
        "generate",
        help="voorbeeldbestanden in de inbox schrijven",
        description="Schrijft voorbeeldbestanden (deterministisch) in de inbox.",
    )
    g.add_argument(
        "--scale",
        choices=["small", "demo", "board", "region"],
        default="small",
        help="omvang: small (3 scholen), demo (3 besturen, 12 scholen), board (een "
        "bestuur), region (een regio); "
        "standaard: small",
    )
    g.add_argument(
        "--seed",
        type=int,
        default=1,
        help="startwaarde van de generator: zelfde seed, zelfde bytes (standaard: 1)",
    )
    g.add_argument("--out", help="inboxmap (standaard: de ingestelde inbox)")
    g.set_defaults(func=cmd_generate)

    lo = sub.add_parser(
        "load",
        help="nieuwe inboxbestanden in het warehouse laden",
        description="Laadt nieuwe inboxbestanden (herkend aan hun inhoudshash) "
        "in het warehouse; afgekeurde rijen gaan naar raw_rejects.",
    )
    lo.add_argument(
        "--source",
        action="append",
        help="alleen deze bron, bijv. contact_logs (herhaalbaar; standaard: alle)",
    )
    lo.set_defaults(func=cmd_load)

    b = sub.add_parser(
        "build",
        help="dbt op het warehouse draaien",
        description="Draait dbt op het warehouse. Zonder opties: `dbt build` van "
        "de schooljaren die nieuwe ladingen raken, zoals de build-DAG "
        "(ouderpeil/build_plan.py).",
    )
    b.add_argument(
        "command",
        nargs="?",
        default="build",
        help="dbt-opdracht, bijv. build, run, test, parse of 'docs generate' (standaard: build)",
    )
    b.add_argument("--select", help="dbt-selectie, bijv. 'fct_indicator+' (standaard: alles)")
    b.add_argument("--vars", help='dbt-vars als JSON, bijv. \'{"school_year": "2024-2025"}\'')
    b.add_argument(
        "--full-refresh",
        action="store_true",
        help="incrementele modellen helemaal opnieuw opbouwen (build, run, seed)",
    )
    b.set_defaults(func=cmd_build)

    v = sub.add_parser(
        "validate",
        help="de kwaliteitspoort (Great Expectations) draaien",
        description="Draait de kwaliteitspoort; faalt met de naam van de "
        "verwachting die niet klopt.",
    )
    v.add_argument(
        "--layer",
        choices=["raw", "marts"],
        default="marts",
        help="laag: raw (geladen bronnen) of marts (indicatoren); standaard: marts",
    )
    v.add_argument("--run-id", help="run-id voor de resultaten (standaard: een nieuwe cli-…)")
    v.add_argument(
        "--full",
        action="store_true",
        help="elke rij valideren: raw, niet alleen ladingen die nog geen poort "
        "passeerden; marts, niet alleen rijen die de laatste geslaagde poort "
        "nog niet zag",
    )
    v.set_defaults(func=cmd_validate)

    pb = sub.add_parser(
        "publish",
        help="een nieuw serving-bestand voor Superset en exports plaatsen",
        description="Bouwt het serving-bestand en zet het atomair op zijn plaats.",
    )
    pb.add_argument("--run-id", help="run-id in publish_run (standaard: een nieuwe cli-…)")
    pb.set_defaults(func=cmd_publish)

    e = sub.add_parser(
        "export",
        help="indicatorexport voor inspecteurs",
        description="Export van de gepubliceerde (onderdrukte) indicatoren van een "
        "schooljaar, met catalogus, datapackage.json en manifest.json.",
    )
    e.add_argument("--period", required=True, help="schooljaar, bijv. 2025-2026")
    e.add_argument(
        "--sector", choices=["po", "vo", "mbo"], help="alleen deze sector (standaard: alle)"
    )
    e.add_argument(
        "--board", help="alleen dit bestuur (bestuursnummer, bijv. 41037; standaard: alle)"
    )
    e.add_argument(
        "--format",
        choices=["csv", "parquet", "xlsx"],
        default="csv",
        help="bestandsformaat (standaard: csv)",
    )
    e.add_argument("--out", help="uitvoermap (standaard: data/exports/<run-id>/<naam>-<formaat>)")
    e.set_defaults(func=cmd_export)

    r = sub.add_parser(
        "retention",
        help="persoonsgegevens ouder dan de bewaartermijn wissen",
        description="Wist ruwe rijen op persoonsniveau van oudere schooljaren en "
        "bouwt dbt opnieuw op; de geaggregeerde cijfers blijven.",
    )
    r.add_argument(
        "--keep-school-years",
        type=int,
        help="aantal schooljaren dat blijft (standaard: "
        "OUDERPEIL_RETENTION_SCHOOL_YEARS, anders 2)",
    )
    r.set_defaults(func=cmd_retention)

    rn = sub.add_parser(
        "run",
        help="laden, bouwen, poorten en publiceren zonder Airflow",
        description="De hele keten in een proces: laden, raw-poort, dbt build, "
        "marts-poort, publiceren.",
    )
    rn.add_argument("--run-id", help="run-id van deze keten (standaard: een nieuwe run-…)")
    rn.set_defaults(func=cmd_run)
    _add_airflow_commands(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    settings = Settings.from_env()
    settings.ensure_dirs()
    try:
        code = args.func(args, settings)
    except OuderpeilError as exc:
        print(f"ouderpeil: {exc}", file=sys.stderr)
        return 2
    return code if isinstance(code, int) else 0


if __name__ == "__main__":
    sys.exit(main())
