"""A minimal dict-backed "EHR" that declares as little as it can: format:fhir, submit, export.

It stores FHIR document Bundles in a dict and hands them back, nothing else: no access log,
no restriction, no emergency access, no patient access. Written to prove that a vendor cannot
come out conformant by declaring capabilities away (issue: applicability is the profile's call).
"""

from __future__ import annotations

import copy
import itertools
from typing import Any

from conformance.adapter import (
    Actor,
    ActorKind,
    Capability,
    Denied,
    DocumentInfo,
    NotFound,
    NotSupported,
    Organisation,
    Receipt,
    Rejected,
    SutDescription,
    TestAccounts,
)
from conformance.categories import CATEGORY_BY_LOINC, PRIORITY_CATEGORIES

PASSWORD = "dict-ehr-sandbox-pw"


class DictSession:
    def __init__(self, store: "DictEHR", actor: Actor) -> None:
        self.store, self.actor = store, actor

    def submit(self, document: Any) -> Receipt:
        if not isinstance(document, dict) or document.get("resourceType") != "Bundle":
            raise Rejected("only FHIR document Bundles")
        entries = [e.get("resource") or {} for e in document.get("entry") or []]
        patient = next((r for r in entries if r.get("resourceType") == "Patient"), None)
        comp = next((r for r in entries if r.get("resourceType") == "Composition"), None)
        if patient is None or comp is None:
            raise Rejected("a document needs a Patient and a Composition")
        ident = (patient.get("identifier") or [{}])[0]
        key = f"{ident.get('system')}|{ident.get('value')}"
        pid = self.store.patients.setdefault(key, f"p{len(self.store.patients) + 1}")
        codes = [c.get("code") for c in (comp.get("type") or {}).get("coding") or []]
        category = next((CATEGORY_BY_LOINC[c] for c in codes if c in CATEGORY_BY_LOINC), "")
        if not category:
            raise Rejected("unknown document type")
        doc_id = f"d{next(self.store.ids)}"
        self.store.docs[doc_id] = (pid, category, copy.deepcopy(document))
        return Receipt(doc_id, pid)

    def find_patient(self, identifier: str) -> str:
        if identifier not in self.store.patients:
            raise NotFound(identifier)
        return self.store.patients[identifier]

    def list_documents(self, patient_id: str, category: str | None = None) -> list[DocumentInfo]:
        return [DocumentInfo(d, p, c) for d, (p, c, _) in self.store.docs.items()
                if p == patient_id and (category is None or c == category)]

    def fetch(self, patient_id: str, category: str, *, document_id: str | None = None,
              emergency_purpose: str | None = None) -> dict[str, Any]:
        for d, (p, c, doc) in reversed(list(self.store.docs.items())):
            if p == patient_id and c == category and document_id in (None, d):
                return copy.deepcopy(doc)
        raise NotFound(f"no {category} document for {patient_id}")

    def access_log(self, patient_id: str) -> list[dict[str, Any]]:
        raise NotSupported("no access log")

    def restrict(self, patient_id: str, restriction: Any) -> None:
        raise NotSupported("no restriction")


class DictEHR:
    def __init__(self) -> None:
        self.patients: dict[str, str] = {}
        self.docs: dict[str, tuple[str, str, dict[str, Any]]] = {}
        self.ids = itertools.count(1)

    def describe(self) -> SutDescription:
        return SutDescription("dict-ehr", "0.1", "tests", frozenset({Capability.FHIR, Capability.SUBMIT,
                                                                      Capability.EXPORT}),
                              produces=frozenset(PRIORITY_CATEGORIES), consumes=frozenset(PRIORITY_CATEGORIES))

    def test_accounts(self) -> TestAccounts:
        org = Organisation("urn:oid:2.999.9|1", "Dict Clinic")
        hp = Actor(ActorKind.HEALTH_PROFESSIONAL, "urn:oid:2.999.9|hp", "Dr Dict", org, {"password": PASSWORD})
        other = Actor(ActorKind.HEALTH_PROFESSIONAL, "urn:oid:2.999.9|hp2", "Dr Other",
                      Organisation("urn:oid:2.999.9|2", "Other"), {"password": PASSWORD})
        auditor = Actor(ActorKind.AUDITOR, "urn:oid:2.999.9|aud", "Auditor", org, {"password": PASSWORD})
        return TestAccounts(hp=hp, hp_other=other, auditor=auditor, patient_credentials={"password": PASSWORD})

    def login(self, actor: Actor) -> DictSession:
        if actor.kind is ActorKind.ANONYMOUS or actor.credentials.get("password") != PASSWORD:
            raise Denied("wrong credentials")
        return DictSession(self, actor)

    def close(self) -> None:
        pass


def create(config: dict[str, Any] | None = None) -> DictEHR:
    return DictEHR()
