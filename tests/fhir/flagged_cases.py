"""A second agreement gauge, not enforced: the upstream fhir-test-cases this project does not score.

`reference_cases.py` scores the cases whose Java outcome can be reproduced offline. The flagged ones -- outcomes
made with a terminology server, or needing packages -- are left out of it, so they are held out from the work
that raises its figure. Run offline anyway, they show how the validator does on cases it was not tuned on.
They need a full copy of the suite (the project keeps only the scored cases): a folder with the upstream
`validator/` tree and the `expected-outcomes.json` summary of `reference_cases.py`'s format.

Usage: python -m tests.fhir.flagged_cases FOLDER [--flag TEXT] [-v]
       (FOLDER e.g. ../shared/data/fhir-test-cases-r4; --flag keeps the cases with a flag containing TEXT,
       default 'terminology'; cases with missing files, logical models or package tarballs are skipped)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import orjson

from tests.fhir import reference_cases as rc

_UNRUNNABLE = ("missing", "logical", "tarball")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", type=Path)
    parser.add_argument("--flag", default="terminology")
    parser.add_argument("-v", action="store_true", help="print our errors for each disagreement")
    args = parser.parse_args(argv)
    scored = {e["name"] for e in rc.expectations()}
    rc.VALIDATOR_DIR, rc.DATA = args.folder / "validator", args.folder
    rc.manifest.cache_clear()
    rc.expectations.cache_clear()
    rc.input_type.cache_clear()
    results = []
    for e in orjson.loads((args.folder / "expected-outcomes.json").read_bytes()):
        if e["name"] in scored or not e["flags"] or any(u in f for f in e["flags"] for u in _UNRUNNABLE):
            continue
        if not any(args.flag in f for f in e["flags"]) or not e["file"].endswith((".json", ".xml")) \
                or not (e.get("expected_base") or {}).get("available"):
            continue
        results += rc.run_case(e)
    for r in results:
        print(f"{'ok  ' if r.agrees else 'DIFF'} {r.fmt:<4} {r.module!s:<13} {r.name}[{r.step}] expected "
              f"{r.expected_errors} at {r.expected_locations} / found {r.errors} at {r.locations[:4]} {r.note}")
        if args.v and not r.agrees:
            for m in r.messages[:5]:
                print(f"       {m[:200]}")
    print("\n" + rc.report(results) if results else "no runnable flagged case matches")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
