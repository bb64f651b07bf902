"""FHIR NPM packages: load a `.tgz` or a folder with `package/package.json`, index by canonical URL.

A package is read once and kept as raw JSON bytes per conformance resource (parsed on first
use), because a validator touches a few dozen of the thousands of definitions a package holds.
The index is pickled in a user cache directory keyed by the sha256 of the package content, so
the next process loads it in milliseconds instead of re-parsing megabytes of JSON.

Files inside `package/` may be plain `*.json` resources, or `*.json.gz` / `*.json` Bundles of
resources (the form the FHIR core definitions are published in); both are indexed.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import pickle
import tarfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from conformance.errors import UsageError

#: resource types a validator looks up by canonical URL
CONFORMANCE_TYPES = frozenset({"StructureDefinition", "ValueSet", "CodeSystem", "NamingSystem", "ConceptMap",
                               # what validation also looks up by canonical: a QuestionnaireResponse's
                               # Questionnaire, a MeasureReport's Measure, an IG's global profiles
                               "Questionnaire", "Measure", "ImplementationGuide"})

_CACHE_FORMAT = 4  # bump when the pickled shape (or what is kept) changes


def cache_dir() -> Path:
    """Where parsed packages and generated snapshots are cached (override: EHDS_CONFORMANCE_CACHE)."""
    env = os.environ.get("EHDS_CONFORMANCE_CACHE")
    if env:
        return Path(env)
    import platformdirs

    return Path(platformdirs.user_cache_dir("ehds-conformance")) / "fhir"


def user_packages_dir() -> Path:
    """Where `conformance packages add` installs packages (override: EHDS_CONFORMANCE_HOME)."""
    env = os.environ.get("EHDS_CONFORMANCE_HOME")
    if env:
        return Path(env) / "packages"
    import platformdirs

    return Path(platformdirs.user_data_dir("ehds-conformance")) / "packages"


@dataclass(frozen=True, slots=True)
class PackageInfo:
    """What a report records about a loaded package."""

    name: str
    version: str
    sha256: str
    path: str
    fhir_versions: tuple[str, ...] = ()
    dependencies: tuple[tuple[str, str], ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "version": self.version, "sha256": self.sha256, "path": self.path}


@dataclass(slots=True)
class Package:
    """One loaded package: its manifest and its conformance resources as raw JSON bytes."""

    info: PackageInfo
    #: canonical url -> list of (version, raw JSON bytes); several versions may share a URL
    resources: dict[str, list[tuple[str, bytes]]] = field(default_factory=dict)
    #: resource type -> count (for `packages list`)
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.info.name

    @property
    def version(self) -> str:
        return self.info.version

    @property
    def sha256(self) -> str:
        return self.info.sha256


def _iter_resources(name: str, data: bytes) -> Iterator[dict[str, Any]]:
    """Yield the resources in one package file: a resource, or every entry of a Bundle."""
    if name.endswith(".gz"):
        data = gzip.decompress(data)
    try:
        obj = orjson.loads(data)
    except orjson.JSONDecodeError:
        return
    if not isinstance(obj, dict):
        return
    if obj.get("resourceType") == "Bundle":
        for entry in obj.get("entry") or []:
            res = entry.get("resource") if isinstance(entry, dict) else None
            if isinstance(res, dict):
                yield res
    else:
        yield obj


def _read_folder(root: Path) -> tuple[dict[str, Any], list[tuple[str, bytes]]]:
    pkg = root / "package"
    manifest_path = pkg / "package.json"
    if not manifest_path.is_file():
        raise UsageError(f"{root}: not a FHIR package (no package/package.json)\n"
                         "  hint: a package is a .tgz or a folder holding package/package.json")
    files: list[tuple[str, bytes]] = []
    for p in sorted(pkg.iterdir()):
        if p.is_file() and (p.name.endswith(".json") or p.name.endswith(".json.gz")) and p.name != "package.json" \
                and not p.name.startswith("."):
            files.append((p.name, p.read_bytes()))
    return orjson.loads(manifest_path.read_bytes()), files


def _read_tgz(path: Path) -> tuple[dict[str, Any], list[tuple[str, bytes]]]:
    manifest: dict[str, Any] | None = None
    files: list[tuple[str, bytes]] = []
    try:
        with tarfile.open(path, "r:*") as tar:
            for member in tar.getmembers():
                if not member.isfile():
                    continue
                parts = member.name.lstrip("./").split("/")
                if len(parts) != 2 or parts[0] != "package":
                    continue  # examples/, other/, openapi/ are not conformance resources
                fh = tar.extractfile(member)
                if fh is None:
                    continue
                data = fh.read()
                if parts[1] == "package.json":
                    manifest = orjson.loads(data)
                elif parts[1].endswith(".json") or parts[1].endswith(".json.gz"):
                    if not parts[1].startswith("."):
                        files.append((parts[1], data))
    except (tarfile.TarError, OSError) as exc:
        raise UsageError(f"{path}: cannot read package archive: {exc}\n  hint: expected an NPM-style FHIR package .tgz") \
            from exc
    if manifest is None:
        raise UsageError(f"{path}: archive has no package/package.json\n  hint: is this an NPM-style FHIR package?")
    return manifest, files


def _digest(manifest_bytes: bytes, files: Iterable[tuple[str, bytes]]) -> str:
    h = hashlib.sha256()
    h.update(manifest_bytes)
    for name, data in files:
        h.update(name.encode())
        h.update(b"\0")
        h.update(hashlib.sha256(data).digest())
    return h.hexdigest()


def _build(manifest: dict[str, Any], files: list[tuple[str, bytes]], sha: str, path: str) -> Package:
    deps = tuple(sorted((str(k), str(v)) for k, v in (manifest.get("dependencies") or {}).items()))
    info = PackageInfo(
        name=str(manifest.get("name", "?")),
        version=str(manifest.get("version", "?")),
        sha256=sha,
        path=path,
        fhir_versions=tuple(manifest.get("fhirVersions") or manifest.get("fhir-version-list") or ()),
        dependencies=deps,
    )
    package = Package(info)
    for name, data in files:
        for res in _iter_resources(name, data):
            rtype = res.get("resourceType")
            url = res.get("url")
            if rtype not in CONFORMANCE_TYPES or not isinstance(url, str):
                continue
            package.counts[rtype] = package.counts.get(rtype, 0) + 1
            package.resources.setdefault(url, []).append((str(res.get("version", "")), orjson.dumps(res)))
    return package


def load_package(path: str | os.PathLike[str], *, use_cache: bool = True) -> Package:
    """Load one package (folder or .tgz), through the pickle cache when its content is unchanged."""
    p = Path(path)
    if not p.exists():
        raise UsageError(f"{p}: no such package file or folder")
    if p.is_dir():
        manifest, files = _read_folder(p)
        manifest_bytes = (p / "package" / "package.json").read_bytes()
    else:
        manifest, files = _read_tgz(p)
        manifest_bytes = orjson.dumps(manifest)
    sha = _digest(manifest_bytes, files)
    cache_file = cache_dir() / f"pkg-{_CACHE_FORMAT}-{sha}.pickle"
    if use_cache and cache_file.is_file():
        try:
            with cache_file.open("rb") as fh:
                package = pickle.load(fh)
            if isinstance(package, Package):
                package.info = PackageInfo(**{**_info_dict(package.info), "path": str(p)})
                return package
        except Exception:  # a corrupt cache is rebuilt, never trusted
            pass
    package = _build(manifest, files, sha, str(p))
    if use_cache:
        try:
            cache_file.parent.mkdir(parents=True, exist_ok=True)
            tmp = cache_file.with_suffix(f".{os.getpid()}.tmp")
            with tmp.open("wb") as fh:
                pickle.dump(package, fh, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, cache_file)
        except OSError:
            pass  # read-only home: work without a cache
    return package


def _info_dict(info: PackageInfo) -> dict[str, Any]:
    return {k: getattr(info, k) for k in PackageInfo.__slots__}


def find_package_folders(root: Path) -> list[Path]:
    """Every package folder (holding package/package.json) under root, nested ones included."""
    if not root.is_dir():
        return []
    return sorted(p.parent.parent for p in root.rglob("package/package.json"))


def installed_user_packages() -> list[Path]:
    return find_package_folders(user_packages_dir())


def install_package(source: str | os.PathLike[str]) -> PackageInfo:
    """Copy a package (.tgz or folder) into the user package store; returns what was installed."""
    import shutil

    package = load_package(source)
    dest = user_packages_dir() / f"{package.name}#{package.version}"
    if dest.exists():
        shutil.rmtree(dest)
    (dest / "package").mkdir(parents=True)
    src = Path(source)
    if src.is_dir():
        manifest, files = _read_folder(src)
    else:
        manifest, files = _read_tgz(src)
    (dest / "package" / "package.json").write_bytes(orjson.dumps(manifest, option=orjson.OPT_INDENT_2))
    for name, data in files:
        (dest / "package" / name).write_bytes(data)
    return load_package(dest).info


def remove_package(spec: str) -> Path:
    """Remove an installed user package by `name` or `name#version`."""
    import shutil

    matches = [p for p in installed_user_packages() if p.name == spec or p.name.split("#")[0] == spec]
    if not matches:
        raise UsageError(f"no installed package named {spec!r}\n  hint: `conformance packages list` shows them")
    for m in matches:
        shutil.rmtree(m)
    return matches[0]


def resource_bytes_from_file(path: Path) -> Iterator[bytes]:
    """Raw JSON of the conformance resources in one loose file (used for --package FILE.json)."""
    data = path.read_bytes()
    for res in _iter_resources(path.name, data):
        if res.get("resourceType") in CONFORMANCE_TYPES:
            yield orjson.dumps(res)


__all__ = [
    "CONFORMANCE_TYPES",
    "Package",
    "PackageInfo",
    "cache_dir",
    "find_package_folders",
    "install_package",
    "installed_user_packages",
    "load_package",
    "remove_package",
    "user_packages_dir",
]
