"""Health professionals signing in to the reference EHR with Pro Sante Connect (OpenID Connect).

A mixin of :class:`~conformance.adapters.reference.service.ReferenceEHR`. The EHR trusts one OpenID
Connect issuer for one audience (``trust_identity_provider``; sut.toml ``[sesali] psc_issuer`` /
``psc_audience``). A professional logs in with ``credentials={"oidc_id_token": ..., "oidc_access_token":
...}``: the ID token must be signed by a key of the issuer's JWKS (discovery over HTTP), come from that
issuer, be for this audience and not be expired; the userinfo (fetched with the access token, same
``sub``) must show a French practice (a registered exercice with an activity). The person the log
records is the national professional identifier (IDNPS: "8" + RPPS) from the userinfo.

PSC claim names used here (``SubjectNameID``, ``SubjectRefPro.exercices[].activities[]``,
``identifiantTechniqueDeLaStructure``, ``raisonSocialeSite``) follow a public third-party PSC client
fixture and were not verified against the ANS documentation.

Each rule is a small overridable method (``verify_signature``, ``check_issuer``, ``check_audience``,
``check_expiry``, ``practice_authorised``, ``person_identifier``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from conformance.adapter import ActorKind, Denied, Organisation

if TYPE_CHECKING:  # pragma: no cover
    from conformance.adapters.reference.service import Principal

#: National identifier of health professionals (IDNPS), the system of the person in the log.
IDNPS_SYSTEM = "urn:oid:1.2.250.1.71.4.2.1"
#: Organisation identifiers taken from the PSC practice (structure technical identifier).
STRUCTURE_SYSTEM = "urn:oid:1.2.250.1.71.4.2.2"
SIGNING_ALGS = ["RS256", "RS384", "RS512", "PS256", "ES256", "ES384"]


class ProSanteConnectLogin:
    """OIDC login of professionals against a trusted provider (needs the ReferenceEHR around it)."""

    _oidc_trust: dict[str, Any]

    def trust_identity_provider(self, issuer: str, audience: str) -> None:
        """Trust ID tokens of `issuer` (discovery at ``<issuer>/.well-known/openid-configuration``) for `audience`."""
        self._oidc_trust = {"issuer": issuer.rstrip("/"), "audience": audience, "metadata": None, "keys": None}

    # ---- talking to the provider ------------------------------------------------------------

    def _provider(self) -> dict[str, Any]:
        trust = getattr(self, "_oidc_trust", None)
        if not trust:
            raise Denied("no OpenID Connect provider is trusted here (configure the PSC issuer)")
        if trust["metadata"] is None:
            import httpx
            from jwcrypto import jwk

            with httpx.Client(trust_env=False, timeout=5.0) as client:
                meta = client.get(trust["issuer"] + "/.well-known/openid-configuration").json()
                keys = client.get(meta["jwks_uri"]).text
            trust["metadata"], trust["keys"] = meta, jwk.JWKSet.from_json(keys)
        return trust

    def fetch_userinfo(self, access_token: str) -> dict[str, Any]:
        import httpx

        endpoint = self._provider()["metadata"].get("userinfo_endpoint", "")
        with httpx.Client(trust_env=False, timeout=5.0) as client:
            response = client.get(endpoint, headers={"Authorization": f"Bearer {access_token}"})
        if response.status_code != 200:
            raise Denied(f"the identity provider refused the access token (HTTP {response.status_code})")
        return dict(response.json())

    # ---- the rules ------------------------------------------------------------------------------

    def verify_signature(self, id_token: str) -> dict[str, Any]:
        """The claims of an ID token signed by a key of the trusted provider; Denied otherwise (alg none too)."""
        from jwcrypto import jwt
        from jwcrypto.common import JWException

        try:
            token = jwt.JWT(jwt=id_token, key=self._provider()["keys"], algs=SIGNING_ALGS, check_claims=False)
            return dict(json.loads(token.claims))
        except (JWException, ValueError, KeyError, TypeError) as exc:
            raise Denied(f"the ID token is not validly signed by the trusted provider ({type(exc).__name__})") from None

    def check_issuer(self, claims: Mapping[str, Any]) -> None:
        if str(claims.get("iss", "")).rstrip("/") != self._provider()["issuer"]:
            raise Denied("the ID token comes from an issuer this EHR does not trust")

    def check_audience(self, claims: Mapping[str, Any]) -> None:
        aud = claims.get("aud")
        audiences = aud if isinstance(aud, list) else [aud]
        if self._provider()["audience"] not in audiences:
            raise Denied("the ID token was issued for another client (audience)")

    def check_expiry(self, claims: Mapping[str, Any]) -> None:
        exp = claims.get("exp")
        if not isinstance(exp, (int, float)) or exp <= time.time():
            raise Denied("the ID token has expired")

    def practice_authorised(self, userinfo: Mapping[str, Any]) -> bool:
        """A French practice authorisation: at least one exercice (profession) with an activity."""
        exercices = (userinfo.get("SubjectRefPro") or {}).get("exercices") or []
        return any(e.get("codeProfession") and e.get("activities") for e in exercices if isinstance(e, Mapping))

    def person_identifier(self, claims: Mapping[str, Any], userinfo: Mapping[str, Any]) -> str:
        """Who the log records: the national professional identifier (IDNPS = '8' + RPPS), system|value."""
        return f"{IDNPS_SYSTEM}|{userinfo.get('SubjectNameID', '')}"

    # ---- the login ------------------------------------------------------------------------------

    def authenticate_oidc(self, kind: ActorKind, credentials: Mapping[str, str]) -> Principal:
        """A health professional from a PSC ID token + access token; Denied (and logged) otherwise."""
        from conformance.adapters.reference.service import Principal

        try:
            if kind is not ActorKind.HEALTH_PROFESSIONAL:
                raise Denied("only health professionals sign in with Pro Sante Connect")
            claims = self.verify_signature(str(credentials.get("oidc_id_token", "")))
            self.check_issuer(claims)
            self.check_audience(claims)
            self.check_expiry(claims)
            info = self.fetch_userinfo(str(credentials.get("oidc_access_token", "")))
            if info.get("sub") != claims.get("sub"):
                raise Denied("the userinfo does not belong to the ID token's subject")
            if not self.practice_authorised(info):
                raise Denied("the person holds no practice authorisation in France")
        except Denied as exc:
            self._log_failed_login(kind, "", f"Pro Sante Connect: {exc.reason}")  # type: ignore[attr-defined]
            raise
        activity = next((a for e in (info.get("SubjectRefPro") or {}).get("exercices") or []
                         for a in e.get("activities") or []), {})
        org = Organisation(f"{STRUCTURE_SYSTEM}|{activity.get('identifiantTechniqueDeLaStructure', '')}",
                           str(activity.get("raisonSocialeSite", ""))) if activity else None
        name = " ".join(str(info.get(k, "")) for k in ("given_name", "family_name")).strip()
        return Principal(ActorKind.HEALTH_PROFESSIONAL, self.person_identifier(claims, info), name, org)
