"""Fixtures of the HTTP tests: a reference EHR served on a free loopback port (real uvicorn, real
TLS, real SQLite), the `fhir` adapter pointed at it, and a runner for `conformance run`."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import tempfile
import threading
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conformance.adapters.fhir_rest import FhirRestAdapter, create
from conformance.server.launch import Sandboxed, start_sandbox

ROOT = Path(__file__).resolve().parents[2]


def adapter_for(sandboxed: Sandboxed) -> FhirRestAdapter:
    config = tomllib.loads(sandboxed.sut_file.read_text(encoding="utf-8"))
    config["sut"]["config_dir"] = str(sandboxed.sut_file.parent)
    return create(config)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandboxed]:
    """The reference EHR over HTTPS (structural validation: fast), for one test module."""
    running = start_sandbox(tmp_path_factory.mktemp("served"), validation="structural")
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def adapter(served: Sandboxed) -> Iterator[FhirRestAdapter]:
    made = adapter_for(served)
    try:
        yield made
    finally:
        made.close()


def conformance_run(sut_file: Path | None, report_dir: Path, *extra: str, adapter: str = "fhir",
                    timeout: float = 600) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    """`conformance run` in a subprocess; returns the process and report.json."""
    args = [sys.executable, "-m", "conformance.cli", "run", "--adapter", adapter, "--report-dir", str(report_dir),
            "--run-id", "run"]
    if sut_file is not None:
        args += ["--adapter-config", str(sut_file)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run([*args, *extra], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout,
                            check=False)
    assert result.returncode in (0, 1), (f"conformance run did not complete (exit {result.returncode}):\n"
                                         + result.stdout[-3000:] + result.stderr[-3000:])
    return result, json.loads((report_dir / "run" / "report.json").read_text(encoding="utf-8"))


def verdicts(report: dict[str, Any]) -> dict[str, str]:
    return {row["id"]: row["verdict"] for row in report["requirements"]}


def check_verdicts(report: dict[str, Any]) -> dict[str, str]:
    """Check name -> verdict (a check verifying several requirements appears once)."""
    return {c["name"]: c["verdict"] for row in report["requirements"] for c in row["checks"]}


class ServeReference:
    """`conformance serve-reference` in a subprocess, ready once it printed its URL and SUT file;
    `close()` stops it (SIGTERM, then SIGKILL) and waits for it."""

    def __init__(self, *args: str, startup: float = 60) -> None:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the server; closed in close()
        self.proc = subprocess.Popen([sys.executable, "-m", "conformance.cli", "serve-reference", *args], cwd=ROOT,
                                     env=env, stdout=subprocess.PIPE, stderr=self._stderr, text=True)
        lines: queue.Queue[str] = queue.Queue()

        def pump() -> None:
            for line in self.proc.stdout:  # type: ignore[union-attr]
                lines.put(line)
            lines.put("")  # the process closed its output: it exited

        threading.Thread(target=pump, daemon=True).start()
        self.fhir_base = self.sut_file = ""
        while not (self.fhir_base and self.sut_file):
            try:
                line = lines.get(timeout=startup)
            except queue.Empty:
                self.close()
                raise RuntimeError(f"serve-reference did not start within {startup} s: {self.stderr()}") from None
            if line == "":
                self.proc.wait(10)
                break
            if line.startswith("FHIR base: "):
                self.fhir_base = line.split(": ", 1)[1].strip()
            elif line.startswith("SUT file: "):
                self.sut_file = line.split(": ", 1)[1].strip()

    def stderr(self) -> str:
        self._stderr.seek(0)
        return self._stderr.read().decode("utf-8", "replace")[-3000:]

    def close(self) -> int:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if self.proc.stdout:
            self.proc.stdout.close()
        return self.proc.returncode

    def __del__(self) -> None:
        self._stderr.close()
