"""A mock Pro Sante Connect (PSC) provider on loopback, for FR-002 and the client profile.

PSC is the French health professionals' OpenID Connect provider (a CPS smart card or the e-CPS
mobile app). The mock is a real HTTP server on 127.0.0.1 serving, under ``/auth/realms/esante-wallet``
(the realm path of the public PSC sandbox metadata):

- ``/.well-known/openid-configuration`` (OIDC discovery), ``/protocol/openid-connect/certs`` (JWKS);
- ``/protocol/openid-connect/userinfo`` (the professional's claims for a bearer access token);
- ``/protocol/openid-connect/token``: a *test-only* password grant standing in for the CPS / e-CPS
  interaction (the real PSC never takes a password), so a client SUT can sign its user in.

Tokens for the EHR-side checks are minted directly (:meth:`MockPsc.issue`), good or deliberately
defective (wrong issuer, wrong audience, expired, unsigned, signed by another key).

Claim names (see :data:`CLAIMS`): the standard OIDC ones, plus PSC-specific ones as seen in a public
third-party PSC client's test fixture; NONE of the PSC-specific names were verified against the ANS
technical documentation (the profile says so). Tokens are secrets: never put them in evidence.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from jwcrypto import jwk, jwt

REALM = "/auth/realms/esante-wallet"
#: OID of the national identifier of health professionals (IDNPS: "8" + RPPS number).
IDNPS_SYSTEM = "urn:oid:1.2.250.1.71.4.2.1"

#: Claim name -> (where, meaning, verified against the ANS PSC documentation?).
CLAIMS: dict[str, tuple[str, str, bool]] = {
    "iss": ("id_token", "issuer (OIDC Core)", True),
    "aud": ("id_token", "client id the token is for (OIDC Core)", True),
    "sub": ("id_token, userinfo", "subject (OIDC Core)", True),
    "exp": ("id_token", "expiry (OIDC Core)", True),
    "iat": ("id_token", "issued at (OIDC Core)", True),
    "acr": ("id_token", "authentication context class; the mock sends 'eidas1' (value unverified)", False),
    "amr": ("id_token", "authentication means: ['pop'] CPS card, ['mfa'] e-CPS (values unverified)", False),
    "SubjectNameID": ("userinfo", "national professional identifier (IDNPS, '8' + RPPS)", False),
    "preferred_username": ("userinfo", "same as SubjectNameID in the mock (OIDC standard name)", False),
    "given_name": ("userinfo", "given name (OIDC standard name)", True),
    "family_name": ("userinfo", "family name (OIDC standard name)", True),
    "otherIds": ("userinfo", "[{identifiant, origine: RPPS|ADELI, qualite}]: the RPPS/ADELI reference", False),
    "SubjectRefPro": ("userinfo", "{exercices: [{codeProfession, codeCategorieProfessionnelle, "
                      "nomDexercice, prenomDexercice, activities: [{identifiantTechniqueDeLaStructure, "
                      "raisonSocialeSite, codeSecteurDactivite}]}]}: profession and practice", False),
    "SubjectRole": ("userinfo", "['<profession>^1.2.250.1.213.1.1.5.5']", False),
    "SubjectOrganization": ("userinfo", "name of the practice's organisation", False),
    "SubjectOrganizationID": ("userinfo", "identifier of the practice's organisation", False),
}


@dataclass(frozen=True)
class Professional:
    """A test professional of the mock. ``practice``: whether they hold a French practice authorisation
    (a registered exercice with an activity); ``means``: ``"CPS"`` card or ``"e-CPS"``."""

    rpps: str
    given: str
    family: str
    profession: str = "10"  # 10: médecin (RPPS profession code)
    practice: bool = True
    means: str = "CPS"
    organisation_id: str = "R10100000059400"
    organisation_name: str = "CABINET DE TEST EHDS"

    @property
    def national_id(self) -> str:
        """IDNPS: '8' followed by the RPPS number."""
        return "8" + self.rpps

    @property
    def username(self) -> str:
        return f"psc-{self.rpps}"

    def userinfo(self, sub: str) -> dict[str, Any]:
        exercices = [] if not self.practice else [{
            "codeProfession": self.profession, "codeCategorieProfessionnelle": "C",
            "nomDexercice": self.family, "prenomDexercice": self.given,
            "activities": [{"identifiantTechniqueDeLaStructure": self.organisation_id,
                            "raisonSocialeSite": self.organisation_name, "codeSecteurDactivite": "SA07"}],
        }]
        info: dict[str, Any] = {
            "sub": sub, "SubjectNameID": self.national_id, "preferred_username": self.national_id,
            "given_name": self.given, "family_name": self.family,
            "otherIds": [{"identifiant": self.rpps, "origine": "RPPS", "qualite": 1}],
            "SubjectRefPro": {"exercices": exercices},
        }
        if self.practice:
            info.update({"SubjectRole": [f"{self.profession}^1.2.250.1.213.1.1.5.5"],
                         "SubjectOrganization": self.organisation_name,
                         "SubjectOrganizationID": self.organisation_id})
        return info


#: The mock's test professionals (fictitious RPPS numbers in a test range).
PRACTISING = Professional("10999000001", "Camille", "Durand")
PRACTISING_ECPS = Professional("10999000002", "Hugo", "Lefèvre", means="e-CPS")
NO_FRENCH_PRACTICE = Professional("10999000003", "Ines", "Moreau", practice=False)
PROFESSIONALS = (PRACTISING, PRACTISING_ECPS, NO_FRENCH_PRACTICE)

DEFECTS = ("wrong-issuer", "wrong-audience", "expired", "unsigned", "foreign-key")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


class MockPsc:
    """The mock provider. ``start()`` binds 127.0.0.1 (port 0: any free port), ``stop()`` shuts it down."""

    def __init__(self, *, port: int = 0, audience: str = "ehds-conformance-sut") -> None:
        self.audience = audience
        self._key = jwk.JWK.generate(kty="RSA", size=2048, kid="psc-mock-" + uuid.uuid4().hex[:8], alg="RS256")
        self._foreign = jwk.JWK.generate(kty="RSA", size=2048, kid=self._key.key_id, alg="RS256")
        self._access: dict[str, tuple[Professional, str]] = {}
        self._passwords = {p.username: secrets.token_urlsafe(12) for p in PROFESSIONALS}
        self.requests: list[dict[str, Any]] = []  # what reached the mock (paths and grant types, no secrets)
        self._server = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self._thread: threading.Thread | None = None

    # ---- lifecycle -------------------------------------------------------------------------

    @property
    def issuer(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}{REALM}"

    def start(self) -> MockPsc:
        self._thread = threading.Thread(target=self._server.serve_forever, name="mock-psc", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def password(self, professional: Professional) -> str:
        """The test password of the mock's stand-in login (not a PSC concept)."""
        return self._passwords[professional.username]

    def professional_for(self, access_token: str) -> Professional | None:
        """Whom a bearer access token was issued to (None: not a token of this provider)."""
        found = self._access.get(access_token)
        return found[0] if found else None

    def login_credentials(self, professional: Professional) -> dict[str, str]:
        """What a client SUT's user types at the mock's stand-in login (Actor.credentials)."""
        return {"psc_username": professional.username, "psc_password": self.password(professional)}

    # ---- tokens ------------------------------------------------------------------------------

    def issue(self, professional: Professional, *, defect: str | None = None) -> dict[str, str]:
        """An ID token and an access token for `professional` (``defect`` from :data:`DEFECTS`), as the
        credentials of an Actor: ``{"oidc_id_token": ..., "oidc_access_token": ...}``."""
        now = int(time.time())
        sub = f"f:{uuid.uuid5(uuid.NAMESPACE_URL, professional.rpps)}:{professional.national_id}"
        claims = {
            "iss": self.issuer, "aud": self.audience, "sub": sub, "iat": now, "exp": now + 300,
            "auth_time": now, "acr": "eidas1", "amr": ["pop"] if professional.means == "CPS" else ["mfa"],
            "nonce": secrets.token_urlsafe(8),
        }
        if defect == "wrong-issuer":
            claims["iss"] = "http://127.0.0.1:9/auth/realms/not-pro-sante-connect"
        elif defect == "wrong-audience":
            claims["aud"] = "another-client"
        elif defect == "expired":
            claims.update(iat=now - 3600, exp=now - 1800, auth_time=now - 3600)
        if defect == "unsigned":
            header = {"alg": "none", "typ": "JWT"}
            id_token = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}."
        else:
            key = self._foreign if defect == "foreign-key" else self._key
            token = jwt.JWT(header={"alg": "RS256", "kid": key.key_id, "typ": "JWT"}, claims=claims)
            token.make_signed_token(key)
            id_token = token.serialize()
        access = secrets.token_urlsafe(24)
        self._access[access] = (professional, sub)
        return {"oidc_id_token": id_token, "oidc_access_token": access}

    # ---- HTTP --------------------------------------------------------------------------------

    def _discovery(self) -> dict[str, Any]:
        base = self.issuer + "/protocol/openid-connect"
        return {"issuer": self.issuer, "jwks_uri": base + "/certs", "userinfo_endpoint": base + "/userinfo",
                "token_endpoint": base + "/token", "authorization_endpoint": base + "/auth",
                "id_token_signing_alg_values_supported": ["RS256"], "subject_types_supported": ["public"],
                "response_types_supported": ["code"], "grant_types_supported": ["authorization_code", "password"],
                "claims_supported": sorted(CLAIMS)}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        mock = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep the test output (and tokens) quiet
                return

            def _send(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:  # noqa: N802
                path = urlsplit(self.path).path
                mock.requests.append({"method": "GET", "path": path})
                if path == REALM + "/.well-known/openid-configuration":
                    return self._send(200, mock._discovery())
                if path == REALM + "/protocol/openid-connect/certs":
                    return self._send(200, {"keys": [json.loads(mock._key.export_public())]})
                if path == REALM + "/protocol/openid-connect/userinfo":
                    auth = self.headers.get("Authorization", "")
                    token = auth[7:] if auth.lower().startswith("bearer ") else ""
                    if token not in mock._access:
                        return self._send(401, {"error": "invalid_token"})
                    professional, sub = mock._access[token]
                    return self._send(200, professional.userinfo(sub))
                return self._send(404, {"error": "not_found"})

            def do_POST(self) -> None:  # noqa: N802
                path = urlsplit(self.path).path
                length = int(self.headers.get("Content-Length") or 0)
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                mock.requests.append({"method": "POST", "path": path, "grant_type": form.get("grant_type", "")})
                if path != REALM + "/protocol/openid-connect/token":
                    return self._send(404, {"error": "not_found"})
                who = next((p for p in PROFESSIONALS if p.username == form.get("username")), None)
                if form.get("grant_type") != "password" or who is None or \
                        not secrets.compare_digest(form.get("password", ""), mock._passwords[who.username]):
                    return self._send(400, {"error": "invalid_grant"})
                if form.get("client_id") and form["client_id"] != mock.audience:
                    return self._send(400, {"error": "unauthorized_client"})
                issued = mock.issue(who)
                return self._send(200, {"id_token": issued["oidc_id_token"],
                                        "access_token": issued["oidc_access_token"],
                                        "token_type": "Bearer", "expires_in": 300})

        return Handler
