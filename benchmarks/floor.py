"""What a pass over the IPS bundles costs before any rule: `orjson.loads`, a bare Python recursion visiting every
JSON value, the lxml parses of the narratives alone, and full validation -- in one process, CPU time, best of N,
narrative caches emptied before each timed pass (as benchmarks/validate.py). Shows what the issue-14 target
(validation <= 8x `orjson.loads`) leaves per value.

Usage: python benchmarks/floor.py
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import validate as bench  # noqa: E402 - the benchmark's inputs and cache reset, from this folder

from conformance.fhir import default_validator, xhtml  # noqa: E402


def _visit(o: Any) -> None:
    if type(o) is dict:
        for v in o.values():
            _visit(v)
    elif type(o) is list:
        for v in o:
            _visit(v)


def _divs(o: Any, out: list[str]) -> list[str]:
    if type(o) is dict:
        for k, v in o.items():
            if k == "div" and type(v) is str:
                out.append(v)
            _divs(v, out)
    elif type(o) is list:
        for v in o:
            _divs(v, out)
    return out


def best(fn: Callable[[], Any], n: int) -> float:
    b = float("inf")
    for _ in range(n):
        bench.forget_text_caches()
        t = time.process_time()
        fn()
        b = min(b, time.process_time() - t)
    return b


def main() -> int:
    data = bench.bundles()
    parsed = [orjson.loads(b) for _n, b in data]
    divs = [d for o in parsed for d in _divs(o, [])]
    v = default_validator()
    for _ in range(8):  # as validate.py: profiles compiled, walkers generated
        bench.forget_text_caches()
        for o in parsed:
            v.validate(o)
    parse_div = getattr(xhtml.div_facts, "__wrapped__", xhtml.div_facts)
    t_json = best(lambda: [orjson.loads(b) for _n, b in data], 40)
    rows = [("orjson.loads", t_json),
            ("bare recursion over every value", best(lambda: [_visit(o) for o in parsed], 15)),
            (f"lxml parses of the {len(divs)} narrative divs", best(lambda: [parse_div(d) for d in divs], 15)),
            ("full validation (IPS profiles)", best(lambda: [v.validate(o) for o in parsed], 7))]
    print(f"{len(data)} bundles, CPU ms per pass (best of N), and x orjson.loads:")
    for label, t in rows:
        print(f"  {label:<45} {t * 1e3:7.1f} ms  {t / t_json:5.1f}x")
    print(f"  target <= 8x orjson.loads:                    {8 * t_json * 1e3:7.1f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
