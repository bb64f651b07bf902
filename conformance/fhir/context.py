"""The definitions a validator sees: every loaded package plus loose resources, by canonical URL.

Lookups accept `url`, `url|version` and bare R4 type names. Resources are parsed from the raw
bytes a package keeps on first use, and differential-only StructureDefinitions get a generated
snapshot on first use (see `snapshot.py`), cached in memory and in the user cache directory.
"""

from __future__ import annotations

import hashlib
import os
import pickle
from collections.abc import Iterable
from typing import Any

import orjson

from conformance.fhir.core_fixes import corrected
from conformance.fhir.packages import Package, PackageInfo, cache_dir
from conformance.fhir.snapshot import GENERATOR_VERSION, generate_snapshot

CORE_SD = "http://hl7.org/fhir/StructureDefinition/"


def _version_key(v: str) -> tuple:
    parts = []
    for p in v.replace("-", ".").split("."):
        parts.append((0, int(p), "") if p.isdigit() else (1, 0, p))
    return tuple(parts)


class Definitions:
    """Canonical-URL index over packages and loose resources (later additions win on exact version ties)."""

    def __init__(self, packages: Iterable[Package] = (), resources: Iterable[dict[str, Any]] = ()) -> None:
        self.packages: list[Package] = []
        self._raw: dict[str, list[tuple[str, bytes | dict[str, Any], str]]] = {}
        self._parsed: dict[str, dict[str, Any] | None] = {}
        self._snapshots: dict[str, dict[str, Any]] = {}
        self._folded: dict[str, str] | None = None  # lower-cased URL -> URL, built on first `same_but_case`
        for p in packages:
            self.add_package(p)
        for r in resources:
            self.add_resource(r)

    # -- building -------------------------------------------------------------------------------
    def add_package(self, package: Package) -> None:
        self.packages.append(package)
        for url, versions in package.resources.items():
            bucket = self._raw.setdefault(url, [])
            for version, data in versions:
                bucket.append((version, data, package.name))
        self._parsed.clear()
        self._folded = None

    def add_resource(self, res: dict[str, Any], origin: str = "local") -> None:
        url = res.get("url")
        if not isinstance(url, str):
            return
        # loose resources take precedence: they are what the caller explicitly asked for
        self._raw.setdefault(url, []).insert(0, (str(res.get("version", "")), res, origin))
        self._parsed.clear()
        self._folded = None

    @property
    def package_infos(self) -> list[PackageInfo]:
        return [p.info for p in self.packages]

    # -- lookup ---------------------------------------------------------------------------------
    def get(self, url: str | None) -> dict[str, Any] | None:
        """The resource with this canonical (optionally `|version`); newest version when unpinned."""
        if not url:
            return None
        try:
            return self._parsed[url]
        except KeyError:
            pass
        base, _, version = url.partition("|")
        bucket = self._raw.get(base)
        found: dict[str, Any] | None = None
        if bucket:
            choice = None
            if version:
                choice = next((b for b in bucket if b[0] == version), None)
            if choice is None:
                loose = [b for b in bucket if isinstance(b[1], dict)]
                choice = loose[0] if loose else max(bucket, key=lambda b: _version_key(b[0]))
            data = choice[1]
            found = data if isinstance(data, dict) else orjson.loads(data)
        elif "/" not in url and ":" not in url:
            found = self.get(CORE_SD + url)
        elif "#" in base:  # `<canonical>#id`: a resource contained in a canonical resource (a profile's value set)
            owner, _, local = base.partition("#")
            container = self.get(owner)
            found = next((c for c in (container or {}).get("contained") or () if isinstance(c, dict)
                          and c.get("id") == local), None)
        self._parsed[url] = found
        return found

    def origin(self, url: str) -> str:
        bucket = self._raw.get(url.partition("|")[0])
        return bucket[0][2] if bucket else ""

    def has(self, url: str) -> bool:
        return url.partition("|")[0] in self._raw or (CORE_SD + url) in self._raw

    def urls(self, resource_type: str | None = None) -> list[str]:
        if resource_type is None:
            return list(self._raw)
        out = []
        for url in self._raw:
            res = self.get(url)
            if res and res.get("resourceType") == resource_type:
                out.append(url)
        return out

    def same_but_case(self, url: str) -> str | None:
        """The loaded canonical URL equal to `url` (any `|version` ignored) but for letter case, for "did you mean"
        hints; the index is built once per set of definitions, not per question (a document repeating a misspelt
        extension asks once per occurrence)."""
        if self._folded is None:
            self._folded = {}
            for known in self._raw:
                self._folded.setdefault(known.lower(), known)
        return self._folded.get(url.partition("|")[0].lower())

    def structure_definition(self, url: str) -> dict[str, Any] | None:
        sd = self.get(url)
        if sd is None or sd.get("resourceType") != "StructureDefinition":
            return None
        return sd

    def snapshot(self, url: str) -> dict[str, Any] | None:
        """The StructureDefinition with a snapshot (generated from its differential when missing)."""
        key = url.partition("|")[0] if "|" not in url else url
        if key in self._snapshots:
            return self._snapshots[key]
        sd = self.structure_definition(url)
        if sd is None:
            return None
        sd = corrected(sd)
        if not (sd.get("snapshot") or {}).get("element"):
            sd = self._generated_snapshot(sd)
        self._snapshots[key] = sd
        return sd

    def _generated_snapshot(self, sd: dict[str, Any]) -> dict[str, Any]:

        base_url = sd.get("baseDefinition")
        base = self.snapshot(base_url) if base_url else None
        digest = hashlib.sha256(orjson.dumps(sd, option=orjson.OPT_SORT_KEYS)
                                + orjson.dumps(base or {}, option=orjson.OPT_SORT_KEYS)).hexdigest()
        cache_file = cache_dir() / f"snapshot-{GENERATOR_VERSION}-{digest}.pickle"
        if cache_file.is_file():
            try:
                with cache_file.open("rb") as fh:
                    return pickle.load(fh)
            except Exception:
                pass
        out = generate_snapshot(sd, self)
        try:
            cache_file.parent.mkdir(parents=True, exist_ok=True)
            tmp = cache_file.with_suffix(f".{os.getpid()}.tmp")
            with tmp.open("wb") as fh:
                pickle.dump(out, fh, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, cache_file)
        except OSError:
            pass
        return out

    def type_sd(self, type_code: str) -> dict[str, Any] | None:
        if "/" in type_code:
            return self.snapshot(type_code)
        return self.snapshot(CORE_SD + type_code)
