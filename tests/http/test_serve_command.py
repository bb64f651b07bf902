"""`conformance serve-reference` as a user runs it: the example SUT file, sandbox mode, a broken
service class, and clear usage errors (exit 2) for what cannot work."""

from __future__ import annotations

import signal
import socket
import ssl
import subprocess
import sys

import httpx

from tests.http.conftest import ROOT, ServeReference

EXAMPLE = ROOT / "examples" / "reference-sut.toml"


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "conformance.cli", "serve-reference", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=60, check=False)


def test_the_example_sut_file_serves_https_and_stops_cleanly():
    server = ServeReference("--config", str(EXAMPLE), "--port", "0")
    try:
        assert server.fhir_base.startswith("https://127.0.0.1:"), server.stderr()
        ctx = ssl.create_default_context(cafile=str(EXAMPLE.parent / "keys" / "localhost.cert.pem"))
        smart = httpx.get(server.fhir_base + "/.well-known/smart-configuration", verify=ctx).json()
        assert smart["token_endpoint"] == server.fhir_base.removesuffix("/fhir") + "/auth/token"
    finally:
        server.proc.send_signal(signal.SIGINT)
        server.proc.wait(15)
        code = server.close()
    assert code == 0, server.stderr()


def test_sandbox_mode_with_a_broken_service_and_plain_http(tmp_path):
    folder = tmp_path / "box"
    server = ServeReference("--sandbox-dir", str(folder), "--port", "0", "--plain-http",
                            "--service", "tests.mutants.accepts_anonymous")
    try:
        assert server.fhir_base.startswith("http://127.0.0.1:"), server.stderr()
        statement = httpx.get(server.fhir_base + "/metadata").json()
        assert "AcceptsAnonymous" in statement["software"]["name"]
        assert (folder / "sut.toml").read_text().count(server.fhir_base) == 1
    finally:
        code = server.close()  # SIGTERM
    assert code == 0, server.stderr()
    assert (folder / "sut.toml").exists(), "a --sandbox-dir is the user's and stays"


def test_usage_errors_exit_2_with_a_hint(tmp_path):
    result = cli("--service", "tests.mutants.no_such_module", "--sandbox-dir", str(tmp_path / "a"))
    assert result.returncode == 2 and "cannot import" in result.stderr
    result = cli("--service", "conformance.adapter:Actor", "--sandbox-dir", str(tmp_path / "b"))
    assert result.returncode == 2 and "not a subclass of ReferenceEHR" in result.stderr
    bare = tmp_path / "bare.toml"
    bare.write_text("[sut]\nbase_url = \"https://x/fhir\"\n")
    result = cli("--config", str(bare))
    assert result.returncode == 2 and "[reference_server]" in result.stderr
    result = cli("--sandbox-dir", str(tmp_path / "c"), "--tls-cert", "only-a-cert.pem")
    assert result.returncode == 2 and "--tls-key" in result.stderr
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        result = cli("--sandbox-dir", str(tmp_path / "d"), "--port", str(taken.getsockname()[1]))
    assert result.returncode == 2 and "choose another --port" in result.stderr
