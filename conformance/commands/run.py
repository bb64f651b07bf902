"""`conformance run`: run a requirement profile against an adapter and write the report.

A thin wrapper over `pytest.main` with the plugin, the shipped checks (testcases/),
the chosen profile and adapter. Before any check it runs the preflight (adapter,
accounts, attestations, report folder: one line and exit 2, or 3 when the SUT is
unreachable). The conclusion comes from :mod:`conformance.conclusion`, the one place
it is computed, and sets the exit code: 0 conformant (or incomplete/partial without
errors, unless --strict); 1 non-conformant (a SHALL requirement failed); 2 usage,
profile or set-up error; 3 incomplete because of error verdicts (or not conformant
under --strict), or the SUT unreachable.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import sys
from pathlib import Path

from conformance.errors import HarnessError, UsageError
from conformance.model import RunResult
from conformance.resources import testcases_dir

def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="run a requirement profile against an EHR and write the report",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--profile", default="ehds-core", help="profile id or YAML path (default: ehds-core)")
    p.add_argument("--adapter", default="reference",
                   help="adapter name (entry point) or module:factory (default: reference, the embedded EHR)")
    p.add_argument("--adapter-config", default=None, help="adapter configuration file (TOML)")
    p.add_argument("--adapter-timeout", type=float, default=None, help="seconds per adapter call (default 30)")
    p.add_argument("--report-dir", default="reports", help="where reports/<run-id>/ is written (default: reports)")
    p.add_argument("--run-id", default=None, help="name of the report folder (default: timestamp + random)")
    p.add_argument("--strict", action="store_true", help="fail unless every SHALL requirement passed")
    p.add_argument("-n", "--workers", default=None, help="parallel workers (pytest-xdist), e.g. 2 or auto")
    p.add_argument("--explore", action="store_true", help="search wider with a random seed (not for certification)")
    p.add_argument("--seed", default=None,
                   help="hypothesis seed (default: derandomized per check; with --explore: random, recorded)")
    p.add_argument("--attestations", default=None, help="YAML file attesting requirements that cannot be tested")
    p.add_argument("--patient-namespace", default=None,
                   help="prefix of the patient identifiers the checks create (default: random; the report "
                        "records it, give it again to reproduce a run exactly)")
    p.add_argument("-k", dest="keyword", default=None,
                   help="only checks matching this pytest -k expression (the run is then partial)")
    p.add_argument("--requirement", action="append", default=[], metavar="ID",
                   help="only the checks of this requirement (repeatable; glob such as 'EHDS-LOG-*'); partial run")
    p.add_argument("--category", action="append", default=[], metavar="CATEGORY",
                   help="only requirements of this category (logging, security...) or priority category; partial run")
    p.add_argument("--list", action="store_true", help="list each requirement's checks and procedures, run nothing")
    p.add_argument("--force", action="store_true", help="replace an existing run folder of the same --run-id")
    p.add_argument("--format", choices=("text", "json"), default="text",
                   help="json: the verdict table and conclusion as JSON on stdout")
    p.add_argument("-q", "--quiet", action="store_true", help="only the conclusion line")
    p.add_argument("--debug", action="store_true", help="tracebacks for set-up errors")
    p.add_argument("-v", "--verbose", action="count", default=0, help="also show pytest's own output per check")
    p.add_argument("--pytest-arg", action="append", default=[], metavar="ARG", help="extra argument for pytest")
    p.set_defaults(func=run)


def pytest_args(args: argparse.Namespace) -> list[str]:
    """The pytest command line of a run: the shipped checks, their own ini file, the plugin
    loaded explicitly (it is opt-in) and its `--conformance-` options."""
    cases = testcases_dir()
    opt = "--conformance-"
    argv = [
        str(cases),
        "-c", str(cases / "pytest.ini"),
        "--rootdir", str(cases),
        "--import-mode=importlib",
        "-p", "no:cacheprovider",
        "-p", "conformance.pytest_plugin",
        f"{opt}profile", args.profile,
        f"{opt}adapter", args.adapter,
        "-rN",
        "-p", "warnings" if args.verbose else "no:warnings",
    ]
    if not args.list:
        argv += [f"{opt}report-dir", str(Path(args.report_dir).resolve())]
    argv += ["-v"] * args.verbose if args.verbose else ["-q"]
    for rid in args.requirement:
        argv += [f"{opt}requirement", rid]
    for cat in args.category:
        argv += [f"{opt}category", cat]
    if args.strict:
        argv += [f"{opt}strict"]
    if args.force:
        argv += [f"{opt}force"]
    if args.list:
        argv += [f"{opt}list", "--collect-only"]
    if args.adapter_config:
        argv += [f"{opt}adapter-config", str(Path(args.adapter_config).resolve())]
    if args.adapter_timeout:
        argv += [f"{opt}adapter-timeout", str(args.adapter_timeout)]
    if args.run_id:
        argv += [f"{opt}run-id", args.run_id]
    if args.workers:
        argv += ["-n", str(args.workers)]
    if args.explore:
        argv += [f"{opt}explore"]
    if args.seed is not None:
        argv += [f"{opt}seed", str(args.seed)]
    if args.attestations:
        argv += [f"{opt}attestations", str(Path(args.attestations).resolve())]
    if args.patient_namespace:
        argv += [f"{opt}patient-namespace", args.patient_namespace]
    if args.keyword:
        argv += ["-k", args.keyword]
    argv += list(args.pytest_arg)
    return argv


class ResultSink:
    """Receives the run's result from the plugin (hook `pytest_conformance_finished`)."""

    def __init__(self) -> None:
        self.result: RunResult | None = None
        self.report_dir: Path | None = None

    def pytest_conformance_finished(self, config: object, result: RunResult, report_dir: Path | None) -> None:
        self.result = result
        self.report_dir = report_dir


