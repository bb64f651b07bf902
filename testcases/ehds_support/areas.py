"""The four area machines: which rules each drives and which requirements it judges.

Each requirement is judged by exactly one area (``requirements``), so a violation is reported once,
on its own requirement, by the check of that requirement.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter

from hypothesis import strategies as st
from hypothesis.stateful import rule

from conformance import auditlog
from conformance.adapter import Actor, ActorKind, Denied, NotFound, NotSupported, Rejected, Restriction, latest
from conformance.auditlog import identifier_value
from ehds_support.machine import (
    BLANK,
    CREDENTIAL_VARIANTS,
    STATED,
    EhrMachine,
    Reads,
    strategy_categories,
)
from ehds_support.model import Patient, document_key, identifiers_of, subject_patient

WHO = st.sampled_from(("hp", "hp_other"))
CATEGORIES = ("patient-summary", "laboratory", "discharge", "eprescription")
PICK = st.integers(0, 10**6)


class AccessLogMachine(Reads, EhrMachine):
    """Access and logging: every access by two organisations, the patient reading their own log,
    a patient prying into another's record, wrong credentials and claimed roles."""

    requirements = frozenset({
        "EHDS-LOG-001", "EHDS-LOG-002", "EHDS-LOG-003", "EHDS-LOG-004", "EHDS-LOG-005", "EHDS-LOG-006",
        "EHDS-LOG-007", "EHDS-LOG-008", "EHDS-LOG-009", "EHDS-LOG-013", "EHDS-LOG-014", "EHDS-SEC-006",
        "EHDS-SEC-004"})
    volume = 60  # the first patient's log often starts past 25 entries
    batches = (0, 24, 0, 30)

    @rule(person=EhrMachine.known, who=WHO, category=st.sampled_from(CATEGORIES), then_patient=st.booleans())
    def professional_lists(self, person: str, who: str, category: str, then_patient: bool) -> None:
        """A search by type, then the whole listing."""
        self.list_as(person, who, category)
        self.list_as(person, who, None)
        if then_patient:
            self.patient_reads_own_log(person)

    @rule(person=EhrMachine.known, who=WHO, by_id=st.booleans(), pick=PICK, category=strategy_categories(),
          then_patient=st.booleans())
    def professional_fetches(self, person: str, who: str, by_id: bool, pick: int, category: str | None,
                             then_patient: bool) -> None:
        """Discover by type, then retrieve (the MHD flow)."""
        self.list_as(person, who, category or "patient-summary")
        self.fetch_as(person, who, by_id, pick, category)
        if then_patient:
            self.patient_reads_own_log(person)

    @rule(person=EhrMachine.known)
    def patient_reads_own_log(self, person: str) -> None:
        p: Patient = self.model.patients[person]
        if not p.patient_id:
            return
        identifier = p.identifiers[0]
        try:
            own = list(self.ctx.sut.login(self.ctx.accounts.patient(identifier)).access_log(p.patient_id))
        except Denied as answer:
            self.step(f"{person} logs in as {identifier} and reads their access log: Denied")
            self.expect("EHDS-LOG-009", False, f"{person} was refused their own access log ({answer.reason})")
            self.sync_log(p.patient_id)  # whatever the refusal logged is not the next access's entry
            return
        self.step(f"{person} logs in as {identifier} and reads their access log: {len(own)} entries")
        others = [q.label for q in self.model.known() if q.label != person and q.documents]
        if others:  # and, in the same session, asks for somebody else's
            self.patient_pries(person, others[len(self.steps) % len(others)])
        keys = {auditlog.entry_key(e) for e in own}
        missing = self.hp_entries.get(p.patient_id, set()) - keys
        self.expect("EHDS-LOG-009", not missing,
                    f"{len(missing)} entries of professionals' accesses to {person}'s data (seen by the auditor) "
                    f"are missing from {person}'s own view of the log")
        mine = self.seen.get(p.patient_id, set())
        foreign = [e.get("id") for e in own if auditlog.entry_key(e) not in mine
                   and auditlog.patient_refs(e) & self.others(person)]
        self.expect("EHDS-SEC-004", not foreign, f"{person}'s own view of the log holds entries of other "
                                                 f"patients' logs: {foreign[:3]}")

    @rule(person=EhrMachine.known, other=EhrMachine.known)
    def patient_pries(self, person: str, other: str) -> None:
        """A patient's session asks for another patient's listing, document, log and identity."""
        for what in ("list", "fetch", "log", "find"):
            self.pry(person, other, what)

    def pry(self, person: str, other: str, what: str) -> None:
        """One request of a patient's session for another patient's data: refused, and logged as refused."""
        p, q = self.model.patients[person], self.model.patients[other]
        if person == other or not p.patient_id or not q.patient_id or not q.documents:
            return
        actor = self.ctx.accounts.patient(p.identifiers[0])
        session = self.ctx.sut.login(actor)
        started = dt.datetime.now(dt.UTC)
        calls = {"list": lambda: session.list_documents(q.patient_id),
                 "fetch": lambda: session.fetch(q.patient_id, self.model.docs[q.documents[-1]].category),
                 "log": lambda: session.access_log(q.patient_id),
                 "find": lambda: session.find_patient(q.identifiers[0])}
        try:
            got = calls[what]()
        except (Denied, NotFound) as answer:
            self.step(f"{person} (patient) asks {other}'s {what}: {type(answer).__name__}")
            self.expect("EHDS-SEC-004", True, "")
            if isinstance(answer, Denied) and what != "find":
                self.check_log(q, self.expected(f"{person}'s refused {what} of {other}'s data", q, actor, started,
                                                refused=True))
            else:
                self.sync_log(q.patient_id)
            return
        self.step(f"{person} (patient) asks {other}'s {what}: answered")
        self.expect("EHDS-SEC-004", not got and got != q.patient_id,
                    f"{person}'s patient session obtained {other}'s data through {what}")

    @rule(person=EhrMachine.known)
    def wrong_logins(self, person: str) -> None:
        """Every variant of wrong credentials and claimed roles, against this patient's identity too."""
        for variant in CREDENTIAL_VARIANTS:
            self.wrong_login(variant, person)

    def wrong_login(self, variant: str, person: str) -> None:
        """Variants of wrong credentials and of roles the client claims rather than the system grants."""
        acc = self.ctx.accounts
        hp, auditor = acc.hp, acc.auditor
        pwd = dict(hp.credentials).get("password", "")
        p = self.model.patients[person]
        patient = acc.patient(p.identifiers[0])
        ppwd = dict(patient.credentials).get("password", "")

        def with_password(actor: Actor, password: str) -> Actor:
            return dataclasses.replace(actor, credentials={**dict(actor.credentials), "password": password})

        forged: Actor | None = {
            "empty password": with_password(hp, ""),
            "password upper-cased": with_password(hp, pwd.upper()) if pwd.upper() != pwd else None,
            "password truncated": with_password(hp, pwd[:-1]) if pwd else None,
            "password with a space": with_password(hp, pwd + " "),
            "another account's password": with_password(hp, dict(acc.hp_other.credentials).get("password", "x")),
            "identifier upper-cased": dataclasses.replace(hp, identifier=hp.identifier.upper())
            if hp.identifier.upper() != hp.identifier else None,
            "identifier with a trailing space": dataclasses.replace(hp, identifier=hp.identifier + " "),
            "identifier without its system": dataclasses.replace(hp, identifier=identifier_value(hp.identifier))
            if "|" in hp.identifier else None,
            "auditor role claimed with a professional's login": dataclasses.replace(hp, kind=ActorKind.AUDITOR),
            "professional role claimed with the auditor's login": dataclasses.replace(
                auditor, kind=ActorKind.HEALTH_PROFESSIONAL),
            "professional role claimed with a patient's login": dataclasses.replace(
                patient, kind=ActorKind.HEALTH_PROFESSIONAL),
            "patient with a wrong password": with_password(patient, ppwd + "x"),
            "patient identifier prefix": dataclasses.replace(patient, identifier=p.identifiers[0][:-1])
            if self.model.owner_of_identifier(p.identifiers[0][:-1]) is None else None,
        }[variant]
        if forged is None:
            return
        try:
            self.ctx.sut.login(forged)
        except Denied:
            self.step(f"login with {variant}: Denied")
            self.expect("EHDS-SEC-006", True, "")
            return
        except NotSupported:  # the adapter cannot send these credentials (e.g. a system client): not tried
            self.step(f"login with {variant}: cannot be tried through this adapter")
            return
        self.step(f"login with {variant}: accepted")
        self.expect("EHDS-SEC-006", False, f"a login with {variant} was accepted")


