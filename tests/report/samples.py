"""Sample RunResults built from the model dataclasses (no plugin needed).

The sample run has every verdict, every evidence kind, and secrets planted in
evidence, messages and the SUT description so redaction can be checked on every
output format.
"""

from __future__ import annotations

from conformance.issues import ValidationIssue
from conformance.model import (
    Category,
    CheckOutcome,
    Level,
    Profile,
    Reference,
    Requirement,
    RequirementResult,
    RunResult,
    Verdict,
    combine,
)

#: secrets planted in the sample run; none may appear in any written file
JWT = "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJkci5ob3VzZSIsImV4cCI6MTcwMDAwMDAwMH0.c2lnbmF0dXJlLWJ5dGVz"
SECRETS = (
    "hunter2-pa55word",
    "cl1ent-s3cret-value",
    "sess-cookie-0123456789",
    "opaque-bearer-tok-42",
    "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC",
    "apikey-zyx-987",
    JWT,
    JWT.split(".")[1],
)

REF = Reference("Regulation (EU) 2025/327", "Annex II", "https://eur-lex.europa.eu/eli/reg/2025/327/oj")


def req(rid: str, level: Level, category: Category, title: str) -> Requirement:
    return Requirement(
        id=rid,
        title=title,
        statement=f"The EHR system shall satisfy {title.lower()}.",
        level=level,
        category=category,
        applies_to=("all",),
        references=(REF,),
        profile="ehds-core",
    )


REQUIREMENTS = (
    req("EHDS-SEC-001", Level.SHALL, Category.SECURITY, "Authentication of every user"),
    req("EHDS-LOG-001", Level.SHALL, Category.LOGGING, "Every access is logged"),
    req("EHDS-LOG-002", Level.SHALL, Category.LOGGING, "Log entries name the organisation"),
    req("EHDS-INT-012", Level.SHALL, Category.INTEROPERABILITY, "Invalid input is rejected and nothing stored"),
    req("EHDS-INT-001", Level.SHALL, Category.INTEROPERABILITY, "Export as EEHRxF patient summary"),
    req("EHDS-INT-005", Level.SHOULD, Category.INTEROPERABILITY, "Import of laboratory results"),
    req("EHDS-SEC-004", Level.SHALL, Category.SECURITY, "Emergency access needs a stated purpose"),
    req("EHDS-GEN-001", Level.SHALL, Category.GENERAL, "Instructions for use are provided"),
    req("EHDS-GEN-002", Level.MAY, Category.GENERAL, "Change log is published"),
    req("EHDS-LOG-007", Level.SHOULD, Category.LOGGING, "Patients can read their access log"),
)

PROFILE = Profile(
    id="ehds-core",
    version="0.1.0",
    title="EHDS core requirements (Annex II)",
    fhir_version="4.0.1",
    extends=(),
    requirements=REQUIREMENTS,
    sha256="a" * 64,
    fhir_packages=("hl7.fhir.r4.core#4.0.1",),
)


def check(rid: str, name: str, verdict: Verdict, message: str = "", evidence=(), seed: str = "") -> CheckOutcome:
    return CheckOutcome(
        nodeid=f"testcases/test_{rid.lower().replace('-', '_')}.py::{name}",
        name=name,
        requirement_ids=[rid],
        verdict=verdict,
        duration=0.125,
        message=message,
        evidence=list(evidence),
    )


