"""Command line: ``python -m reprobook {run,build,list,estimate,assets}``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from reprobook.run import (
    MAX_JOBS,
    PROFILES,
    ChaptersStopped,
    RunError,
    available_chapters,
    chapter_state,
    load_profiles,
    run_chapters,
)

EPILOG = """examples:
  python -m reprobook run                         every chapter, book profile
  python -m reprobook run ficsum --profile smoke  one chapter, CI-sized
  python -m reprobook run ficsum -p seeds='[1, 2, 3]' --force
  python -m reprobook build                       render _build/html from the executed chapters
  python -m reprobook build ficsum                a preview of one chapter, in _build/preview
  python -m reprobook list                        chapters, profiles, last run (stale or not), claims
  python -m reprobook estimate meal --profile paper   project the paper profile's wall, CPU and GPU hours
"""


def _parse_override(text: str) -> tuple[str, Any]:
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"parameter overrides look like NAME=VALUE, got {text!r}")
    name, raw = text.split("=", 1)
    try:
        value = yaml.safe_load(raw)
    except yaml.YAMLError as error:
        raise argparse.ArgumentTypeError(f"cannot read the value of {name!r}: {error}") from None
    return name.strip(), value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m reprobook", description="Run and build the reproducible research book.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="execute chapter notebooks with a profile",
                              description="Execute chapters through papermill into book/chapters/. "
                              "Chapters whose code, parameters and library are unchanged are skipped.")
    run.add_argument("slugs", nargs="*", metavar="SLUG", help="chapters to run (default: all present)")
    run.add_argument("--profile", default="book", help=f"one of {', '.join(PROFILES)} (default: book)")
    run.add_argument("--force", action="store_true", help="run even when the output is up to date")
    run.add_argument("--jobs", type=int, default=1,
                     help=f"chapters to run at the same time, 1 to {MAX_JOBS} (default: 1)")
    run.add_argument("-p", "--param", action="append", type=_parse_override, default=[], metavar="NAME=VALUE",
                     help="override a parameter of one chapter (value read as YAML); repeatable")
    run.add_argument("--timeout", type=float, default=None,
                     help="wall-clock limit per chapter in seconds, > 0 (default: 300 smoke, 1800 book, 7 days paper)")

    build = commands.add_parser(
        "build", help="build _build/html from the executed chapters (or a preview of some)",
        description="Build the book from the executed chapters; every chapter must have run. With chapter "
        "names, build a preview of just those into _build/preview, the others listed as not run yet.")
    build.add_argument("slugs", nargs="*", metavar="SLUG", help="build a preview of these chapters only")
    build.add_argument("--no-strict", action="store_true", help="do not treat Sphinx warnings as errors")

    estimate = commands.add_parser(
        "estimate", help="project a profile's wall time, CPU-hours and GPU-hours from a bounded slice",
        description="Run a bounded slice of a chapter's profile (the chapter's probe), measure its throughput "
        "on this machine and print the projected wall time, CPU-hours and GPU-hours of the whole profile.")
    estimate.add_argument("slug", metavar="CHAPTER", help="the chapter to estimate")
    estimate.add_argument("--profile", default="paper", help=f"one of {', '.join(PROFILES)} (default: paper)")
    estimate.add_argument("--seconds", type=float, default=60.0,
                          help="how long the slice may run, in (0, 3600] seconds (default: 60)")
    estimate.add_argument("-p", "--param", action="append", type=_parse_override, default=[], metavar="NAME=VALUE",
                          help="override a parameter (value read as YAML), e.g. device=cuda; repeatable")
    estimate.add_argument("--json", action="store_true", help="print the estimate as JSON")
    agreement = commands.add_parser(
        "bench-compare", help="compare two benchmark runs' ratios (do they agree within their intervals?)",
        description="Pair every ratio of two folders of benchmark records (bench/records of two runs) and say "
        "whether each pair's 95 % intervals overlap.")
    agreement.add_argument("before", type=Path, metavar="BEFORE", help="folder of the earlier run's records")
    agreement.add_argument("after", type=Path, metavar="AFTER", help="folder of the later run's records")
    commands.add_parser("list", help="chapters, their profiles, last run and claims status")
    commands.add_parser("assets", help="copy plotly.js and MathJax into book/_assets")
    return parser


def _claims_summary(slug: str, root) -> str:
    from reprobook.claims import read_ledger

    path = root / "book" / "chapters" / f"{slug}.claims.json"
    if not path.exists():
        return "no ledger"
    try:
        ledger = read_ledger(path)
    except Exception as error:  # a broken ledger is reported, not fatal to the listing
        return f"unreadable ledger ({error})"
    counts: dict[str, int] = {}
    for row in ledger.get("claims", []):
        counts[row.get("verdict", "?")] = counts.get(row.get("verdict", "?"), 0) + 1
    return ", ".join(f"{count} {verdict}" for verdict, count in counts.items()) or "no claims"


def _list() -> int:
    from reprobook.project import CHAPTERS, project_root

    root = project_root()
    present = available_chapters(root)
    profiles = load_profiles(root)
    catalogue = [chapter.slug for chapter in CHAPTERS]
    rows = []
    for slug in [*catalogue, *(slug for slug in present if slug not in catalogue)]:
        has = slug in present
        state = chapter_state(slug, root) if has else None
        claims = ""
        if state is not None and state.has_good_run:
            claims = _claims_summary(slug, root) + (" (stale)" if state.status in ("stale", "failed") else "")
        rows.append((
            slug,
            "yes" if has else "not yet written",
            ",".join(["book", *sorted(p for p in profiles.get(slug, {}) if p != "book")]) if has else "",
            state.describe() if state is not None else "",
            claims,
        ))
    header = ("chapter", "source", "profiles", "last run", "claims")
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
    return 0


def _estimate(args: argparse.Namespace) -> int:
    import json
    from dataclasses import asdict

    from reprobook.estimate import MAX_PROBE_SECONDS, format_projection, profile_estimate, write_estimate
    from reprobook.project import project_root

    root = project_root()
    if args.slug not in available_chapters(root):
        raise RunError(f"unknown chapter {args.slug!r}; chapters: {', '.join(available_chapters(root))}")
    if not 0 < args.seconds <= MAX_PROBE_SECONDS:
        raise RunError(f"--seconds must be in (0, {MAX_PROBE_SECONDS:g}], got {args.seconds:g}")
    try:
        projection = profile_estimate(args.slug, args.profile, args.seconds, dict(args.param), root)
    except NotImplementedError as error:
        raise RunError(str(error)) from None
    path = write_estimate(args.slug, args.profile, projection, root / "bench" / "records" / "estimates")
    if args.json:
        print(json.dumps({**{k: v for k, v in asdict(projection).items() if k != "probe"},
                          "probe": asdict(projection.probe)}, indent=1))
    else:
        print(format_projection(projection, args.profile))
        print(f"(written to {path.relative_to(root)})")
    return 0


def _bench_compare(before: Path, after: Path) -> int:
    import pandas as pd

    from reprobook.benchmark import compare_records, read_records

    for folder in (before, after):
        if not folder.is_dir():
            raise RunError(f"no folder of benchmark records at {folder}")
    tolerance = 0.1
    rows = compare_records(read_records(before), read_records(after), tolerance=tolerance)
    if not rows:
        print("no ratios recorded in either folder")
        return 0

    def shown(value, interval) -> str:
        if value is None:
            return "—"
        low, high = interval
        return f"{value:.3g}" + ("" if low is None or high is None else f" [{low:.3g}, {high:.3g}]")

    table = pd.DataFrame([{"chapter": row["chapter"], "hot path": row["hot path"], "candidate": row["candidate"],
                           "before": shown(row["before"], row["before interval"]),
                           "after": shown(row["after"], row["after interval"]),
                           "intervals overlap": {True: "yes", False: "NO", None: "—"}[row["agree"]],
                           f"within {tolerance:.0%}": {True: "yes", False: "NO", None: "—"}[row["close"]]}
                          for row in rows])
    with pd.option_context("display.max_colwidth", 40, "display.width", 200):
        print(table.to_string(index=False))
    paired = [row for row in rows if row["agree"] is not None]
    agreeing = sum(row["agree"] for row in paired)
    close = sum(row["close"] for row in paired)
    print(f"{agreeing} of {len(paired)} ratios measured in both runs agree within their 95 % intervals; "
          f"{close} of {len(paired)} are within {tolerance:.0%} of each other"
          + (f"; {len(rows) - len(paired)} in one run only" if len(rows) > len(paired) else ""))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "run":
            try:
                results = run_chapters(args.slugs, args.profile, force=args.force, jobs=args.jobs,
                                       overrides=dict(args.param), timeout=args.timeout)
            except ChaptersStopped as stopped:
                print(f"{stopped}; every process they started has ended, and the last good outputs are in place",
                      file=sys.stderr)
                return 128 + stopped.signal_number
            failed = [result for result in results if result.status == "failed"]
            if failed:
                print(f"{len(failed)} chapter(s) failed: {', '.join(r.slug for r in failed)}", file=sys.stderr)
                return 1
            return 0
        if args.command == "build":
            from reprobook.build import build_book

            html = build_book(strict=not args.no_strict, slugs=args.slugs or None)
            what = "A preview of the book" if args.slugs else "The book"
            print(f"{what} is at {html / 'index.html'}")
            return 0
        if args.command == "estimate":
            return _estimate(args)
        if args.command == "bench-compare":
            return _bench_compare(args.before, args.after)
        if args.command == "assets":
            from reprobook.build import copy_assets

            print(f"assets copied to {copy_assets()}")
            return 0
        return _list()
    except RunError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # before any chapter started (a running chapter is stopped by the runner)
        print("interrupted; no chapter was running", file=sys.stderr)
        return 130
    except Exception as error:
        from reprobook.build import BuildError

        if isinstance(error, BuildError):
            print(f"error: {error}", file=sys.stderr)
            return 1
        raise


if __name__ == "__main__":
    raise SystemExit(main())
