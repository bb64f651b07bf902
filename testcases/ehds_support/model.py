"""An executable model of the EHDS access rules: the oracle the stateful checks compare the SUT with.

What the model knows (and nothing about any one SUT):

- **patients** with one or several business identifiers (``system|value``), the SUT's id for them
  once known, and their documents in the order they were received;
- **documents** by priority category, with what identifies them in an export (the Composition
  identifier), their date and the custodian organisation(s) they came from (Annex II 3.2(e)), which
  their listing entries must name (EHDS-INT-003);
- the patient's **restriction** (Art 8), replaced as a whole at every change, and which documents
  were ever restricted (so a document that stays hidden after the restriction is lifted is blamed
  on the restriction, not on discovery);
- **who may see what**: a health professional of any organisation sees the patient's documents
  minus the restricted ones, unless they state an emergency purpose (Art 11(5)); "the latest" of a
  category is the newest by document date, the later received on a tie; the patient sees
  their own record and their own access log; the auditor (data holder) reads any log and exports
  every document (EHDS-INT-011); nobody sees another patient's data through a patient session;
- the **log entry** every operation must leave (Annex II 3.2): :class:`ExpectedEntry` says who
  (person, organisation), about whom, which categories, from which origins, whether it was refused,
  and with which emergency purpose. :func:`entry_problems` compares the entries an operation added
  with that expectation, one requirement at a time.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from typing import Any

from conformance import auditlog
from conformance.adapter import latest
from conformance.auditlog import identifier_value

#: Clock skew accepted between the harness and the SUT for a log entry's time (EHDS-LOG-005).
CLOCK_TOLERANCE = dt.timedelta(minutes=5)


def blank(text: str) -> bool:
    """A purpose is blank when nothing but whitespace (any Unicode space) is stated."""
    return not text.split()


def normalise(text: str) -> str:
    """Whitespace runs collapsed, case folded: how a stated purpose is compared with its log text."""
    return " ".join(text.split()).casefold()


@dataclass
class Doc:
    """One document the SUT accepted."""

    id: str
    patient: str  # the model's patient label
    category: str
    key: str  # Composition.identifier system|value: what identifies the document in an export
    custodians: frozenset[str]  # identifier values of its origin organisation(s)
    date: str = ""
    custodian: str | None = None  # system|value of the custodian organisation (the origin its listing names)
    seq: int = 0  # order of receipt


@dataclass
class Patient:
    """One patient: identities as sent, the SUT's id once known, documents in order of receipt."""

    label: str
    identity: Any  # conformance.documents.PatientIdentity (primary identifier, name, birth date)
    identifiers: list[str]
    patient_id: str | None = None
    documents: list[str] = field(default_factory=list)
    restricted_docs: frozenset[str] = frozenset()
    restricted_categories: frozenset[str] = frozenset()
    ever_restricted: set[str] = field(default_factory=set)


class Model:
    """The state the SUT should be in, and what each operation must answer."""

    def __init__(self) -> None:
        self.patients: dict[str, Patient] = {}
        self.docs: dict[str, Doc] = {}
        self._seq = 0

    # ---- changes ---------------------------------------------------------------------------

    def add_patient(self, patient: Patient) -> None:
        self.patients[patient.label] = patient

    def add_document(self, doc: Doc) -> None:
        self._seq += 1
        doc.seq = self._seq
        self.docs[doc.id] = doc
        self.patients[doc.patient].documents.append(doc.id)

    def restrict(self, label: str, doc_ids: frozenset[str], categories: frozenset[str]) -> None:
        """The patient's new restriction replaces the earlier one (Art 8)."""
        p = self.patients[label]
        p.restricted_docs, p.restricted_categories = doc_ids, categories
        p.ever_restricted |= set(self.withheld(label))

    # ---- who may see what -------------------------------------------------------------------

    def known(self) -> list[Patient]:
        return [p for p in self.patients.values() if p.patient_id]

    def by_pid(self, patient_id: str) -> Patient | None:
        return next((p for p in self.patients.values() if p.patient_id == patient_id), None)

    def documents(self, label: str, category: str | None = None) -> list[Doc]:
        return [self.docs[d] for d in self.patients[label].documents
                if category is None or self.docs[d].category == category]

    def is_withheld(self, doc: Doc) -> bool:
        p = self.patients[doc.patient]
        return doc.id in p.restricted_docs or doc.category in p.restricted_categories

    def withheld(self, label: str) -> set[str]:
        return {d.id for d in self.documents(label) if self.is_withheld(d)}

    def visible_to_professional(self, label: str, category: str | None = None, *,
                                emergency: bool = False) -> list[Doc]:
        """What a health professional of any organisation may see, oldest first."""
        return [d for d in self.documents(label, category) if emergency or not self.is_withheld(d)]

    def latest_visible(self, label: str, category: str, *, emergency: bool = False) -> Doc | None:
        """The latest document of the category a professional may see: the newest document date, the later
        received on a tie (the contract's one definition, :func:`conformance.adapter.latest`)."""
        return latest(self.visible_to_professional(label, category, emergency=emergency), lambda d: d.date)

    def by_key(self, key: str) -> Doc | None:
        return next((d for d in self.docs.values() if d.key == key), None)

    def owner_of_identifier(self, identifier: str) -> Patient | None:
        """The known patient holding exactly this identifier (system and value)."""
        return next((p for p in self.known() if identifier in p.identifiers), None)


