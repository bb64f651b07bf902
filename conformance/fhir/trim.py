"""Trim FHIR conformance resources to what a validator reads, for the pinned copies we ship.

Published definitions carry narrative, mappings, documentation text and both snapshot and
differential; the validator needs none of the prose. Trimming keeps every computable field
(structure, cardinality, types, fixed/pattern, bindings, constraints, slicing, codes) so the
verdicts are the same while the wheel stays small and loading stays fast.

Usage: python -m conformance.fhir.trim OUT.json.gz IN.json[.gz]...   (writes one Bundle)
"""

from __future__ import annotations

import gzip
import sys
from pathlib import Path
from typing import Any

import orjson

from conformance.fhir.structure import MAX_VALUE_SET

_SD_DROP = {"text", "mapping", "contact", "description", "purpose", "copyright", "keyword", "useContext",
            "jurisdiction", "publisher", "date", "identifier", "meta"}
_ELEMENT_DROP = {"definition", "comment", "requirements", "alias", "mapping", "example", "meaningWhenMissing",
                 "isModifierReason", "isSummary", "orderMeaning", "mustSupport", "label", "code"}
_CONCEPT_DROP = {"definition", "designation"}
_TERM_DROP = {"text", "contact", "description", "purpose", "copyright", "useContext", "jurisdiction", "publisher",
              "identifier", "meta", "extension"}


def _trim_element(el: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in el.items() if k not in _ELEMENT_DROP}
    if "extension" in out:  # only computable element extensions are kept
        keep = [e for e in out["extension"] if e.get("url", "").endswith(("/regex", "/structuredefinition-fhir-type"))]
        if keep:
            out["extension"] = keep
        else:
            del out["extension"]
    if "binding" in out:  # the value set, its strength, and the value set no code may fall outside (maxValueSet)
        binding = {k: v for k, v in out["binding"].items() if k in ("strength", "valueSet")}
        limits = [e for e in out["binding"].get("extension") or () if e.get("url") == MAX_VALUE_SET]
        out["binding"] = {"extension": limits, **binding} if limits else binding
    if "constraint" in out:
        out["constraint"] = [{k: v for k, v in c.items() if k != "xpath"} for c in out["constraint"]]
    return out


def _trim_concepts(concepts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for c in concepts:
        c2 = {k: v for k, v in c.items() if k not in _CONCEPT_DROP}
        if "property" in c2:
            props = [p for p in c2["property"] if p.get("code") in ("status", "notSelectable", "deprecated",
                                                                     "parent", "subsumedBy", "inactive")]
            if props:
                c2["property"] = props
            else:
                del c2["property"]
        if "concept" in c2:
            c2["concept"] = _trim_concepts(c2["concept"])
        out.append(c2)
    return out


def trim_resource(res: dict[str, Any]) -> dict[str, Any] | None:
    """Return the computable core of a conformance resource (None for resources we do not ship)."""
    rtype = res.get("resourceType")
    if rtype == "StructureDefinition":
        out = {k: v for k, v in res.items() if k not in _SD_DROP}
        if "extension" in out:
            out["extension"] = [e for e in out["extension"] if "standards-status" not in e.get("url", "")
                                and "structuredefinition-wg" not in e.get("url", "")
                                and "structuredefinition-fmm" not in e.get("url", "")]
            if not out["extension"]:
                del out["extension"]
        if "snapshot" in out:
            out["snapshot"] = {"element": [_trim_element(e) for e in out["snapshot"]["element"]]}
            out.pop("differential", None)
        elif "differential" in out:
            out["differential"] = {"element": [_trim_element(e) for e in out["differential"]["element"]]}
        return out
    if rtype == "ValueSet":
        out = {k: v for k, v in res.items() if k not in _TERM_DROP}
        if "expansion" in out and "compose" in out:
            del out["expansion"]  # we expand from compose; stored expansions are dated snapshots
        return out
    if rtype == "CodeSystem":
        out = {k: v for k, v in res.items() if k not in _TERM_DROP}
        if "concept" in out:
            out["concept"] = _trim_concepts(out["concept"])
        return out
    if rtype in ("NamingSystem",):
        return {k: v for k, v in res.items() if k not in _TERM_DROP}
    return None


def _load(path: Path) -> list[dict[str, Any]]:
    data = path.read_bytes()
    if path.name.endswith(".gz"):
        data = gzip.decompress(data)
    obj = orjson.loads(data)
    if obj.get("resourceType") == "Bundle":
        return [e["resource"] for e in obj.get("entry", []) if "resource" in e]
    return [obj]


def trim_files(paths: list[Path]) -> list[dict[str, Any]]:
    out = []
    for p in paths:
        for res in _load(p):
            t = trim_resource(res)
            if t is not None:
                out.append(t)
    return out


def write_bundle(resources: list[dict[str, Any]], dest: Path) -> None:
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": r} for r in resources]}
    data = orjson.dumps(bundle)
    if dest.name.endswith(".gz"):
        data = gzip.compress(data, compresslevel=9, mtime=0)
    dest.write_bytes(data)


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    write_bundle(trim_files([Path(a) for a in argv[1:]]), Path(argv[0]))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main(sys.argv[1:]))
