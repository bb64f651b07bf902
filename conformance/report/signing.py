"""Sign and verify a report directory: a JWS over manifest.json, which lists every artefact's sha256.

sign:   refuses a directory that no longer matches its manifest (it would sign a
        tampered state), then writes manifest.jws (compact JWS; protected header
        carries alg, kid = RFC 7638 thumbprint, and the public JWK).
verify: the signature verifies with the given public key, its payload is exactly
        manifest.json, and every file matches its digest; every problem names the file.

Without --key, verify checks integrity only (the embedded public key could be anyone's),
and says so: a certifier pins the vendor's public key.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from jwcrypto import jwk
from jwcrypto.common import JWException

from conformance import jose

from conformance.errors import UsageError
from conformance.report.manifest import MANIFEST_FILE, SIGNATURE_FILE, check_manifest

#: asymmetric algorithms only: a report is verified by people who must not be able to sign
ALLOWED_ALGS = ["ES256", "ES384", "ES512", "PS256", "PS384", "PS512", "RS256", "RS384", "RS512", "EdDSA"]
KEY_TYPES = ("ec", "rsa", "ed25519")
JWS_TYPE = "ehds-conformance-manifest+jws"


def algorithm_for(key: jwk.JWK) -> str:
    kty = key.get("kty")
    if kty == "EC":
        return {"P-256": "ES256", "P-384": "ES384", "P-521": "ES512"}[key.get("crv")]
    if kty == "RSA":
        return "PS256"
    if kty == "OKP" and key.get("crv") == "Ed25519":
        return "EdDSA"
    raise UsageError(
        f"unsupported key type {kty} {key.get('crv', '')}; hint: create one with `conformance report keygen`"
    )


def generate_key(kind: str = "ec") -> jwk.JWK:
    if kind == "ec":
        return jwk.JWK.generate(kty="EC", crv="P-256")
    if kind == "rsa":
        return jwk.JWK.generate(kty="RSA", size=3072)
    if kind == "ed25519":
        return jwk.JWK.generate(kty="OKP", crv="Ed25519")
    raise UsageError(f"unknown key type {kind!r}; choose one of {', '.join(KEY_TYPES)}")


def write_keypair(private_path: Path, kind: str = "ec", password: bytes | None = None) -> tuple[Path, Path]:
    """Write PRIVATE.pem (mode 0600, PKCS#8, encrypted when a password is given) and PRIVATE.pub.pem."""
    if private_path.exists():
        raise UsageError(f"{private_path}: exists; refusing to overwrite a key (hint: choose another path)")
    key = generate_key(kind)
    public_path = private_path.with_name(private_path.name.removesuffix(".pem") + ".pub.pem")
    fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(key.export_to_pem(private_key=True, password=password))
    public_path.write_bytes(key.export_to_pem())
    return private_path, public_path


def load_key(path: Path, password: bytes | None = None) -> jwk.JWK:
    """A key from a PEM file or a JWK JSON file."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"{path}: cannot read key ({exc.strerror}); hint: create one with `conformance report keygen`")
    try:
        if data.lstrip().startswith(b"{"):
            return jwk.JWK.from_json(data.decode("utf-8"))
        return jwk.JWK.from_pem(data, password=password)
    except TypeError as exc:
        raise UsageError(f"{path}: {exc}; hint: for an encrypted key set --password-env VAR") from None
    except (ValueError, JWException) as exc:
        raise UsageError(f"{path}: not a PEM or JWK key ({exc})") from None


def sign_directory(directory: Path, key: jwk.JWK) -> Path:
    """Write directory/manifest.jws. The key must be private; the directory must match its manifest."""
    if not key.has_private:
        raise UsageError("signing needs the private key (keygen writes it as NAME.pem; NAME.pub.pem is the public one)")
    manifest_path = directory / MANIFEST_FILE
    try:
        payload = manifest_path.read_bytes()
    except FileNotFoundError:
        raise UsageError(f"{manifest_path}: missing; hint: is {directory} a report directory?") from None
    problems = check_manifest(directory, json.loads(payload))
    if problems:
        raise UsageError(
            f"{directory}: refusing to sign, files do not match manifest.json:\n  " + "\n  ".join(problems)
        )
    alg = algorithm_for(key)
    protected = {
        "alg": alg,
        "typ": JWS_TYPE,
        "cty": "application/json",
        "kid": key.thumbprint(),
        "jwk": key.export_public(as_dict=True),
    }
    compact = jose.sign_payload(payload, key, alg=alg, protected=protected, allowed_algs=ALLOWED_ALGS)
    out = directory / SIGNATURE_FILE
    out.write_text(compact + "\n", encoding="ascii")
    return out


@dataclass
class Verification:
    """Outcome of `verify_directory`: ok only when there is no problem."""

    directory: Path
    problems: list[str] = field(default_factory=list)
    signed: bool = False
    signer: str = ""  # RFC 7638 thumbprint of the key that signed
    authenticated: bool = False  # verified against a key the caller supplied
    files: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_directory(directory: Path, key: jwk.JWK | None = None) -> Verification:
    result = Verification(directory)
    if not directory.is_dir():
        raise UsageError(f"{directory}: not a directory (hint: give the report directory, e.g. reports/<run-id>)")
    manifest_path = directory / MANIFEST_FILE
    if not manifest_path.is_file():
        result.problems.append(f"{MANIFEST_FILE}: missing")
        return result
    payload = manifest_path.read_bytes()
    sig_path = directory / SIGNATURE_FILE
    if sig_path.is_file():
        result.signed = True
        signed = _check_signature(sig_path, payload, key, result)
        if signed is not None:
            payload = signed  # judge the files by the manifest the signature covers, not by an edited copy
    elif key is not None:
        result.problems.append(f"{SIGNATURE_FILE}: missing (the report is not signed)")
    try:
        manifest = json.loads(payload)
    except json.JSONDecodeError as exc:
        result.problems.append(f"{MANIFEST_FILE}: not valid JSON ({exc.msg})")
        return result
    result.files = len(manifest.get("files", []))
    result.problems.extend(check_manifest(directory, manifest))
    return result


def _check_signature(sig_path: Path, payload: bytes, key: jwk.JWK | None, result: Verification) -> bytes | None:
    """Verify the JWS; return its payload (the signed manifest) when the signature holds."""
    try:
        token = jose.read_jws(sig_path.read_text(encoding="ascii").strip(), ALLOWED_ALGS)
        header = token.jose_header
    except (jose.JoseError, UnicodeDecodeError) as exc:
        result.problems.append(f"{SIGNATURE_FILE}: {exc}")
        return None
    if key is None:
        try:
            check_key = jwk.JWK(**header["jwk"])
        except (KeyError, TypeError, ValueError, JWException):
            result.problems.append(f"{SIGNATURE_FILE}: no usable public key in the header; pass --key PUBLIC_KEY")
            return None
    else:
        check_key = key
        result.authenticated = True
    try:
        if header.get("alg") != algorithm_for(check_key):
            raise jose.JoseError(f"algorithm {header.get('alg')} does not match the key")
        signed = jose.verify_jws(token, check_key, header["alg"])
    except (jose.JoseError, UsageError) as exc:
        result.authenticated = False
        which = "the given key" if key else "its embedded key"
        result.problems.append(f"{SIGNATURE_FILE}: signature does not verify with {which} ({exc})")
        return None
    result.signer = check_key.thumbprint()
    if signed != payload:
        result.problems.append(f"{MANIFEST_FILE}: changed after signing (does not match the signed copy)")
    return signed
