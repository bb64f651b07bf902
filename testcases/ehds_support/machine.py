"""Hypothesis state machines that drive a SUT through the adapter contract and compare it with the model.

One machine per area (access and logging, restriction and emergency access, identity, export),
all built on :class:`EhrMachine`: the same people and documents rules (near-duplicate identities,
several identifiers per patient, names outside Latin-1, batches large enough to cross a page),
plus the area's own rules. After every step the machine checks the invariants of its area's
requirements against :class:`~ehds_support.model.Model`; ``expect(requirement, ok, message)`` ties
each invariant to exactly one requirement id.

Two modes (see :mod:`ehds_support.stateful`): *record* (``focus=None``) runs the sequences and
records the first violation per requirement without stopping; *focus* raises on a violation of the
one requirement under check only, so hypothesis shrinks the sequence for that requirement.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, ClassVar

from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, multiple, rule

from conformance import auditlog, fhirmap
from conformance.adapter import Actor, ActorKind, Denied, NotFound, NotSupported, Rejected, Restriction
from conformance.auditlog import identifier_value
from conformance.documents import identifier as fhir_identifier
from ehds_support.model import (
    Doc,
    ExpectedEntry,
    Model,
    Patient,
    blank,
    document_key,
    entry_problems,
    identifiers_of,
    subject_patient,
    telltales,
)

#: A second identifier system (a national identifier beside the harness's own).
SECOND_SYSTEM = "urn:oid:2.999.1.250.1.213.1.4.8"
#: Names outside Latin-1, and near-duplicate people (same name and birth date, different identifiers).
NAMES = [("Παπαδοπούλου", "Σοφία"), ("Иванова", "Анна"), ("王", "秀英"), ("Nguyễn", "Thị Ánh"),
         ("Łukasiewicz", "Zdzisław"), ("Dvořák", "Řehoř"), ("Şahin", "Ğülay"), ("Øvergård", "Åse")]
NEAR = ("fresh", "namesake", "prefix", "same-value-other-system", "two-identifiers", "non-latin")
STATED = ("Unconscious patient in the emergency department", "EMERGENCY: cardiac arrest",
          "emergency - anaphylactic shock", "  bewusstlos, Notaufnahme  ", "urgence vitale : patient inconscient",
          "Σοβαρό τροχαίο, αναίσθητος", "Vital interest:\tpatient unresponsive", "noodgeval\nbewusteloos")
BLANK = ("", " ", "\t", "\n", "\u00a0", "\u2003 \u3000", "\r\n  \t")
CREDENTIAL_VARIANTS = ("empty password", "password upper-cased", "password truncated", "password with a space",
                       "another account's password", "identifier upper-cased", "identifier with a trailing space",
                       "identifier without its system", "auditor role claimed with a professional's login",
                       "professional role claimed with the auditor's login",
                       "professional role claimed with a patient's login", "patient with a wrong password",
                       "patient identifier prefix")


@dataclass
class Recorder:
    """What a record-mode run found: first violation per requirement with its steps, counts."""

    violations: dict[str, tuple[str, list[str]]] = field(default_factory=dict)
    checked: Counter[str] = field(default_factory=Counter)
    blocked: dict[str, str] = field(default_factory=dict)
    examples: int = 0
    steps: int = 0
    last_steps: list[str] = field(default_factory=list)


@dataclass
class Context:
    """What a machine needs from the check that runs it (the plugin's fixtures)."""

    sut: Any
    accounts: Any
    new_patient: Any
    documents: Any
    categories: tuple[str, ...]
    capabilities: frozenset[Any]
    focus: str | None = None
    recorder: Recorder = field(default_factory=Recorder)


class StepFailure(AssertionError):
    """A violation of the requirement under check (focus mode); carries the steps."""


class EhrMachine(RuleBasedStateMachine):
    """People and documents; subclasses add their area's rules and name their requirements."""

    ctx: ClassVar[Context]
    requirements: ClassVar[frozenset[str]] = frozenset()
    volume: ClassVar[int] = 0  # > 0: the first patient gets up to this many documents at once
    batches: ClassVar[tuple[int, int, int, int]] = (0, 24, 0, 45)  # documents the first patient starts with
    first_non_latin: ClassVar[bool] = False  # the first patient's name is outside Latin-1

    known = Bundle("known")

    def __init__(self) -> None:
        super().__init__()
        self.model = Model()
        self.steps: list[str] = []
        self.seen: dict[str, set[str]] = {}
        self.hp_entries: dict[str, set[str]] = {}
        self.seed = 0
        ctx = self.ctx
        ctx.recorder.examples += 1
        self.sessions = {"hp": ctx.sut.login(ctx.accounts.hp), "hp_other": ctx.sut.login(ctx.accounts.hp_other)}
        self.auditor: Any = None
        try:
            self.auditor = ctx.sut.login(ctx.accounts.auditor)
        except Denied:
            self.block_log("the auditor cannot log in")

    # ---- bookkeeping ---------------------------------------------------------------------------

    def step(self, text: str) -> None:
        self.steps.append(text)
        self.ctx.recorder.steps += 1

    def expect(self, requirement: str, ok: bool, message: str) -> None:
        """Invariant of `requirement`: record (record mode) or raise (focus on it) when broken."""
        if requirement not in self.requirements:
            return
        rec = self.ctx.recorder
        rec.checked[requirement] += 1
        if ok:
            return
        if self.ctx.focus is None:
            rec.violations.setdefault(requirement, (message, list(self.steps)))
        elif self.ctx.focus == requirement:
            rec.last_steps = list(self.steps)
            raise StepFailure(f"{message}\nafter the steps:\n" + "\n".join(
                f"  {i}. {s}" for i, s in enumerate(self.steps, 1)))

    def block_log(self, why: str) -> None:
        for req in self.requirements:
            if req.startswith("EHDS-LOG-"):
                self.ctx.recorder.blocked.setdefault(req, f"{why} (see EHDS-LOG-008)")
        self.expect("EHDS-LOG-008", False, f"{why}: the access log cannot be reviewed")

    def others(self, label: str) -> frozenset[str]:
        return frozenset(f"Patient/{p.patient_id}" for p in self.model.known() if p.label != label)

    def log_of(self, pid: str) -> list[dict[str, Any]] | None:
        if self.auditor is None:
            return None
        try:
            entries = list(self.auditor.access_log(pid))
        except Denied as answer:
            self.auditor = None
            self.block_log(f"the auditor may not read the access log ({answer.reason})")
            return None
        self.expect("EHDS-LOG-008", all(isinstance(e, dict) and e.get("resourceType") == "AuditEvent"
                                        for e in entries), "the access log is not made of FHIR AuditEvents")
        return entries

    def logs_enabled(self) -> bool:
        return bool(self.requirements & {"EHDS-LOG-001", "EHDS-LOG-012"}) and self.auditor is not None

    def sync_log(self, pid: str) -> None:
        if not self.logs_enabled():
            return
        entries = self.log_of(pid)
        if entries is not None:
            self.seen[pid] = {auditlog.entry_key(e) for e in entries}

    def check_log(self, p: Patient, want: ExpectedEntry, *, hp_access: bool = False) -> None:
        """The entries the last operation added to the patient's log, against the expected entry."""
        self.log_checked = True
        if not self.logs_enabled() or not p.patient_id:
            return
        entries = self.log_of(p.patient_id)
        if entries is None:
            return
        seen = self.seen.get(p.patient_id, set())
        added = [e for e in entries if auditlog.entry_key(e) not in seen]
        self.seen[p.patient_id] = seen | {auditlog.entry_key(e) for e in added}
        if hp_access and not want.refused:
            self.hp_entries.setdefault(p.patient_id, set()).update(auditlog.entry_key(e) for e in added)
        problems = entry_problems(added, want)
        for req in ("EHDS-LOG-001", "EHDS-LOG-002", "EHDS-LOG-003", "EHDS-LOG-004", "EHDS-LOG-005",
                    "EHDS-LOG-006", "EHDS-LOG-007", "EHDS-LOG-012", "EHDS-LOG-013", "EHDS-LOG-014"):
            if req == "EHDS-LOG-013" and not want.refused:
                continue
            if req == "EHDS-LOG-001" and want.refused:
                continue
            if req == "EHDS-LOG-012" and want.emergency is None and not added:
                continue
            if not added and req not in ("EHDS-LOG-001", "EHDS-LOG-013"):
                continue  # no entry: its content is not judged (never a vacuous pass); LOG-001/013 decide
            self.expect(req, req not in problems, problems.get(req, ""))

    def expected(self, operation: str, p: Patient, who: Actor | None, started: dt.datetime, **kw: Any
                 ) -> ExpectedEntry:
        org = who.organisation.identifier if who is not None and who.organisation else ""
        return ExpectedEntry(operation=operation, patient_id=p.patient_id or "",
                             patient_identifiers=frozenset(p.identifiers), person=who.identifier if who else "",
                             organisation=org, started=started, finished=dt.datetime.now(dt.UTC),
                             other_patients=self.others(p.label), **kw)

    # ---- people and documents (every area) ----------------------------------------------------

    def make_person(self, near: str, base: Patient | None) -> str:
        identity = self.ctx.new_patient()
        identifiers = [identity.identifier]
        if near == "namesake" and base is not None:
            identity = dataclasses.replace(identity, family=base.identity.family, given=base.identity.given,
                                           birth_date=base.identity.birth_date, gender=base.identity.gender)
        elif near == "prefix" and base is not None:  # its value starts with another patient's value
            taken = {i for q in self.model.patients.values() for i in q.identifiers}
            extended = base.identity.identifier + "7"
            while extended in taken:
                extended += "7"
            identity = dataclasses.replace(identity, identifier=extended)
            identifiers = [identity.identifier]
        elif near == "same-value-other-system" and base is not None:
            identifiers = [identity.identifier, f"{SECOND_SYSTEM}|{identifier_value(base.identity.identifier)}"]
        elif near == "two-identifiers":
            identifiers = [identity.identifier, f"{SECOND_SYSTEM}|{identifier_value(identity.identifier)[::-1]}"]
        elif near == "non-latin":
            family, given = NAMES[len(self.model.patients) % len(NAMES)]
            identity = dataclasses.replace(identity, family=family, given=given)
        taken = {i for q in self.model.patients.values() for i in q.identifiers}
        if set(identifiers) & taken:  # this near duplicate exists already: a fresh identity instead
            near, identity = "fresh", self.ctx.new_patient()
            identifiers = [identity.identifier]
        label = f"P{len(self.model.patients) + 1}"
        self.model.add_patient(Patient(label, identity, identifiers))
        self.step(f"new patient {label} ({near}{', like ' + base.label if base and near != 'fresh' else ''}): "
                  f"{identifiers}, {identity.family} {identity.given}, born {identity.birth_date}")
        return label

    @initialize(target=known, near=st.sampled_from(NEAR), first=st.sampled_from(("patient-summary", "laboratory")),
                second=st.sampled_from(("discharge", "eprescription")), batch=st.integers(0, 3))
    def two_patients(self, near: str, first: str, second: str, batch: int) -> Any:
        """Every sequence starts with two patients on file (the second a near duplicate of the first); in
        the volume machines the first one often has a page's worth of documents or more (`batch`)."""
        a = self.make_person("non-latin" if self.first_non_latin else "fresh", None)
        b = self.make_person(near, self.model.patients[a])
        self.submit_docs(a, self.category(first), 1, 0)
        self.submit_docs(a, self.category(second), 1, 0)
        self.submit_docs(b, self.category(second), 1, 0)
        if self.volume and self.batches[batch]:
            self.submit_batch(a, self.batches[batch], 0)
        return multiple(a, b)

    @rule(target=known, near=st.sampled_from(NEAR), base=known,
          category=st.sampled_from(("patient-summary", "laboratory", "discharge", "eprescription")))
    def another_patient(self, near: str, base: str, category: str) -> str:
        label = self.make_person(near, self.model.patients[base])
        self.submit_docs(label, self.category(category), 1, 0)
        return label

    def bundle_for(self, p: Patient, category: str, identifiers: list[str]) -> dict[str, Any]:
        self.seed += 1
        identity = dataclasses.replace(p.identity, identifier=identifiers[0])
        # content varies by the model's label, not the fresh identifier: a replayed sequence gets the same documents
        bundle = self.ctx.documents.valid(category, identity, seed=self.seed, variation=p.label)
        subject = subject_patient(bundle)
        if subject is not None:
            subject["identifier"] = [fhir_identifier(i) for i in identifiers]
        return bundle

    def after_change(self, label: str) -> None:
        """Hook: what an area checks at once after the patient's data or restriction changed."""

    def submit_docs(self, label: str, category: str, n: int, use: int, *, look: bool = True,
                    dated: str = "") -> None:
        """`n` valid documents of `category` for `label`, under identifier choice `use`; `dated` replaces
        their Composition.date (a document dated the same instant as one already filed)."""
        p = self.model.patients[label]
        ids = list(p.identifiers)
        if p.patient_id and len(ids) > 1:
            ids = [ids, ids[:1], ids[1:], ids[::-1]][use % 4]
        hp = self.sessions["hp"]
        for _ in range(n):
            bundle = self.bundle_for(p, category, ids)
            if dated:
                (bundle.get("entry") or [{}])[0].get("resource", {})["date"] = dated
            try:
                receipt = hp.submit(bundle)
            except Rejected as answer:
                self.step(f"hp submits a {category} document for {label} under {ids}: rejected")
                self.ctx.recorder.blocked.setdefault("*", f"a valid {category} document was rejected "
                                                          f"({answer.reason}); see EHDS-GEN-001")
                return
            if p.patient_id is None:
                clash = self.model.by_pid(receipt.patient_id)
                self.expect("EHDS-INT-002", clash is None,
                            f"a document for the new patient {label} ({ids}) was filed under patient "
                            f"{receipt.patient_id}, who is {clash.label if clash else ''} ({clash.identifiers if clash else ''})")
                if clash is not None:
                    continue  # misfiled: the model keeps only what the SUT filed where it belongs
                p.patient_id = receipt.patient_id
            elif receipt.patient_id != p.patient_id:
                self.expect("EHDS-INT-002", False,
                            f"a document for {label} submitted under {ids} was filed under patient "
                            f"{receipt.patient_id}, not {p.patient_id} (the patient holding those identifiers)")
                continue
            else:
                self.expect("EHDS-INT-002", True, "")
            comp = (bundle.get("entry") or [{}])[0].get("resource") or {}
            self.model.add_document(Doc(receipt.document_id, label, category, document_key(bundle),
                                        frozenset(auditlog.bundle_custodians(bundle)), str(comp.get("date", "")),
                                        custodian=fhirmap.document_custodian(bundle)))
        self.step(f"hp submits {n} {category} document(s) for {label} under {ids}"
                  + (f" dated {dated}" if dated else "") + f" ({len(p.documents)} in all)")
        if p.patient_id:
            self.sync_log(p.patient_id)
        if look and p.patient_id:
            self.after_change(label)

    @rule(person=known, category=st.sampled_from(("patient-summary", "laboratory", "discharge", "eprescription")),
          n=st.integers(1, 3), use=st.integers(0, 3))
    def submit(self, person: str, category: str, n: int, use: int) -> None:
        self.submit_docs(person, self.category(category), n, use)

    def submit_batch(self, person: str, n: int, use: int) -> None:
        cats = self.ctx.categories
        for i in range(0, n, 10):
            self.submit_docs(person, cats[(i // 10) % len(cats)], min(10, n - i), use, look=False)
        if self.model.patients[person].patient_id:
            self.after_change(person)

    def category(self, wanted: str) -> str:
        cats = self.ctx.categories
        return wanted if wanted in cats else cats[sum(map(ord, wanted)) % len(cats)]

    def teardown(self) -> None:
        self.ctx.recorder.last_steps = list(self.steps)


def strategy_categories() -> st.SearchStrategy[str | None]:
    return st.none() | st.sampled_from(("patient-summary", "laboratory", "discharge", "eprescription"))


class Reads:
    """Professionals list and fetch (mixed into the areas that need reads)."""

    def list_as(self: Any, person: str, who: str, category: str | None) -> None:
        p: Patient = self.model.patients[person]
        if not p.patient_id:
            return
        self.log_checked = False
        try:
            self._list_as(p, person, who, category)
        finally:
            if not self.log_checked:
                self.sync_log(p.patient_id)

    def _list_as(self: Any, p: Patient, person: str, who: str, category: str | None) -> None:
        category = self.category(category) if category else None
        actor = getattr(self.ctx.accounts, who)
        started = dt.datetime.now(dt.UTC)
        listing = self.sessions[who].list_documents(p.patient_id, category)
        listed = [d.document_id for d in listing]
        self.step(f"{who} lists {person}'s documents{' of ' + category if category else ''}: {len(listed)} listed")
        withheld = self.model.withheld(person)
        leaked = sorted(set(listed) & withheld)
        self.expect("EHDS-SEC-007", not leaked, f"restricted documents {leaked} of {person} were listed to {who}")
        words = telltales([d.__dict__ for d in listing])
        self.expect("EHDS-SEC-007", not words, f"the listing to {who} reveals a restriction ({words})")
        visible = {d.id for d in self.model.visible_to_professional(person, category)}
        missing = visible - set(listed)
        lifted = {d for d in missing & p.ever_restricted if not self.retrievable(p, who, d)}
        self.expect("EHDS-SEC-007", not lifted,
                    f"documents {sorted(lifted)} of {person} stay hidden from {who} after their restriction was "
                    f"lifted or changed")
        never = sorted(missing - lifted)
        self.expect("EHDS-INT-003", not never,
                    f"{len(never)} of {len(visible)} documents of {person} are missing from {who}'s listing "
                    f"({never[:3]}...)")
        own = set(p.documents)
        foreign = sorted(set(listed) - own)
        self.expect("EHDS-INT-003", not foreign, f"{person}'s listing holds documents {foreign[:3]} not theirs")
        self.expect("EHDS-INT-003", len(listed) == len(set(listed)), f"{person}'s listing repeats documents")
        for info in listing:
            doc = self.model.docs.get(info.document_id)
            self.expect("EHDS-INT-003", info.patient_id == p.patient_id,
                        f"listing entry {info.document_id} names subject {info.patient_id}, not {p.patient_id}")
            if category:
                self.expect("EHDS-INT-003", info.category == category,
                            f"searching {person}'s documents by type {category} returned a {info.category}")
            if doc is not None:
                self.expect("EHDS-INT-003", bool(info.date) and info.date[:10] == doc.date[:10],
                            f"listing entry {info.document_id} gives date {info.date!r}, the document's is {doc.date!r}")
            if doc is not None and doc.custodian:  # the origin of the data: the organisation the document came from
                self.expect("EHDS-INT-003", info.custodian == doc.custodian,
                            f"listing entry {info.document_id} (listed to {who}) names no custodian; the document "
                            f"came from {doc.custodian}" if info.custodian is None else
                            f"listing entry {info.document_id} (listed to {who}) names the custodian "
                            f"{info.custodian}; the document came from {doc.custodian}")
        # the categories the listing gave access to (the one searched when nothing came back)
        cats = frozenset(info.category for info in listing) if listing else (
            frozenset({category}) if category else frozenset())
        self.check_log(p, self.expected(f"{who}'s listing of {person}", p, actor, started, categories=cats),
                       hp_access=True)

    def retrievable(self: Any, p: Patient, who: str, doc_id: str) -> bool:
        """Whether a document missing from a listing can still be fetched by id (then the listing is
        lossy, EHDS-INT-003; otherwise it is still withheld, EHDS-SEC-007)."""
        doc = self.model.docs[doc_id]
        try:
            bundle = self.sessions[who].fetch(p.patient_id, doc.category, document_id=doc_id)
        except (NotFound, Denied, Rejected):
            return False
        return document_key(bundle) == doc.key

    def fetch_as(self: Any, person: str, who: str, by_id: bool, pick: int, category: str | None,
                 purpose: str | None = None) -> None:
        p: Patient = self.model.patients[person]
        if not p.patient_id or not p.documents:
            return
        self.log_checked = False
        try:
            self._fetch_as(p, person, who, by_id, pick, category, purpose)
        finally:
            if not self.log_checked:
                self.sync_log(p.patient_id)

    def _fetch_as(self: Any, p: Patient, person: str, who: str, by_id: bool, pick: int, category: str | None,
                  purpose: str | None) -> None:
        actor = getattr(self.ctx.accounts, who)
        emergency = purpose is not None and not blank(purpose)
        if by_id:
            wanted: Doc | None = self.model.docs[p.documents[pick % len(p.documents)]]
            category = wanted.category
            allowed = emergency or not self.model.is_withheld(wanted)
            what = f"document {wanted.id} ({category}{', restricted' if self.model.is_withheld(wanted) else ''})"
        else:
            category = self.category(category or "patient-summary")
            wanted = self.model.latest_visible(person, category, emergency=emergency)
            allowed = wanted is not None
            what = f"the latest {category}"
        how = f" with emergency purpose {purpose!r}" if purpose is not None else ""
        started = dt.datetime.now(dt.UTC)
        try:
            bundle = self.sessions[who].fetch(p.patient_id, category, document_id=wanted.id if by_id and wanted else None,
                                              emergency_purpose=purpose)
        except (NotFound, Denied, Rejected) as answer:
            self.step(f"{who} fetches {person}'s {what}{how}: {type(answer).__name__}")
            self.refused_fetch(p, who, actor, wanted, allowed, purpose, answer, started)
            return
        served = self.model.by_key(document_key(bundle))
        self.step(f"{who} fetches {person}'s {what}{how}: served "
                  f"{served.id + ' (' + served.category + ')' if served else 'an unknown document'}")
        if purpose is not None and blank(purpose):
            self.expect("EHDS-SEC-008", False, f"emergency access was granted to {who} with the blank purpose "
                                               f"{purpose!r}")
            return
        leak = served is not None and served.patient == person and self.model.is_withheld(served) and not emergency
        self.expect("EHDS-SEC-007", not leak, f"restricted document {served.id if served else ''} of {person} was "
                                              f"served to {who}")
        words = telltales(bundle)
        self.expect("EHDS-SEC-007", not words, f"the export to {who} reveals a restriction ({words})")
        if leak:
            return
        if wanted is None:
            self.expect("EHDS-INT-004", served is None or served.patient == person,
                        f"{who} asked {person}'s {category} and got another patient's document")
            return
        ok = served is not None and served.id == wanted.id
        if purpose is not None:
            self.expect("EHDS-SEC-008", True, "")  # granted; which document came back is EHDS-INT-004's
        self.expect("EHDS-INT-004", ok, f"{who} asked {person}'s {what} and got "
                                        f"{served.id + ' (' + served.category + ')' if served else 'a document never sent'}")
        self.expect("EHDS-INT-004", isinstance(bundle, dict) and bundle.get("type") == "document" and
                    bool(identifiers_of(subject_patient(bundle)) & set(p.identifiers)),
                    f"the export of {wanted.id} is not a document Bundle about {person}")
        if ok:
            self.check_log(p, self.expected(f"{who}'s fetch of {person}'s {what}{how}", p, actor, started,
                                            categories=frozenset({wanted.category}), origins=wanted.custodians,
                                            emergency=purpose if emergency else None), hp_access=True)

    def refused_fetch(self, p: Patient, who: str, actor: Actor, wanted: Doc | None, allowed: bool,
                      purpose: str | None, answer: Exception, started: dt.datetime) -> None:
        if purpose is not None and blank(purpose):
            self.expect("EHDS-SEC-008", True, "")
            if isinstance(answer, Denied):
                self.check_log(p, self.expected(f"{who}'s emergency access with a blank purpose", p, actor, started,
                                                refused=True, emergency=purpose))
            return
        if purpose is not None:
            self.expect("EHDS-SEC-008", isinstance(answer, (NotFound,)) and wanted is None,
                        f"emergency access with the stated purpose {purpose!r} was refused to {who}: "
                        f"{type(answer).__name__} {getattr(answer, 'reason', '')}")
            return
        if wanted is not None and not allowed:
            self.expect("EHDS-SEC-007", isinstance(answer, NotFound),
                        f"fetching a restricted document answered {type(answer).__name__}, which reveals it "
                        f"(expected NotFound like a made-up id)")
            return
        if allowed and wanted is not None:
            req = "EHDS-SEC-007" if wanted.id in self.model.patients[wanted.patient].ever_restricted else "EHDS-INT-004"
            self.expect(req, False, f"{who} could not fetch {wanted.id} ({wanted.category}), which is visible to "
                                    f"professionals: {type(answer).__name__} {getattr(answer, 'reason', '')}")


__all__ = ["CREDENTIAL_VARIANTS", "Context", "EhrMachine", "Reads", "Recorder", "StepFailure", "NotSupported",
           "Restriction", "ActorKind"]
