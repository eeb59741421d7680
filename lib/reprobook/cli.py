"""Command line: ``python -m reprobook {run,build,list,assets}``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

import yaml

from reprobook.run import (
    PROFILES,
    RunError,
    available_chapters,
    executed_metadata,
    load_profiles,
    run_chapters,
)

EPILOG = """examples:
  python -m reprobook run                         every chapter, book profile
  python -m reprobook run ficsum --profile smoke  one chapter, CI-sized
  python -m reprobook run ficsum -p seeds='[1, 2, 3]' --force
  python -m reprobook build                       render _build/html from the executed chapters
  python -m reprobook list                        chapters, profiles, last run, claims
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
    run.add_argument("--jobs", type=int, default=1, help="chapters to run at the same time (default: 1)")
    run.add_argument("-p", "--param", action="append", type=_parse_override, default=[], metavar="NAME=VALUE",
                     help="override a parameter of one chapter (value read as YAML); repeatable")
    run.add_argument("--timeout", type=float, default=None, help="wall-clock limit per chapter in seconds")

    build = commands.add_parser("build", help="build _build/html from the executed chapters")
    build.add_argument("--no-strict", action="store_true", help="do not treat Sphinx warnings as errors")

    commands.add_parser("list", help="chapters, their profiles, last run and claims status")
    commands.add_parser("assets", help="copy plotly.js and MathJax into book/_assets")
    return parser


def _list() -> int:
    from reprobook.build import _ledger_summary
    from reprobook.project import CHAPTERS, project_root

    root = project_root()
    present = set(available_chapters(root))
    profiles = load_profiles(root)
    rows = []
    for chapter in CHAPTERS:
        meta = executed_metadata(chapter.slug, root) or {}
        has = chapter.slug in present
        rows.append((
            chapter.slug,
            "yes" if has else "not yet written",
            ",".join(["book", *sorted(p for p in profiles.get(chapter.slug, {}) if p != "book")]) if has else "",
            f"{meta.get('profile')} {meta.get('status')} {meta.get('finished', '')}" if meta else "never",
            _ledger_summary(chapter.slug, root)[0] if has else "",
        ))
    header = ("chapter", "source", "profiles", "last run", "claims")
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "run":
            results = run_chapters(args.slugs, args.profile, force=args.force, jobs=args.jobs,
                                   overrides=dict(args.param), timeout=args.timeout)
            failed = [result for result in results if result.status == "failed"]
            if failed:
                print(f"{len(failed)} chapter(s) failed: {', '.join(r.slug for r in failed)}", file=sys.stderr)
                return 1
            return 0
        if args.command == "build":
            from reprobook.build import build_book

            html = build_book(strict=not args.no_strict)
            print(f"The book is at {html / 'index.html'}")
            return 0
        if args.command == "assets":
            from reprobook.build import copy_assets

            print(f"assets copied to {copy_assets()}")
            return 0
        return _list()
    except RunError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except Exception as error:
        from reprobook.build import BuildError

        if isinstance(error, BuildError):
            print(f"error: {error}", file=sys.stderr)
            return 1
        raise


if __name__ == "__main__":
    raise SystemExit(main())
