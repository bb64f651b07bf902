"""One bounded HTTP transport for the adapter and the raw probes of the over-HTTP checks.

Why: a SUT is untrusted. Every request here has a connect, a per-read and a TOTAL
deadline (enforced at the socket, so a server that drips one byte a second is cut
off on time and no worker thread keeps reading after its check), a maximum body
size (the body is streamed and refused above it), no redirects (a token or a
password must never follow a Location to another origin), and bearer tokens go
only to the SUT's origin. Every exchange is recorded as evidence (method, URL,
status, headers with credentials redacted, body digests), never bodies or tokens.

Every failure raised from here names the request (method, path, status) and says
what to change.
"""

from __future__ import annotations

import hashlib
import ipaddress
import ssl
import threading
import time
import urllib.parse
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import httpcore
import httpx
import orjson

import conformance
from conformance.adapter import Denied, NotFound, NotSupported, Rejected
from conformance.adapters.fhir_rest.config import Settings, origin_of
from conformance.errors import AdapterError, AdapterTimeout
from conformance.fhirmap import EMERGENCY_HEADER, PURPOSE_HEADER

#: Headers whose values are credentials: recorded as [REDACTED].
SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key"})
#: Response headers worth keeping in the evidence.
KEPT_RESPONSE_HEADERS = ("content-type", "location", "www-authenticate", "x-request-id", "allow", "content-length")
KEPT_REQUEST_HEADERS = ("accept", "content-type", "authorization", "x-request-id", EMERGENCY_HEADER.lower(),
                        PURPOSE_HEADER.lower())
SECRET_QUERY = frozenset({"code", "token", "access_token", "id_token", "password", "client_secret",
                          "client_assertion", "state"})
MAX_EXCHANGES = 200  # per check; more are counted, not kept


# ---- redaction -------------------------------------------------------------------------------


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def safe_url(url: str) -> str:
    """The URL without query values that could be credentials (code, token, password...)."""
    parts = urllib.parse.urlsplit(url)
    if not parts.query:
        return url
    pairs = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    query = urllib.parse.urlencode([(k, "[REDACTED]" if k.lower() in SECRET_QUERY else v) for k, v in pairs],
                                   safe="[]|")
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def request_line(method: str, url: str) -> str:
    """``GET /fhir/Patient?identifier=..`` (path and redacted query, no host): how errors name a request."""
    parts = urllib.parse.urlsplit(safe_url(url))
    query = f"?{parts.query}" if parts.query else ""
    line = f"{method} {parts.path or '/'}{query}"
    return line if len(line) <= 300 else line[:297] + "..."


def redacted(headers: Mapping[str, str] | httpx.Headers, keep: Iterable[str] | None = None) -> dict[str, str]:
    out: dict[str, str] = {}
    kept = None if keep is None else set(keep)
    for name, value in headers.items():
        low = name.lower()
        if kept is not None and low not in kept:
            continue
        if low in SECRET_HEADERS:
            scheme = value.split(" ", 1)[0] if " " in value else ""
            out[low] = f"{scheme} [REDACTED]".strip()
        elif low == "location":
            out[low] = safe_url(value)  # a login redirect carries the authorization code
        else:
            out[low] = value
    return out


def is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return host.lower() == "localhost"