class RestrictionMachine(Reads, EhrMachine):
    """Restriction and emergency access: restrict, lift and re-restrict while documents keep coming
    (batches past a page), professionals of two organisations read by search and by id, emergency
    access with purposes worded many ways or left blank."""

    requirements = frozenset({"EHDS-SEC-007", "EHDS-SEC-008", "EHDS-LOG-012", "EHDS-INT-003", "EHDS-INT-004"})
    volume = 60

    @rule(person=EhrMachine.known, who=WHO, category=strategy_categories())
    def professional_lists(self, person: str, who: str, category: str | None) -> None:
        self.list_as(person, who, category)

    @rule(person=EhrMachine.known, who=WHO, by_id=st.booleans(), pick=PICK, category=strategy_categories())
    def professional_fetches(self, person: str, who: str, by_id: bool, pick: int, category: str | None) -> None:
        self.fetch_as(person, who, by_id, pick, category)

    @rule(person=EhrMachine.known, picks=st.lists(PICK, max_size=4),
          categories=st.sets(st.sampled_from(("laboratory", "discharge", "eprescription", "patient-summary")),
                             max_size=2))
    def patient_restricts(self, person: str, picks: list[int], categories: set[str]) -> None:
        p: Patient = self.model.patients[person]
        if not p.patient_id or not p.documents:
            return
        docs = frozenset(p.documents[i % len(p.documents)] for i in picks)
        cats = frozenset(c for c in categories if c in self.ctx.categories)
        self.restrict(p, docs, cats)

    @rule(person=EhrMachine.known)
    def patient_lifts(self, person: str) -> None:
        p: Patient = self.model.patients[person]
        if p.patient_id:
            self.restrict(p, frozenset(), frozenset())

    def restrict(self, p: Patient, docs: frozenset[str], cats: frozenset[str]) -> None:
        try:
            self.ctx.sut.login(self.ctx.accounts.patient(p.identifiers[0])).restrict(
                p.patient_id, Restriction(document_ids=docs, categories=cats))
        except (Denied, Rejected, NotFound) as answer:
            self.step(f"{p.label} restricts {len(docs)} document(s) and {sorted(cats)}: {type(answer).__name__}")
            self.expect("EHDS-SEC-007", False, f"{p.label} could not restrict access to their data "
                                               f"({type(answer).__name__}: {answer.reason})")
            return
        self.model.restrict(p.label, docs, cats)
        self.step(f"{p.label} restricts documents {sorted(docs)} and categories {sorted(cats)} "
                  f"(now withheld: {len(self.model.withheld(p.label))} of {len(p.documents)})")
        self.professionals_look(p)

    def after_change(self, label: str) -> None:
        if self.model.withheld(label):
            self.professionals_look(self.model.patients[label])

    def professionals_look(self, p: Patient) -> None:
        """After every change of what professionals may see: one lists, the other tries a withheld document
        (or the latest of a restricted category), so each change is checked at once."""
        first, second = ("hp", "hp_other") if len(self.steps) % 2 else ("hp_other", "hp")
        self.list_as(p.label, first, None)
        withheld = sorted(self.model.withheld(p.label), key=lambda d: self.model.docs[d].seq)
        if withheld:
            self.fetch_as(p.label, second, True, p.documents.index(withheld[-1]), None)
        for category in sorted(p.restricted_categories):
            self.fetch_as(p.label, second, False, 0, category)

    @rule(person=EhrMachine.known, who=WHO, pick=PICK,
          purpose=st.sampled_from(STATED) | st.sampled_from(BLANK))
    def emergency_access(self, person: str, who: str, pick: int, purpose: str) -> None:
        p: Patient = self.model.patients[person]
        if p.patient_id:
            self.sync_log(p.patient_id)
        withheld = sorted(self.model.withheld(person), key=lambda d: self.model.docs[d].seq)
        if withheld and pick % 2:  # half the time the document asked for is a restricted one
            pick = p.documents.index(withheld[pick % len(withheld)])
        self.fetch_as(person, who, True, pick, None, purpose=purpose)
        self.professionals_look(p)  # the override ends with the access

    @rule(person=EhrMachine.known, who=WHO,
          category=st.sampled_from(("patient-summary", "laboratory", "discharge", "eprescription")))
    def same_instant_document_arrives(self, person: str, who: str, category: str) -> None:
        """A document dated the same instant as the newest of its category (a corrected report the same day),
        then a professional asks for the latest of that category: the contract's latest is the one received
        later, however the documents are stored or sorted."""
        category = self.category(category)
        newest = latest(self.model.documents(person, category), lambda d: d.date)
        if newest is None or not newest.date:
            return
        self.submit_docs(person, category, 1, 0, dated=newest.date)
        self.fetch_as(person, who, False, 0, category)

    @rule(person=EhrMachine.known, n=st.integers(1, 12), use=st.integers(0, 3))
    def more_documents_arrive(self, person: str, n: int, use: int) -> None:
        """New documents after a restriction: a category restriction covers them too."""
        self.submit_batch(person, n, use)


