"""The FHIR R4 validator: the loaded definitions (packages, compiled structures, terminology) and the
entry point `validate()`, which hands one instance to a `run.Run` walk.

`Validator` holds what depends only on the definitions and is shared by every call (compiled
StructureDefinitions, target-type sets, the FHIRPath engine); the walk and its rules live in
`run` and the rule modules it uses, so this module stays about loading and caching.
"""

from __future__ import annotations

import gc
import os
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from conformance.fhir.context import CORE_SD, Definitions
from conformance.fhir.invariants import FhirPath
from conformance.fhir.packages import (
    Package,
    PackageInfo,
    find_package_folders,
    installed_user_packages,
    load_package,
    resource_bytes_from_file,
)
from conformance.fhir.primitives import json_kind
from conformance.fhir.references import type_id_of
from conformance.fhir.run import Run
from conformance.fhir.settings import Settings
from conformance.fhir.snapshot import SnapshotError
from conformance.fhir.structure import CompiledStructure, compile_structure
from conformance.fhir.terminology import Terminology
from conformance.fhir.values import issue
from conformance.issues import ValidationIssue
from conformance.resources import fhir_packages_dir


class Validator:
    """Validates FHIR R4 JSON resources against the definitions of the loaded packages.

    `packages`: package folders / .tgz files (default: every package shipped under
    profiles/packages plus those installed with `conformance packages add`).
    `resources`: extra conformance resources (StructureDefinitions, ValueSets, CodeSystems) as dicts.
    `settings`: the reference validator's switches that change verdicts (extension policy, best
    practice, ...), see `conformance.fhir.settings.Settings`.
    """

    def __init__(self, packages: Sequence[str | os.PathLike[str] | Package] | None = None, *,
                 resources: Iterable[dict[str, Any]] = (), include_user_packages: bool = True,
                 include_shipped: bool | None = None, settings: Settings | None = None) -> None:
        self.settings = settings or Settings()
        loaded: list[Package] = []
        if include_shipped is None:
            include_shipped = packages is None
        paths: list[Any] = []
        if include_shipped or packages is None:
            paths.extend(find_package_folders(fhir_packages_dir()))
        if packages:
            paths.extend(packages)
        if include_user_packages:
            paths.extend(installed_user_packages())
        extra: list[dict[str, Any]] = list(resources)
        for p in paths:
            if isinstance(p, Package):
                loaded.append(p)
                continue
            path = Path(p)
            if path.is_file() and path.suffix == ".json":  # a loose conformance resource or Bundle of them
                import orjson
                extra.extend(orjson.loads(b) for b in resource_bytes_from_file(path))
                continue
            loaded.append(load_package(path))
        if not any(p.name == "hl7.fhir.r4.core" for p in loaded):
            core = [f for f in find_package_folders(fhir_packages_dir()) if f.name == "hl7.fhir.r4.core"]
            loaded[:0] = [load_package(f) for f in core]
        self.defs = Definitions(loaded, extra)
        self.terminology = Terminology(self.defs)
        self.fhirpath = FhirPath()
        self._structures: dict[str, CompiledStructure | None] = {}
        #: profiles that are loaded but cannot be used (no snapshot can be made), with the reason, for the issue
        self.unusable: dict[str, str] = {}
        self._mini: dict[str, Any] = {}
        self._target_types: dict[tuple[str, ...], tuple[frozenset[str], tuple[str, ...]]] = {}
        self._lock = threading.RLock()
        self._resource_types: frozenset[str] | None = None
        self._globals: dict[str, tuple[str, ...]] | None = None
        self._targets: dict[str, dict[str, Any] | None] = {}  # "Type/id" -> resource, None: looked for, absent
        self._fetchers: list[Callable[[str, str, Validator], dict[str, Any] | None]] = []  # add_reference_fetcher

    # -- public API ----------------------------------------------------------------------------
    @property
    def packages(self) -> list[PackageInfo]:
        return self.defs.package_infos

    def add_resource(self, resource: dict[str, Any]) -> None:
        """Register one more conformance resource (e.g. a profile a test brings along)."""
        with self._lock:
            self.defs.add_resource(resource)
            self._structures.clear()
            self.unusable.clear()
            self._target_types.clear()
            self._globals = None
            self.terminology = Terminology(self.defs)

    def add_reference_target(self, resource: dict[str, Any]) -> None:
        """Make a resource outside the instances findable by references (`Type/id`, or an absolute URL ending in
        it), as the reference validator's resource fetcher does: what `Settings.check_references` checks a
        reference against when it does not resolve inside the instance. A Bundle adds its entries' resources."""
        if resource.get("resourceType") == "Bundle" and isinstance(resource.get("entry"), list):
            for entry in resource["entry"]:
                if isinstance(entry, dict) and isinstance(entry.get("resource"), dict):
                    self.add_reference_target(entry["resource"])
            return
        rt, rid = resource.get("resourceType"), resource.get("id")
        if not (isinstance(rt, str) and isinstance(rid, str) and rid):
            raise ValueError("a reference target needs a resourceType and an id (hint: it is found by Type/id)")
        with self._lock:
            self._targets[f"{rt}/{rid}"] = resource

    def add_reference_fetcher(self, fetch: Callable[[str, str, Validator], dict[str, Any] | None]) -> None:
        """Let references find resources outside the instances through `fetch(type, id, validator)` (e.g.
        `conformance.fhir.fetcher.folder_fetcher`), as the reference validator's resource fetcher: asked when a
        reference first names a `Type/id` that `add_reference_target` did not give."""
        with self._lock:
            self._fetchers.append(fetch)
            self._targets = {k: v for k, v in self._targets.items() if v is not None}

    def reference_target(self, ref: str) -> dict[str, Any] | None:
        """The resource outside the instance that `ref` names (relative `Type/id`, or an absolute URL or a
        versioned reference ending in it), from `add_reference_target` or a fetcher; None if none."""
        if not self._targets and not self._fetchers:
            return None
        key = type_id_of(ref)
        rtype, slash, rid = key.partition("/")
        if not slash:
            return None
        if key in self._targets:
            return self._targets[key]
        found = self._fetched(rtype, rid)
        with self._lock:
            self._targets[key] = found
        return found

    def _fetched(self, rtype: str, rid: str) -> dict[str, Any] | None:
        for fetch in self._fetchers:
            found = fetch(rtype, rid, self)
            if found is not None:
                return found
        return None

    def structure(self, url: str) -> CompiledStructure | None:
        """The compiled StructureDefinition for a canonical URL (or a core type name), or None."""
        hit = self._structures.get(url, False)
        if hit is not False:
            return hit  # type: ignore[return-value]
        try:
            sd = self.defs.snapshot(url if ("/" in url or ":" in url) else CORE_SD + url)
            cs = compile_structure(sd) if sd is not None else None
        except SnapshotError as exc:  # loaded, but no snapshot can be made (its base is missing...): not usable
            reason = str(exc).partition("\n")[0].removeprefix(f"{exc.path}: ")
            self.unusable[url] = reason + (f" (hint: {exc.hint})" if exc.hint else "")
            cs = None
        self._structures[url] = cs
        return cs

    def target_types(self, targets: tuple[str, ...]) -> tuple[frozenset[str], tuple[str, ...]]:
        """The resource types a Reference with these target profiles may point to, and the target profiles
        that are not loaded (whose type is unknown: never guessed from the URL). Cached."""
        hit = self._target_types.get(targets)
        if hit is None:
            types: set[str] = set()
            unloaded: list[str] = []
            for t in targets:
                cs = self.structure(t)
                if cs is not None and cs.type:
                    types.add(cs.type)
                elif t.startswith(CORE_SD) and "/" not in t[len(CORE_SD):]:
                    types.add(t[len(CORE_SD):])  # a core type name: R4 core is always loaded
                else:
                    unloaded.append(t)
            hit = self._target_types[targets] = (frozenset(types), tuple(unloaded))
        return hit

    def global_profiles(self) -> dict[str, tuple[str, ...]]:
        """Profiles the loaded ImplementationGuides register for a resource type (`ImplementationGuide.global`):
        every resource of that type must conform to them, as if it declared them. Cached."""
        if self._globals is None:
            found: dict[str, list[str]] = {}
            for url in self.defs.urls():
                if "/ImplementationGuide/" not in url:
                    continue
                ig = self.defs.get(url)
                if not isinstance(ig, dict) or ig.get("resourceType") != "ImplementationGuide":
                    continue
                for g in ig.get("global") or ():
                    if isinstance(g, dict) and isinstance(g.get("type"), str) and isinstance(g.get("profile"), str):
                        found.setdefault(g["type"], []).append(g["profile"])
            self._globals = {t: tuple(ps) for t, ps in found.items()}
        return self._globals

    def resource_types(self) -> frozenset[str]:
        """The names of the R4 resource types (cached)."""
        if self._resource_types is None:
            core = "http://hl7.org/fhir/StructureDefinition/"
            names = {u[len(core):] for u in self.defs.urls() if u.startswith(core) and u[len(core):][:1].isupper()}
            self._resource_types = frozenset(n for n in names if (cs := self.structure(n)) is not None
                                             and cs.kind == "resource" and cs.derivation == "specialization")
        return self._resource_types

    def minipath(self, expression: str) -> Any:
        """The native predicate for an invariant expression in the simple subset (cached), else None."""
        try:
            return self._mini[expression]
        except KeyError:
            from conformance.fhir.minipath import compile_minipath

            fn = self._mini[expression] = compile_minipath(expression)
            return fn

    def has_profile(self, url: str) -> bool:
        return self.defs.structure_definition(url) is not None

    def validate(self, resource: dict[str, Any], profiles: Iterable[str] = (), *,
                 location: str | None = None, settings: Settings | None = None) -> list[ValidationIssue]:
        """Validate one resource (often a Bundle) against its base definition, the profiles it
        declares in meta.profile, and `profiles`. Returns the issues: one per cause, errors first,
        then in document order (see `outcome.finish`)."""
        with self._lock, _no_gc():
            run = Run(self, settings or self.settings)
            if not isinstance(resource, dict):
                return [issue("fatal", "structure", location or "", f"expected a JSON object (a FHIR resource), "
                              f"found {json_kind(resource)}", "structure.not-a-resource")]
            rt = resource.get("resourceType")
            loc = location or (rt if isinstance(rt, str) else "$")
            run.resource(resource, loc, tuple(profiles), requested=True)
            return run.result(resource)

    def validate_json(self, data: bytes | str, profiles: Iterable[str] = (), *,
                      settings: Settings | None = None) -> list[ValidationIssue]:
        """Validate FHIR JSON text; every issue carries the line:column of its location in `data`.
        Raises orjson.JSONDecodeError for text that is not JSON."""
        import orjson

        if isinstance(data, str):
            data = data.encode()
        from conformance.fhir.outcome import with_positions
        from conformance.fhir.positions import has_duplicate_keys, json_duplicate_keys, json_positions

        resource = orjson.loads(data.removeprefix(b"\xef\xbb\xbf"))
        issues = self.validate(resource, profiles, settings=settings)
        if has_duplicate_keys(data, resource):  # the parsed object kept one copy: the text says more
            root = resource.get("resourceType") if isinstance(resource, dict) else None
            root = root if isinstance(root, str) else ""
            issues = [*issues, *(ValidationIssue(
                "error", "structure", root + path, f"The JSON property {path.rpartition('.')[2]!r} is duplicated: "
                "JSON readers keep different copies (this validation read the last one) (hint: give each property "
                "once)", "json.duplicate-property", line=line, column=col) for path, line, col in json_duplicate_keys(data))]
        if not issues:
            return issues
        return with_positions(issues, json_positions(data))


@contextmanager
def _no_gc() -> Iterator[None]:
    """The cyclic garbage collector off during one walk: the walk allocates many small acyclic objects, and
    collections triggered by them would traverse the whole instance each time -- cost that grew faster than
    the document (12.6x for 10x the entries). Reference counting still frees everything."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


_default: Validator | None = None
_default_lock = threading.Lock()


def default_validator() -> Validator:
    """The process-wide validator over the shipped packages and the user's installed packages."""
    global _default
    with _default_lock:
        if _default is None:
            _default = Validator()
        return _default


def reset_default_validator() -> None:
    global _default
    with _default_lock:
        _default = None

