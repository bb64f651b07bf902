"""`conformance run`: run a requirement profile against an adapter and write the report.

A thin wrapper over `pytest.main` with the plugin, the shipped checks
(testcases/), the chosen profile and adapter. Exit codes: 0 no SHALL requirement
failed or errored (with --strict: every SHALL requirement passed or was attested
or is not applicable); 1 non-conformance (a SHALL requirement failed); 2 usage or
profile error; 3 harness error (the run did not complete, or a SHALL requirement
could not be decided: error verdicts).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from conformance.errors import HarnessError, UsageError
from conformance.model import Level, RunResult, Verdict
from conformance.resources import testcases_dir

STRICT_OK = {Verdict.PASS, Verdict.ATTESTED, Verdict.NOT_APPLICABLE}


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
    p.add_argument("-k", dest="keyword", default=None, help="only checks matching this pytest -k expression")
    p.add_argument("-v", "--verbose", action="count", default=0, help="show each check")
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
        f"{opt}report-dir", str(Path(args.report_dir).resolve()),
        "-rN",
    ]
    argv += ["-v"] * args.verbose if args.verbose else ["-q"]
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
    """1 when a SHALL requirement failed (non-conformance); else 3 when one could not be decided
    (error verdicts: the SUT crashed, hung or was unreachable); with --strict, 1 when a SHALL
    requirement is anything but pass, attested or not-applicable; else 0."""
    shall = [row for row in result.requirements if row.requirement.level is Level.SHALL]
    if any(row.verdict is Verdict.FAIL for row in shall):
        return 1
    if any(row.verdict is Verdict.ERROR for row in shall):
        return 3
    if strict and any(row.verdict not in STRICT_OK for row in shall):
        return 1
    return 0


def _preflight(args: argparse.Namespace) -> None:
    """Fail fast (exit 2) on an unknown profile or adapter, before pytest starts."""
    from conformance.adapter import load_config, resolve_factory
    from conformance.profiles import load_profile

    load_profile(args.profile)
    resolve_factory(args.adapter)
    load_config(args.adapter_config)


def run(args: argparse.Namespace) -> int:
    import pytest

    _preflight(args)
    sink = ResultSink()
    code = pytest.main(pytest_args(args), plugins=[sink])
    result = sink.result
    if code == pytest.ExitCode.USAGE_ERROR:
        raise UsageError("pytest refused the run (see the message above)")
    if result is None or code in (pytest.ExitCode.INTERNAL_ERROR, pytest.ExitCode.INTERRUPTED,
                                  pytest.ExitCode.NO_TESTS_COLLECTED):
        raise HarnessError(f"the run did not complete (pytest exit code {int(code)}); no verdicts were produced")
    rc = exit_code(result, strict=args.strict)
    meaning = {0: "conformant", 1: "non-conformant", 3: "undecided: error verdicts, see the report"}[rc]
    print(f"conformance: exit {rc} ({meaning}{', strict' if args.strict else ''})", file=sys.stderr)
    return rc
