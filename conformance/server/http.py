"""Small HTTP helpers shared by the server's routes: FHIR JSON responses, OperationOutcome
errors, bounded body reading, form parsing, and the body-size guard.

Every error the server sends is an OperationOutcome (FHIR routes) or an OAuth error
object (token endpoint), never an HTML stack trace.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Mapping
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from conformance.server import shapes

FHIR_JSON = "application/fhir+json"


def fhir_response(body: Mapping[str, Any], status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type=FHIR_JSON, headers=dict(headers or {}))


def error_response(status: int, code: str, message: str, *, issues: Any = (),
                   headers: Mapping[str, str] | None = None) -> Response:
    return fhir_response(shapes.outcome(code, message, issues=list(issues)), status, headers)


def json_response(body: Mapping[str, Any], status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json",
                    headers={"Cache-Control": "no-store", "Pragma": "no-cache", **dict(headers or {})})


class BodyTooLarge(Exception):
    pass


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refusing more than `limit` bytes whatever Content-Length says."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge()
        chunks.append(chunk)
    return b"".join(chunks)


def parse_form(body: bytes) -> dict[str, str]:
    """application/x-www-form-urlencoded -> dict (last value wins; undecodable bytes replaced)."""
    text = body.decode("utf-8", "replace")
    return {k: v for k, v in urllib.parse.parse_qsl(text, keep_blank_values=True, max_num_fields=100)}


class BodyLimit:
    """ASGI middleware: refuse a declared Content-Length over the limit at once (413, OperationOutcome).

    Bodies without a length (chunked) are counted while read (:func:`read_body`).
    """

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            for name, value in scope.get("headers", []):
                if name == b"content-length":
                    try:
                        declared = int(value)
                    except ValueError:
                        declared = -1
                    if declared < 0 or declared > self.limit:
                        response = error_response(
                            413 if declared > self.limit else 400,
                            "too-costly" if declared > self.limit else "structure",
                            f"request body over the {self.limit}-byte limit" if declared > self.limit
                            else "invalid Content-Length header")
                        await _drain_and_send(response, scope, receive, send)
                        return
        await self.app(scope, receive, send)


async def _drain_and_send(response: Response, scope: Scope, receive: Receive, send: Send) -> None:
    async def no_body() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    await response(scope, no_body, send)