class IdentityMachine(Reads, EhrMachine):
    """Identity and discovery: near-duplicate identifiers, several identifiers per patient, namesakes,
    names outside Latin-1; look-ups by every identifier and by near misses; names kept on export."""

    requirements = frozenset({"EHDS-INT-002", "EHDS-INT-008"})
    first_non_latin = True

    def after_change(self, label: str) -> None:
        p: Patient = self.model.patients[label]
        for which in range(len(p.identifiers)):
            self.find_by_identifier(label, which)
        if p.documents:
            self.names_survive_export(label, len(p.documents) - 1)

    @rule(person=EhrMachine.known, which=st.integers(0, 3))
    def find_by_identifier(self, person: str, which: int) -> None:
        p: Patient = self.model.patients[person]
        identifier = p.identifiers[which % len(p.identifiers)]
        try:
            found = self.sessions["hp"].find_patient(identifier)
        except NotFound:
            found = None
        self.step(f"hp looks up {identifier}: {found or 'NotFound'}")
        self.expect("EHDS-INT-002", found == p.patient_id,
                    f"looking up {person}'s identifier {identifier} gave {found!r}, not {p.patient_id!r}")

    @rule(person=EhrMachine.known, variant=st.sampled_from(("prefix", "extended", "case", "other-system", "padded")))
    def find_near_miss(self, person: str, variant: str) -> None:
        p: Patient = self.model.patients[person]
        system, _, value = p.identifiers[0].partition("|")
        probe = {"prefix": f"{system}|{value[:-1]}", "extended": f"{system}|{value}0",
                 "case": f"{system}|{value.swapcase()}", "other-system": f"urn:oid:2.999.77|{value}",
                 "padded": f"{system}|{value} "}[variant]
        if probe == p.identifiers[0]:
            return
        owner = self.model.owner_of_identifier(probe)
        try:
            found = self.sessions["hp"].find_patient(probe)
        except NotFound:
            found = None
        self.step(f"hp looks up the near miss {probe} ({variant} of {person}'s): {found or 'NotFound'}")
        want = owner.patient_id if owner else None
        self.expect("EHDS-INT-002", found == want,
                    f"looking up {probe} ({variant} of {person}'s identifier) gave {found!r}; "
                    f"expected {want or 'not found'}")

    @rule(person=EhrMachine.known, pick=PICK)
    def names_survive_export(self, person: str, pick: int) -> None:
        p: Patient = self.model.patients[person]
        if not p.patient_id or not p.documents:
            return
        doc = self.model.docs[p.documents[pick % len(p.documents)]]
        try:
            bundle = self.sessions["hp"].fetch(p.patient_id, doc.category, document_id=doc.id)
        except NotFound:
            self.step(f"hp fetches {doc.id} of {person}: NotFound")
            return  # retrieval is EHDS-INT-004's business
        if document_key(bundle) != doc.key:
            return
        subject = subject_patient(bundle) or {}
        names = subject.get("name") or [{}]
        family, given = names[0].get("family", ""), " ".join(names[0].get("given") or [])
        self.step(f"hp fetches {doc.id} of {person}: about {family} {given}")
        self.expect("EHDS-INT-008", (family, given) == (p.identity.family, p.identity.given),
                    f"{person}'s name {p.identity.family!r} {p.identity.given!r} came back as {family!r} {given!r}")
        self.expect("EHDS-INT-008", identifiers_of(subject) >= {p.identifiers[0]} or len(p.identifiers) > 1,
                    f"{person}'s identifier {p.identifiers[0]} is missing from the export")


