"""Kill rate of the realistic catalogue: how many mutants the shipped checks catch, and how precisely.

For each mutant, ``conformance run`` (ehds-core, in this process) against it; then per mutant:

- *caught*: some requirement fails or errors;
- *by its requirement*: its own requirement fails;
- *precisely*: its own requirement fails and no other requirement fails or errors.

Usage (from the repository root)::

    PYTHONPATH=. python -m tests.mutants.realistic.measure                 # all checks
    PYTHONPATH=. python -m tests.mutants.realistic.measure --before        # without testcases/stateful
    # main's checks as they were: a worktree of that commit holding this catalogue
    git worktree add /tmp/wt-before 78260c1 && cp -r tests/mutants/realistic /tmp/wt-before/tests/mutants/
    cd /tmp/wt-before && PYTHONPATH=. python -m tests.mutants.realistic.measure --testcases testcases
    PYTHONPATH=. python -m tests.mutants.realistic.measure -k sequences    # the stateful checks only
    ... --only NAME [NAME ...] --json out.json

``--before`` deselects the stateful checks (``-k "not sequences"``): the checks main had when this
catalogue was written, as long as the core checks are unchanged.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import sys
import tempfile
import time
from pathlib import Path

from tests.mutants.realistic import REALISTIC
from tests.mutants.runner import CATALOGUE_NAMESPACE


def verdicts(factory: str, report_dir: Path, *extra: str) -> dict[str, str]:
    """Run ehds-core against `factory` in this process; requirement id -> verdict."""
    from conformance.cli import main

    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        code = main(["run", "--adapter", factory, "--report-dir", str(report_dir), "--run-id", "run",
                     "--patient-namespace", CATALOGUE_NAMESPACE, *extra])
    if code not in (0, 1, 3):
        raise RuntimeError(f"the run against {factory} did not complete (exit {code}):\n{out.getvalue()[-3000:]}")
    report = json.loads((report_dir / "run" / "report.json").read_text())
    return {row["id"]: row["verdict"] for row in report["requirements"]}


def judge(requirement: str, found: dict[str, str]) -> dict[str, object]:
    bad = sorted(rid for rid, v in found.items() if v in ("fail", "error"))
    return {"caught": bool(bad), "by_requirement": found.get(requirement) == "fail",
            "precise": found.get(requirement) == "fail" and bad == [requirement],
            "failing": bad}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", action="store_true", help="deselect the stateful checks")
    parser.add_argument("-k", default=None, help="pytest -k expression passed to conformance run")
    parser.add_argument("--only", nargs="*", default=None)
    parser.add_argument("--json", default=None)
    parser.add_argument("--testcases", default=None,
                        help="run the checks of this folder (e.g. an old checkout's testcases/) instead of the installed ones")
    args = parser.parse_args(argv)
    if args.testcases:
        from conformance.commands import run as run_command

        folder = Path(args.testcases).resolve()
        run_command.testcases_dir = lambda: folder  # type: ignore[attr-defined]
    extra: list[str] = []
    if args.before:
        extra += ["-k", "not sequences"]
    elif args.k:
        extra += ["-k", args.k]
    names = args.only or sorted(REALISTIC)
    rows: dict[str, dict[str, object]] = {}
    for name in names:
        mutant = REALISTIC[name]
        started = time.monotonic()
        with tempfile.TemporaryDirectory() as tmp:
            found = verdicts(mutant.factory, Path(tmp), *extra)
        row = judge(str(mutant.requirement), found)
        row.update(requirement=mutant.requirement, seconds=round(time.monotonic() - started, 1))
        rows[name] = row
        mark = "precise" if row["precise"] else "own" if row["by_requirement"] else "caught" if row["caught"] else "MISSED"
        print(f"{name:45s} {mutant.requirement:14s} {mark:8s} {row['failing']} ({row['seconds']} s)", flush=True)
    n = len(rows)
    caught = sum(bool(r["caught"]) for r in rows.values())
    own = sum(bool(r["by_requirement"]) for r in rows.values())
    precise = sum(bool(r["precise"]) for r in rows.values())
    print(f"\n{n} mutants: caught {caught} ({caught / n:.0%}), by their requirement {own} ({own / n:.0%}), "
          f"precisely {precise} ({precise / n:.0%})")
    if args.json:
        Path(args.json).write_text(json.dumps({"rows": rows, "caught": caught, "by_requirement": own,
                                               "precise": precise, "total": n}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
