"""Where a validation pass over the IPS bundles spends its time, by rule family -- the evidence behind the
issue-14 speed figures in benchmarks/README.md.

It samples the same workload as benchmarks/validate.py (34 IPS bundles, narrative caches emptied before each
pass, after the 8 warm-up passes that compile the profiles and generate the walkers) with py-spy, then sorts
every sample into one family by its stack:

- *walk*: the sample's innermost frame is the walker itself (the generated per-shape walkers and the
  `Run` methods that dispatch objects, children, primitives and contained resources) -- what a compiled walker
  could take away;
- otherwise the first family whose module is on the stack: narratives (lxml parse, links, anchors), outcome
  (dedupe and document order of the issues), references, slicing, invariants (FHIRPath, native and minipath
  evaluators), bindings and codes, primitive formats, extensions; the rest is "other".

Why this matters: the issue asks for validation within 8x `orjson.loads` and 5x faster than Medplum's base
validation. If the rule families alone, with the walk taken away entirely, already cost more than that budget,
no faster walker (generated Python, Cython, a C extension) can meet it: the rules themselves would have to be
reimplemented in compiled code.

Usage (py-spy from PyPI: `pip install py-spy`):
    python benchmarks/breakdown.py [--seconds 25] [--raw existing-py-spy-raw.txt]
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

# Innermost-frame functions that are the walk itself (its per-node dispatch), not a rule.
WALK_FUNCTIONS = frozenset({
    "walk", "Run._object", "Run._planned", "Run._child", "Run._value", "Run._properties", "Run._primitive",
    "Pending.__call__", "walker_for", "Run._sliced", "Run._contained_resource", "Run.resource"})

# (family, modules): the first family with a module on the stack takes the sample.
FAMILIES: tuple[tuple[str, frozenset[str]], ...] = (
    ("narratives (lxml parse, links, anchors)", frozenset({"xhtml.py", "narrative.py"})),
    ("outcome (dedupe, document order)", frozenset({"outcome.py", "positions.py"})),
    ("references", frozenset({"references.py"})),
    ("slicing", frozenset({"slicing.py"})),
    ("invariants (FHIRPath)", frozenset({"checks.py", "native.py", "minipath.py", "invariants.py",
                                         "fhirpath_r4.py"})),
    ("bindings and codes", frozenset({"bindings.py", "terminology.py", "terminology_rules.py",
                                      "code_identifiers.py"})),
    ("primitive formats", frozenset({"primitives.py", "dates.py"})),
    ("extensions", frozenset({"extensions.py"})),
)

_FRAME = re.compile(r"\s*(\S+) \((.*?)(?::\d+)?\)\s*$")


def work(seconds: float, figures: Path | None) -> None:
    """The benchmark's workload, repeated for `seconds` after the warm-up (run under py-spy). First, into
    `figures`, the CPU time of a pass of `orjson.loads` and of a validation pass (best of 5 each), so the
    shares can be read as multiples of `orjson.loads` measured in the same process."""
    import orjson
    import validate as bench  # this folder's benchmark: its inputs and its cache reset

    from conformance.fhir import default_validator

    parsed = [orjson.loads(b) for _n, b in bench.bundles()]
    v = default_validator()
    for _ in range(8):
        bench.forget_text_caches()
        for o in parsed:
            v.validate(o)
    if figures is not None:
        data = [b for _n, b in bench.bundles()]
        from floor import best  # this folder's: best-of-N CPU time, narrative caches emptied per pass

        figures.write_text(json.dumps({"orjson": best(lambda: [orjson.loads(b) for b in data], 20),
                                       "validate": best(lambda: [v.validate(o) for o in parsed], 5)}))
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        bench.forget_text_caches()
        for o in parsed:
            v.validate(o)


def family(stack: list[tuple[str, str]]) -> str:
    """The family a sample belongs to; `stack` is (function, file name) from the outermost frame inwards."""
    fn, _file = stack[-1]
    files = {f for _fn, f in stack}
    if any(f in ("xhtml.py", "narrative.py") for f in files) or any("lxml" in f for f in files):
        return FAMILIES[0][0]
    if fn in WALK_FUNCTIONS:
        return "walk (generated walkers and dispatch)"
    for name, modules in FAMILIES[1:]:
        if files & modules:
            return name
    return "other"


def read_raw(path: Path) -> Counter[str]:
    """Samples per family from a py-spy `--format raw` file (one `frame;frame;... count` line per stack)."""
    per: Counter[str] = Counter()
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = []
        for f in stack.split(";"):
            m = _FRAME.match(f)
            frames.append((m.group(1), m.group(2).rsplit("/", 1)[-1]) if m else (f.strip(), ""))
        if any(fn in ("work", "<module>") and file == "breakdown.py" for fn, file in frames) and \
                not any(fn == "Validator.validate" for fn, _f in frames):
            continue  # the workload's own loop and the warm-up reading of the inputs
        per[family(frames)] += int(count)
    return per


def record(seconds: float) -> tuple[Path, Path]:
    py_spy = shutil.which("py-spy")
    if py_spy is None:
        sys.exit("breakdown.py: py-spy is not installed (pip install py-spy)")
    folder = Path(tempfile.mkdtemp())
    out, figures = folder / "profile.txt", folder / "figures.json"
    cmd = [py_spy, "record", "--rate", "500", "--format", "raw", "--output", str(out), "--",
           sys.executable, __file__, "--work", str(seconds), "--figures", str(figures)]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return out, figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=25.0, help="sampling time after the warm-up")
    parser.add_argument("--raw", type=Path, help="read this py-spy raw profile instead of recording one")
    parser.add_argument("--work", type=float, help=argparse.SUPPRESS)
    parser.add_argument("--figures", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.work is not None:
        work(args.work, args.figures)
        return 0
    raw, figures = (args.raw, None) if args.raw else record(args.seconds)
    per = read_raw(raw)
    total = sum(per.values())
    if not total:
        sys.exit("breakdown.py: no samples of the validator in the profile")
    print(f"{total} samples inside Validator.validate; share of a validation pass by family:")
    for name, n in per.most_common():
        print(f"  {name:<45} {100 * n / total:5.1f} %")
    walk = sum(n for name, n in per.items() if name.startswith("walk"))
    rest = (total - walk) / total
    print(f"  {'everything but the walk':<45} {100 * rest:5.1f} %")
    if figures is not None and figures.exists():
        f = json.loads(figures.read_text())
        ratio = f["validate"] / f["orjson"]
        print(f"same process, CPU time, best of N: orjson.loads {f['orjson'] * 1e3:.1f} ms, validation "
              f"{f['validate'] * 1e3:.1f} ms per pass = {ratio:.1f}x orjson.loads")
        print(f"with the walk at zero cost the rest would still be {ratio * rest:.1f}x orjson.loads "
              f"(issue-14 target <= 8x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