class ExportMachine(EhrMachine):
    """Export for system replacement: every document exactly once, whatever the restrictions and the
    identifiers it was received under."""

    requirements = frozenset({"EHDS-INT-011"})
    volume = 60
    batches = (55, 24, 60, 0)  # the first often crosses a page of 50

    def after_change(self, label: str) -> None:
        self.data_holder_exports(label)

    @rule(person=EhrMachine.known, picks=st.lists(PICK, max_size=3), lab=st.booleans())
    def patient_restricts(self, person: str, picks: list[int], lab: bool) -> None:
        p: Patient = self.model.patients[person]
        if not p.patient_id or not p.documents:
            return
        docs = frozenset(p.documents[i % len(p.documents)] for i in picks)
        cats = frozenset({"laboratory"} & set(self.ctx.categories) if lab else ())
        try:
            self.ctx.sut.login(self.ctx.accounts.patient(p.identifiers[0])).restrict(
                p.patient_id, Restriction(document_ids=docs, categories=cats))
        except (Denied, Rejected, NotFound):
            self.step(f"{person} restricts: refused")
            return
        self.model.restrict(person, docs, cats)
        self.step(f"{person} restricts {len(docs)} document(s) and {sorted(cats)}")
        self.data_holder_exports(person)

    @rule(person=EhrMachine.known, n=st.integers(1, 60), use=st.integers(0, 3))
    def many_documents_arrive(self, person: str, n: int, use: int) -> None:
        """Enough documents at once to cross a page (20, 50) or a buffer."""
        self.submit_batch(person, n, use)

    @rule(person=EhrMachine.known)
    def documents_under_each_identifier(self, person: str) -> None:
        """One document under each subset of the patient's identifiers (all, first, second, reversed)."""
        for use in range(4 if len(self.model.patients[person].identifiers) > 1 else 1):
            self.submit_docs(person, self.ctx.categories[use % len(self.ctx.categories)], 1, use)

    @rule(person=EhrMachine.known)
    def data_holder_exports(self, person: str) -> None:
        p: Patient = self.model.patients[person]
        if not p.patient_id:
            return
        holder = self.ctx.sut.login(self.ctx.accounts.auditor)
        try:
            exported = list(holder.export_all(p.patient_id))
        except (Denied, NotSupported) as answer:
            self.step(f"the data holder exports {person}: {type(answer).__name__}")
            self.expect("EHDS-INT-011", False, f"the full export of {person} was refused ({answer.reason})")
            return
        counts = Counter(document_key(b) for b in exported)
        want = {self.model.docs[d].key: d for d in p.documents}
        self.step(f"the data holder exports {person}: {len(exported)} document(s) of {len(want)}")
        missing = [want[k] for k in want if counts[k] == 0]
        self.expect("EHDS-INT-011", not missing, f"the full export of {person} leaves out {len(missing)} of "
                                                 f"{len(want)} documents: {missing[:3]}")
        twice = [k for k, n in counts.items() if n > 1]
        self.expect("EHDS-INT-011", not twice, f"the full export of {person} repeats documents {twice[:3]}")
        extra = [k for k in counts if k not in want]
        self.expect("EHDS-INT-011", not extra, f"the full export of {person} carries documents not theirs {extra[:3]}")


AREAS: dict[str, type[EhrMachine]] = {
    "access-log": AccessLogMachine,
    "restriction": RestrictionMachine,
    "identity": IdentityMachine,
    "export": ExportMachine,
}

__all__ = ["AREAS", "AccessLogMachine", "ExportMachine", "IdentityMachine", "RestrictionMachine"]
