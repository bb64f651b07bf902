"""names_mangled_outside_latin1: patient names are exported through Latin-1: other letters become '?'.
Breaks EHDS-INT-008."""

from __future__ import annotations

from typing import Any

from conformance.adapters.reference.service import DocumentRow, ReferenceEHR
from tests.mutants._factory import mutant_factory


class NamesMangledOutsideLatin1(ReferenceEHR):
    def export_document(self, document: DocumentRow) -> dict[str, Any]:
        bundle = super().export_document(document)
        for entry in bundle.get("entry") or []:
            resource = entry.get("resource") or {}
            if resource.get("resourceType") == "Patient":
                for name in resource.get("name") or []:  # BUG: legacy Latin-1 column
                    if "family" in name:
                        name["family"] = name["family"].encode("latin-1", "replace").decode("latin-1")
                    name["given"] = [g.encode("latin-1", "replace").decode("latin-1") for g in name.get("given") or []]
        return bundle


create = mutant_factory(NamesMangledOutsideLatin1, "names_mangled_outside_latin1")
