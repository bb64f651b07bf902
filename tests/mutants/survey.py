"""Mutation survey: machine-made bugs in the reference EHR, and which of them the shipped checks catch.

The catalogues next to this file hold bugs people wrote on purpose; each is caught, but they are the bugs their
authors thought of. This survey asks the wider question a certifier asks -- *would a bug nobody here wrote get
through?* -- by planting, one at a time, every small source change of a fixed kind in the reference EHR's code and
running every shipped EHR profile against each mutant:

- comparison flipped (``==``/``!=``, ``<``/``<=``, ``in``/``not in``, ``is``/``is not``), ``and``/``or``,
  a ``not`` dropped;
- a guard forgotten: the test of an ``if`` whose body raises or returns made ``False``;
- a call statement dropped (a forgotten insert, log write, commit, check);
- ``True``/``False`` swapped, an integer off by one, index ``0``/``-1`` swapped;
- in SQL text: ``DESC``/``ASC`` and ``AND``/``OR`` swapped, ``>=``/``>`` and ``<=``/``<`` swapped, a final
  ``ORDER BY`` reversed.

Only lines the unmutated run executes are mutated (a mutant on a line no check reaches tells nothing new). Each
mutant runs in a worker process that keeps the engine loaded (a meta-path finder serves the mutated module; the
run is ``conformance run`` with `survey-all.yaml`, every EHR profile, without shrinking) with a deadline.
Verdicts are compared with the unmutated run's: a mutant is *caught* when some requirement that passed now fails, *caught by error* when
nothing fails but something errors, *undecided* when nothing fails or errors but requirements that passed are
now not-tested (the run is only "incomplete"), *survived* otherwise; *run-broken* when the run itself could not
start (the mutant breaks the adapter's construction), *timeout* past the deadline. Survivors are either
equivalent (the change makes no observable difference) or a gap in the checks: read them.

Usage (from the repository root; about 15 s per mutant, two at a time on two cores)::

    PYTHONPATH=. python -m tests.mutants.survey --list                      # the mutation sites
    PYTHONPATH=. python -m tests.mutants.survey --sample 200 --seed 1 --json survey.jsonl
    PYTHONPATH=. python -m tests.mutants.survey --only store.py:120          # mutants of one line

Not part of tox: a survey of a few hundred mutants takes an hour on two cores. What it found, and the checks and
catalogue mutants added for each gap, are in the README ("The mutation survey").
"""

from __future__ import annotations

import argparse
import ast
import importlib.abc
import importlib.machinery
import importlib.util
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = "conformance.adapters.reference"
TARGET_DIR = ROOT / "conformance" / "adapters" / "reference"
PROFILE = Path(__file__).resolve().parent / "survey-all.yaml"
NAMESPACE = "survey"

_FLIP_COMPARE: dict[type, type] = {ast.Eq: ast.NotEq, ast.NotEq: ast.Eq, ast.Lt: ast.LtE, ast.LtE: ast.Lt,
                                   ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.In: ast.NotIn, ast.NotIn: ast.In,
                                   ast.Is: ast.IsNot, ast.IsNot: ast.Is}
_SQL_SWAPS = ((" DESC", " ASC"), (" ASC", " DESC"), (" AND ", " OR "), (" >= ", " > "), (" <= ", " < "))
_SQL_WORDS = ("SELECT ", "UPDATE ", "DELETE ", "INSERT ", " WHERE ")


@dataclass(frozen=True)
class Site:
    """One mutation: in `module` (file name), the `index`-th candidate node, changed as `what`."""

    module: str
    index: int
    line: int
    what: str

    @property
    def name(self) -> str:
        return f"{self.module}:{self.line}#{self.index}"


# -- enumerating and applying mutations --------------------------------------------------------------------------

def _docstring_ids(tree: ast.AST) -> set[int]:
    """ids of the docstring expressions (never mutated: they change nothing)."""
    out: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                out.add(id(first))
                out.add(id(first.value))
    return out