def _checks() -> dict[str, list[CheckOutcome]]:
    issue = ValidationIssue(
        severity="error",
        code="structure",
        location="Bundle.entry[2].resource.subject",
        message="minimum cardinality 1 not met",
        rule="Composition.subject",
        source="http://hl7.org/fhir/uv/ips/StructureDefinition/Composition-uv-ips",
    )
    return {
        "EHDS-SEC-001": [
            check(
                "EHDS-SEC-001",
                "test_anonymous_is_denied",
                Verdict.PASS,
                evidence=[
                    {"kind": "note", "text": "anonymous read of /Patient was denied"},
                    {
                        "kind": "http",
                        "method": "GET",
                        "url": "https://ehr.example/fhir/Patient?identifier=x&access_token=opaque-bearer-tok-42",
                        "status": 401,
                        "request_headers": {
                            "Authorization": "Bearer opaque-bearer-tok-42",
                            "Accept": "application/fhir+json",
                        },
                        "response_headers": [
                            ["Set-Cookie", "sid=sess-cookie-0123456789; HttpOnly"],
                            ["Content-Type", "application/fhir+json"],
                        ],
                        "body_sha256": "b" * 64,
                    },
                ],
            )
        ],
        "EHDS-LOG-001": [
            check(
                "EHDS-LOG-001",
                "test_every_access_is_logged",
                Verdict.PASS,
                evidence=[{"kind": "note", "text": "3 reads, 3 AuditEvents"}],
            ),
            check(
                "EHDS-LOG-001",
                "test_random_access_sequences_are_logged",
                Verdict.PASS,
                seed="12345",
                evidence=[{"kind": "note", "text": "100 hypothesis examples"}],
            ),
        ],
        "EHDS-LOG-002": [
            check(
                "EHDS-LOG-002",
                "test_log_names_organisation",
                Verdict.FAIL,
                message="AuditEvent for read of Bundle/7 has no agent.who organisation (password=hunter2-pa55word)",
                seed="987654321",
                evidence=[
                    {
                        "kind": "document",
                        "data": {"resourceType": "AuditEvent", "id": "7", "agent": [{"requestor": True}]},
                    },
                    {
                        "kind": "falsifying-example",
                        "repr": f"test_log_names_organisation(actor=Actor(kind='health-professional', "
                        f"credentials={{'client_secret': 'cl1ent-s3cret-value'}}), token='{JWT}')",
                        "seed": "987654321",
                    },
                ],
            )
        ],
        "EHDS-INT-012": [
            check(
                "EHDS-INT-012",
                "test_invalid_summary_rejected",
                Verdict.FAIL,
                message="SUT accepted a Bundle without Composition.subject <script>alert(1)</script>",
                evidence=[
                    {"kind": "validation", "issues": [issue.to_json()]},
                    {"kind": "document", "data": {"resourceType": "Bundle", "type": "document", "entry": []}},
                ],
            ),
            check("EHDS-INT-012", "test_nothing_stored_after_rejection", Verdict.PASS),
        ],
        "EHDS-INT-001": [
            check(
                "EHDS-INT-001",
                "test_export_is_document_bundle",
                Verdict.ERROR,
                message="AdapterTimeout: fetch did not return within 30 s",
                evidence=[
                    {
                        "kind": "adapter-error",
                        "type": "AdapterTimeout",
                        "message": "fetch timed out; Cookie: sid=sess-cookie-0123456789",
                    },
                    {
                        "kind": "screenshot-ish",
                        "data": {
                            "client_secret": "cl1ent-s3cret-value",
                            "private_key": (
                                "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n"
                                "-----END PRIVATE KEY-----"
                            ),
                        },
                    },
                ],
            )
        ],
        "EHDS-INT-005": [
            check(
                "EHDS-INT-005",
                "test_lab_import",
                Verdict.NOT_APPLICABLE,
                message="SUT does not declare capability import-laboratory",
            )
        ],
        "EHDS-SEC-004": [
            check(
                "EHDS-SEC-004",
                "test_emergency_access_needs_purpose",
                Verdict.PASS,
                evidence=[{"kind": "note", "text": "x-api-key: apikey-zyx-987 was sent"}],
            )
        ],
    }


def make_run(run_id: str = "20250601T120000Z-ref", changes: dict[str, Verdict] | None = None) -> RunResult:
    """A sample run; `changes` forces the verdict of the named requirements' checks (a 'mutant' run)."""
    checks = _checks()
    for rid, verdict in (changes or {}).items():
        if rid in checks:
            for c in checks[rid]:
                c.verdict = verdict
                c.message = c.message or f"forced {verdict.value}"
        else:
            checks[rid] = [check(rid, f"test_{rid.lower()}", verdict, message=f"forced {verdict.value}")]
    rows = []
    for r in REQUIREMENTS:
        cs = checks.get(r.id, [])
        verdict = combine([c.verdict for c in cs])
        reason = ""
        if verdict is Verdict.NOT_TESTED:
            reason = "no check for this requirement yet"
        elif verdict is Verdict.NOT_APPLICABLE:
            reason = "SUT does not declare capability import-laboratory"
        rows.append(RequirementResult(requirement=r, verdict=verdict, checks=cs, reason=reason))
    return RunResult(
        run_id=run_id,
        started="2025-06-01T12:00:00Z",
        finished="2025-06-01T12:01:30Z",
        harness_version="0.1.0",
        profile=PROFILE,
        sut={
            "product": "Reference EHR",
            "version": "1.0",
            "vendor": "ehds-conformance",
            "capabilities": ["access-log", "emergency-access", "restriction"],
            "produces": ["patient-summary"],
            "consumes": ["patient-summary"],
            "extra": {
                "base_url": "https://user:hunter2-pa55word@ehr.example/fhir",
                "client_secret": "cl1ent-s3cret-value",
            },
        },
        requirements=rows,
        seed="12345",
        settings={"hypothesis_profile": "certification", "workers": 2},
        packages=[{"name": "hl7.fhir.r4.core", "version": "4.0.1", "sha256": "c" * 64}],
    )
