"""exports_first_identifier_only: every identifier of the patient is stored (lookups by INS still
work), but the exported document's Patient keeps only its first identifier, so a second one such as
the INS never leaves the EHR. Breaks FR-001 at the export (drops_secondary_identifiers breaks it
at storage and lookup)."""

from __future__ import annotations

from typing import Any

from conformance.adapters.reference.service import ReferenceEHR
from conformance.adapters.reference.store import DocumentRow
from tests.mutants._factory import mutant_factory


class ExportsFirstIdentifierOnly(ReferenceEHR):
    def export_document(self, document: DocumentRow) -> dict[str, Any]:
        bundle = super().export_document(document)
        for entry in bundle.get("entry") or []:
            resource = entry.get("resource") if isinstance(entry, dict) else None
            if isinstance(resource, dict) and resource.get("resourceType") == "Patient" \
                    and isinstance(resource.get("identifier"), list):
                resource["identifier"] = resource["identifier"][:1]  # BUG: secondary identifiers not exported
        return bundle


create = mutant_factory(ExportsFirstIdentifierOnly, "exports_first_identifier_only")
