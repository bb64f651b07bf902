"""Run the app with uvicorn on a socket bound first, so port 0 (a free port) works and the
real URL is known before the first request.

`serve()` blocks (the ``serve-reference`` command); `start_in_thread()` returns a
handle with the URL and a ``stop()`` (tests, benchmarks).
"""

from __future__ import annotations

import socket
import ssl
import threading
import time
from dataclasses import dataclass
from typing import Any

import uvicorn

TLS_MIN = ssl.TLSVersion.TLSv1_2


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # accepted connections inherit it: without it, Nagle + delayed ACK cost ~40 ms per response
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def origin(sock: socket.socket, *, tls: bool) -> str:
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    return f"{'https' if tls else 'http'}://{shown}:{port}"


def uvicorn_config(app: Any, *, tls_cert: str | None = None, tls_key: str | None = None,
                   log_level: str = "warning", access_log: bool = False) -> uvicorn.Config:
    """uvicorn settings: with a certificate, TLS 1.2 or later only (BCP 195)."""
    kwargs: dict[str, Any] = {"log_level": log_level, "access_log": access_log, "lifespan": "off",
                              "timeout_keep_alive": 5, "server_header": False, "proxy_headers": False}
    if tls_cert:
        def tls_context(_config: uvicorn.Config, default: Any) -> ssl.SSLContext:
            context = default()
            context.minimum_version = TLS_MIN
            return context

        kwargs.update(ssl_certfile=tls_cert, ssl_keyfile=tls_key, ssl_context_factory=tls_context)
    return uvicorn.Config(app, **kwargs)


@dataclass
class RunningServer:
    url: str  # origin, e.g. http://127.0.0.1:43123
    server: uvicorn.Server
    thread: threading.Thread
    sock: socket.socket

    @property
    def fhir_base(self) -> str:
        return self.url + "/fhir"

    def stop(self, timeout: float = 10.0) -> None:
        self.server.should_exit = True
        self.thread.join(timeout)
        try:
            self.sock.close()
        except OSError:  # pragma: no cover
            pass


def start_in_thread(app: Any, sock: socket.socket, *, tls_cert: str | None = None, tls_key: str | None = None,
                    startup_timeout: float = 15.0) -> RunningServer:
    config = uvicorn_config(app, tls_cert=tls_cert, tls_key=tls_key)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="reference-fhir-server",
                              daemon=True)
    thread.start()
    deadline = time.monotonic() + startup_timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError("the reference FHIR server did not start")
        time.sleep(0.02)
    return RunningServer(origin(sock, tls=bool(tls_cert)), server, thread, sock)
