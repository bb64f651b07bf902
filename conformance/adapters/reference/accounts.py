"""The sandbox identities of the reference EHR: two health professionals in two
organisations, an auditor, and a patient credential.

Both the in-process adapter and the HTTP server provision the same identities, so a
check sees the same people whichever way it reaches the EHR. Passwords are random
per provisioning unless given (they only ever live in memory and in
``Actor.credentials``, which reports never print).
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping

from conformance.adapter import Actor, ActorKind, Organisation, TestAccounts
from conformance.adapters.reference.service import ReferenceEHR

NORTH = Organisation("https://ehds-conformance.invalid/org|north-general", "North General Hospital")
SOUTH = Organisation("https://ehds-conformance.invalid/org|south-clinic", "South Family Clinic")

#: name -> (kind, identifier, display name, organisation)
SANDBOX_USERS: dict[str, tuple[ActorKind, str, str, Organisation | None]] = {
    "hp": (ActorKind.HEALTH_PROFESSIONAL, "https://ehds-conformance.invalid/hp|alice-martin", "Dr Alice Martin", NORTH),
    "hp_other": (ActorKind.HEALTH_PROFESSIONAL, "https://ehds-conformance.invalid/hp|bruno-keller", "Dr Bruno Keller",
                 SOUTH),
    "auditor": (ActorKind.AUDITOR, "https://ehds-conformance.invalid/auditor|dpo-1", "Data Protection Officer",
                Organisation("https://ehds-conformance.invalid/org|dpo-office", "Data Protection Office")),
}


def provision_sandbox(ehr: ReferenceEHR, passwords: Mapping[str, str] | None = None) -> TestAccounts:
    """Create (or reset) the sandbox accounts in `ehr` and return them with their credentials.

    `passwords` may fix some of them by name (``hp``, ``hp_other``, ``auditor``, ``patient``);
    the others are random.
    """
    given = dict(passwords or {})
    actors: dict[str, Actor] = {}
    for name, (kind, identifier, display, org) in SANDBOX_USERS.items():
        password = given.get(name) or secrets.token_urlsafe(16)
        ehr.provision_user(kind, identifier, display, org, password)
        actors[name] = Actor(kind, identifier=identifier, name=display, organisation=org,
                             credentials={"password": password})
    patient_password = given.get("patient") or secrets.token_urlsafe(16)
    ehr.set_patient_password(patient_password)
    return TestAccounts(hp=actors["hp"], hp_other=actors["hp_other"], auditor=actors["auditor"],
                        patient_credentials={"password": patient_password})
