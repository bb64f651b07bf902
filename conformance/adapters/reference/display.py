"""What the reference EHR shows a professional for a received summary, in the reader's language.

A mixin of :class:`~conformance.adapters.reference.service.ReferenceEHR`. A national contact point
loads a catalogue of value sets with their translations (eHDSI: the Master Value Set Catalogue);
the EHR loads FHIR ValueSets (``compose.include.concept.designation``, or ``expansion.contains
.designation``) and ConceptMaps whose ``language`` is the target language (``group.element.target
.display``) through :meth:`load_terminology`,
and :meth:`displayed_summary` renders each coded item of a summary with its display in the
reader's language, the original text kept, and an untranslatable code shown as received.

Each rule is a small overridable method (``translate``, ``displayed_item``) so a broken EHR in
``tests/mutants/sesali`` differs in exactly one of them. The catalogue lives in memory (a sandbox
loads it at start-up, as an NCP loads the MVC).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from conformance.adapter import DisplayedItem, DisplayedSummary, NotFound, NotSupported, Rejected

if TYPE_CHECKING:  # pragma: no cover
    from conformance.adapters.reference.service import Principal

#: Resources that frame a summary rather than carry its clinical content (not rendered as items).
FRAMING = frozenset({"Composition", "Patient", "Organization", "Practitioner", "PractitionerRole", "Bundle"})


class TranslatedDisplay:
    """Loading a translation catalogue and rendering summaries with it (needs the ReferenceEHR around it)."""

    _translations: dict[tuple[str, str, str], str]

    def load_terminology(self, resources: list[Mapping[str, Any]]) -> int:
        """Load ValueSets / ConceptMaps carrying translations; returns how many designations were read.
        Rejected when a resource is neither."""
        table = dict(getattr(self, "_translations", {}) or {})
        count = 0
        for resource in resources:
            kind = resource.get("resourceType") if isinstance(resource, Mapping) else None
            if kind == "ValueSet":
                pairs = list(_valueset_designations(resource))
            elif kind == "ConceptMap":
                pairs = list(_conceptmap_designations(resource))
            else:
                raise Rejected(f"a translation catalogue holds ValueSets and ConceptMaps, not {kind!r}")
            for system, code, language, value in pairs:
                table[(system, code, language.lower())] = value
                count += 1
        self._translations = table
        return count

    def translate(self, system: str, code: str, language: str) -> str | None:
        """The catalogue's display of a code in `language` (``fr-FR`` also matches a plain ``fr``)."""
        table = getattr(self, "_translations", {}) or {}
        lang = language.lower()
        return table.get((system, code, lang)) or table.get((system, code, lang.split("-")[0]))

    def displayed_item(self, system: str, code: str, original: str, language: str) -> DisplayedItem | None:
        """One coded item on screen: translated when the catalogue has it, otherwise shown as received
        (its original display, or the code itself) in the received language; the original kept."""
        shown = self.translate(system, code, language)
        if shown:
            return DisplayedItem(system, code, shown, language, original)
        return DisplayedItem(system, code, original or code, "", original)

    def displayed_summary(self, principal: Principal, patient_id: str, *, document_id: str | None = None,
                          language: str = "fr-FR") -> DisplayedSummary:
        """Render the patient's (latest, or the given) patient summary for `principal`; logged as a read."""
        from conformance.adapters.reference.service import AccessEvent

        patient = self._patient(patient_id)  # type: ignore[attr-defined]
        self.authorize(principal, "fetch", patient, ("patient-summary",))  # type: ignore[attr-defined]
        docs = self.visible_documents(principal, patient.id, "patient-summary")  # type: ignore[attr-defined]
        if document_id is not None:
            docs = [d for d in docs if d.id == document_id]
        chosen = self.latest_document(docs)  # type: ignore[attr-defined]
        if chosen is None:
            raise NotFound("no patient summary for this patient")
        if chosen.format != "fhir":
            raise NotSupported("the reference EHR renders FHIR summaries only (a CDA summary is kept as received)")
        items = [item for system, code, original in coded_items(chosen.fhir())
                 if (item := self.displayed_item(system, code, original, language)) is not None]
        self.log_access(AccessEvent("read", principal, patient, documents=(chosen,),  # type: ignore[attr-defined]
                                    recorded=self.clock()))  # type: ignore[attr-defined]
        return DisplayedSummary(language, tuple(items))


def _valueset_designations(vs: Mapping[str, Any]) -> Iterator[tuple[str, str, str, str]]:
    for include in (vs.get("compose") or {}).get("include") or []:
        for concept in include.get("concept") or []:
            for d in concept.get("designation") or []:
                if d.get("language") and d.get("value"):
                    yield include.get("system", ""), concept.get("code", ""), d["language"], d["value"]
    for contains in (vs.get("expansion") or {}).get("contains") or []:
        for d in contains.get("designation") or []:
            if d.get("language") and d.get("value"):
                yield contains.get("system", ""), contains.get("code", ""), d["language"], d["value"]


def _conceptmap_designations(cm: Mapping[str, Any]) -> Iterator[tuple[str, str, str, str]]:
    language = cm.get("language") or ""
    for group in cm.get("group") or []:
        for element in group.get("element") or []:
            for target in element.get("target") or []:
                if language and target.get("display"):
                    yield group.get("source", ""), element.get("code", ""), language, target["display"]


def coded_items(bundle: Mapping[str, Any]) -> Iterator[tuple[str, str, str]]:
    """(system, code, original display or text) of every coding in the clinical resources of a Bundle."""
    for entry in bundle.get("entry") or []:
        resource = (entry or {}).get("resource") or {}
        if resource.get("resourceType") not in FRAMING:
            yield from _walk(resource)


def _walk(node: Any) -> Iterator[tuple[str, str, str]]:
    if isinstance(node, dict):
        codings = node.get("coding")
        if isinstance(codings, list):
            for c in codings:
                if isinstance(c, dict) and c.get("code"):
                    yield str(c.get("system", "")), str(c["code"]), str(c.get("display") or node.get("text") or "")
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)
