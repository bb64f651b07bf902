"""Remove secrets from anything before it is written to a report.

Evidence is recorded by checks that talk to a real SUT, so it can carry bearer
tokens, cookies, passwords, client secrets or private keys (in headers, in URLs,
in a hypothesis falsifying example's repr, in an assertion message). A report is
handed to certification bodies and pasted into pull requests, so *every* value
goes through `redact` first: keys that name a secret lose their value, and free
text is scanned for token-, key- and password-shaped substrings.

Redaction is deliberately over-eager: a masked harmless value costs nothing, a
leaked token is an incident.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

MASK = "[REDACTED]"

#: key names (normalised: lower case, without '-', '_', '.', ' ') whose value is always a secret
_SECRET_KEYS = frozenset(
    {
        "authorization",
        "proxyauthorization",
        "cookie",
        "setcookie",
        "password",
        "passwd",
        "pwd",
        "passphrase",
        "pin",
        "secret",
        "clientsecret",
        "token",
        "accesstoken",
        "refreshtoken",
        "idtoken",
        "bearer",
        "bearertoken",
        "apikey",
        "xapikey",
        "privatekey",
        "credentials",
        "credential",
        "clientassertion",
        "assertion",
        "sessionid",
        "xauthtoken",
        "xamzsecuritytoken",
        "signingkey",
    }
)

#: substrings that make a key secret wherever they appear in it
_SECRET_KEY_PARTS = ("password", "passwd", "secret", "privatekey", "apikey", "cookie", "authorization", "credential")

#: JWK members that hold private key material
_JWK_PRIVATE = frozenset({"d", "p", "q", "dp", "dq", "qi", "k", "oth"})

_AUTH_SCHEMES = r"(?:Bearer|Basic|Digest|Negotiate|NTLM|Token|DPoP|MAC|HOBA|AWS4-HMAC-SHA256)"

# (pattern, replacement) applied in order to every string
_TEXT_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    # PEM private keys (complete or truncated)
    (
        re.compile(r"-----BEGIN ((?:[A-Z0-9]+ )*)PRIVATE KEY-----.*?(?:-----END \1PRIVATE KEY-----|\Z)", re.DOTALL),
        "[REDACTED PRIVATE KEY]",
    ),
    # JWT / JWS / JWE compact serialisations and any other base64url JSON header ("eyJ...")
    (re.compile(r"eyJ[A-Za-z0-9_\-]{6,}(?:\.[A-Za-z0-9_\-=]*)*"), "[REDACTED JWT]"),
    # header lines inside free text: "Authorization: ...", "Cookie: ...", "Set-Cookie: ..."
    (
        re.compile(r"(?im)\b((?:proxy-)?authorization|set-cookie|cookie|x-api-key|api-key)(\s*[:=]\s*)[^\r\n]+"),
        r"\1\2" + MASK,
    ),
    # "Bearer abc.def": always; "Basic dXNlcjpwYXNz" etc.: when the word after the scheme looks like a credential
    # (has a digit or one of + / = _ - . ~, or is long), so prose such as "Basic information" survives
    (re.compile(r"\b(Bearer)\s+[A-Za-z0-9\-._~+/]{6,}=*"), r"\1 " + MASK),
    (
        re.compile(rf"\b({_AUTH_SCHEMES})\s+(?:(?=[A-Za-z]*[0-9+/=_\-.~])[A-Za-z0-9\-._~+/]{{6,}}|[A-Za-z]{{20,}})=*"),
        r"\1 " + MASK,
    ),
    # secrets in URL query strings
    (
        re.compile(
            r"(?i)([?&;](?:access_token|id_token|refresh_token|token|client_secret|password|passwd|pwd|api_key|apikey"
            r"|key|secret|sig|signature|code_verifier|client_assertion|session|sessionid)=)[^&#\s\"'<>]*"
        ),
        r"\1" + MASK,
    ),
    # user:password@host in URLs (the password may hold an unencoded '/'; a false match only masks a URL part)
    (re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://)[^/@\s:\"']+:[^@\s\"']+@"), r"\1" + MASK + "@"),
    # password=..., 'client_secret': '...', token: ..., in reprs, messages, config dumps
    (
        re.compile(
            r"(?i)([\"']?)\b([a-z0-9_\-]*(?:password|passwd|passphrase|secret|api[_\-]?key|private[_\-]?key"
            r"|token|credentials?))\1"
            r"(\s*[:=]\s*)(?![\"']?\[REDACTED)(\"[^\"]*\"|'[^']*'|[^\s,;&})\]{(\[][^\s,;&})\]]*)"
        ),
        r"\1\2\1\3'" + MASK + "'",
    ),
)


def _norm(key: str) -> str:
    return re.sub(r"[\s_\-.]", "", key.lower())


def is_secret_key(key: str) -> bool:
    """True when a mapping key (or header name) names a secret."""
    k = _norm(key)
    return k in _SECRET_KEYS or any(part in k for part in _SECRET_KEY_PARTS) or k.endswith(("token", "tokens"))


@dataclass
class _Redactor:
    count: int = 0

    def text(self, value: str) -> str:
        out = value
        for pattern, replacement in _TEXT_RULES:
            out, n = pattern.subn(replacement, out)
            self.count += n
        return out

    def secret_value(self, key: str, value: Any) -> Any:
        """The masked form of a value stored under a secret key (keeps an auth scheme, never the credential)."""
        if value is None or value == "" or value == [] or value == {}:
            return value
        self.count += 1
        if isinstance(value, str) and _norm(key) in ("authorization", "proxyauthorization"):
            scheme = value.split(" ", 1)[0] if " " in value.strip() else ""
            return f"{scheme} {MASK}" if scheme else MASK
        return MASK

    def walk(self, obj: Any) -> Any:
        if isinstance(obj, str):
            return self.text(obj)
        if isinstance(obj, dict):
            return self.mapping(obj)
        if isinstance(obj, (list, tuple)):
            # headers as [name, value] pairs
            if len(obj) == 2 and isinstance(obj[0], str) and isinstance(obj[1], str) and is_secret_key(obj[0]):
                return [obj[0], self.secret_value(obj[0], obj[1])]
            return [self.walk(x) for x in obj]
        if isinstance(obj, (bytes, bytearray)):
            self.count += 1
            return f"[{len(obj)} bytes omitted]"
        return obj

    def mapping(self, obj: dict[Any, Any]) -> dict[Any, Any]:
        out: dict[Any, Any] = {}
        is_jwk = "kty" in obj
        # {"name": "Authorization", "value": "..."} (HAR, FHIR-style header lists)
        named = obj.get("name") if isinstance(obj.get("name"), str) else None
        for key, value in obj.items():
            skey = str(key)
            if is_secret_key(skey) or (is_jwk and skey in _JWK_PRIVATE):
                out[key] = self.secret_value(skey, value)
            elif named is not None and skey == "value" and is_secret_key(named):
                out[key] = self.secret_value(named, value)
            else:
                out[key] = self.walk(value)
        return out


def redact(obj: Any) -> Any:
    """A deep copy of `obj` with every secret masked as ``[REDACTED]``.

    Works on any JSON-like value (dict, list, str, numbers). Keys naming a secret
    (Authorization, Cookie, password, client_secret, *token, private_key, ...) lose
    their value; strings are scanned for bearer/basic credentials, JWT-looking
    strings (``eyJ...``), PEM private keys, secrets in URL query strings and
    userinfo, and ``password=...``-style assignments.
    """
    return _Redactor().walk(obj)


def redact_counted(obj: Any) -> tuple[Any, int]:
    """`redact` plus the number of values masked (the report states it, so a reader knows redaction happened)."""
    r = _Redactor()
    return r.walk(obj), r.count
