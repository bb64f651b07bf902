"""A FHIR server nobody on this project wrote: @medplum/fhir-router (npm, Apache-2.0), its in-memory
FHIR engine behind a minimal loopback wrapper (tests/http/thirdparty/medplum_server.cjs), certified
through the `fhir` adapter with standard interactions only ([interactions] submit = "transaction",
fetch = "documentreference").

The engine is installed once into a cache directory with npm (``$CONFORMANCE_CACHE_DIR/npm`` or
``~/.cache/ehds-conformance/npm``), started on 127.0.0.1 by this test and stopped after it. The
test is skipped only when node/npm are not installed (CI has them).

Pinned: what the engine supports passes (find by identifier, document search, transaction
submit, export of a document Bundle round trip), what it lacks fails with the request named (no
CapabilityStatement, no SMART discovery, no authorization at all, no access log, accepts invalid
documents), and what cannot be decided without credentials or tokens is not-tested.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from tests.http.conftest import check_verdicts, conformance_run, verdicts

pytestmark = pytest.mark.usefixtures("verdicts_only")  # verdicts are asserted, not shrunk evidence

ENGINE = "@medplum/fhir-router@5.2.13"
WRAPPER = Path(__file__).parent / "thirdparty" / "medplum_server.cjs"

SUT = """
[sut]
base_url = "{base}"
capabilities = "auto"
produces = ["patient-summary"]
consumes = ["patient-summary"]

[interactions]
submit = "transaction"
fetch = "documentreference"
export_all = "none"

[actors.hp]
identifier = "urn:oid:1.2.250.1.71.4.2.1|hp-1"
login = "bearer"
token_env = "THIRDPARTY_TEST_TOKEN"

[actors.hp_other]
identifier = "urn:oid:1.2.250.1.71.4.2.1|hp-2"
login = "bearer"
token_env = "THIRDPARTY_TEST_TOKEN"

[actors.auditor]
kind = "auditor"
identifier = "urn:x|dpo"
login = "bearer"
token_env = "THIRDPARTY_TEST_TOKEN"

[patients]
login = "bearer"
token_env = "THIRDPARTY_TEST_TOKEN"
"""

EXPECTED = {
    # supported: standard search, transaction, DocumentReference -> Bundle
    "EHDS-INT-002": "fail",  # found by the stateful identity machine
    # the adapter's transaction DocumentReference carries the document's own date and custodian (it used to
    # carry the time of filing, so the listing's date was the adapter's, not the engine's, fault)
    "EHDS-INT-003": "pass",
    "EHDS-INT-004": "pass", "EHDS-INT-005": "pass",
    "EHDS-INT-007": "pass", "EHDS-INT-008": "pass", "EHDS-GEN-001": "pass",
    # lacking: GET metadata is a searchset, no SMART, no authorization, a Consent changes nothing, no access
    # log, no validation of documents
    "EHDS-INT-001": "fail", "EHDS-SEC-001": "fail", "EHDS-SEC-002": "fail", "EHDS-SEC-003": "fail",
    "EHDS-SEC-006": "fail", "EHDS-SEC-007": "fail", "EHDS-INT-012": "fail", "EHDS-LOG-001": "fail", "EHDS-LOG-008": "fail",
    # mandatory capabilities it does not offer fail by the profile's scope rules: full export
    # ([interactions] export_all = "none"), emergency access, the patient's access to their log
    "EHDS-INT-011": "fail", "EHDS-SEC-008": "fail", "EHDS-LOG-009": "fail", "EHDS-LOG-013": "fail",
    # cannot be decided with vendor-supplied bearer tokens and no log entries
    "EHDS-SEC-004": "fail",  # one bearer token for every actor: a patient session reads other patients
    "EHDS-SEC-005": "not-tested", "EHDS-LOG-002": "not-tested",
    "EHDS-LOG-007": "not-tested", "EHDS-LOG-011": "not-tested",
}


def _cache() -> Path:
    root = os.environ.get("CONFORMANCE_CACHE_DIR") or os.path.join(Path.home(), ".cache", "ehds-conformance")
    return Path(root) / "npm" / ENGINE.replace("/", "_").replace("@", "")


def _install() -> Path:
    if not (shutil.which("node") and shutil.which("npm")):
        pytest.skip("node and npm are not installed: the third-party FHIR engine (npm) cannot run here")
    folder = _cache()
    modules = folder / "node_modules"
    if not (modules / "@medplum" / "fhir-router" / "package.json").exists():
        folder.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ)
        bundle = env.get("SSL_CERT_FILE") or env.get("REQUESTS_CA_BUNDLE")
        if bundle and "NODE_EXTRA_CA_CERTS" not in env:  # tox passes Python's CA bundle, not node's: share it
            env["NODE_EXTRA_CA_CERTS"] = bundle
        done = subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--cache", str(folder / ".npm-cache"),
                               "--prefix", str(folder), ENGINE], capture_output=True, text=True, timeout=300,
                              env=env, check=False)
        assert done.returncode == 0, f"npm install {ENGINE} failed (exit {done.returncode}): {done.stderr[-1500:]}"
    return modules


@pytest.fixture(scope="module")
def medplum():
    modules = _install()
    proc = subprocess.Popen(["node", str(WRAPPER), str(modules)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        deadline = time.monotonic() + 60
        line = proc.stdout.readline() if proc.stdout else ""  # "listening PORT" once ready
        assert line.startswith("listening ") and time.monotonic() < deadline, (
            f"the FHIR engine did not start: {line!r} {proc.stderr.read() if proc.stderr else ''}")
        yield f"http://127.0.0.1:{int(line.split()[1])}/fhir"
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def test_third_party_fhir_engine_gets_the_pinned_verdicts(medplum, tmp_path, monkeypatch):
    monkeypatch.setenv("THIRDPARTY_TEST_TOKEN", "test-only-bearer-token")  # the engine checks no token
    sut = tmp_path / "sut.toml"
    sut.write_text(SUT.format(base=medplum), encoding="utf-8")
    started = time.monotonic()
    result, report = conformance_run(sut, tmp_path / "report")
    wall = time.monotonic() - started
    got = verdicts(report)
    wrong = {rid: (want, got.get(rid)) for rid, want in EXPECTED.items() if got.get(rid) != want}
    assert not wrong, f"verdicts moved (want, got): {wrong}\nchecks: {check_verdicts(report)}"
    assert result.returncode == 1
    assert "no CapabilityStatement" in report["sut"]["extra"]["capabilities_source"]
    messages = [c.get("message", "") for row in report["requirements"] for c in row["checks"]]
    assert any("GET /fhir/metadata returned a 'Bundle'" in m for m in messages)
    assert any("GET /fhir/Patient?_count=1 without any token answered HTTP 200" in m for m in messages)
    assert wall < 300, f"the run took {wall:.0f} s"
