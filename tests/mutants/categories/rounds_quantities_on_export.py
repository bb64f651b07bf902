"""rounds_quantities_on_export: exported quantities are rounded to whole numbers (a column typed
INTEGER somewhere in the export path). The document stays valid; its meaning does not survive.
Breaks EHDS-INT-008."""

from __future__ import annotations

from typing import Any

from conformance.adapters.reference.service import ReferenceEHR
from conformance.adapters.reference.store import DocumentRow
from tests.mutants._factory import mutant_factory


def _round(node: Any) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "value" and isinstance(value, float):
                node[key] = round(value)  # BUG: decimals lose their fraction
            else:
                _round(value)
    elif isinstance(node, list):
        for value in node:
            _round(value)


class RoundsQuantitiesOnExport(ReferenceEHR):
    def export_document(self, document: DocumentRow) -> dict[str, Any]:
        bundle = super().export_document(document)
        _round(bundle)
        return bundle


create = mutant_factory(RoundsQuantitiesOnExport, "rounds_quantities_on_export")
