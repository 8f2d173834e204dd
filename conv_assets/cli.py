"""The `conv-assets` command: generate demo data, run the pipeline in-process, show a summary."""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from datetime import date
from pathlib import Path

DEMO = {"days": 120, "users": 4000, "events_per_day": 8_000, "seed": 7}


class CliError(Exception):
    """A problem the user can fix; printed as one line, exit status 2."""


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="conv-assets", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)

    g = sub.add_parser("generate", help="write synthetic landed files (canonical CSV, one per day)")
    g.add_argument("out_dir")
    g.add_argument("--days", type=int, default=DEMO["days"])
    g.add_argument("--users", type=int, default=DEMO["users"])
    g.add_argument("--events-per-day", type=int, default=DEMO["events_per_day"])
    g.add_argument("--seed", type=int, default=DEMO["seed"])
    g.add_argument("--start-date", help="first day (YYYY-MM-DD); default: DAYS days before today")
    g.add_argument("--no-marketing", action="store_true",
                   help="leave out channels, devices, countries, checkout steps and marketing_spend.csv")

    f = sub.add_parser("forget", help="erase users from every table, rebuild, compact the file")
    f.add_argument("user_ids", nargs="*", help="user ids as in the landed files")
    f.add_argument("--file", help="a file of user ids, one per line (e.g. erasure requests)")
    f.add_argument("--warehouse", help="DuckDB file (env CONV_WAREHOUSE)")

    for name, text in (("run", "materialize the assets for every day in the landing directory"),
                       ("demo", "generate demo data if the landing directory is empty, then run")):
        r = sub.add_parser(name, help=text)
        r.add_argument("--landing", help="landing directory (env CONV_LANDING_DIR)")
        src = r.add_mutually_exclusive_group()
        src.add_argument("--source", help="built-in source adapter (env CONV_SOURCE)")
        src.add_argument("--mapping", help="YAML mapping file (env CONV_MAPPING)")
        r.add_argument("--warehouse", help="DuckDB file (env CONV_WAREHOUSE)")
        r.add_argument("--select", help="Dagster asset selection, e.g. 'key:clean/events+'")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "generate":
            return _generate(args)
        if args.command == "forget":
            return _forget(args)
        _apply_env(args)
        if args.command == "demo":
            _demo_data()
        return _run(args.select, demo=args.command == "demo")
    except CliError as exc:
        print(f"conv-assets: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("conv-assets: interrupted", file=sys.stderr)
        return 130


def _generate(args: argparse.Namespace) -> int:
    from conv_assets.generate import generate

    try:
        start = date.fromisoformat(args.start_date) if args.start_date else None
        paths = generate(args.out_dir, args.days, args.users, args.events_per_day, args.seed, start,
                         marketing=not args.no_marketing)
    except (ValueError, OSError) as exc:
        raise CliError(str(exc)) from None
    print(f"wrote {len(paths)} files to {args.out_dir}")
    return 0


def _forget(args: argparse.Namespace) -> int:
    from conv_assets.forget import forget
    from conv_assets.pipeline import PipelineError
    from conv_assets.resources import WarehouseError
    from conv_assets.settings import load_settings

    if args.warehouse:
        os.environ["CONV_WAREHOUSE"] = args.warehouse
    ids = list(args.user_ids)
    if args.file:
        try:
            lines = Path(args.file).read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise CliError(f"cannot read {args.file}: {exc.strerror}") from None
        ids += [ln.strip() for ln in lines if ln.strip() and not ln.lstrip().startswith("#")]
    if not ids:
        raise CliError("give user ids or --file")
    settings = load_settings()
    if not settings.lake and not Path(settings.warehouse).exists():
        raise CliError(f"warehouse {settings.warehouse} does not exist")
    warnings.filterwarnings("ignore")
    try:
        outcome = forget(settings, ids)
    except (PipelineError, WarehouseError) as exc:
        raise CliError(str(exc)) from None
    total = sum(outcome.rows_deleted.values())
    print(f"erased {outcome.users} user(s): {total:,} rows deleted from "
          f"{sum(1 for n in outcome.rows_deleted.values() if n)} tables; derived tables rebuilt; "
          f"storage compacted {outcome.bytes_before:,} -> {outcome.bytes_after:,} bytes")
    return 0


def _apply_env(args: argparse.Namespace) -> None:
    """Flags become the environment the Dagster definitions read, so both see the same setup."""
    for flag, var in (("landing", "CONV_LANDING_DIR"), ("source", "CONV_SOURCE"),
                      ("mapping", "CONV_MAPPING"), ("warehouse", "CONV_WAREHOUSE")):
        value = getattr(args, flag)
        if value:
            os.environ[var] = value
    if args.source:
        os.environ.pop("CONV_MAPPING", None)
    if args.mapping:
        os.environ.pop("CONV_SOURCE", None)


def _demo_data() -> None:
    from conv_assets.generate import generate
    from conv_assets.settings import load_settings
    from conv_assets.sources import list_landed_files

    s = load_settings()
    if not list_landed_files(s.landing_dir):
        print(f"generating demo data into {s.landing_dir} ...", flush=True)
        generate(s.landing_dir, DEMO["days"], DEMO["users"], DEMO["events_per_day"], DEMO["seed"],
                 marketing=True)
        os.environ["CONV_SOURCE"] = "canonical"
        os.environ.pop("CONV_MAPPING", None)


def _run(select: str | None, demo: bool = False) -> int:
    warnings.filterwarnings("ignore")
    try:
        from conv_assets.settings import load_settings

        settings = load_settings()
    except ValueError as exc:
        raise CliError(str(exc)) from None
    from conv_assets.pipeline import PipelineError, run_pipeline

    try:
        summary = run_pipeline(settings, select)
    except PipelineError as exc:
        raise CliError(str(exc)) from None
    print(summary)
    if demo:
        from conv_assets.demo import summary as demo_summary

        print(demo_summary(settings.warehouse, settings.landing_dir, summary.metadata))
    return 0


if __name__ == "__main__":
    sys.exit(main())
