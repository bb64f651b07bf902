"""EHDS-INT-011: a complete export for system replacement loses nothing.

After the SUT has received several documents of several categories for one fresh patient
(drawn by hypothesis from the categories it accepts; an eHDSI CDA patient summary first when
it declares CDA), the data holder's full export (``Session.export_all``, called as the auditor
account) must return each of them exactly once and keep what identifies its meaning: the
Composition identifier and LOINC type of a FHIR document, the ClinicalDocument id and code of
a CDA document carried in the export. Nothing else may be exported for the fresh patient.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conformance.adapter import PRIORITY_CATEGORIES, Capability, Denied, NotSupported
from conformance.cda import cda_in_bundle
from conformance.checks import inconclusive
from ehds_support.flow import submit_declared
from conformance.errors import HarnessError

CDA_NS = "{urn:hl7-org:v3}"
LOINC = "http://loinc.org"

Key = tuple[str, str]  # ("fhir", Composition.identifier) or ("cda", ClinicalDocument/id)


def _composition(bundle: dict[str, Any]) -> dict[str, Any]:
    for entry in bundle.get("entry") or []:
        resource = (entry or {}).get("resource") or {}
        if resource.get("resourceType") == "Composition":
            return resource
    return {}


def _type_codes(concept: Any) -> frozenset[str]:
    return frozenset(c.get("code") for c in (concept or {}).get("coding") or [] if c.get("code"))


def _cda_facts(data: bytes) -> tuple[str, frozenset[str]] | None:
    """(ClinicalDocument/id root^extension, its code) of a CDA document, None if it is none."""
    from conformance.cda.safexml import parse_untrusted

    try:
        root = parse_untrusted(data).getroot()
    except Exception:  # noqa: BLE001 - not XML, or unsafe XML: not a CDA document we sent
        return None
    if root.tag != CDA_NS + "ClinicalDocument":
        return None
    ident = root.find(CDA_NS + "id")
    code = root.find(CDA_NS + "code")
    key = f"{ident.get('root', '')}^{ident.get('extension', '')}" if ident is not None else ""
    return key, frozenset({code.get("code")} if code is not None and code.get("code") else ())


def _exported_facts(bundle: Any) -> tuple[Key, frozenset[str]]:
    """What identifies one exported document and its meaning (key, type codes)."""
    if not isinstance(bundle, dict):
        return ("unreadable", type(bundle).__name__), frozenset()
    for data in cda_in_bundle(bundle):
        facts = _cda_facts(data)
        if facts:
            return ("cda", facts[0]), facts[1]
    composition = _composition(bundle)
    ident = composition.get("identifier") or {}
    return ("fhir", f"{ident.get('system', '')}|{ident.get('value', '')}"), _type_codes(composition.get("type"))


@pytest.mark.requirement("EHDS-INT-011")
@pytest.mark.capability(Capability.SUBMIT, Capability.FULL_EXPORT)
@given(data=st.data())
def test_full_export_returns_every_document_once(sut, sut_description, accounts, new_patient, documents, evidence,
                                                 data):
    """Procedure: as in the module docstring: file 1-4 valid documents of hypothesis-drawn accepted categories
    (plus an eHDSI CDA patient summary first when CDA is declared) for a fresh patient, then call export_all as
    the auditor account (inconclusive when the adapter lacks it). Observed: per exported document its key
    (Composition identifier, or ClinicalDocument id of a carried CDA) and type codes. Decides EHDS-INT-011: each
    sent document must come back exactly once with its type codes kept and nothing unsent appear; the exports are
    not validated against the exchange format and content beyond identifier and type is not compared."""
    consumed = sorted(set(sut_description.consumes) & set(PRIORITY_CATEGORIES)) or ["patient-summary"]
    chosen = data.draw(st.lists(st.sampled_from(consumed), min_size=1, max_size=4), label="categories")
    hp = sut.login(accounts.hp)
    patient = new_patient()
    sent: dict[Key, tuple[str, frozenset[str]]] = {}  # key -> (what it is, type codes)
    if sut_description.declares(Capability.CDA) and "patient-summary" in consumed:
        from conformance.cda.documents import ehdsi_patient_summary

        cda = ehdsi_patient_summary(patient)
        submit_declared(hp, cda, "patient-summary")
        key, codes = _cda_facts(cda) or (("", ""), frozenset())
        sent[("cda", key)] = ("CDA patient-summary", codes)
    for seed, category in enumerate(chosen):
        bundle = documents.valid(category, patient, seed=seed)
        submit_declared(hp, bundle, category)
        key, codes = _exported_facts(bundle)
        if key in sent:
            raise HarnessError(f"the generated {category} document repeats identifier {key[1]}; seeds must differ")
        sent[key] = (f"FHIR {category}", codes)
    pid = hp.find_patient(patient.identifier)
    holder = sut.login(accounts.auditor)
    export_all = getattr(holder, "export_all", None)
    if export_all is None:
        inconclusive("the SUT declares full-export but its adapter has no export_all(patient_id) method")
    try:
        exported = list(export_all(pid))
    except NotSupported as answer:
        raise AssertionError(f"the SUT declares full-export but answers NotSupported: {answer.reason}") from None
    except Denied as answer:
        raise AssertionError(f"the data holder (auditor account) may not export the patient's record: "
                             f"{answer.reason}") from None
    facts = [_exported_facts(b) for b in exported]
    counts = Counter(key for key, _ in facts)
    evidence.add("full-export", {"sent": [f"{what} {key[1]}" for key, (what, _) in sent.items()],
                                 "exported": [f"{key[0]} {key[1]}" for key, _ in facts]})
    missing = [f"{what} ({key[1]})" for key, (what, _) in sent.items() if counts[key] == 0]
    assert not missing, (f"the full export of a patient with {len(sent)} document(s) leaves out {len(missing)}: "
                         f"{', '.join(missing)}; replacing the system would lose them")
    repeated = [f"{key[1]} x{n}" for key, n in counts.items() if n > 1]
    assert not repeated, f"the full export returns documents more than once: {', '.join(repeated)}"
    extra = [f"{key[0]} {key[1]}" for key in counts if key not in sent]
    assert not extra, f"the full export of a fresh patient carries documents never sent for them: {extra}"
    changed = [f"{sent[key][0]} type {sorted(sent[key][1])} -> {sorted(codes)}" for key, codes in facts
               if sent[key][1] and not sent[key][1] <= codes]
    assert not changed, f"the full export changed what documents are: {'; '.join(changed)}"
    evidence.note(f"the full export returned all {len(sent)} document(s) once, identifiers and types kept")
