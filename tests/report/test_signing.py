"""Signing: a signed report verifies; any changed byte in any artefact makes verify fail naming the file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jwcrypto import jwk, jws
from jwcrypto.common import json_encode

from conformance.errors import UsageError
from conformance.report.manifest import MANIFEST_FILE, SIGNATURE_FILE, artefacts
from conformance.report.signing import load_key, sign_directory, verify_directory, write_keypair


@pytest.fixture(scope="module")
def keypair(tmp_path_factory) -> tuple[jwk.JWK, jwk.JWK]:
    private, public = write_keypair(tmp_path_factory.mktemp("keys") / "signing.pem")
    return load_key(private), load_key(public)


@pytest.fixture
def signed(report_dir: Path, keypair) -> Path:
    sign_directory(report_dir, keypair[0])
    return report_dir


def flip_byte(path: Path, index: int | None = None) -> None:
    data = bytearray(path.read_bytes())
    i = len(data) // 2 if index is None else index
    data[i] ^= 0x01
    path.write_bytes(bytes(data))


def test_signed_report_verifies_with_the_public_key(signed: Path, keypair) -> None:
    result = verify_directory(signed, keypair[1])
    assert result.ok, result.problems
    assert result.signed and result.authenticated
    assert result.signer == keypair[1].thumbprint()
    assert result.files == len(artefacts(signed)) >= 10


def test_public_key_file_is_public_only(keypair) -> None:
    assert keypair[0].has_private and not keypair[1].has_private


def test_every_artefact_is_protected(signed: Path, keypair) -> None:
    """One flipped byte in any listed file -> verify fails, naming exactly that file."""
    files = [p.relative_to(signed).as_posix() for p in artefacts(signed)]
    assert {"report.json", "report.html", "junit.xml", "testreport.json", "summary.md"} <= set(files)
    assert any(f.startswith("allure-results/") for f in files)
    for rel in files:
        path = signed / rel
        original = path.read_bytes()
        flip_byte(path)
        result = verify_directory(signed, keypair[1])
        assert not result.ok
        assert [p.split(":")[0] for p in result.problems] == [rel], result.problems
        path.write_bytes(original)
    assert verify_directory(signed, keypair[1]).ok


def test_one_byte_in_report_html_is_named(signed: Path, keypair) -> None:
    flip_byte(signed / "report.html", 1234)
    problems = verify_directory(signed, keypair[1]).problems
    assert len(problems) == 1 and problems[0].startswith("report.html: content changed")


def test_rewritten_manifest_does_not_hide_a_change(signed: Path, keypair) -> None:
    """An attacker who edits report.html and updates manifest.json to match is still caught."""
    from conformance.report.manifest import build_manifest

    (signed / "report.html").write_text("<html>forged</html>")
    (signed / MANIFEST_FILE).write_text(json.dumps(build_manifest(signed, "x"), indent=2) + "\n")
    problems = verify_directory(signed, keypair[1]).problems
    assert any(p.startswith("manifest.json: changed after signing") for p in problems)
    assert any(p.startswith("report.html: content changed") for p in problems)


def test_added_and_removed_files_are_named(signed: Path, keypair) -> None:
    (signed / "junit.xml").unlink()
    (signed / "allure-results" / "smuggled-result.json").write_text("{}")
    problems = verify_directory(signed, keypair[1]).problems
    assert "junit.xml: missing" in problems
    assert any(p.startswith("allure-results/smuggled-result.json: not listed") for p in problems)


def test_another_key_does_not_verify(signed: Path, tmp_path: Path) -> None:
    _, other_public = write_keypair(tmp_path / "other.pem")
    result = verify_directory(signed, load_key(other_public))
    assert not result.ok and not result.authenticated
    assert result.problems[0].startswith("manifest.jws: signature does not verify with the given key")


def test_tampered_signature_does_not_verify(signed: Path, keypair) -> None:
    token = (signed / SIGNATURE_FILE).read_text().strip()
    head, payload, sig = token.split(".")
    sig = ("A" if sig[0] != "A" else "B") + sig[1:]
    (signed / SIGNATURE_FILE).write_text(f"{head}.{payload}.{sig}")
    assert verify_directory(signed, keypair[1]).problems[0].startswith("manifest.jws: signature does not verify")


def test_unsigned_report_fails_when_a_key_is_expected(report_dir: Path, keypair) -> None:
    assert verify_directory(report_dir, keypair[1]).problems == ["manifest.jws: missing (the report is not signed)"]
    unkeyed = verify_directory(report_dir)
    assert unkeyed.ok and not unkeyed.signed and not unkeyed.authenticated


def test_without_key_integrity_is_checked_but_not_authenticated(signed: Path) -> None:
    result = verify_directory(signed)
    assert result.ok and result.signed and not result.authenticated
    flip_byte(signed / "report.json")
    assert [p.split(":")[0] for p in verify_directory(signed).problems] == ["report.json"]


def test_symmetric_algorithm_is_rejected(report_dir: Path) -> None:
    """A forged JWS using HS256 with an embedded symmetric key must not pass, even without --key."""
    secret = jwk.JWK.generate(kty="oct", size=256)
    payload = (report_dir / MANIFEST_FILE).read_bytes()
    token = jws.JWS(payload)
    token.add_signature(
        secret, alg="HS256", protected=json_encode({"alg": "HS256", "jwk": json.loads(secret.export())})
    )
    (report_dir / SIGNATURE_FILE).write_text(token.serialize(compact=True))
    result = verify_directory(report_dir)
    assert not result.ok
    assert result.problems[0].startswith("manifest.jws:")


def test_refuses_to_sign_a_tampered_directory(report_dir: Path, keypair) -> None:
    flip_byte(report_dir / "summary.md")
    with pytest.raises(UsageError, match=r"refusing to sign.*\n  summary.md: content changed"):
        sign_directory(report_dir, keypair[0])


def test_public_key_cannot_sign(report_dir: Path, keypair) -> None:
    with pytest.raises(UsageError, match="signing needs the private key"):
        sign_directory(report_dir, keypair[1])


@pytest.mark.parametrize("kind", ["ed25519", "rsa"])
def test_other_key_types(report_dir: Path, tmp_path: Path, kind: str) -> None:
    private, public = write_keypair(tmp_path / f"{kind}.pem", kind)
    sign_directory(report_dir, load_key(private))
    assert verify_directory(report_dir, load_key(public)).ok
    flip_byte(report_dir / "report.html")
    assert not verify_directory(report_dir, load_key(public)).ok


def test_encrypted_private_key(report_dir: Path, tmp_path: Path) -> None:
    private, public = write_keypair(tmp_path / "enc.pem", password=b"correct horse")
    assert b"ENCRYPTED" in private.read_bytes()
    assert private.stat().st_mode & 0o777 == 0o600
    with pytest.raises(UsageError, match="password-env"):
        load_key(private)
    sign_directory(report_dir, load_key(private, b"correct horse"))
    assert verify_directory(report_dir, load_key(public)).ok


def test_jwk_json_keys_are_accepted(report_dir: Path, tmp_path: Path) -> None:
    key = jwk.JWK.generate(kty="EC", crv="P-384")
    (tmp_path / "k.jwk").write_text(key.export_private())
    (tmp_path / "k.pub.jwk").write_text(key.export_public())
    sign_directory(report_dir, load_key(tmp_path / "k.jwk"))
    assert verify_directory(report_dir, load_key(tmp_path / "k.pub.jwk")).ok


def test_key_errors_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"nope.pem: cannot read key .*keygen"):
        load_key(tmp_path / "nope.pem")
    (tmp_path / "junk.pem").write_text("not a key")
    with pytest.raises(UsageError, match="junk.pem: not a PEM or JWK key"):
        load_key(tmp_path / "junk.pem")
    write_keypair(tmp_path / "k.pem")
    with pytest.raises(UsageError, match="refusing to overwrite"):
        write_keypair(tmp_path / "k.pem")
