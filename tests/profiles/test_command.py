"""`conformance profiles` through the real CLI entry point (exit codes and output)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conformance.cli import main
from conformance.profiles import available_profiles, load_profile

from .helpers import profile_text, write


def test_list_shows_every_profile_with_counts_by_level(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["profiles"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["ID", "VERSION", "REQS", "SHALL", "SHOULD", "MAY", "TITLE"]
    rows = {line.split()[0]: line.split() for line in out[1:]}
    assert set(rows) == set(available_profiles())
    fr = load_profile("fr-sesali")
    shall = sum(r.level.value == "SHALL" for r in fr.requirements)
    may = sum(r.level.value == "MAY" for r in fr.requirements)
    assert rows["fr-sesali"][1:6] == [fr.version, str(len(fr.requirements)), str(shall),
                                      str(len(fr.requirements) - shall - may), str(may)]


def test_list_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["profiles", "list", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    core = next(p for p in data["profiles"] if p["id"] == "ehds-core")
    assert core["requirements"] == sum(core["by_level"].values()) == len(load_profile("ehds-core").requirements)
    assert core["sha256"] == load_profile("ehds-core").sha256


def test_show_text_lists_requirements(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["profiles", "show", "ehds-patient-summary"]) == 0
    out = capsys.readouterr().out
    profile = load_profile("ehds-patient-summary")
    assert out.startswith(f"ehds-patient-summary {profile.version} - {profile.title}")
    table = out.split("\n\n", 1)[1].splitlines()
    assert table[0].split()[:4] == ["ID", "LEVEL", "CATEGORY", "DECLARED"]
    assert [line.split()[0] for line in table[1:]] == [r.id for r in profile.requirements]
    ps3 = next(line for line in table if line.startswith("PS-003"))
    assert ps3.split()[1:4] == ["SHOULD", "interoperability", "ehds-patient-summary"]


def test_show_json_round_trips_requirements(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["profiles", "show", "fr-sesali", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    profile = load_profile("fr-sesali")
    assert data["requirements"] == [r.to_json() for r in profile.requirements]
    assert data["extends"] == ["ehds-core", "ehds-patient-summary"]


def test_show_user_profile_by_path_and_by_dir(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "vendor", profile_text("vendor", extends=["ehds-core"], reqs=["VND-001"]))
    assert main(["profiles", "show", str(path), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["requirements"][-1]["id"] == "VND-001"
    assert main(["profiles", "show", "vendor", "--dir", str(tmp_path)]) == 0
    assert "VND-001" in capsys.readouterr().out
    assert main(["profiles", "--dir", str(tmp_path)]) == 0
    assert "vendor" in capsys.readouterr().out


def test_unknown_profile_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["profiles", "show", "ehds-cor"]) == 2
    err = capsys.readouterr().err
    assert "unknown profile 'ehds-cor'" in err and "did you mean 'ehds-core'?" in err


def test_malformed_profile_is_a_usage_error_with_location(tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    text = profile_text("broken").replace("level: SHALL", "level: SHAL")
    path = write(tmp_path, "broken", text)
    assert main(["profiles", "show", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"{path.resolve()}:" in err and "requirements[0].level" in err and "did you mean 'SHALL'?" in err
