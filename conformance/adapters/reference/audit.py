"""The reference EHR's access log entries: FHIR R4 AuditEvents in the IHE BALP shape.

A mixin of :class:`~conformance.adapters.reference.service.ReferenceEHR`: each piece of an
entry (the agents, the entities, the whole event, appending it) is a small overridable
method, so a deliberately broken EHR in ``tests/mutants/`` differs in exactly one of them.
Kept apart from the EHR's rules because the log's *shape* (Annex II 3.2 content, BALP
profiles, code systems) is a subject of its own that a vendor reads on its own.
"""

from __future__ import annotations

import base64
import datetime as dt
import uuid
from typing import TYPE_CHECKING, Any

from conformance.adapter import ActorKind

if TYPE_CHECKING:  # pragma: no cover
    from conformance.adapters.reference.service import AccessEvent

PRODUCT = "ehds-conformance reference EHR"

# Code systems used in the AuditEvents (FHIR R4 terminology, IHE BALP).
AUDIT_EVENT_TYPE = "http://terminology.hl7.org/CodeSystem/audit-event-type"
RESTFUL_INTERACTION = "http://hl7.org/fhir/restful-interaction"
DCM = "http://dicom.nema.org/resources/ontology/DCM"
ROLE_CLASS = "http://terminology.hl7.org/CodeSystem/v3-RoleClass"
PARTICIPATION_TYPE = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
ACT_REASON = "http://terminology.hl7.org/CodeSystem/v3-ActReason"
ENTITY_TYPE = "http://terminology.hl7.org/CodeSystem/audit-entity-type"
OBJECT_ROLE = "http://terminology.hl7.org/CodeSystem/object-role"
SOURCE_TYPE = "http://terminology.hl7.org/CodeSystem/security-source-type"
BALP = "https://profiles.ihe.net/ITI/BALP/StructureDefinition/IHE.BasicAudit."
BALP_ENTITY_TYPE = "https://profiles.ihe.net/ITI/BALP/CodeSystem/BasicAuditEntityType"
RESOURCE_TYPES = "http://hl7.org/fhir/resource-types"

#: entity.detail.type naming the priority category of the data (Annex II 3.2(c)).
CATEGORY_DETAIL = "ehds-priority-category"
#: entity.detail.type marking the organisation the data comes from (Annex II 3.2(e)).
ORIGIN_DETAIL = "ehds-data-origin"

#: Outcome codes of AuditEvent.outcome.
SUCCESS, MINOR_FAILURE = "0", "4"


