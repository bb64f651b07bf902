"""A hostile FHIR server on loopback: answers that drip, never end, never stop paging, redirect
off-host or are not JSON. Every loop is bounded (it stops on its own after a few seconds or when
the client hangs up), so a broken harness makes a test fail, never hang forever.

Routes (under /fhir): ``metadata`` drips a body one byte per 50 ms; ``drip-headers`` drips
the status line and headers; ``huge`` streams 60 MB without Content-Length; ``huge-declared``
declares 60 MB; ``Patient`` (search) pages forever, 2,000 entries per page; ``redirect``
sends 302 to another host; ``html`` answers 200 text/html.
"""

from __future__ import annotations

import json
import socket
import threading
import time
import urllib.parse

MAX_SECONDS = 30.0  # no connection is served longer than this, whatever the client does
HUGE = 60 * 1024 * 1024


class HostileServer:
    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.base_url = f"http://127.0.0.1:{self.port}/fhir"
        self._stop = threading.Event()
        self.paths: list[str] = []
        self._thread = threading.Thread(target=self._accept, name="hostile-server", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self.sock.close()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        conn.settimeout(5)
        try:
            data = b""
            while b"\r\n\r\n" not in data and len(data) < 65536:
                chunk = conn.recv(4096)
                if not chunk:
                    return
                data += chunk
            target = data.split(b" ", 2)[1].decode("latin-1")
            self.paths.append(target)
            route = urllib.parse.urlsplit(target).path.removeprefix("/fhir/")
            handler = getattr(self, "_" + route.replace("-", "_").replace("/", "_"), self._not_found)
            handler(conn, target)
        except OSError:
            pass  # the client hung up: that is what a bounded client does
        finally:
            conn.close()

    def _until(self) -> float:
        return time.monotonic() + MAX_SECONDS

    @staticmethod
    def _head(status: str, headers: dict[str, str]) -> bytes:
        headers = {"Connection": "close", **headers}  # one exchange per connection
        lines = [f"HTTP/1.1 {status}"] + [f"{k}: {v}" for k, v in headers.items()] + ["", ""]
        return "\r\n".join(lines).encode("latin-1")

    def _metadata(self, conn: socket.socket, _target: str) -> None:
        """A slow drip: a 100 kB body, one byte per 50 ms."""
        conn.sendall(self._head("200 OK", {"Content-Type": "application/fhir+json", "Content-Length": "100000"}))
        end = self._until()
        while time.monotonic() < end and not self._stop.is_set():
            conn.sendall(b" ")
            time.sleep(0.05)

    def _drip_headers(self, conn: socket.socket, _target: str) -> None:
        end = self._until()
        for byte in self._head("200 OK", {"Content-Type": "application/fhir+json", "X-Pad": "x" * 5000}):
            if time.monotonic() > end or self._stop.is_set():
                return
            conn.sendall(bytes([byte]))
            time.sleep(0.05)

    def _huge(self, conn: socket.socket, _target: str) -> None:
        conn.sendall(self._head("200 OK", {"Content-Type": "application/fhir+json"}))
        block = b"[" * 65536
        sent, end = 0, self._until()
        while sent < HUGE and time.monotonic() < end and not self._stop.is_set():
            conn.sendall(block)
            sent += len(block)

    def _huge_declared(self, conn: socket.socket, _target: str) -> None:
        conn.sendall(self._head("200 OK", {"Content-Type": "application/fhir+json", "Content-Length": str(HUGE)}))
        conn.sendall(b"{" * 65536)

    def _Patient(self, conn: socket.socket, target: str) -> None:  # noqa: N802 - the FHIR route name
        """A search that never ends: every page has 2,000 entries and a next link."""
        query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(target).query))
        page = int(query.get("page", "0"))
        entries = [{"resource": {"resourceType": "Patient", "id": f"p{page}-{i}"}} for i in range(2000)]
        bundle = {"resourceType": "Bundle", "type": "searchset", "entry": entries,
                  "link": [{"relation": "next", "url": f"{self.base_url}/Patient?page={page + 1}"}]}
        self._send_json(conn, bundle)

    def _redirect(self, conn: socket.socket, _target: str) -> None:
        conn.sendall(self._head("302 Found", {"Location": "https://elsewhere.invalid/fhir/metadata",
                                              "Content-Length": "0"}))

    def _html(self, conn: socket.socket, _target: str) -> None:
        body = b"<html><body>Welcome to nginx!</body></html>"
        conn.sendall(self._head("200 OK", {"Content-Type": "text/html", "Content-Length": str(len(body))}) + body)

    def _not_found(self, conn: socket.socket, _target: str) -> None:
        body = b"no such route"
        conn.sendall(self._head("404 Not Found", {"Content-Type": "text/plain", "Content-Length": str(len(body))})
                     + body)

    def _send_json(self, conn: socket.socket, value: object) -> None:
        body = json.dumps(value).encode()
        conn.sendall(self._head("200 OK", {"Content-Type": "application/fhir+json", "Content-Length": str(len(body))})
                     + body)


class PeakRss:
    """The peak resident memory of this process while in the block, above what it was before (MB)."""

    def __enter__(self) -> PeakRss:
        self.base = self.peak = _rss()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        self.started = time.monotonic()
        return self

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, _rss())
            time.sleep(0.01)

    def __exit__(self, *exc: object) -> None:
        self.wall = time.monotonic() - self.started
        self._stop.set()
        self._thread.join(2)
        self.peak = max(self.peak, _rss())

    @property
    def growth_mb(self) -> float:
        return (self.peak - self.base) / 1024 / 1024


def _rss() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * 4096