class ExchangeLog:
    """Every HTTP exchange since the last drain (thread-safe; adapter calls run in worker threads)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: list[dict[str, Any]] = []
        self._dropped = 0

    def record(self, item: dict[str, Any]) -> None:
        with self._lock:
            if len(self._items) < MAX_EXCHANGES:
                self._items.append(item)
            else:
                self._dropped += 1

    def drain(self) -> list[dict[str, Any]]:
        with self._lock:
            items, dropped = self._items, self._dropped
            self._items, self._dropped = [], 0
        if dropped:
            items.append({"kind": "note", "text": f"{dropped} further HTTP exchanges of this check were not kept "
                                                  f"(limit {MAX_EXCHANGES})"})
        return items


# ---- deadlines at the socket -------------------------------------------------------------------


_deadline = threading.local()


def _remaining(timeout: float | None, exc: type[Exception]) -> float | None:
    """The socket timeout for one I/O step: the step's own, cut to what is left of the request's total."""
    end = getattr(_deadline, "at", None)
    if end is None:
        return timeout
    left = end - time.monotonic()
    if left <= 0:
        raise exc("the request's total time limit is used up")
    return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    def __init__(self, stream: httpcore.NetworkStream) -> None:
        self._stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, _remaining(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, _remaining(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(self, ssl_context: ssl.SSLContext, server_hostname: str | None = None,
                  timeout: float | None = None) -> httpcore.NetworkStream:
        return _DeadlineStream(self._stream.start_tls(ssl_context, server_hostname,
                                                      _remaining(timeout, httpcore.ConnectTimeout)))

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class _DeadlineBackend(httpcore.SyncBackend):
    """httpcore's socket backend, with every read/write/connect bounded by the request's deadline."""

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options: Iterable[Any] | None = None) -> httpcore.NetworkStream:
        return _DeadlineStream(super().connect_tcp(host, port, _remaining(timeout, httpcore.ConnectTimeout),
                                                   local_address, socket_options))


def _transport(verify: ssl.SSLContext | bool) -> httpx.HTTPTransport:
    transport = httpx.HTTPTransport(verify=verify, retries=0)
    # httpx has no public hook for the network backend; the pool is rebuilt with ours
    transport._pool = httpcore.ConnectionPool(ssl_context=transport._pool._ssl_context,  # noqa: SLF001
                                              network_backend=_DeadlineBackend(), retries=0,
                                              max_connections=20, max_keepalive_connections=10,
                                              keepalive_expiry=5.0)
    return transport


# ---- responses and answers ---------------------------------------------------------------------


@dataclass
class Reply:
    """A complete, size-bounded HTTP response (what the checks and the mapping read)."""

    method: str
    url: str
    status_code: int
    headers: httpx.Headers
    content: bytes

    @property
    def line(self) -> str:
        return request_line(self.method, self.url)

    def json(self) -> Any:
        try:
            return orjson.loads(self.content)
        except orjson.JSONDecodeError:
            raise AdapterError(f"{self.line} answered HTTP {self.status_code} "
                               f"({self.headers.get('content-type', 'no content type')}) with a body that is not "
                               "JSON; a FHIR server answers application/fhir+json") from None

    def outcome_text(self) -> str:
        """The diagnostics of an OperationOutcome (or an OAuth error) in the body, '' when none."""
        try:
            body = orjson.loads(self.content)
        except orjson.JSONDecodeError:
            return ""
        if isinstance(body, dict):
            if body.get("resourceType") == "OperationOutcome":
                texts = [str(i.get("diagnostics") or (i.get("details") or {}).get("text") or i.get("code", ""))
                         for i in body.get("issue", []) or [] if isinstance(i, dict)]
                return "; ".join(t for t in texts if t)[:1000]
            if "error" in body:
                return f"{body.get('error')}: {body.get('error_description', '')}".strip(": ")[:1000]
        return ""

    def describe(self) -> str:
        """``GET /fhir/x answered HTTP 404: <OperationOutcome text>`` - the evidence of an error message."""
        text = self.outcome_text()
        return f"{self.line} answered HTTP {self.status_code}" + (f": {text}" if text else " (no OperationOutcome)")


def answer(reply: Reply, what: str) -> Any:
    """The JSON body of a successful reply, or the contract answer its status code means.

    401/403 Denied, 404/410 NotFound, 400/409/412/413/415/422 Rejected, 405/501
    NotSupported; a redirect, another status or a 2xx that is not JSON -> AdapterError
    (an error verdict). Each message names the request and quotes the OperationOutcome.
    """
    status = reply.status_code
    if 200 <= status < 300:
        return reply.json() if reply.content else {}
    message = f"{what}: {reply.describe()}"
    details = {"status": status, "request": reply.line}
    if status in (401, 403):
        raise Denied(message, details=details)
    if status in (404, 410):
        raise NotFound(message, details=details)
    if status in (400, 409, 412, 413, 415, 422):
        raise Rejected(message, details=details)
    if status in (405, 501):
        raise NotSupported(message, details=details)
    if 300 <= status < 400:
        target = reply.headers.get("location", "")
        raise AdapterError(f"{message}; redirect to {origin_of(target) if target else 'nowhere'} not followed "
                           "(the harness follows no redirects, so no token leaves the SUT's origin): set "
                           "[sut] base_url to the final URL")
    raise AdapterError(f"{message}; a 5xx or unexpected status is not an answer the contract knows")


class Http:
    """The bounded, recording HTTP client (see the module docstring)."""

    def __init__(self, settings: Settings, log: ExchangeLog) -> None:
        self.settings = settings
        self.log = log
        verify: Any = settings.verify
        if isinstance(verify, str):
            verify = ssl.create_default_context(cafile=verify)
        self.verify = verify
        limits = settings.limits
        self.timeout = httpx.Timeout(connect=limits.connect, read=limits.read, write=limits.read,
                                     pool=limits.connect)
        self.client = self.new_client()
        self.origin = settings.origin

    def new_client(self, verify: ssl.SSLContext | bool | None = None) -> httpx.Client:
        """A client with the bounded transport (the raw probes use one for plain HTTP)."""
        return httpx.Client(transport=_transport(self.verify if verify is None else verify), timeout=self.timeout,
                            follow_redirects=False, trust_env=False,
                            headers={"User-Agent": f"ehds-conformance/{conformance.__version__}"})

    def close(self) -> None:
        self.client.close()

    def url(self, path: str) -> str:
        if path.startswith(("http://", "https://")):
            return path
        return f"{self.settings.base_url}/{path.lstrip('/')}"

    def _check_token_target(self, url: str, cleartext_loopback: bool) -> None:
        target = origin_of(url)
        if target == self.origin:
            return
        same_host = urllib.parse.urlsplit(url).netloc.lower() == urllib.parse.urlsplit(self.origin).netloc
        if cleartext_loopback and same_host and is_loopback(urllib.parse.urlsplit(url).hostname or ""):
            return  # the plain-HTTP probe of the SUT's own port on this machine: the token never leaves it
        raise AdapterError(f"refusing to send a bearer token to {safe_url(url)}: it is not under the SUT's origin "
                           f"{self.origin} (tokens go only to the server they were issued for)")

    def send(self, method: str, path: str, *, token: str | None = None, headers: Mapping[str, str] | None = None,
             content: bytes | None = None, params: Any = None, label: str = "",
             client: httpx.Client | None = None, cleartext_loopback: bool = False,
             max_body: int | None = None) -> Reply:
        url = self.url(path)
        all_headers = {k: v for k, v in (headers or {}).items() if k.lower() != "authorization"}
        raw_auth = next((v for k, v in (headers or {}).items() if k.lower() == "authorization"), None)
        if token is not None or raw_auth is not None:
            self._check_token_target(url, cleartext_loopback)
            all_headers["Authorization"] = f"Bearer {token}" if token is not None else str(raw_auth)
        all_headers.setdefault("X-Request-Id", str(uuid.uuid4()))
        http = client or self.client
        request = http.build_request(method, url, headers=all_headers, content=content, params=params)
        body = request.content if isinstance(request.content, bytes) else b""
        line = request_line(method, str(request.url))
        item: dict[str, Any] = {
            "kind": "http", "method": method, "url": safe_url(str(request.url)),
            "request_headers": redacted(request.headers, KEPT_REQUEST_HEADERS),
            "request_body_sha256": digest(body), "request_body_size": len(body),
        }
        if label:
            item["label"] = label
        item.update(status=None, error="no answer yet")  # kept even if the guard gives up on this call first
        self.log.record(item)
        limit = self.settings.limits.max_body if max_body is None else max_body
        total = self.settings.limits.total
        started = time.monotonic()
        _deadline.at = started + total
        try:
            reply = self._exchange(http, request, line, limit, item)
        except httpx.TimeoutException as exc:
            item.update(error=f"timeout: {type(exc).__name__}", elapsed_ms=_ms(started))
            raise AdapterTimeout(f"{line}: no complete answer within {total:g} s ({type(exc).__name__}); the "
                                 "server is too slow or drips its answer. Raise [limits] total if it is "
                                 "legitimately slow") from None
        except httpx.HTTPError as exc:
            item.update(error=f"{type(exc).__name__}: {exc}"[:500], elapsed_ms=_ms(started))
            raise AdapterError(f"{line} failed: {type(exc).__name__}: {exc}; is the server up at "
                               f"{origin_of(url)}?") from None
        finally:
            _deadline.at = None
        del item["error"]
        item.update(status=reply.status_code, response_headers=redacted(reply.headers, KEPT_RESPONSE_HEADERS),
                    body_sha256=digest(reply.content), body_size=len(reply.content), elapsed_ms=_ms(started))
        return reply

    @staticmethod
    def _exchange(http: httpx.Client, request: httpx.Request, line: str, limit: int,
                  item: dict[str, Any]) -> Reply:
        """Send and read the body in chunks, refusing it as soon as it exceeds `limit` bytes."""
        response = http.send(request, stream=True)
        try:
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > limit:
                item.update(status=response.status_code, error=f"body too large: Content-Length {declared}")
                raise AdapterError(f"{line} answered HTTP {response.status_code} with a {int(declared)}-byte body, "
                                   f"over the {limit}-byte limit: refused unread (raise [limits] max_body if this "
                                   "is legitimate)")
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > limit:
                    item.update(status=response.status_code, error=f"body too large: over {limit} bytes")
                    raise AdapterError(f"{line} answered HTTP {response.status_code} with a body over the {limit}-byte "
                                       "limit: refused after reading that much (raise [limits] max_body if this "
                                       "is legitimate)")
                chunks.append(chunk)
            return Reply(request.method, str(request.url), response.status_code, response.headers, b"".join(chunks))
        finally:
            response.close()


def _ms(started: float) -> int:
    return round((time.monotonic() - started) * 1000)
