"""drops_secondary_identifiers: only the first business identifier of a FHIR document's Patient
is kept on storage (and so in lookups and exports); a second one such as the INS is lost.
Breaks FR-001 (qualified patient identity carries the INS)."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from conformance.adapters.reference import intake
from conformance.adapters.reference.service import ReferenceEHR
from tests.mutants._factory import mutant_factory


class DropsSecondaryIdentifiers(ReferenceEHR):
    def parse_document(self, document: Mapping[str, Any] | bytes) -> intake.Incoming:
        if not isinstance(document, Mapping):
            return super().parse_document(document)
        bundle = copy.deepcopy(dict(document))
        for entry in bundle.get("entry") or []:
            resource = entry.get("resource") if isinstance(entry, dict) else None
            if isinstance(resource, dict) and resource.get("resourceType") == "Patient" \
                    and isinstance(resource.get("identifier"), list):
                resource["identifier"] = resource["identifier"][:1]  # BUG: secondary identifiers dropped
        return super().parse_document(bundle)


create = mutant_factory(DropsSecondaryIdentifiers, "drops_secondary_identifiers")