class AuditEventBuilder:
    """Builds and appends the access-log entry of an :class:`AccessEvent` (needs ``self.store``)."""

    store: Any

    def build_audit_event(self, event: AccessEvent) -> dict[str, Any]:
        """An AccessEvent as a FHIR R4 AuditEvent conforming to IHE BALP.

        Successful accesses claim the BALP profile of their pattern (PatientRead,
        PatientQuery, PatientCreate); refused ones (outcome 4) are plain AuditEvents,
        because BALP fixes outcome to 0. Annex II 3.2 content:

        (a) an agent for the organisation (type v3-RoleClass PROV, who.identifier);
        (b) an agent for the natural person (type IRCP, requestor = true, who.identifier);
        (c) per document an entity whose detail ``ehds-priority-category`` names the category;
        (d) ``recorded`` with a time-zone offset;
        (e) per data origin an Organization entity (type 3) with the custodian's identifier.
        The patient is an entity of type 1 / role 1. Emergency access carries
        purposeOfEvent v3-ActReason BTG with the stated purpose as text.
        """
        action_code, subtype, profile = {
            "create": ("C", "create", "PatientCreate"),
            "read": ("R", "read", "PatientRead"),
            "search": ("E", "search-type", "PatientQuery"),
            "read-log": ("E", "search-type", "PatientQuery"),
            "find-patient": ("E", "search-type", "PatientQuery"),
            "restrict": ("U", "update", "PatientUpdate"),
            # refused attempts to write the access log itself (the FHIR server logs them)
            "log-create": ("C", "create", ""), "log-update": ("U", "update", ""), "log-delete": ("D", "delete", ""),
        }.get(event.action, ("E", "", ""))
        audit: dict[str, Any] = {"resourceType": "AuditEvent", "id": str(uuid.uuid4())}
        if profile and event.outcome == SUCCESS and event.patient is not None:
            audit["meta"] = {"profile": [BALP + profile]}
        if event.action == "login":
            audit["type"] = {"system": DCM, "code": "110114", "display": "User Authentication"}
            audit["subtype"] = [{"system": DCM, "code": "110122", "display": "Login"}]
        else:
            audit["type"] = {"system": AUDIT_EVENT_TYPE, "code": "rest", "display": "Restful Operation"}
            audit["subtype"] = [{"system": RESTFUL_INTERACTION, "code": subtype, "display": subtype}]
        audit["action"] = action_code
        audit["recorded"] = _instant(event.recorded)
        audit["outcome"] = event.outcome
        if event.outcome_desc:
            audit["outcomeDesc"] = event.outcome_desc
        if event.emergency_purpose is not None:
            purpose: dict[str, Any] = {"coding": [{"system": ACT_REASON, "code": "BTG", "display": "break the glass"}]}
            if event.emergency_purpose:
                purpose["text"] = event.emergency_purpose
            audit["purposeOfEvent"] = [purpose]
        elif event.purpose:  # an access subject to consent states its purpose (treatment)
            audit["purposeOfEvent"] = [{"coding": [{"system": ACT_REASON, "code": "TREAT", "display": "treatment"}],
                                        "text": event.purpose}]
        audit["agent"] = self._audit_agents(event)
        audit["source"] = {"site": PRODUCT, "observer": {"display": PRODUCT},
                           "type": [{"system": SOURCE_TYPE, "code": "4", "display": "Application Server"}]}
        entities = self._audit_entities(event)
        if entities:
            audit["entity"] = entities
        return audit

    def _audit_agents(self, event: AccessEvent) -> list[dict[str, Any]]:
        principal, request = event.principal, event.request
        agents: list[dict[str, Any]] = [
            {  # BALP client: the software the request came from
                "type": {"coding": [{"system": DCM, "code": "110153", "display": "Source Role ID"}]},
                "who": {"display": request.client_name},
                "requestor": False,
                "network": _network(request.client_address),
            },
            {  # BALP server: this EHR
                "type": {"coding": [{"system": DCM, "code": "110152", "display": "Destination Role ID"}]},
                "who": {"display": PRODUCT},
                "requestor": False,
                "network": _network(request.server_address),
            },
        ]
        if principal is not None and principal.organisation is not None:
            agents.append({  # 3.2(a): the healthcare provider on whose behalf access happened
                "type": {"coding": [{"system": ROLE_CLASS, "code": "PROV", "display": "healthcare provider"}]},
                "who": {"type": "Organization", "identifier": _ident(principal.organisation.identifier),
                        "display": principal.organisation.name},
                "requestor": False,
            })
        if principal is not None and principal.identifier:
            who_type = {ActorKind.HEALTH_PROFESSIONAL: "Practitioner", ActorKind.PATIENT: "Patient"}.get(
                principal.kind)
            agents.append({  # 3.2(b): the natural person who accessed (BALP user)
                "type": {"coding": [{"system": PARTICIPATION_TYPE, "code": "IRCP",
                                     "display": "information recipient"}]},
                "who": {**({"type": who_type} if who_type else {}), "identifier": _ident(principal.identifier),
                        "display": principal.name or principal.identifier},
                "requestor": True,
            })
        return agents

    def _audit_entities(self, event: AccessEvent) -> list[dict[str, Any]]:
        entities: list[dict[str, Any]] = []
        if event.patient is not None:  # BALP patient: whose data (Art 9)
            patient = event.patient
            what: dict[str, Any] = {"reference": f"Patient/{patient.id}", "type": "Patient"}
            if patient.identifiers:
                system, value = patient.identifiers[0]
                what["identifier"] = {"system": system, "value": value}
            if patient.display:
                what["display"] = patient.display
            entities.append({
                "type": {"system": ENTITY_TYPE, "code": "1", "display": "Person"},
                "role": {"system": OBJECT_ROLE, "code": "1", "display": "Patient"},
                "what": what,
            })
        searched = event.action in ("search", "read-log", "find-patient")
        if searched and event.query:
            entities.append({  # BALP query: what was asked (no detail allowed here)
                "type": {"system": ENTITY_TYPE, "code": "2", "display": "System Object"},
                "role": {"system": OBJECT_ROLE, "code": "24", "display": "Query"},
                "description": event.query,
                "query": base64.b64encode(event.query.encode("utf-8")).decode("ascii"),
            })
        for doc in event.documents:  # 3.2(c): the data accessed and its category
            entities.append({
                # BALP: the one data object of a read/create is "System Object"; the documents
                # a query returned are typed by resource type, so they do not count as the query.
                "type": ({"system": RESOURCE_TYPES, "code": "Bundle", "display": "Bundle"} if searched
                         else {"system": ENTITY_TYPE, "code": "2", "display": "System Object"}),
                "role": {"system": OBJECT_ROLE, "code": "4", "display": "Domain Resource"},
                "what": {"reference": f"Bundle/{doc.id}", "type": "Bundle",
                         **({"display": doc.title} if doc.title else {})},
                "detail": [{"type": CATEGORY_DETAIL, "valueString": doc.category}],
            })
        if event.categories and not event.documents:
            entities.append({  # nothing served, but the request was about these categories
                "type": {"system": ENTITY_TYPE, "code": "4", "display": "Other"},
                "description": "categories requested",
                "detail": [{"type": CATEGORY_DETAIL, "valueString": c} for c in event.categories],
            })
        origins: dict[str, str] = {}
        for doc in event.documents:
            if doc.origin_identifier:
                origins.setdefault(doc.origin_identifier, doc.origin_name)
        for identifier, name in origins.items():  # 3.2(e): where the data came from
            entities.append({
                "type": {"system": ENTITY_TYPE, "code": "3", "display": "Organization"},
                "what": {"type": "Organization", "identifier": _ident(identifier),
                         **({"display": name} if name else {})},
                "description": "origin of the data (custodian organisation)",
                "detail": [{"type": ORIGIN_DETAIL, "valueString": "custodian"}],
            })
        consent = self.consent_entity(event)
        if consent is not None:
            entities.append(consent)
        if event.request.request_id:  # BALP transaction: correlates with the HTTP request
            entities.append({
                "type": {"system": BALP_ENTITY_TYPE, "code": "XrequestId"},
                "what": {"identifier": {"value": event.request.request_id}},
            })
        return entities

    def consent_entity(self, event: AccessEvent) -> dict[str, Any] | None:
        """The consent an access relied on, as an entity referring to the FHIR Consent (None without one)."""
        if not event.consent_id:
            return None
        return {
            "type": {"system": RESOURCE_TYPES, "code": "Consent", "display": "Consent"},
            "what": {"reference": f"Consent/{event.consent_id}", "type": "Consent"},
            "description": "the patient's consent under which the access was allowed",
        }

    def log_access(self, event: AccessEvent) -> None:
        """Append the event to the access log (its own transaction; the log is append-only)."""
        audit = self.build_audit_event(event)
        with self.store.transaction() as tx:
            tx.append_audit(audit.get("id") or str(uuid.uuid4()), event.patient.id if event.patient else None,
                            audit.get("recorded", ""), str(audit.get("outcome", "")), audit)



def _network(address: str) -> dict[str, str]:
    """AuditEvent.agent.network: type 5 URI, 2 IP address, 1 machine name."""
    import ipaddress

    if "://" in address:
        return {"address": address, "type": "5"}
    try:
        ipaddress.ip_address(address)
    except ValueError:
        return {"address": address or "localhost", "type": "1"}
    return {"address": address, "type": "2"}


def _instant(when: dt.datetime) -> str:
    return when.isoformat(timespec="milliseconds")


def _split(identifier: str) -> tuple[str, str]:
    system, sep, value = identifier.partition("|")
    return (system, value) if sep else ("", identifier)


def _ident(identifier: str) -> dict[str, str]:
    system, value = _split(identifier)
    return {"system": system, "value": value} if system else {"value": value}
