"""`conformance validate` on FHIR XML and hostile XML, its validator switches, and an exit code that does not
depend on where stdout goes."""

from __future__ import annotations

import json
import subprocess
import sys

from conformance.cli import main

PATIENT_XML = """<Patient xmlns="http://hl7.org/fhir">
  <id value="p1"/>
  <text><status value="generated"/><div xmlns="http://www.w3.org/1999/xhtml">A <b>patient</b></div></text>
  <gender value="female"/>
  <active value="true"/>
</Patient>
"""

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
<Patient xmlns="http://hl7.org/fhir"><id value="&lol2;"/></Patient>
"""


def test_fhir_xml_is_validated_with_line_and_column(tmp_path, capsys):
    f = tmp_path / "p.xml"
    f.write_text(PATIENT_XML)
    assert main(["validate", "--format", "json", str(f)]) == 1
    oo = json.loads(capsys.readouterr().out)
    issue = next(i for i in oo["issue"] if i["severity"] == "error")
    assert issue["expression"] == ["Patient.active"]  # after gender: out of the definition's order
    ext = {e["url"].rsplit("-", 1)[-1]: e.get("valueInteger") for e in issue["extension"]}
    assert (ext["line"], ext["col"]) == (5, 3)


def test_hostile_fhir_xml_is_refused_not_called_malformed(tmp_path, capsys):
    f = tmp_path / "lol.xml"
    f.write_text(BILLION_LAUGHS)
    assert main(["validate", str(f)]) == 1
    out = capsys.readouterr().out
    assert "refused" in out and "DTD" in out and "not well-formed" not in out


def test_switches_reach_the_validator(tmp_path, capsys):
    f = tmp_path / "p.json"
    f.write_text(json.dumps({"resourceType": "Patient", "extension": [
        {"url": "http://vendor.example.net/ext", "valueString": "x"}]}))
    assert main(["validate", str(f)]) == 1
    assert main(["validate", "--extension-domain", "http://vendor.example.net/", str(f)]) == 0
    assert main(["validate", "--any-extension", str(f)]) == 0
    capsys.readouterr()
    assert main(["validate", "--max-issues", "1", "--format", "json", str(f)]) == 1
    assert len(json.loads(capsys.readouterr().out)["issue"]) == 1


def test_exit_code_is_the_same_when_stdout_is_a_pipe_closed_early(tmp_path):
    f = tmp_path / "bad.json"
    patient = {"resourceType": "Patient", "gender": "nonsense"} | {f"x{i}": 1 for i in range(1000)}
    f.write_text(json.dumps(patient))  # ~100 kB of report: more than a pipe buffer, so `head` closes it early
    script = "import sys; from conformance.cli import main; sys.exit(main(sys.argv[1:]))"
    piped = subprocess.run(f"{sys.executable} -c '{script}' validate -v {f} | head -c 10 >/dev/null; "
                           "exit ${PIPESTATUS[0]}", shell=True, executable="/bin/bash", capture_output=True)
    assert piped.returncode == 1, piped.stderr  # as main() returns with stdout captured (test_switches_...)



def test_bundle_rule_reaches_the_validator(tmp_path, capsys):
    f = tmp_path / "b.json"
    f.write_text(json.dumps({"resourceType": "Bundle", "type": "collection", "entry": [
        {"fullUrl": "urn:uuid:0c3151bd-1cbf-4d64-b04d-cd9187a4c601", "resource": {"resourceType": "Patient"}}]}))
    assert main(["validate", str(f)]) == 0
    ips_patient = "http://hl7.org/fhir/uv/ips/StructureDefinition/Patient-uv-ips"
    assert main(["validate", "--bundle-rule", "Patient:0", ips_patient, str(f)]) == 1
    capsys.readouterr()
