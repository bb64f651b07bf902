"""What every FHIR request goes through before and around the EHR: who is calling (bearer
token or nobody), whether the token's scopes cover the request, the request context
for the access log, and the translation of the service's answers into HTTP.

The EHR rules themselves (who may see which record, what is logged, what is valid)
stay in :class:`~conformance.adapters.reference.service.ReferenceEHR`; this layer
only refuses what never reaches it (bad tokens, missing scopes) and logs those
refusals through the service's own log.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from conformance.adapter import ActorKind, Denied, NotFound, NotSupported, Rejected
from conformance.adapters.reference.service import (
    MINOR_FAILURE,
    AccessEvent,
    Principal,
    ReferenceEHR,
    request_context,
)
from conformance.server import scopes
from conformance.server.config import AuthConfig
from conformance.server.http import error_response
from conformance.server.tokens import AccessGrant, AuthorizationServer, TokenRejected, Urls

T = TypeVar("T")
log = logging.getLogger("conformance.server")

#: FHIR id: [A-Za-z0-9\-\.]{1,64}
FHIR_ID = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")


class HttpAnswer(Exception):
    """Stop handling a request and answer with this response."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


@dataclass(frozen=True)
class Caller:
    principal: Principal
    grant: AccessGrant | None  # None: no token (only when the EHR lets anonymous callers in)
    request_id: str
    client_address: str

    @property
    def client_name(self) -> str:
        return self.grant.client_id if self.grant else "anonymous HTTP client"


class Gateway:
    """Shared by all routes of one app: the service, the authorization server, the URLs."""

    def __init__(self, service: ReferenceEHR, config: AuthConfig) -> None:
        self.service = service
        self.config = config
        self.auth = AuthorizationServer(config)

    # ---- URLs ----------------------------------------------------------------------------

    def urls(self, request: Request) -> Urls:
        if self.config.public_url:
            return Urls(self.config.public_url)
        return Urls(f"{request.url.scheme}://{request.url.netloc}")

    # ---- calling the service ---------------------------------------------------------------

    async def call(self, caller: Caller | None, request: Request, fn: Callable[..., T], *args: Any,
                   **kwargs: Any) -> T:
        """Run a service call in the thread pool, inside the request's log context."""
        fields = {
            "client_address": request.client.host if request.client else "unknown",
            "client_name": caller.client_name if caller else "anonymous HTTP client",
            "server_address": self.urls(request).fhir_base,
            "request_id": caller.request_id if caller else request_id(request),
        }

        def run() -> T:
            with request_context(**fields):
                return fn(*args, **kwargs)

        return await run_in_threadpool(run)

    async def log_refused(self, request: Request, principal: Principal | None, patient_id: str | None,
                          action: str, reason: str) -> None:
        """Write a refused attempt to the EHR's access log (outcome 4), against the patient if known."""
        def write() -> None:
            service = self.service
            hook = getattr(service, "log_refused_request", None)
            if callable(hook):
                hook(principal, patient_id, action, reason)
                return
            patient = service.store.patient(patient_id) if patient_id and FHIR_ID.match(patient_id) else None
            service.log_access(AccessEvent(action, principal, patient, outcome=MINOR_FAILURE,
                                           outcome_desc=reason, recorded=service.clock()))

        try:
            await self.call(None, request, write)
        except Exception:
            log.exception("could not log a refused request")

    # ---- who is calling ----------------------------------------------------------------------

    async def caller(self, request: Request, resource: str, permission: str, *, patient_id: str | None = None,
                     action: str = "read") -> Caller:
        """The authenticated caller, if its token is valid and its scopes cover `permission` on `resource`.

        Otherwise answers 401 (no/invalid token) or 403 (scope), with an OperationOutcome
        that says what was wrong with the token and nothing about the data, and logs the
        refused attempt.
        """
        rid = request_id(request)
        address = request.client.host if request.client else "unknown"
        header = request.headers.get("authorization")
        if header is None:
            try:
                principal = await self.call(None, request, self.service.authenticate, ActorKind.ANONYMOUS, "", {})
            except Denied:
                await self.log_refused(request, None, patient_id, action, "request without a bearer token")
                raise HttpAnswer(error_response(401, "login", "authentication required: send an OAuth 2.0 "
                                                "bearer token (Authorization: Bearer <token>)",
                                                headers={"WWW-Authenticate": 'Bearer realm="fhir"'})) from None
            return Caller(principal, None, rid, address)
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            await self.log_refused(request, None, patient_id, action, "authorization scheme is not Bearer")
            raise HttpAnswer(error_response(401, "login", "use the Bearer authorization scheme with an access token",
                                            headers={"WWW-Authenticate": 'Bearer realm="fhir", error="invalid_request"'}))
        urls = self.urls(request)
        try:
            grant = self.auth.verify_access_token(token.strip(), issuer=urls.issuer, audience=urls.fhir_base)
            principal = Principal.from_json(grant.principal)
        except TokenRejected as exc:
            await self.log_refused(request, None, patient_id, action, f"bearer token refused: {exc.reason}")
            raise HttpAnswer(error_response(401, "login", exc.reason, headers={
                "WWW-Authenticate": f'Bearer realm="fhir", error="invalid_token", error_description="{exc.reason}"'}
            )) from None
        except (KeyError, ValueError, TypeError):
            await self.log_refused(request, None, patient_id, action, "bearer token carries no usable identity")
            raise HttpAnswer(error_response(401, "login", "the bearer token carries no usable identity",
                                            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})) from None
        if not scopes.permits(list(grant.scopes), resource, permission):
            need = f"{resource}.{permission}"
            await self.log_refused(request, principal, patient_id, action,
                                   f"token scopes do not cover {need}")
            raise HttpAnswer(error_response(403, "forbidden", f"the token's scopes do not cover {need} "
                                            f"(granted: {' '.join(grant.scopes) or 'none'})", headers={
                                                "WWW-Authenticate": f'Bearer error="insufficient_scope", scope="'
                                                                    f'user/{need} system/{need} patient/{need}"'}))
        return Caller(principal, grant, rid, address)


async def identify(gw: Gateway, request: Request) -> Principal | None:
    """Who a request comes from when its bearer token is valid, else None (never refuses)."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    urls = gw.urls(request)
    try:
        grant = gw.auth.verify_access_token(token.strip(), issuer=urls.issuer, audience=urls.fhir_base)
        return Principal.from_json(grant.principal)
    except (TokenRejected, KeyError, ValueError, TypeError):
        return None


def request_id(request: Request) -> str:
    """The caller's X-Request-Id when it is sane, else a new one (echoed in the response)."""
    given = request.headers.get("x-request-id", "")
    if given and len(given) <= 200 and given.isprintable() and given.isascii():
        return given
    cached = getattr(request.state, "request_id", None)
    if cached:
        return str(cached)
    new = str(uuid.uuid4())
    request.state.request_id = new
    return new


def answer_for(exc: Exception) -> Response | None:
    """The HTTP answer for one of the contract's answers raised by the service (None: not one)."""
    if isinstance(exc, Denied):
        return error_response(403, "forbidden", exc.reason or "access denied")
    if isinstance(exc, NotFound):
        return error_response(404, "not-found", exc.reason or "not found")
    if isinstance(exc, Rejected):
        issues = exc.details.get("issues", []) if isinstance(exc.details, dict) else []
        return error_response(422, "invalid", exc.reason or "rejected", issues=issues)
    if isinstance(exc, NotSupported):
        return error_response(501, "not-supported", exc.reason or "not supported")
    return None
