"""The modules of conformance/fhir import each other one way: no circle, counting every import
(module level, inside functions, and under TYPE_CHECKING), and none of them imports pytest."""

from __future__ import annotations

import ast
from pathlib import Path

PKG = Path(__file__).resolve().parents[2] / "conformance" / "fhir"


def _imports(path: Path) -> set[str]:
    """The conformance.fhir modules (short names) and top-level packages one file imports."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module == "conformance.fhir":
                out.update(a.name for a in node.names)
            elif node.module.startswith("conformance.fhir."):
                out.add(node.module.split(".")[2])
            else:
                out.add(node.module.split(".")[0])
        elif isinstance(node, ast.Import):
            for a in node.names:
                parts = a.name.split(".")
                out.add(parts[2] if a.name.startswith("conformance.fhir.") else parts[0])
    return out


def graph() -> dict[str, set[str]]:
    modules = {p.stem for p in PKG.glob("*.py") if p.stem != "__init__"}
    return {m: _imports(PKG / f"{m}.py") & modules - {m} for m in modules}


def find_cycle(g: dict[str, set[str]]) -> list[str] | None:
    """A circle in the graph as a list of modules (first == last), or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m: str) -> list[str] | None:
        state[m] = 1
        stack.append(m)
        for n in sorted(g.get(m, ())):
            if state.get(n) == 1:
                return stack[stack.index(n):] + [n]
            if n not in state:
                found = visit(n)
                if found:
                    return found
        stack.pop()
        state[m] = 2
        return None

    for m in sorted(g):
        if m not in state:
            found = visit(m)
            if found:
                return found
    return None


def test_no_import_cycle_in_conformance_fhir():
    cycle = find_cycle(graph())
    assert cycle is None, "import circle: " + " -> ".join(cycle or [])


def test_cycle_finder_finds_a_planted_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_validators_never_import_pytest():
    offenders = sorted(p.name for p in PKG.glob("*.py") if {"pytest", "_pytest"} & _imports(p))
    assert not offenders, f"validator modules import pytest: {offenders}"


def test_no_validator_module_over_800_lines():
    long = {p.name: n for p in PKG.glob("*.py") if (n := len(p.read_text(encoding="utf-8").splitlines())) > 800}
    assert not long, f"split these modules along their seams: {long}"
