"""manifest.json: the sha256 of every artefact in a report directory.

The signature covers the manifest, the manifest covers every file: so one
signature protects the whole directory, and a changed byte anywhere is found
and named by `verify`.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

MANIFEST_FILE = "manifest.json"
SIGNATURE_FILE = "manifest.jws"
#: files that describe the directory and are therefore not listed in it
NOT_LISTED = frozenset({MANIFEST_FILE, SIGNATURE_FILE})


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 16), b""):
            h.update(chunk)
    return h.hexdigest()


def artefacts(directory: Path) -> list[Path]:
    """Every file below directory except the manifest and its signature, sorted by relative path."""
    files = [p for p in directory.rglob("*") if p.is_file() and p.relative_to(directory).as_posix() not in NOT_LISTED]
    return sorted(files, key=lambda p: p.relative_to(directory).as_posix())


def build_manifest(directory: Path, run_id: str) -> dict[str, Any]:
    return {
        "manifest_version": "1",
        "run_id": run_id,
        "algorithm": "sha256",
        "files": [
            {"path": p.relative_to(directory).as_posix(), "sha256": sha256_file(p), "size": p.stat().st_size}
            for p in artefacts(directory)
        ],
    }


def write_manifest(directory: Path, run_id: str) -> Path:
    path = directory / MANIFEST_FILE
    path.write_text(json.dumps(build_manifest(directory, run_id), indent=2) + "\n", encoding="utf-8")
    return path


def check_manifest(directory: Path, manifest: dict[str, Any]) -> list[str]:
    """Problems found comparing the directory with its manifest, one per file ('<path>: <what>')."""
    problems: list[str] = []
    listed = set()
    for entry in manifest.get("files", []):
        rel = entry["path"]
        listed.add(rel)
        path = directory / rel
        if ".." in Path(rel).parts or Path(rel).is_absolute():
            problems.append(f"{rel}: path escapes the report directory")
            continue
        if not path.is_file():
            problems.append(f"{rel}: missing")
            continue
        actual = sha256_file(path)
        if actual != entry["sha256"]:
            problems.append(
                f"{rel}: content changed (sha256 {actual[:16]}..., manifest says {entry['sha256'][:16]}...)"
            )
    for p in artefacts(directory):
        rel = p.relative_to(directory).as_posix()
        if rel not in listed:
            problems.append(f"{rel}: not listed in the manifest (added after the report was written)")
    return problems
