"""Identity harness for speed work: record every issue the FHIR validator reports on a fixed corpus, and compare
two recordings one issue at a time. A speed change is only correct if the comparison finds no difference.

Corpus (deterministic):
- every JSON and XML file under tests/data/fhir/{ips-2.0.0-examples,ips-connectathon,balp-examples};
- seeded mutants of each JSON file (`--mutants` per file, default 40): 1-3 random edits each, chosen among deleting
  a field or array item, retyping a value (string <-> number, object <-> array, bool -> string, ...) and
  duplicating an array item or wrapping a single value in an array;
- synthetic IPS document Bundles of 300 and 1,000 entries (`benchmarks/validate.synthetic_document`);
- the fhir-test-cases selected by `tests/fhir/reference_cases.py`, run exactly as that script runs them.

JSON inputs go through `Validator.validate_json` (so line:column is recorded) and, parsed, through
`Validator.validate` (`<input>@dict`: the outcome in document order read off the object, without positions -- what
benchmarks/validate.py times); XML through `validate_xml`.
Each issue is recorded as (severity, code, location, message, rule, source, line, column); a crash is recorded as
its exception type and message.

Usage:
    python benchmarks/identity.py record OUT.json [--mutants N]
    python benchmarks/identity.py compare BEFORE.json AFTER.json
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data" / "fhir"
FOLDERS = ("ips-2.0.0-examples", "ips-connectathon", "balp-examples")
sys.path.insert(0, str(ROOT))

Record = list[list[Any]] | dict[str, str]


def _issues(issues: list[Any]) -> list[list[Any]]:
    return [[i.severity, i.code, i.location, i.message, i.rule, i.source, i.line, i.column] for i in issues]


def _paths(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every position below the root (object keys and array indexes), in document order."""
    if isinstance(node, dict):
        for k, v in node.items():
            yield path + (k,)
            yield from _paths(v, path + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield path + (i,)
            yield from _paths(v, path + (i,))


def _retyped(value: Any, rng: random.Random) -> Any:
    if isinstance(value, bool):
        return rng.choice(["true", 1, None])
    if isinstance(value, (int, float)):
        return rng.choice([str(value), [value], True])
    if isinstance(value, str):
        return rng.choice([len(value), [value], {"value": value}, False, ""])
    if isinstance(value, list):
        return value[0] if value else {}
    if isinstance(value, dict):
        return rng.choice([[value], "x", 0])
    return "null"


def mutate(doc: Any, rng: random.Random) -> Any:
    """A copy of doc with 1-3 random edits (delete, retype, duplicate)."""
    doc = orjson.loads(orjson.dumps(doc))
    for _ in range(rng.randint(1, 3)):
        paths = list(_paths(doc))
        if not paths:
            break
        path = rng.choice(paths)
        parent = doc
        for step in path[:-1]:
            parent = parent[step]
        key = path[-1]
        op = rng.choice(("delete", "retype", "duplicate"))
        if op == "delete":
            del parent[key]
        elif op == "retype":
            parent[key] = _retyped(parent[key], rng)
        elif isinstance(parent, list):
            parent.insert(key, orjson.loads(orjson.dumps(parent[key])))
        else:
            parent[key] = [parent[key], parent[key]] if not isinstance(parent[key], list) else parent[key] * 2
    return doc


def _run(fn: Any) -> Record:
    try:
        return _issues(fn())
    except Exception as exc:  # noqa: BLE001 - a crash is an outcome to compare like any other
        return {"crash": f"{type(exc).__name__}: {exc}"}


def record(out: Path, n_mutants: int) -> int:
    from benchmarks.validate import synthetic_document
    from conformance.fhir import default_validator
    from conformance.fhir.xmlreader import validate_xml

    v = default_validator()
    results: dict[str, Record] = {}
    t0 = time.perf_counter()
    files = sorted(p for folder in FOLDERS for p in (DATA / folder).rglob("*") if p.suffix in (".json", ".xml"))
    for f in files:
        rel = str(f.relative_to(DATA))
        data = f.read_bytes()
        if f.suffix == ".xml":
            results[rel] = _run(lambda d=data: validate_xml(v, d))
            continue
        results[rel] = _run(lambda d=data: v.validate_json(d))
        results[f"{rel}@dict"] = _run(lambda d=data: v.validate(orjson.loads(d)))
        doc = orjson.loads(data)
        rng = random.Random(f"{rel}:mutants")
        for i in range(n_mutants):
            text = orjson.dumps(mutate(doc, rng), option=orjson.OPT_INDENT_2)
            results[f"{rel}#mutant{i}"] = _run(lambda d=text: v.validate_json(d))
            results[f"{rel}#mutant{i}@dict"] = _run(lambda d=text: v.validate(orjson.loads(d)))
    for size in (300, 1000):
        text = orjson.dumps(synthetic_document(size), option=orjson.OPT_INDENT_2)
        results[f"synthetic-{size}"] = _run(lambda d=text: v.validate_json(d))
        results[f"synthetic-{size}@dict"] = _run(lambda d=text: v.validate(orjson.loads(d)))

    sys.path.insert(0, str(ROOT / "tests" / "fhir"))
    import reference_cases as rc

    original = rc._compare

    def capture(name: str, step: str, module: str, expected: dict[str, Any], issues: list[Any], note: str = "", *,
                fmt: str = "json") -> Any:
        results[f"fhir-test-cases/{name}[{step}]"] = _issues(issues)
        return original(name, step, module, expected, issues, note, fmt=fmt)

    rc._compare = capture
    try:
        cases = rc.run_all()
    finally:
        rc._compare = original
    for r in cases:
        if r.note.startswith("crash"):
            results[f"fhir-test-cases/{r.name}[{r.step}]"] = {"crash": r.note}
    s = rc.summary(cases)
    results["_agreement"] = {"crash": f"{s['agree']}/{s['cases']}"}  # not an issue list: compared as text
    out.write_bytes(orjson.dumps(results, option=orjson.OPT_SORT_KEYS))
    n_issues = sum(len(r) for r in results.values() if isinstance(r, list))
    print(f"{len(results) - 1} inputs, {n_issues} issues, agreement {s['agree']}/{s['cases']}; "
          f"{time.perf_counter() - t0:.0f} s -> {out}")
    return 0


def compare(before: Path, after: Path) -> int:
    a, b = orjson.loads(before.read_bytes()), orjson.loads(after.read_bytes())
    diffs = 0
    for key in sorted(set(a) | set(b)):
        x, y = a.get(key), b.get(key)
        if x == y:
            continue
        diffs += 1
        if diffs <= 20:
            print(f"DIFF {key}")
            if isinstance(x, list) and isinstance(y, list):
                for i, (p, q) in enumerate(zip(x, y)):
                    if p != q:
                        print(f"  first difference at issue {i}:\n    before {p}\n    after  {q}")
                        break
                else:
                    print(f"  {len(x)} issues before, {len(y)} after")
            else:
                print(f"  before {str(x)[:300]}\n  after  {str(y)[:300]}")
    n_issues = sum(len(r) for r in a.values() if isinstance(r, list))
    print(f"{len(a) - 1} inputs ({n_issues} issues) before, {len(b) - 1} after: "
          f"{'identical' if not diffs else f'{diffs} differ'}")
    return 1 if diffs else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("record")
    r.add_argument("out", type=Path)
    r.add_argument("--mutants", type=int, default=40)
    c = sub.add_parser("compare")
    c.add_argument("before", type=Path)
    c.add_argument("after", type=Path)
    args = parser.parse_args()
    return record(args.out, args.mutants) if args.cmd == "record" else compare(args.before, args.after)


if __name__ == "__main__":
    sys.exit(main())
