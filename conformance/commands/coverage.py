"""`conformance coverage`: which requirements of a profile have no automated check.

Collects the shipped checks with pytest (no check runs, no SUT is contacted) and
compares the requirement ids on their markers with the profile's requirements.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from conformance.errors import HarnessError
from conformance.resources import testcases_dir


class _Collector:
    def __init__(self) -> None:
        self.checks: dict[str, list[str]] = {}

    def pytest_collection_finish(self, session: Any) -> None:
        for item in session.items:
            for mark in item.iter_markers("requirement"):
                for rid in mark.args:
                    self.checks.setdefault(str(rid), []).append(item.nodeid)


def checks_by_requirement(profile_id: str) -> dict[str, list[str]]:
    """requirement id -> node ids of the checks verifying it (within the profile)."""
    import pytest

    collector = _Collector()
    cases = testcases_dir()
    code = pytest.main([str(cases), "-c", str(cases / "pytest.ini"), "--rootdir", str(cases),
                        "--import-mode=importlib", "-p", "no:cacheprovider", "--collect-only", "-q",
                        "-p", "conformance.pytest_plugin", "--conformance-profile", profile_id],
                       plugins=[collector])
    if code not in (0, 5):
        raise HarnessError(f"collecting the checks failed (pytest exit code {int(code)})")
    return collector.checks


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("coverage", help="list requirements of a profile that have no automated check")
    p.add_argument("--profile", default="ehds-core", help="profile id or YAML path (default: ehds-core)")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import contextlib
    import io

    from conformance.profiles import load_profile

    profile = load_profile(args.profile)
    with contextlib.redirect_stdout(io.StringIO()):
        checks = checks_by_requirement(args.profile)
    rows = [{"id": r.id, "level": r.level.value, "category": r.category.value, "title": r.title,
             "checks": len(checks.get(r.id, []))} for r in profile.requirements]
    missing = [r for r in rows if not r["checks"]]
    if args.format == "json":
        print(json.dumps({"profile": profile.id, "requirements": rows,
                          "without_checks": [r["id"] for r in missing]}, indent=2))
        return 0
    covered = len(rows) - len(missing)
    print(f"{profile.id} {profile.version}: {covered} of {len(rows)} requirements have automated checks")
    if missing:
        print("without an automated check (reported as not-tested unless attested):")
        for r in missing:
            print(f"  {r['id']:14} {r['level']:6} {r['category']:16} {r['title']}")
    return 0