def _skipped_ids(tree: ast.AST) -> set[int]:
    """ids of nodes inside annotations and ``if TYPE_CHECKING:`` blocks (not run-time behaviour)."""
    out: set[int] = set()

    def mark(sub: ast.AST | None) -> None:
        if sub is not None:
            out.update(id(n) for n in ast.walk(sub))

    for node in ast.walk(tree):
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            for stmt in node.body:
                mark(stmt)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            mark(node.returns)
            for a in [*node.args.args, *node.args.kwonlyargs, *node.args.posonlyargs,
                      node.args.vararg, node.args.kwarg]:
                if a is not None:
                    mark(a.annotation)
        elif isinstance(node, ast.AnnAssign):
            mark(node.annotation)
    return out


def _raises_or_returns(body: list[ast.stmt]) -> bool:
    return any(isinstance(s, (ast.Raise, ast.Return)) for s in body)


def _mutations(node: ast.AST) -> Iterator[tuple[str, Any]]:
    """(description, apply) for each mutation of `node`; apply(node) changes it in place."""
    if isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in _FLIP_COMPARE:
        old = type(node.ops[0])
        new = _FLIP_COMPARE[old]

        def flip(n: ast.Compare, new: type = new) -> None:
            n.ops = [new()]
        yield f"{old.__name__} -> {new.__name__}", flip
    elif isinstance(node, ast.BoolOp):
        new_op: type = ast.Or if isinstance(node.op, ast.And) else ast.And

        def swap(n: ast.BoolOp, new_op: type = new_op) -> None:
            n.op = new_op()
        yield f"{type(node.op).__name__} -> {new_op.__name__}", swap
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        def drop_not(n: ast.UnaryOp) -> None:
            n.op = ast.UAdd()  # +x is x for the bool/int operands `not` sees; keeps the node in place
            n.operand = ast.Call(ast.Name("bool", ast.Load()), [n.operand], [])
        yield "not dropped", drop_not
    elif isinstance(node, ast.If) and _raises_or_returns(node.body):
        def forget(n: ast.If) -> None:
            n.test = ast.Constant(False)
        yield "guard forgotten (if ... raise/return never taken)", forget
    elif isinstance(node, ast.Expr) and isinstance(node.value, (ast.Call, ast.Await)):
        def drop(n: ast.Expr) -> None:
            n.value = ast.Constant(None)
        yield "call statement dropped", drop
    elif isinstance(node, ast.Constant) and type(node.value) is bool:
        def negate(n: ast.Constant) -> None:
            n.value = not n.value
        yield f"{node.value} -> {not node.value}", negate
    elif isinstance(node, ast.Constant) and type(node.value) is int:
        def plus_one(n: ast.Constant) -> None:
            n.value = n.value + 1
        yield f"{node.value} -> {node.value + 1}", plus_one
    elif isinstance(node, ast.Constant) and isinstance(node.value, str) and any(w in node.value for w in _SQL_WORDS):
        for old_s, new_s in _SQL_SWAPS:
            if old_s in node.value:
                def sql(n: ast.Constant, old_s: str = old_s, new_s: str = new_s) -> None:
                    n.value = n.value.replace(old_s, new_s, 1)
                yield f"SQL {old_s.strip()!r} -> {new_s.strip()!r}", sql
        tail = node.value.rsplit(" ORDER BY ", 1)[1] if " ORDER BY " in node.value else ""
        if tail and " DESC" not in tail and " LIMIT " not in tail and ")" not in tail:
            def reverse(n: ast.Constant) -> None:
                n.value = n.value.rstrip() + " DESC"
            yield "SQL ORDER BY reversed", reverse
    elif isinstance(node, ast.Subscript) and isinstance(node.slice, (ast.Constant, ast.UnaryOp)):
        index = node.slice
        if isinstance(index, ast.Constant) and index.value == 0:
            def last(n: ast.Subscript) -> None:
                n.slice = ast.UnaryOp(ast.USub(), ast.Constant(1))
            yield "[0] -> [-1]", last
        elif (isinstance(index, ast.UnaryOp) and isinstance(index.op, ast.USub)
              and isinstance(index.operand, ast.Constant) and index.operand.value == 1):
            def first(n: ast.Subscript) -> None:
                n.slice = ast.Constant(0)
            yield "[-1] -> [0]", first