# ---- what an export is ------------------------------------------------------------------------


def composition(bundle: Any) -> dict[str, Any]:
    for entry in (bundle or {}).get("entry") or [] if isinstance(bundle, dict) else []:
        resource = (entry or {}).get("resource") or {}
        if resource.get("resourceType") == "Composition":
            return resource
    return {}


def document_key(bundle: Any) -> str:
    """Composition.identifier as system|value ('' when the export has none)."""
    ident = composition(bundle).get("identifier") or {}
    if isinstance(ident, list):
        ident = ident[0] if ident else {}
    return f"{ident.get('system', '')}|{ident.get('value', '')}" if ident.get("value") else ""


def subject_patient(bundle: Any) -> dict[str, Any] | None:
    """The Patient the Composition is about, resolved inside the Bundle."""
    ref = (composition(bundle).get("subject") or {}).get("reference", "")
    for entry in (bundle or {}).get("entry") or []:
        res = (entry or {}).get("resource") or {}
        if res.get("resourceType") == "Patient" and (
                entry.get("fullUrl") == ref or f"Patient/{res.get('id')}" == ref):
            return res
    return None


def identifiers_of(patient_resource: dict[str, Any] | None) -> set[str]:
    return {f"{i.get('system', '')}|{i.get('value', '')}" for i in (patient_resource or {}).get("identifier") or []
            if isinstance(i, dict)}


#: words that tell a health professional that something was withheld (EHDS-SEC-007)
TELLTALES = ("restrict", "masked", "withheld", "redacted", "hidden", "consent", "opt-out", "opted out")


def telltales(payload: Any) -> list[str]:
    text = json.dumps(payload, default=str).lower()
    return [w for w in TELLTALES if w in text]


# ---- the log entry each operation must leave -----------------------------------------------------


@dataclass(frozen=True)
class ExpectedEntry:
    """The Annex II 3.2 content of the entry (or entries) an operation must add to the patient's log.

    ``person``/``organisation`` are identifiers (system|value) of who accessed and on whose behalf
    ('' when the operation has none, e.g. a patient has no organisation); ``categories`` and
    ``origins`` what was served (empty when nothing was); ``refused`` whether the attempt was
    refused (EHDS-LOG-013); ``emergency`` the stated purpose of an emergency access, None otherwise.
    """

    operation: str
    patient_id: str
    patient_identifiers: frozenset[str]
    person: str = ""
    organisation: str = ""
    categories: frozenset[str] = frozenset()
    origins: frozenset[str] = frozenset()
    refused: bool = False
    emergency: str | None = None
    started: dt.datetime | None = None
    finished: dt.datetime | None = None
    other_patients: frozenset[str] = frozenset()  # Patient/<id> of everybody else


def _payload(value: Any) -> bool:
    """An entry carries clinical payload: an embedded FHIR resource or document."""
    if isinstance(value, dict):
        if value.get("resourceType") in ("Bundle", "Composition", "Observation", "Patient", "Binary"):
            return True
        return any(_payload(v) for v in value.values())
    if isinstance(value, list):
        return any(_payload(v) for v in value)
    if isinstance(value, str) and value.lstrip().startswith("{") and '"resourceType"' in value:
        return True
    return False


_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.")


