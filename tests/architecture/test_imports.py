"""Import rules of the engine (docs/DESIGN.md, "Import rules"), read from the source with `ast`.

(a) the engine (`conformance/**`) never imports the requirement packs or the harness's tests
    (`testcases`, `ehds_support`, `tests`): imports point one way;
(b) adapters (`conformance/adapters/**`) never import the reference server (`conformance.server`):
    an adapter reaches a SUT through its interface, not through its insides;
(c) the validators (`conformance/fhir/**`, `conformance/cda/**`) never import pytest or hypothesis:
    they are a library a vendor can call outside any test run;
(d) no import cycles among `conformance` modules (module-level imports; an import inside a
    function is a deliberate deferral and runs after both modules exist).

Rules (a)-(c) read every import, including those inside functions. Known violations being fixed
on other branches are listed in ALLOWED with their issue; delete an entry once its fix has landed
(the test fails for an entry that no longer matches anything, so the list cannot go stale).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ENGINE = ROOT / "conformance"

#: (rule, importer, imported) -> why it is tolerated for now. The importer and imported are module
#: names; for a cycle, the importer is the cycle's first module (sorted) and imported the cycle
#: written as "a -> b -> a".
ALLOWED: dict[tuple[str, str, str], str] = {
    # empty: fhir_rest -> server.keys went when the JOSE code moved to conformance/jose.py
}


@dataclass(frozen=True)
class Import:
    importer: str  # module name
    imported: str  # the module imported (a submodule when `from pkg import submodule`)
    line: int
    module_level: bool


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def engine_modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(ENGINE.rglob("*.py")) if "__pycache__" not in p.parts}


def _resolve(importer: str, is_package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = importer.split(".")
    base = base if is_package else base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _walk(node: ast.AST, module_level: bool) -> Iterator[tuple[ast.AST, bool]]:
    """Every import statement under `node`, and whether it runs when the module is imported."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, (ast.Import, ast.ImportFrom)):
            yield child, module_level
        elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            yield from _walk(child, False)
        elif isinstance(child, ast.If) and _is_type_checking(child):
            yield from _walk(child, False)
        else:  # class bodies, if/try/with at module level run on import
            yield from _walk(child, module_level)


def imports_of(path: Path, modules: dict[str, Path] | None = None) -> list[Import]:
    """The imports of one source file of the engine."""
    return imports_in(path.read_text(encoding="utf-8"), module_name(path), path.name == "__init__.py",
                      engine_modules() if modules is None else modules)


def imports_in(source: str, importer: str, is_package: bool, modules: dict[str, Path]) -> list[Import]:
    """The imports of module `importer` whose text is `source`; `from pkg import name` counts as
    importing `pkg.name` when that is a module of the engine, else `pkg`."""
    found: list[Import] = []
    for node, module_level in _walk(ast.parse(source), True):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        else:
            assert isinstance(node, ast.ImportFrom)
            base = _resolve(importer, is_package, node)
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
        found += [Import(importer, t, node.lineno, module_level) for t in dict.fromkeys(targets)]
    return found


def all_imports() -> list[Import]:
    modules = engine_modules()
    return [imp for path in modules.values() for imp in imports_of(path, modules)]


def _top(name: str) -> str:
    return name.split(".")[0]


def _within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def rule_violations(imports: list[Import]) -> dict[tuple[str, str, str], Import]:
    out: dict[tuple[str, str, str], Import] = {}
    for imp in imports:
        if _top(imp.imported) in ("testcases", "ehds_support", "tests"):
            out[("a", imp.importer, imp.imported)] = imp
        if _within(imp.importer, "conformance.adapters") and _within(imp.imported, "conformance.server"):
            out[("b", imp.importer, imp.imported)] = imp
        validator = _within(imp.importer, "conformance.fhir") or _within(imp.importer, "conformance.cda")
        if validator and _top(imp.imported) in ("pytest", "_pytest", "hypothesis"):
            out[("c", imp.importer, imp.imported)] = imp
    return out


