"""Generate a snapshot from a differential and its base (for differential-only profiles such as BALP).

The base snapshot is copied, then every differential element is merged into the element with the
same id. Elements the base does not list yet are created on the way:
- a child of an element typed with a complex datatype unrolls that datatype's (or type
  profile's) snapshot below it (`AuditEvent.agent.who.identifier`);
- a new slice copies its sliced element and that element's children (`AuditEvent.agent:user`),
  placed after the existing slices, with min 0 unless the differential says otherwise.
Merging follows the ElementDefinition rules: constraints accumulate, everything else the
differential states replaces the base value (cardinality, types, fixed/pattern, binding, slicing).
"""

from __future__ import annotations

import copy
from typing import Any, Protocol

from conformance.errors import ProfileError


class Definitions(Protocol):
    """What snapshot generation needs of the definitions (`context.Definitions` provides it; typed here so
    `context` may import this module without a circle)."""

    def snapshot(self, url: str) -> dict[str, Any] | None: ...

_NO_MERGE = {"id", "path"}

#: part of the cache key of generated snapshots: bump when the generator's output changes
GENERATOR_VERSION = 3


class SnapshotError(ProfileError):
    pass


def _diff_id(el: dict[str, Any]) -> str:
    if el.get("id"):
        return el["id"]
    path = el.get("path", "")
    return path + (":" + el["sliceName"] if el.get("sliceName") else "")


def _rebase(el: dict[str, Any], old_id: str, new_id: str, old_path: str, new_path: str) -> dict[str, Any]:
    out = copy.deepcopy(el)
    eid = out.get("id", out.get("path", ""))
    out["id"] = new_id + eid[len(old_id):]
    path = out.get("path", "")
    out["path"] = new_path + path[len(old_path):]
    return out


