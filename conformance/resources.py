"""Where the shipped data lives, in a source checkout and in an installed wheel alike.

`profiles/` and `testcases/` sit at the top of the repository and are installed
as the packages `conformance._profiles` / `conformance._testcases`.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path


@cache
def _dir(package: str, fallback: str) -> Path:
    try:
        path = Path(str(resources.files(package)))
        if path.is_dir():
            return path
    except (ModuleNotFoundError, TypeError):
        pass
    return Path(__file__).resolve().parent.parent / fallback


def profiles_dir() -> Path:
    """Requirement profiles (YAML), their schema, and pinned FHIR/CDA packages."""
    return _dir("conformance._profiles", "profiles")


def testcases_dir() -> Path:
    """The checks that `conformance run` hands to pytest."""
    return _dir("conformance._testcases", "testcases")


def fhir_packages_dir() -> Path:
    return profiles_dir() / "packages"


def cda_dir() -> Path:
    return profiles_dir() / "cda"