def exit_code(result: RunResult, *, strict: bool) -> int:
    """The exit code of a run: the conclusion's (see conformance.conclusion)."""
    result.strict = strict or result.strict
    return result.conclusion().exit_code


def _preflight(args: argparse.Namespace) -> set[str]:
    """Profile, adapter, accounts, attestations, report folder: fail fast in one line. Returns secrets to mask."""
    from conformance.adapter import load_config
    from conformance.preflight import check_adapter, check_attestations, check_report_folder
    from conformance.profiles import load_profile

    load_profile(args.profile)
    load_config(args.adapter_config)
    check_attestations(args.attestations)
    if not args.list:
        check_report_folder(args.report_dir, args.run_id, force=args.force)
    return check_adapter(args.adapter, args.adapter_config, args.adapter_timeout or 30.0).secrets


def run(args: argparse.Namespace) -> int:
    import pytest

    from conformance.preflight import PreflightError
    from conformance.terminal import MaskedStream, SecretMask, TerminalReport

    try:
        secrets = _preflight(args)
    except PreflightError as exc:
        if args.debug:
            raise
        print(f"conformance: error: {exc}", file=sys.stderr)
        return exc.exit_code
    mask = SecretMask(secrets)
    real_out = sys.stdout
    terminal = TerminalReport(real_out, mask, quiet=args.quiet, fmt=args.format)
    shown = args.verbose and args.format == "text"
    sink: io.TextIOBase = MaskedStream(real_out, mask) if shown else io.StringIO()
    with contextlib.redirect_stdout(sink):  # type: ignore[type-var]
        code = pytest.main(pytest_args(args), plugins=[terminal])
    if args.list:
        from conformance.pytest_plugin import LISTING_MARK

        text = sink.getvalue() if isinstance(sink, io.StringIO) else ""
        real_out.write(mask(text.split(LISTING_MARK, 1)[-1].lstrip("\n")))
        return 0 if code in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED) else 2
    result = terminal.result
    if code == pytest.ExitCode.USAGE_ERROR:
        raise UsageError("pytest refused the run: " + _last_lines(sink))
    if result is None or code in (pytest.ExitCode.INTERNAL_ERROR, pytest.ExitCode.INTERRUPTED):
        raise HarnessError(f"the run did not complete (pytest exit code {int(code)}); no verdicts were produced. "
                           + _last_lines(sink))
    rc = exit_code(result, strict=args.strict)
    terminal.render(rc)
    if result.settings.get("report_usage_error"):
        print(f"conformance: error: {result.settings['report_usage_error']}", file=sys.stderr)
        return 2
    if result.settings.get("report_error"):
        print(f"conformance: harness error: the report could not be written: {result.settings['report_error']}",
              file=sys.stderr)
        return 3
    return rc


def _last_lines(sink: object, n: int = 6) -> str:
    text = sink.getvalue() if isinstance(sink, io.StringIO) else ""
    lines = [ln for ln in text.splitlines() if ln.strip()]
    return " | ".join(lines[-n:])
