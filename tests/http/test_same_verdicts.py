"""The default profile twice — in process, and over HTTPS against `conformance serve-reference`
started here on a free loopback port — must give the same verdicts.

The only differences allowed are the requirements that can only be checked over HTTP (tokens,
TLS, discovery, the CapabilityStatement, log integrity through the API): in process they are
`not-applicable` because the embedded EHR does not declare the `http` capability, and over HTTP
they must `pass`. Everything else must be identical, requirement by requirement.

The same for the French national requirements of `fr-sesali` (FR-*): the ones the server routes
(FR-001 identity, FR-003 consent) must agree; the ones still in process only are listed with the
capability the server does not claim.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from conformance.adapter import Capability
from conformance.server.fhir import CAPABILITIES as SERVED
from tests.http.conftest import ServeReference, conformance_run, verdicts


#: Differences understood and not yet removed (each named in the closing note of the round that found it):
KNOWN_DIFFERENCES = {
    # the sandbox clock (Capability.CLOCK) is offered in process only; over HTTP EHDS-LOG-010 is not-tested
    "EHDS-LOG-010": "no clock over HTTP",
}


@pytest.fixture(scope="module")
def served_subprocess(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeReference]:
    server = ServeReference("--sandbox-dir", str(tmp_path_factory.mktemp("serve")), "--port", "0")
    try:
        yield server
    finally:
        server.close()
    assert server.proc.returncode is not None, "serve-reference was not stopped"


def test_default_profile_gives_the_same_verdicts_in_process_and_over_http(served_subprocess, tmp_path):
    assert served_subprocess.fhir_base.startswith("https://127.0.0.1:")
    _, local = conformance_run(None, tmp_path / "in-process", adapter="reference")
    _, remote = conformance_run(Path(served_subprocess.sut_file), tmp_path / "http")
    a, b = verdicts(local), verdicts(remote)
    assert a.keys() == b.keys()
    reasons = {row["id"]: row.get("reason", "") for row in local["requirements"]}
    http_only = {rid for rid in a if a[rid] != b[rid]}
    wrong = {rid: (a[rid], b[rid]) for rid in http_only
             if not (a[rid] == "not-applicable" and "http" in reasons[rid] and b[rid] == "pass")
             and rid not in KNOWN_DIFFERENCES}
    assert not wrong, f"in-process vs HTTP verdicts differ beyond the HTTP-only requirements: {wrong}"
    assert {"EHDS-SEC-001", "EHDS-SEC-003", "EHDS-SEC-005"} <= http_only, http_only
    assert not [r for r, v in b.items() if v in ("fail", "error") and r not in KNOWN_DIFFERENCES], b
    same = sorted(rid for rid in a if a[rid] == b[rid])
    print(f"\nidentical: {len(same)} requirements; HTTP-only (not-applicable in process, pass over HTTP): "
          f"{sorted(http_only)}")


#: French requirements checked in process only: the server does not route (nor claim) their capability yet,
#: so over HTTP they fail by the profile's rule (an undeclared capability the profile does not exclude).
FR_IN_PROCESS_ONLY = {
    "FR-002": Capability.OIDC_LOGIN,
    "FR-004": Capability.TRANSLATED_DISPLAY,
    "FR-005": Capability.TRAIT_LOOKUP,
}


def test_french_requirements_give_the_same_verdicts_in_process_and_over_http(tmp_path):
    assert Capability.CONSENT in SERVED and not set(FR_IN_PROCESS_ONLY.values()) & SERVED, \
        "a capability moved to the server: take its requirement off FR_IN_PROCESS_ONLY"
    selection = ("--profile", "fr-sesali", "--requirement", "FR-*")
    _, local = conformance_run(None, tmp_path / "in-process", *selection, adapter="reference")
    # a server of its own: after the default profile's run, the shared one rate-limits the sandbox logins (429)
    server = ServeReference("--sandbox-dir", str(tmp_path / "serve"), "--port", "0")
    try:
        _, remote = conformance_run(Path(server.sut_file), tmp_path / "http", *selection)
    finally:
        server.close()
    a = {rid: v for rid, v in verdicts(local).items() if rid.startswith("FR-")}
    b = {rid: v for rid, v in verdicts(remote).items() if rid.startswith("FR-")}
    assert a.keys() == b.keys() and {"FR-001", "FR-003"} <= a.keys(), (a, b)
    assert a["FR-003"] == b["FR-003"] == "pass", (a, b)
    differ = {rid: (a[rid], b[rid]) for rid in a if a[rid] != b[rid]}
    assert set(differ) <= set(FR_IN_PROCESS_ONLY), f"in-process vs HTTP French verdicts differ: {differ}"
    rows = {row["id"]: row for row in remote["requirements"]}
    for rid in differ:
        said = str(rows[rid])
        assert b[rid] == "fail" and FR_IN_PROCESS_ONLY[rid].value in said, (rid, said[:500])