def _candidates(tree: ast.AST) -> Iterator[tuple[int, ast.AST, str, Any]]:
    """Every (index, node, description, apply) of `tree`, in a fixed order."""
    skip = _docstring_ids(tree) | _skipped_ids(tree)
    index = 0
    for node in ast.walk(tree):
        if id(node) in skip or not hasattr(node, "lineno"):
            continue
        for what, apply in _mutations(node):
            yield index, node, what, apply
            index += 1


def sites(module: str) -> list[Site]:
    """The mutation sites of one file of the reference EHR."""
    tree = ast.parse((TARGET_DIR / module).read_text(encoding="utf-8"))
    return [Site(module, i, node.lineno, what) for i, node, what, _apply in _candidates(tree)]


def mutated_code(site: Site) -> Any:
    """The code object of `site.module` with that one mutation applied."""
    path = TARGET_DIR / site.module
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for i, node, _what, apply in _candidates(tree):
        if i == site.index:
            apply(node)
            break
    else:
        raise LookupError(f"{site.name}: no such mutation site")
    ast.fix_missing_locations(tree)
    return compile(tree, str(path), "exec")


class _MutantFinder(importlib.abc.MetaPathFinder):
    """Serves the mutated code for the one module the site names; everything else imports as usual."""

    def __init__(self, site: Site) -> None:
        self.site = site
        self.fullname = f"{PACKAGE}.{site.module.removesuffix('.py')}"

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> importlib.machinery.ModuleSpec | None:
        if fullname != self.fullname:
            return None
        return importlib.util.spec_from_loader(fullname, _MutantLoader(self.site),
                                               origin=str(TARGET_DIR / self.site.module))


class _MutantLoader(importlib.abc.Loader):
    def __init__(self, site: Site) -> None:
        self.site = site

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> None:
        return None

    def exec_module(self, module: Any) -> None:
        module.__file__ = str(TARGET_DIR / self.site.module)
        exec(mutated_code(self.site), module.__dict__)


# -- running ------------------------------------------------------------------------------------------------------

def _run(report_dir: Path) -> dict[str, str]:
    """``conformance run`` of every EHR profile in this process; requirement id -> verdict."""
    import contextlib
    import io

    from conformance.cli import main

    out = io.StringIO()
    os.environ["CONFORMANCE_SHRINK"] = "0"
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        code = main(["run", "--profile", str(PROFILE), "--report-dir", str(report_dir), "--run-id", "run",
                     "--patient-namespace", NAMESPACE, "--adapter-timeout", "10", "-q"])
    if code not in (0, 1, 3):
        raise RuntimeError(f"the run did not complete (exit {code}):\n{out.getvalue()[-3000:]}")
    report = json.loads((report_dir / "run" / "report.json").read_text(encoding="utf-8"))
    return {row["id"]: row["verdict"] for row in report["requirements"]}


def _traced_run(report_dir: Path) -> tuple[dict[str, str], dict[str, set[int]]]:
    """The unmutated run, with the lines of the reference EHR it executes (file name -> line numbers)."""
    import threading

    target = str(TARGET_DIR)
    lines: dict[str, set[int]] = {}

    def local(frame: Any, event: str, arg: Any) -> Any:
        if event == "line":
            lines.setdefault(Path(frame.f_code.co_filename).name, set()).add(frame.f_lineno)
        return local

    def tracer(frame: Any, event: str, arg: Any) -> Any:
        if frame.f_code.co_filename.startswith(target):
            lines.setdefault(Path(frame.f_code.co_filename).name, set()).add(frame.f_lineno)
            return local
        return None

    threading.settrace(tracer)
    sys.settrace(tracer)
    try:
        verdicts = _run(report_dir)
    finally:
        sys.settrace(None)
        threading.settrace(None)  # type: ignore[arg-type]
    return verdicts, lines


