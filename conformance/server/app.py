"""``create_app(service, auth_config=...)``: the reference EHR as a FHIR R4 server (FastAPI).

A thin HTTP layer over :class:`~conformance.adapters.reference.service.ReferenceEHR`:
the routes (:mod:`.fhir`, :mod:`.oauth`) translate requests and answers, the gateway
(:mod:`.gateway`) checks tokens and scopes, and every EHR rule stays in the service
— so serving a deliberately broken subclass of the service (``tests/mutants``)
breaks the server in exactly the same way.

Every error is an OperationOutcome: unknown paths (404), wrong methods (405),
bodies over the size limit (413), malformed input (400), and — should a bug slip
through — 500 without any detail of the failure.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import Response

import conformance
from conformance.adapters.reference.service import ReferenceEHR
from conformance.server import fhir, oauth
from conformance.server.config import AuthConfig
from conformance.server.gateway import Gateway, HttpAnswer, request_id
from conformance.server.http import BodyLimit, error_response

log = logging.getLogger("conformance.server")

_STATUS_CODES = {404: "not-found", 405: "not-supported", 413: "too-costly", 415: "not-supported"}


def create_app(service: ReferenceEHR, *, auth_config: AuthConfig, product: str | None = None,
               version: str | None = None, vendor: str = "ehds-conformance project") -> FastAPI:
    """The FHIR server app for `service`. The caller owns the service (and closes it)."""
    app = FastAPI(title=product or service.product, version=version or conformance.__version__, docs_url=None,
                  redoc_url=None, openapi_url=None)
    gateway = Gateway(service, auth_config)
    app.state.gateway = gateway
    oauth.add_routes(app, gateway)
    fhir.add_routes(app, gateway, product=product or service.product, version=version or conformance.__version__,
                    vendor=vendor)

    @app.middleware("http")
    async def echo_request_id(request: Request, call_next):  # type: ignore[no-untyped-def]
        response: Response = await call_next(request)
        response.headers.setdefault("X-Request-Id", request_id(request))
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Cache-Control", "no-store")
        return response

    @app.exception_handler(HttpAnswer)
    async def answer(_request: Request, exc: HttpAnswer) -> Response:
        return exc.response

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> Response:
        code = _STATUS_CODES.get(exc.status_code, "processing")
        text = {404: "no such endpoint on this FHIR server (see GET /fhir/metadata)",
                405: "method not allowed on this endpoint"}.get(exc.status_code, str(exc.detail))
        return error_response(exc.status_code, code, text, headers=getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def bad_request(_request: Request, exc: RequestValidationError) -> Response:
        return error_response(400, "structure", "the request is malformed")

    @app.exception_handler(Exception)
    async def crash(_request: Request, exc: Exception) -> Response:
        log.exception("internal error while serving a request")
        return error_response(500, "exception", "internal server error (details are in the server log, not here)")

    # outermost: refuse oversized bodies before anything reads them
    app.add_middleware(BodyLimit, limit=auth_config.max_body_bytes)
    return app