def entry_problems(added: list[dict[str, Any]], want: ExpectedEntry) -> dict[str, str]:
    """What is wrong with the entries one operation added, by requirement id (empty: nothing).

    Each requirement is judged on its own element only, so one defect is blamed once.
    """
    problems: dict[str, str] = {}
    op = want.operation
    if not added:
        problems["EHDS-LOG-013" if want.refused else "EHDS-LOG-001"] = (
            f"{op} left no entry in the access log" + (" (a refused attempt)" if want.refused else ""))
        return problems
    if want.refused:
        failed = [e for e in added if str(e.get("outcome", "0")) != "0"]
        if not failed:
            problems["EHDS-LOG-013"] = f"{op} was refused but its log entries say outcome 0 (success)"
        judged = failed or added
    else:
        judged = added
    ids = ", ".join(str(e.get("id", "?")) for e in judged[:3])
    if want.organisation:
        org = identifier_value(want.organisation)
        if not all(org in auditlog.organisation_ids(e) for e in judged):
            found = sorted(set().union(*(auditlog.organisation_ids(e) for e in judged)))
            problems["EHDS-LOG-002"] = f"entries {ids} of {op} do not all name the organisation {org!r} (found {found})"
    if want.person:
        person = identifier_value(want.person)
        if not all(person in auditlog.person_ids(e) for e in judged):
            found = sorted(set().union(*(auditlog.person_ids(e) for e in judged)))
            problems["EHDS-LOG-003"] = f"entries {ids} of {op} do not all name the person {person!r} (found {found})"
    if want.categories:
        found = set().union(*(auditlog.categories(e) for e in judged))
        if not want.categories <= found:
            problems["EHDS-LOG-004"] = (f"entries {ids} of {op} do not state the categories accessed "
                                        f"{sorted(want.categories)} (found {sorted(found)})")
    for e in judged:
        when = auditlog.recorded(e)
        if when is None:
            problems["EHDS-LOG-005"] = f"entry {e.get('id', '?')} of {op} has no time with a zone ({e.get('recorded')!r})"
            break
        if want.started and want.finished and not (
                want.started - CLOCK_TOLERANCE <= when <= want.finished + CLOCK_TOLERANCE):
            problems["EHDS-LOG-005"] = (f"entry {e.get('id', '?')} of {op} says {e.get('recorded')}, outside the "
                                        f"operation's window {want.started.isoformat()}..{want.finished.isoformat()}")
            break
    if want.origins:
        found = set().union(*(auditlog.origin_ids(e) for e in judged))
        if not want.origins <= found:
            problems["EHDS-LOG-006"] = (f"entries {ids} of {op} do not name the origin(s) of the data served "
                                        f"{sorted(want.origins)} (found {sorted(found)})")
    mine = {f"Patient/{want.patient_id}"} | {identifier_value(i) for i in want.patient_identifiers}
    for e in judged:
        refs = auditlog.patient_refs(e)
        if not refs & mine:
            problems["EHDS-LOG-007"] = (f"entry {e.get('id', '?')} of {op} does not identify the patient "
                                        f"(expected one of {sorted(mine)}, found {sorted(refs)})")
            break
        if refs & want.other_patients:
            problems["EHDS-LOG-007"] = (f"entry {e.get('id', '?')} of {op} names another patient "
                                        f"{sorted(refs & want.other_patients)}")
            break
    flagged = [e for e in judged if auditlog.is_emergency(e)]
    if want.emergency is not None and not want.refused:
        if not flagged:
            problems["EHDS-LOG-012"] = f"the emergency access ({op}) is logged without purpose of use BTG/ETREAT"
        elif not any(normalise(want.emergency) in normalise(purpose_text(e)) for e in flagged):
            problems["EHDS-LOG-012"] = (f"the emergency access ({op}) is logged without its stated purpose "
                                        f"{want.emergency.strip()!r} (logged: "
                                        f"{[purpose_text(e) for e in flagged][:2]})")
    elif want.emergency is None and flagged:
        problems["EHDS-LOG-012"] = f"an ordinary access ({op}) is logged as an emergency access"
    for e in judged:
        text = json.dumps(e, default=str)
        if _payload(e.get("entity")) or _payload(e.get("contained")) or _JWT.search(text):
            problems["EHDS-LOG-014"] = f"entry {e.get('id', '?')} of {op} carries clinical payload or a token"
            break
    return problems


def purpose_text(entry: dict[str, Any]) -> str:
    texts = []
    for concept in entry.get("purposeOfEvent") or []:
        if isinstance(concept, dict):
            texts.append(str(concept.get("text") or ""))
            texts += [str(c.get("display") or "") for c in concept.get("coding") or [] if isinstance(c, dict)]
    for agent in entry.get("agent") or []:
        for concept in (agent or {}).get("purposeOfUse") or []:
            if isinstance(concept, dict):
                texts.append(str(concept.get("text") or ""))
    texts.append(str(entry.get("outcomeDesc") or ""))
    return " | ".join(t for t in texts if t)
