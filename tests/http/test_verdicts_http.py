"""Decided verdicts over HTTP, each proven on a server that breaks the rule:

- a server serving searches to anyone fails EHDS-SEC-003 (no document needs to be filed first);
- an unreadable CapabilityStatement is an error naming ``GET /fhir/metadata``, and the run goes on;
- "no such route" on the submit endpoint is an error saying so, never a refusal of the body
  (EHDS-INT-012);
- an authorization server issuing unsigned (alg=none) or already-expired tokens fails EHDS-SEC-003;
- with vendor-supplied bearer tokens (``login = "bearer"``) EHDS-SEC-006 does not fail on the
  reference server: what cannot be tried without credentials is not-tested, with the reason.
"""

from __future__ import annotations

import time
import tomllib
from pathlib import Path

import pytest

from conformance import jose
from conformance.server.launch import start_sandbox
from tests.http.conftest import adapter_for, check_verdicts, conformance_run, verdicts
from tests.http.hostile import HostileServer

HOSTILE_SUT = """
[sut]
base_url = "{base}"
[limits]
total = 2
read = 1
[actors.hp]
identifier = "urn:x|hp"
login = "bearer"
token_env = "HOSTILE_TEST_TOKEN"
[actors.hp_other]
identifier = "urn:x|hp2"
login = "bearer"
token_env = "HOSTILE_TEST_TOKEN"
[actors.auditor]
kind = "auditor"
identifier = "urn:x|dpo"
login = "bearer"
token_env = "HOSTILE_TEST_TOKEN"
"""


def _checks(report, requirement):
    return {c["name"]: c for row in report["requirements"] if row["id"] == requirement for c in row["checks"]}


def test_open_searches_fail_sec_003_and_undecidable_answers_are_errors_naming_the_request(tmp_path, monkeypatch):
    server = HostileServer()
    monkeypatch.setenv("HOSTILE_TEST_TOKEN", "test-only-hostile-token")
    sut = tmp_path / "sut.toml"
    sut.write_text(HOSTILE_SUT.format(base=server.base_url), encoding="utf-8")
    started = time.monotonic()
    try:
        _, report = conformance_run(sut, tmp_path / "report", "-k", "test_searches_without_token_serve_no_data or "
                                    "test_capability_statement_declares_role_and_guides or test_malformed_body")
    finally:
        server.close()
    wall = time.monotonic() - started
    got = verdicts(report)
    assert got["EHDS-SEC-003"] == "fail", check_verdicts(report)
    open_search = _checks(report, "EHDS-SEC-003")["test_searches_without_token_serve_no_data"]
    assert "GET /fhir/Patient?_count=1 without any token answered HTTP 200" in open_search["message"]
    assert got["EHDS-INT-001"] == "error"
    assert "GET /fhir/metadata" in _checks(report, "EHDS-INT-001")["test_capability_statement_declares_role_and_guides"]["message"]
    assert got["EHDS-INT-012"] == "error"
    malformed = _checks(report, "EHDS-INT-012")["test_malformed_body_is_refused_and_nothing_stored"]["message"]
    assert "route missing" in malformed and "POST /fhir/Bundle answered HTTP 404" in malformed
    assert "no CapabilityStatement" in report["sut"]["extra"]["capabilities_source"]
    assert wall < 90, f"the run against the hostile server took {wall:.0f} s"


def _broken_tokens(running, how: str) -> None:
    """Make the served authorization server issue unsigned or already-expired access tokens."""
    auth = running.server.server.config.app.state.gateway.auth
    original = auth.issue_access_token

    def issue(**kwargs):
        token, ttl = original(**kwargs)
        header, claims = jose.unverified_parts(token)
        if how == "unsigned":
            header = {**header, "alg": "none"}
            return f"{jose._b64(header)}.{jose._b64(claims)}.", ttl
        return jose.sign_jwt({**claims, "exp": int(time.time()) - 60}, auth.config.signing_key, typ=header["typ"]), ttl

    auth.issue_access_token = issue


