"""`conformance serve-reference`: the reference EHR as a FHIR R4 server over HTTP(S).

Two ways to start it:

* ``conformance serve-reference`` — a throw-away sandbox: fresh test keys and a
  self-signed certificate in a temporary folder, and a ready SUT file whose path is
  printed; point the harness at it with
  ``conformance run --adapter fhir --adapter-config <that file>``.
* ``conformance serve-reference --config examples/reference-sut.toml`` — the server
  side of a SUT file (its ``[reference_server]`` table and the sandbox passwords of
  its ``[actors]``), so both shells read the same file.

``--service module:Class`` serves a subclass of ReferenceEHR instead (e.g. a broken
one from tests/mutants, to see the harness catch it over HTTP). The first line on
stdout is ``FHIR base: <url>`` once the server accepts connections.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import inspect
import shutil
import signal
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from conformance.errors import UsageError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve-reference", help="serve the reference EHR as a FHIR R4 server (OAuth2/OIDC, TLS)",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", default=None, help="SUT file whose [reference_server] table configures the server")
    p.add_argument("--host", default=None, help="address to listen on (default 127.0.0.1, loopback only)")
    p.add_argument("--port", type=int, default=None, help="port (default: the config's, else 0 = any free port)")
    p.add_argument("--db", default=None, help="SQLite file of the EHR (default: a temporary file)")
    p.add_argument("--tls-cert", default=None, help="PEM certificate: serve HTTPS (TLS 1.2+) with it")
    p.add_argument("--tls-key", default=None, help="PEM private key of --tls-cert")
    p.add_argument("--plain-http", action="store_true",
                   help="sandbox mode only: no TLS (the EHDS-SEC-001 check will fail, as it should)")
    p.add_argument("--public-url", default=None, help="origin clients use, if not the listening address")
    p.add_argument("--service", default=None,
                   help="module:Class of a ReferenceEHR subclass to serve instead of the reference")
    p.add_argument("--validation", choices=("auto", "structural"), default="auto",
                   help="input validation of the EHR (default auto: full FHIR/CDA validation)")
    p.add_argument("--sandbox-dir", default=None, help="sandbox mode: write keys and sut.toml here (kept)")
    p.add_argument("--log-level", default="warning", help="uvicorn log level (default warning)")
    p.set_defaults(func=serve)


def load_service_class(spec: str | None) -> type:
    """ReferenceEHR, or the subclass named by 'module:Class' (or a module holding exactly one)."""
    from conformance.adapters.reference.service import ReferenceEHR

    if not spec:
        return ReferenceEHR
    if "" not in sys.path and "." not in sys.path:
        sys.path.insert(0, "")
    module_name, _, attr = spec.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise UsageError(f"--service: cannot import {module_name!r}: {exc}") from exc
    if attr:
        cls = getattr(module, attr, None)
        if cls is None:
            raise UsageError(f"--service: module {module_name!r} has no attribute {attr!r}")
    else:
        found = [v for v in vars(module).values() if inspect.isclass(v) and issubclass(v, ReferenceEHR)
                 and v is not ReferenceEHR and v.__module__ == module.__name__]
        if len(found) != 1:
            raise UsageError(f"--service: module {module_name!r} defines {len(found)} ReferenceEHR subclasses; "
                             "name one as module:Class")
        cls = found[0]
    if not (inspect.isclass(cls) and issubclass(cls, ReferenceEHR)):
        raise UsageError(f"--service: {spec!r} is not a subclass of ReferenceEHR")
    return cls


def serve(args: argparse.Namespace) -> int:
    from conformance.adapter import load_config
    from conformance.server import runner, sandbox
    from conformance.server.app import create_app
    from conformance.server.launch import prepare

    owned: list[Path] = []
    try:
        if args.config:
            config_path = Path(args.config).resolve()
            config = load_config(str(config_path))
            base = config_path.parent
            sut_file = config_path
        else:
            folder = Path(args.sandbox_dir) if args.sandbox_dir else Path(tempfile.mkdtemp(prefix="ehds-serve-"))
            if not args.sandbox_dir:
                owned.append(folder)
            box = sandbox.create(folder, tls=not args.plain_http and not args.tls_cert)
            sut_file = folder / "sut.toml"
            sut_file.write_text(sandbox.sut_toml(box, base_url="(written at start)", port=args.port or 0),
                                encoding="utf-8")
            config = load_config(str(sut_file))
            base = folder
        section = config.get("reference_server") or {}
        if not isinstance(section, dict) or not section.get("clients"):
            raise UsageError(f"{sut_file}: no [reference_server] table with clients: the server would know no "
                             "client to issue tokens to (see examples/reference-sut.toml)")
        host = args.host or str(section.get("host", "127.0.0.1"))
        port = args.port if args.port is not None else int(section.get("port", 0))
        cert = args.tls_cert or _path(section.get("tls_cert"), base)
        key = args.tls_key or _path(section.get("tls_key"), base)
        if bool(cert) != bool(key):
            raise UsageError("TLS needs both --tls-cert and --tls-key (PEM files)")
        db = args.db or section.get("db")
        if db:
            db_path = Path(str(db)).expanduser()
        else:
            tmp = Path(tempfile.mkdtemp(prefix="ehds-serve-db-"))
            owned.append(tmp)
            db_path = tmp / "ehr.sqlite"
        service_class = load_service_class(args.service or section.get("service"))
        service = service_class(db_path, validation=args.validation)
        try:
            auth = prepare(service, config, base=base)
            try:
                sock = runner.bind(host, port)
            except OSError as exc:
                raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror}; choose another --port") from exc
            origin = runner.origin(sock, tls=bool(cert))
            if host in ("0.0.0.0", "::", "") and not (args.public_url or section.get("public_url")):
                sock.close()
                raise UsageError(f"listening on {host!r} (all interfaces): give --public-url, the origin clients use "
                                 "(tokens are issued for that audience)")
            auth.public_url = args.public_url or str(section.get("public_url") or origin)
            product = None if service_class.__name__ == "ReferenceEHR" else (
                f"{service_class.product} (service {service_class.__module__}.{service_class.__name__})")
            app = create_app(service, auth_config=auth, product=product)
            if not args.config:
                sut_file.write_text(sandbox.sut_toml(box, base_url=auth.public_url + "/fhir", port=port),
                                    encoding="utf-8")
            server = runner.uvicorn.Server(runner.uvicorn_config(app, tls_cert=cert, tls_key=key,
                                                                 log_level=args.log_level))
            print(f"FHIR base: {auth.public_url}/fhir", flush=True)
            print(f"SUT file: {sut_file}", flush=True)
            print(f"  run the checks with: conformance run --adapter fhir --adapter-config {sut_file}", flush=True)
            print("  (Ctrl-C stops the server)", flush=True)
            with _stop_on_signals():
                server.run(sockets=[sock])
            print("reference FHIR server stopped", flush=True)
        finally:
            service.close()
    finally:
        for path in owned:
            shutil.rmtree(path, ignore_errors=True)
    return 0


class _Stopped(Exception):
    """SIGTERM arrived (uvicorn re-raises it after its graceful shutdown)."""


@contextlib.contextmanager
def _stop_on_signals() -> Iterator[None]:
    """Ctrl-C or SIGTERM end the server normally: the database is closed and temporary files removed."""
    def stop(_signum: int, _frame: Any) -> None:
        raise _Stopped()

    try:
        previous = signal.signal(signal.SIGTERM, stop)
    except ValueError:  # not the main thread: leave signals alone
        previous = None
    try:
        yield
    except (KeyboardInterrupt, _Stopped):
        pass
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _path(value: Any, base: Path) -> str | None:
    if not value:
        return None
    path = Path(str(value)).expanduser()
    return str(path if path.is_absolute() else base / path)
