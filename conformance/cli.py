"""`conformance` command line: one parser, one module per subcommand.

Each module in `conformance.commands` defines `register(subparsers)` which adds
its parser and sets `func` (a callable taking the parsed args and returning an
exit code). Exit codes: 0 ok, 1 non-conformance / validation errors,
2 usage or profile error, 3 harness error.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import Sequence

from conformance import __version__
from conformance.errors import ConformanceError, HarnessError, UsageError

#: subcommand modules, in the order `--help` lists them
COMMAND_MODULES = ("run", "profiles", "coverage", "validate", "packages", "report", "serve")

EXIT_OK, EXIT_NONCONFORMANT, EXIT_USAGE, EXIT_HARNESS = 0, 1, 2, 3


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="conformance",
        description="EHDS conformance harness: run requirement profiles against an EHR, validate FHIR/CDA, "
        "produce certification reports.",
    )
    parser.add_argument("--version", action="version", version=f"ehds-conformance {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(f"conformance.commands.{name}").register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_USAGE
    try:
        return int(args.func(args))
    except UsageError as exc:
        print(f"conformance: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (HarnessError, ConformanceError) as exc:
        print(f"conformance: harness error: {exc}", file=sys.stderr)
        return EXIT_HARNESS
    except KeyboardInterrupt:
        print("conformance: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `conformance profiles show ehds-core | head`
        import os

        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
