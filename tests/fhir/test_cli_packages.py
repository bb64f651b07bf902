"""`conformance validate` exit codes and formats; `conformance packages add/list/remove` with a real .tgz."""

from __future__ import annotations

import io
import json
import tarfile

import orjson

from conformance.cli import main
from tests.fhir.conftest import DATA

IPS_OK = str(DATA / "ips-2.0.0-examples" / "Bundle-bundle-minimal.json")


def test_valid_file_exits_0(capsys):
    assert main(["validate", IPS_OK]) == 0
    assert "OK - 0 error(s)" in capsys.readouterr().out


def test_invalid_file_exits_1_and_names_location(tmp_path, capsys):
    bundle = orjson.loads((DATA / "ips-2.0.0-examples" / "Bundle-bundle-minimal.json").read_bytes())
    bundle["entry"][1]["resource"]["birthDate"] = "1999-02-30"
    f = tmp_path / "bad.json"
    f.write_bytes(orjson.dumps(bundle))
    assert main(["validate", str(f)]) == 1
    out = capsys.readouterr().out
    assert "Bundle.entry[1].resource.birthDate" in out and "not a real calendar date" in out


def test_json_format_is_an_operation_outcome(tmp_path, capsys):
    f = tmp_path / "p.json"
    f.write_text(json.dumps({"resourceType": "Patient", "gender": "robot"}))
    assert main(["validate", "--format", "json", str(f)]) == 1
    oo = json.loads(capsys.readouterr().out)
    assert oo["resourceType"] == "OperationOutcome"
    assert any(i["severity"] == "error" and i["expression"] == ["Patient.gender"] for i in oo["issue"])


def test_bad_input_exits_2(tmp_path, capsys):
    f = tmp_path / "broken.json"
    f.write_text('{"resourceType": "Patient",')
    assert main(["validate", str(f)]) == 2
    assert "broken.json:1:" in capsys.readouterr().err
    assert main(["validate", str(tmp_path / "missing.json")]) == 2
    assert main(["validate", "--profile", "http://example.org/nope", IPS_OK]) == 2
    capsys.readouterr()
    x = tmp_path / "p.xml"
    x.write_text('<Patient xmlns="http://hl7.org/fhir">\n  <id value="1">\n</Patient>')
    assert main(["validate", str(x)]) == 2
    assert "p.xml:3:3: not well-formed XML" in capsys.readouterr().err


def _tgz(path, manifest: dict, resources: list[dict]) -> None:
    with tarfile.open(path, "w:gz") as tar:
        for name, obj in [("package/package.json", manifest)] + [
                (f"package/StructureDefinition-{r['id']}.json", r) for r in resources]:
            data = json.dumps(obj).encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def test_packages_add_list_remove_and_use(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("EHDS_CONFORMANCE_HOME", str(tmp_path / "home"))
    profile = {"resourceType": "StructureDefinition", "id": "needs-birthdate",
               "url": "http://vendor.example/StructureDefinition/needs-birthdate", "name": "NeedsBirthDate",
               "status": "active", "kind": "resource", "abstract": False, "type": "Patient",
               "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Patient", "derivation": "constraint",
               "differential": {"element": [{"id": "Patient.birthDate", "path": "Patient.birthDate", "min": 1}]}}
    tgz = tmp_path / "vendor.tgz"
    _tgz(tgz, {"name": "vendor.example.ps", "version": "1.2.3", "fhirVersions": ["4.0.1"]}, [profile])
    assert main(["packages", "add", str(tgz)]) == 0
    assert "installed vendor.example.ps#1.2.3" in capsys.readouterr().out
    assert main(["packages", "list"]) == 0
    listing = capsys.readouterr().out
    assert "vendor.example.ps#1.2.3" in listing and "hl7.fhir.r4.core#4.0.1" in listing
    patient = tmp_path / "p.json"
    patient.write_text(json.dumps({"resourceType": "Patient", "meta": {"profile": [profile["url"]]}}))
    from conformance.fhir import Validator

    issues = Validator().validate(json.loads(patient.read_text()))
    assert [(i.location, i.rule) for i in issues if i.is_error] == [("Patient", "Patient.birthDate")]
    assert main(["packages", "remove", "vendor.example.ps"]) == 0
    assert main(["packages", "remove", "vendor.example.ps"]) == 2


def test_loaded_packages_are_recorded(validator):
    names = {p.name: p for p in validator.packages}
    assert {"hl7.fhir.r4.core", "hl7.fhir.uv.ips", "ihe.iti.balp"} <= set(names)
    assert len(names["hl7.fhir.r4.core"].sha256) == 64
