"""A stateful check's failure is a shrunk sequence with a replay command, and the command replays it."""

from __future__ import annotations

import contextlib
import io
import json
import shlex
from pathlib import Path

from conformance.cli import main

MUTANT = "tests.mutants.realistic.trims_whitespace_at_login:create"
CHECK = "test_wrong_credentials_and_claimed_roles_are_refused_in_any_sequence"


def _run(args: list[str], report_dir: Path) -> dict:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        code = main([*args, "--report-dir", str(report_dir), "--run-id", "run"])
    assert code == 1, out.getvalue()[-3000:]
    return json.loads((report_dir / "run" / "report.json").read_text())


def _sequence(report: dict) -> dict:
    row = next(r for r in report["requirements"] if r["id"] == "EHDS-SEC-006")
    assert row["verdict"] == "fail"
    check = next(c for c in row["checks"] if c["name"].endswith(CHECK))
    return next(e for e in check["evidence"] if e["kind"] == "falsifying-sequence")


def test_failure_carries_a_shrunk_sequence_whose_replay_command_fails_the_same_way(tmp_path: Path) -> None:
    first = _sequence(_run(["run", "--adapter", MUTANT, "-k", CHECK], tmp_path / "a"))
    assert first["shrunk"] and first["steps"], first
    assert any("password with a space" in step for step in first["steps"]), first["steps"]
    replay = shlex.split(first["replay"])
    assert replay[:2] == ["conformance", "run"] and CHECK in replay, replay
    again = _sequence(_run(replay[1:], tmp_path / "b"))
    assert again["steps"] == first["steps"], "the replay command did not replay the same sequence"