_PURGED = ("conformance.adapters.reference", "conformance.server")


def _serve() -> None:
    """Worker process: read sites (``module index`` lines) on stdin, answer one JSON line each on stdout.

    The engine, its packages and validators stay loaded between runs (as in tests/mutants/runner.py); the reference
    EHR's modules are dropped before each run so the finder can serve the next mutant. A run that leaves threads
    behind (an adapter call the guard abandoned) asks to be replaced, so a spinning mutant cannot slow the next."""
    reply = sys.stdout
    sys.stdout = sys.stderr  # nothing but answers on the pipe
    threads = None
    for line in sys.stdin:
        module, index = line.split()
        site = next(s for s in sites(module) if s.index == int(index))
        for name in [m for m in sys.modules if m.startswith(_PURGED)]:
            del sys.modules[name]
        finder = _MutantFinder(site)
        sys.meta_path.insert(0, finder)
        try:
            with tempfile.TemporaryDirectory() as tmp:
                result: dict[str, Any] = {"verdicts": _run(Path(tmp))}
        except Exception as exc:  # a mutant may break the run itself: a finding, kept
            result = {"crash": f"{type(exc).__name__}: {exc}"[-2000:]}
        finally:
            sys.meta_path.remove(finder)
        import threading

        if threads is None:
            threads = threading.active_count()
        result["restart"] = threading.active_count() > threads
        reply.write(json.dumps(result) + "\n")
        reply.flush()


class _Worker:
    """A `_serve` process and the thread reading its answers, so that a run can be given a deadline."""

    def __init__(self) -> None:
        import queue
        import threading

        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
        self.proc = subprocess.Popen([sys.executable, "-m", "tests.mutants.survey", "--serve"], cwd=ROOT, env=env,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     text=True)
        self.answers: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.answers.put(line)
        self.answers.put("")

    def ask(self, site: Site, timeout: float) -> dict[str, Any] | None:
        """The run's result, or None when it missed its deadline (the worker is then killed)."""
        import queue

        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write(f"{site.module} {site.index}\n")
            self.proc.stdin.flush()
            line = self.answers.get(timeout=timeout)
        except (queue.Empty, BrokenPipeError):
            self.close()
            return None
        if not line:
            self.close()
            return {"crash": "the worker process died"}
        return json.loads(line)

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait()


def judge(base: dict[str, str], found: dict[str, str]) -> tuple[str, list[str]]:
    """caught / caught-by-error / undecided / survived, and the requirements whose verdict got worse.

    *undecided*: nothing fails or errors, but requirements that passed are now not-tested: the run is
    incomplete (not conformant under --strict, exit 0 without it)."""
    worse = sorted(r for r, v in found.items() if v in ("fail", "error") and base.get(r) not in ("fail", "error"))
    if any(found[r] == "fail" for r in worse):
        return "caught", worse
    if worse:
        return "caught-by-error", worse
    lost = sorted(r for r, v in found.items() if base.get(r) == "pass" and v != "pass")
    if lost:
        return "undecided", lost
    return "survived", []


def _outcome(res: dict[str, Any] | None, base: dict[str, str]) -> tuple[str, list[str]]:
    if res is None:
        return "timeout", []
    if "verdicts" in res:
        return judge(base, res["verdicts"])
    return "run-broken", []


