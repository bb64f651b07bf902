"""reformats_cda: a received CDA document is re-serialised (pretty-printed) on storage, so the
original pivot bytes are lost although the XML means the same. Breaks XB-006 (received pivot
CDA kept unaltered)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from lxml import etree

from conformance.adapters.reference import intake
from conformance.adapters.reference.service import ReferenceEHR
from tests.mutants._factory import mutant_factory


class ReformatsCda(ReferenceEHR):
    def parse_document(self, document: Mapping[str, Any] | bytes) -> intake.Incoming:
        incoming = super().parse_document(document)
        if incoming.format != "cda":
            return incoming
        parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, remove_blank_text=True)
        root = etree.fromstring(incoming.content, parser)
        # BUG: the stored document is a re-serialisation, not the bytes received
        pretty = etree.tostring(root.getroottree(), xml_declaration=True, encoding="UTF-8", pretty_print=True)
        return dataclasses.replace(incoming, content=pretty)


create = mutant_factory(ReformatsCda, "reformats_cda")