@pytest.mark.parametrize("how", ["unsigned", "expired"])
def test_unsigned_or_expired_tokens_from_the_authorization_server_fail_sec_003(tmp_path, how):
    running = start_sandbox(tmp_path / "box", validation="structural")
    try:
        _broken_tokens(running, how)
        _, report = conformance_run(running.sut_file, tmp_path / "report", "-k",
                                    "test_issued_tokens_are_signed_and_current")
    finally:
        running.stop()
    assert verdicts(report)["EHDS-SEC-003"] == "fail", check_verdicts(report)
    message = _checks(report, "EHDS-SEC-003")["test_issued_tokens_are_signed_and_current"]["message"]
    assert ("unsigned (alg=none)" if how == "unsigned" else "already expired") in message


def test_bearer_login_decides_sec_006_without_a_false_fail(tmp_path, monkeypatch):
    running = start_sandbox(tmp_path / "box", validation="structural")
    try:
        made = adapter_for(running)
        accounts = made.test_accounts()
        config = tomllib.loads(running.sut_file.read_text(encoding="utf-8"))
        tokens = []
        for name in ("hp", "hp_other", "auditor"):
            token = made.login(getattr(accounts, name))._token.access_token
            tokens.append(token)
            monkeypatch.setenv(f"TEST_ONLY_TOKEN_{name.upper()}", token)
            entry = config["actors"][name]
            for key in ("client", "password", "scope"):
                entry.pop(key, None)
            entry.update(login="bearer", token_env=f"TEST_ONLY_TOKEN_{name.upper()}")
        made.close()
        sut = Path(running.sut_file).with_name("bearer-sut.toml")
        sut.write_text(_toml(config), encoding="utf-8")
        _, report = conformance_run(sut, tmp_path / "report", "-k", "test_anonymous_access_is_refused or "
                                    "test_wrong_credentials_are_refused or test_issued_tokens_are_signed_and_current")
    finally:
        running.stop()
    checks = _checks(report, "EHDS-SEC-006")
    assert checks["test_anonymous_access_is_refused"]["verdict"] == "pass", checks
    wrong = checks["test_wrong_credentials_are_refused"]
    assert wrong["verdict"] == "not-tested" and "bearer" in wrong["message"], wrong
    assert verdicts(report)["EHDS-SEC-006"] == "pass"
    assert _checks(report, "EHDS-SEC-003")["test_issued_tokens_are_signed_and_current"]["verdict"] == "pass"
    # no artefact carries a token, a password, or the sandbox's folder (key, CA and SUT file paths)
    secrets = [*tokens, *(t.split(".")[2] for t in tokens), *running.box.passwords.values()]
    for artefact in (tmp_path / "report" / "run").rglob("*"):
        if artefact.is_file():
            text = artefact.read_text(encoding="utf-8", errors="replace")
            assert not [x for x in secrets if x in text], f"{artefact.name} holds a token or a password"
            assert str(tmp_path) not in text, f"{artefact.name} holds a path of this machine ({tmp_path})"


def _toml(config: dict) -> str:
    """A tiny TOML writer for the SUT file's tables (strings, numbers, booleans, lists, inline tables)."""
    import json

    def value(v):
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, (int, float)):
            return str(v)
        if isinstance(v, list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        if isinstance(v, dict):
            return "{ " + ", ".join(f"{k} = {value(x)}" for k, x in v.items()) + " }"
        return json.dumps(v)

    lines: list[str] = []

    def table(name, body):
        scalars = {k: v for k, v in body.items() if not (isinstance(v, dict) and k != "organisation")}
        lines.append(f"[{name}]")
        lines.extend(f"{k} = {value(v)}" for k, v in scalars.items())
        for k, v in body.items():
            if isinstance(v, dict) and k != "organisation":
                table(f"{name}.{k}", v)

    for name, body in config.items():
        table(name, body)
    return "\n".join(lines) + "\n"