class _Builder:
    def __init__(self, sd: dict[str, Any], base: dict[str, Any], defs: Definitions) -> None:
        self.sd = sd
        self.defs = defs
        self.url = sd.get("url", "?")
        base_elems = base["snapshot"]["element"]
        base_type = base_elems[0]["path"]
        own_type = sd.get("type") or base_type
        self.elements: list[dict[str, Any]] = []
        self.aliases: dict[str, str] = {}
        for el in base_elems:
            e = copy.deepcopy(el)
            if own_type != base_type:
                e["path"] = own_type + e["path"][len(base_type):]
                e["id"] = own_type + e.get("id", el["path"])[len(base_type):]
            e.setdefault("id", e["path"])
            self.elements.append(e)
        #: the base's elements as they were before any merge: a contentReference unrolls the children the
        #: base gives the referenced element, not what this differential made of them (a profile that
        #: constrains Parameters.parameter.part does not constrain the parts of every part)
        self.base_elements: list[dict[str, Any]] = copy.deepcopy(self.elements)

    # -- lookup --------------------------------------------------------------------------------
    def _pos(self, eid: str) -> int | None:
        for i, e in enumerate(self.elements):
            if e["id"] == eid:
                return i
        return None

    def _subtree_end(self, pos: int) -> int:
        """Index after the last element belonging to elements[pos] (children and slices)."""
        eid = self.elements[pos]["id"]
        i = pos + 1
        while i < len(self.elements):
            oid = self.elements[i]["id"]
            if oid.startswith((eid + ".", eid + ":")):
                i += 1
            else:
                break
        return i

    def _children_end(self, pos: int) -> int:
        """Index after the last child (not slice) of elements[pos]."""
        eid = self.elements[pos]["id"]
        i = pos + 1
        while i < len(self.elements) and self.elements[i]["id"].startswith(eid + "."):
            i += 1
        return i

    # -- creation ------------------------------------------------------------------------------
    def ensure(self, eid: str) -> int:
        for alias, real in self.aliases.items():  # old-style renamed choices: valueQuantity -> value[x]:valueQuantity
            if eid == alias or eid.startswith(alias + "."):
                eid = real + eid[len(alias):]
                break
        pos = self._pos(eid)
        if pos is not None:
            return pos
        parent_id, _, last = eid.rpartition(".")
        if not parent_id:
            raise SnapshotError(f"element {eid} has no parent", path=self.url,
                                hint="differential element ids must start with the profiled type")
        name, sep, slice_name = last.partition(":")
        if sep:
            base_pos = self.ensure(f"{parent_id}.{name}")
            if "/" in slice_name:  # reslice: slice of a slice
                base_pos = self.ensure(f"{parent_id}.{name}:{slice_name.rsplit('/', 1)[0]}")
            return self._new_slice(base_pos, eid, slice_name)
        parent_pos = self.ensure(parent_id)
        if not self._has_children(parent_pos):
            self._unroll(parent_pos)
        pos = self._pos(eid)
        if pos is not None:
            return pos
        # a renamed choice (valueQuantity) for value[x]: a type slice
        for i in range(parent_pos + 1, self._children_end(parent_pos)):
            el = self.elements[i]
            cname = el["id"].rsplit(".", 1)[-1]
            if cname.endswith("[x]") and ":" not in cname and name.startswith(cname[:-3]):
                real = f"{el['id']}:{name}"
                self.aliases[eid] = real
                return self._pos(real) if self._pos(real) is not None else self._new_slice(i, real, name)
        raise SnapshotError(f"differential element {eid} does not exist in the base definition", path=self.url,
                            hint="check the element name against the base resource or datatype")

    def _has_children(self, pos: int) -> bool:
        eid = self.elements[pos]["id"]
        return pos + 1 < len(self.elements) and self.elements[pos + 1]["id"].startswith(eid + ".")

    def _unroll(self, pos: int) -> None:
        el = self.elements[pos]
        types = el.get("type") or []
        if el.get("contentReference"):
            ref = el["contentReference"].lstrip("#")
            base = self.base_elements
            src = next((i for i, e in enumerate(base) if e["id"] == ref), None)
            if src is None:
                raise SnapshotError(f"contentReference {ref} not found", path=self.url)
            end = src + 1
            while end < len(base) and base[end]["id"].startswith(ref + "."):
                end += 1
            kids = [_rebase(base[i], ref, el["id"], base[src]["path"], el["path"]) for i in range(src + 1, end)]
            self.elements[pos + 1:pos + 1] = kids
            return
        if len(types) != 1:
            raise SnapshotError(f"cannot constrain children of {el['id']}: it has {len(types)} types",
                                path=self.url, hint="constrain a single type first (e.g. value[x] only Quantity)")
        t = types[0]
        url = (t.get("profile") or [None])[0] or t["code"]
        tsd = self.defs.snapshot(url if "/" in url else "http://hl7.org/fhir/StructureDefinition/" + url)
        if tsd is None and url != t["code"]:
            # a type profile that is not loaded: its children are at least the type's own (the validation
            # of a value against that profile reports it as unknown)
            tsd = self.defs.snapshot("http://hl7.org/fhir/StructureDefinition/" + t["code"])
        if tsd is None:
            raise SnapshotError(f"type {url} of {el['id']} is not in the loaded packages", path=self.url)
        telems = tsd["snapshot"]["element"]
        root_path = telems[0]["path"]
        root_id = telems[0].get("id", root_path)
        kids = [_rebase(te, root_id, el["id"], root_path, el["path"]) for te in telems[1:]]
        for k in kids:
            k.setdefault("id", k["path"])
        self.elements[pos + 1:pos + 1] = kids

    def _new_slice(self, base_pos: int, eid: str, slice_name: str, eid_override: str | None = None) -> int:
        base = self.elements[base_pos]
        end = self._subtree_end(base_pos)
        new = copy.deepcopy(base)
        new.pop("slicing", None)
        new["id"] = eid_override or eid
        new["sliceName"] = slice_name.rsplit("/", 1)[-1] if "/" in slice_name else slice_name
        new["min"] = 0
        kids = [_rebase(self.elements[i], base["id"], new["id"], base["path"], base["path"])
                for i in range(base_pos + 1, self._children_end(base_pos))]
        self.elements[end:end] = [new] + kids
        return end

    # -- merging -------------------------------------------------------------------------------
    def merge(self, pos: int, diff: dict[str, Any]) -> None:
        el = self.elements[pos]
        for k, v in diff.items():
            if k in _NO_MERGE:
                continue
            if k == "constraint":
                have = {c.get("key") for c in el.get("constraint") or ()}
                el.setdefault("constraint", []).extend(copy.deepcopy(c) for c in v if c.get("key") not in have)
            elif k.startswith(("fixed", "pattern")):
                for old in [x for x in el if x.startswith(("fixed", "pattern"))]:
                    del el[old]
                el[k] = copy.deepcopy(v)
            else:
                el[k] = copy.deepcopy(v)
        # a value constrained to fewer types loses its renamed-choice meaning, nothing else to do

    def build(self) -> list[dict[str, Any]]:
        own_type = self.sd.get("type")
        diffs = (self.sd.get("differential") or {}).get("element") or []
        slice_context: list[tuple[str, str]] = []  # (path, id) of the slices the following id-less elements are in
        for d in diffs:
            did = _diff_id(d)
            if not d.get("id"):
                # an element without id belongs to the latest slice above it on its path (older profiles
                # list `Bundle.entry` sliceName X, then `Bundle.entry.resource` meaning Bundle.entry:X.resource)
                path = d.get("path", "")
                slice_context = [(p, i) for p, i in slice_context if path.startswith(p + ".") or
                                 (path == p and d.get("sliceName"))]
                for p, i in reversed(slice_context):
                    if path.startswith(p + "."):
                        did = i + path[len(p):]
                        break
                if d.get("sliceName"):
                    slice_context = [(p, i) for p, i in slice_context if p != path] + [(path, did)]
            if own_type and not (did == own_type or did.startswith((own_type + ".", own_type + ":"))):
                root = self.elements[0]["id"]
                if did.split(".")[0] != root:
                    raise SnapshotError(f"differential element {did} is not part of {own_type}", path=self.url)
            pos = self.ensure(did)
            self.merge(pos, d)
        return self.elements


def generate_snapshot(sd: dict[str, Any], defs: Definitions) -> dict[str, Any]:
    """Return a copy of `sd` with a generated snapshot (raises SnapshotError with the element at fault)."""
    base_url = sd.get("baseDefinition")
    if not base_url:
        raise SnapshotError("StructureDefinition has neither snapshot nor baseDefinition", path=sd.get("url"))
    base = defs.snapshot(base_url)
    if base is None:
        raise SnapshotError(f"base definition {base_url} is not in the loaded packages", path=sd.get("url"),
                            hint="load the package that defines the base profile")
    out = {k: v for k, v in sd.items() if k != "snapshot"}
    out["snapshot"] = {"element": _Builder(sd, base, defs).build(), "extension": [
        {"url": "https://ehds-conformance.invalid/fhir/snapshot-generated", "valueBoolean": True}]}
    return out