def import_cycles(imports: list[Import]) -> list[list[str]]:
    """One cycle path (first module repeated at the end) per strongly connected group of modules
    that import each other at module level."""
    graph: dict[str, set[str]] = {}
    for imp in imports:
        if imp.module_level and _top(imp.imported) == "conformance" and imp.imported != imp.importer:
            graph.setdefault(imp.importer, set()).add(imp.imported)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[set[str]] = []

    def visit(node: str) -> None:  # Tarjan's strongly connected components
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = set()
            while True:
                member = stack.pop()
                group.add(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(group)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return [_path_through(sorted(group), graph, group) for group in groups]


def _path_through(members: list[str], graph: dict[str, set[str]], group: set[str]) -> list[str]:
    """A shortest cycle from the group's first module back to itself (breadth first)."""
    start = members[0]
    paths = {start: [start]}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for nxt in sorted(graph.get(node, set()) & group):
            if nxt == start:
                return [*paths[node], start]
            if nxt not in paths:
                paths[nxt] = [*paths[node], nxt]
                queue.append(nxt)
    raise AssertionError(f"no cycle through {start}")  # pragma: no cover - a group always has one


def cycle_key(cycle: list[str]) -> tuple[str, str, str]:
    return ("d", cycle[0], " -> ".join(cycle))


def test_the_engine_obeys_the_import_rules() -> None:
    modules = engine_modules()
    found = rule_violations(all_imports())
    unexpected = {k: v for k, v in found.items() if k not in ALLOWED}
    assert not unexpected, "import rules broken (docs/DESIGN.md, Import rules):\n" + "\n".join(
        f"  rule ({rule}): {importer} imports {imported} ({modules[importer].relative_to(ROOT)}:{imp.line})"
        for (rule, importer, imported), imp in sorted(unexpected.items()))


def test_no_import_cycles_in_the_engine() -> None:
    cycles = [c for c in import_cycles(all_imports()) if cycle_key(c) not in ALLOWED]
    assert not cycles, "module-level import cycles (break one edge, or defer an import into a function):\n" + (
        "\n".join("  " + " -> ".join(c) for c in cycles))


def test_every_allowed_violation_still_exists() -> None:
    """An allow-list entry whose violation is gone must be deleted (the fix landed)."""
    imports = all_imports()
    present = set(rule_violations(imports)) | {cycle_key(c) for c in import_cycles(imports)}
    stale = sorted(set(ALLOWED) - present)
    assert not stale, f"these ALLOWED entries no longer match a violation; delete them: {stale}"


@pytest.mark.parametrize(("source", "rule"), [
    ("import testcases.core\n", "a"),
    ("def later():\n    from ehds_support import flow\n", "a"),
    ("from tests.mutants import MUTANTS\n", "a"),
])
def test_a_forbidden_import_is_found(source: str, rule: str) -> None:
    """The reader sees forbidden imports at module level and inside functions alike."""
    imports = imports_in(source, "conformance.probe", False, engine_modules())
    assert rule in {r for r, _, _ in rule_violations(imports)}


def test_imports_are_resolved_to_modules() -> None:
    source = ("from . import model\nfrom .fhir import validator, NotAModule\nimport conformance.errors as e\n"
              "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from conformance import guard\n")
    imports = imports_in(source, "conformance.verdicts", False, engine_modules())
    assert [(i.imported, i.module_level) for i in imports] == [
        ("conformance.model", True), ("conformance.fhir.validator", True), ("conformance.fhir", True),
        ("conformance.errors", True), ("typing", True), ("conformance.guard", False)]


def test_the_rules_know_their_layers() -> None:
    probe = [Import("conformance.adapters.x", "conformance.server.app", 1, False),
             Import("conformance.fhir.y", "hypothesis.strategies", 1, False),
             Import("conformance.cda.z", "pytest", 1, True),
             Import("conformance.report.w", "pytest", 1, True),  # only the validators are pytest-free
             Import("conformance.server.app", "conformance.adapters.reference", 1, True)]
    assert set(rule_violations(probe)) == {("b", "conformance.adapters.x", "conformance.server.app"),
                                          ("c", "conformance.fhir.y", "hypothesis.strategies"),
                                          ("c", "conformance.cda.z", "pytest")}


def test_a_cycle_is_reported_with_its_path() -> None:
    probe = [Import("conformance.a", "conformance.b", 1, True), Import("conformance.b", "conformance.c", 1, True),
             Import("conformance.c", "conformance.a", 1, True), Import("conformance.c", "conformance.d", 1, True),
             Import("conformance.d", "conformance.c", 5, False)]  # inside a function: no cycle
    assert import_cycles(probe) == [["conformance.a", "conformance.b", "conformance.c", "conformance.a"]]