def _drive(todo: list[Site], jobs: int, timeout: float) -> Iterator[tuple[Site, dict[str, Any] | None]]:
    """Each site's result, `jobs` workers at a time, a worker replaced after a timeout or a leaked thread."""
    import queue
    import threading

    pending: queue.Queue[Site] = queue.Queue()
    for s in todo:
        pending.put(s)
    done: queue.Queue[tuple[Site, dict[str, Any] | None]] = queue.Queue()

    def work() -> None:
        worker = _Worker()
        while True:
            try:
                site = pending.get_nowait()
            except queue.Empty:
                break
            t0 = time.monotonic()
            res = worker.ask(site, timeout)
            if res is not None:
                res["seconds"] = round(time.monotonic() - t0, 1)
            done.put((site, res))
            if res is None or res.get("restart") or res.get("crash") == "the worker process died":
                worker.close()
                worker = _Worker()
        worker.close()

    threads = [threading.Thread(target=work, daemon=True) for _ in range(jobs)]
    for t in threads:
        t.start()
    for _ in todo:
        yield done.get()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--list", action="store_true", help="list the mutation sites on executed lines, run nothing")
    parser.add_argument("--sample", type=int, default=0, help="run this many sites at random (default: all)")
    parser.add_argument("--seed", type=int, default=1, help="seed of --sample")
    parser.add_argument("--only", nargs="*", default=[], help="only sites named FILE, FILE:LINE or FILE#INDEX")
    parser.add_argument("--exclude", nargs="*", default=[], help="leave these files out")
    parser.add_argument("--jobs", type=int, default=2, help="mutants run at once (default 2)")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per mutant run (default 120)")
    parser.add_argument("--json", type=Path, help="write every mutant's outcome here (a JSON line each, as they end)")
    args = parser.parse_args(argv)

    if args.serve:
        _serve()
        return 0

    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.monotonic()
        base, executed = _traced_run(Path(tmp))
    print(f"unmutated run: {sum(v == 'pass' for v in base.values())} requirements pass "
          f"({time.monotonic() - t0:.0f} s)", flush=True)
    todo = [s for f in sorted(p.name for p in TARGET_DIR.glob("*.py")) for s in sites(f)
            if s.line in executed.get(f, set())]
    if args.only:
        todo = [s for s in todo if s.module in args.only or f"{s.module}:{s.line}" in args.only
                or f"{s.module}#{s.index}" in args.only]
    if args.exclude:
        todo = [s for s in todo if s.module not in args.exclude]
    if args.sample and args.sample < len(todo):
        todo = random.Random(args.seed).sample(todo, args.sample)  # run in random order: a survey stopped
        # early is still a sample of every file
    if args.list:
        for s in todo:
            print(f"{s.name}  {s.what}")
        print(f"{len(todo)} sites")
        return 0

    rows: list[dict[str, Any]] = []
    counts: dict[str, int] = {}
    sink = args.json.open("w", encoding="utf-8") if args.json else None
    if sink:
        sink.write(json.dumps({"baseline": base}) + "\n")
    for n, (site, res) in enumerate(_drive(todo, args.jobs, args.timeout), 1):
        outcome, worse = _outcome(res, base)
        counts[outcome] = counts.get(outcome, 0) + 1
        rows.append({**asdict(site), "outcome": outcome, "worse": worse,
                     **{k: v for k, v in (res or {}).items() if k not in ("verdicts", "restart")}})
        if sink:
            sink.write(json.dumps(rows[-1]) + "\n")
            sink.flush()
        print(f"[{n}/{len(todo)}] {outcome:<16} {site.name:<28} {site.what:<40} "
              f"{(res or {}).get('seconds', args.timeout):5.0f} s  {' '.join(worse)[:70]}", flush=True)
    rows.sort(key=lambda r: (r["module"], r["index"]))
    print("\n" + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) + f" of {len(todo)} mutants")
    for r in rows:
        if r["outcome"] == "survived":
            print(f"  survived: {r['module']}:{r['line']} #{r['index']} {r['what']}")
    if sink:
        sink.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
