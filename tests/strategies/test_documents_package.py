"""conformance.documents is a package of one module per priority category; everything that any
part of the project imports from ``conformance.documents`` stays importable from there, and no
module of it grows back into a monolith."""

from __future__ import annotations

import ast
from pathlib import Path

import conformance.documents as documents
from conformance.categories import PRIORITY_CATEGORIES

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "conformance" / "documents"
MAX_LINES = 400


def _imported_names() -> dict[str, set[str]]:
    """name -> files doing `from conformance.documents import name`, across the source tree."""
    found: dict[str, set[str]] = {}
    for folder in ("conformance", "testcases", "tests", "benchmarks", "examples"):
        for path in (ROOT / folder).rglob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if isinstance(node, ast.ImportFrom) and node.module == "conformance.documents":
                    for alias in node.names:
                        found.setdefault(alias.name, set()).add(str(path.relative_to(ROOT)))
    return found


def test_every_name_imported_from_the_package_exists() -> None:
    imported = _imported_names()
    assert "valid_document" in imported  # the scan does see the imports
    missing = {name: sorted(files) for name, files in imported.items() if not hasattr(documents, name)}
    assert not missing, f"re-export these from conformance/documents/__init__.py: {missing}"


def test_one_module_per_priority_category() -> None:
    modules = {p.stem.replace("_", "-") for p in PACKAGE.glob("*.py")}
    assert set(PRIORITY_CATEGORIES) <= modules


def test_no_module_is_a_monolith() -> None:
    sizes = {p.name: len(p.read_text(encoding="utf-8").splitlines()) for p in PACKAGE.glob("*.py")}
    assert all(n <= MAX_LINES for n in sizes.values()), sizes
