"""The FHIR XML reader: the same JSON model as FHIR JSON, positions on every element, XML-only rules."""

from __future__ import annotations

import pytest

from conformance.fhir.xmlreader import FhirXmlError, parse_fhir_xml, validate_xml

XML = b"""<?xml version="1.0" encoding="UTF-8"?>
<Bundle xmlns="http://hl7.org/fhir">
  <type value="collection"/>
  <entry>
    <fullUrl value="http://x.org/fhir/Patient/p1"/>
    <resource>
      <Patient>
        <id value="p1"/>
        <contained>
          <Organization><id value="o1"/><name value="Org"/></Organization>
        </contained>
        <name>
          <given value="Ann"/>
          <given id="g2"><extension url="http://hl7.org/fhir/StructureDefinition/iso21090-nullFlavor">
            <valueCode value="UNK"/></extension></given>
        </name>
        <birthDate id="bd" value="1970-01-01"/>
        <multipleBirthInteger value="2"/>
        <managingOrganization><reference value="#o1"/></managingOrganization>
      </Patient>
    </resource>
  </entry>
</Bundle>
"""

EXPECTED = {"resourceType": "Bundle", "type": "collection", "entry": [{
    "fullUrl": "http://x.org/fhir/Patient/p1",
    "resource": {"resourceType": "Patient", "id": "p1",
                 "contained": [{"resourceType": "Organization", "id": "o1", "name": "Org"}],
                 "name": [{"given": ["Ann", None], "_given": [None, {"id": "g2", "extension": [
                     {"url": "http://hl7.org/fhir/StructureDefinition/iso21090-nullFlavor", "valueCode": "UNK"}]}]}],
                 "birthDate": "1970-01-01", "_birthDate": {"id": "bd"},
                 "multipleBirthInteger": 2,
                 "managingOrganization": {"reference": "#o1"}}}]}


def test_xml_reads_into_the_json_model(validator):
    parsed = parse_fhir_xml(XML, validator)
    assert parsed.resource == EXPECTED
    assert parsed.issues == []
    assert parsed.positions[".entry[0].resource.name[0].given[1]"] == (14, 11)
    assert parsed.positions[".entry[0].resource.contained[0]"] == (9, 9)
    assert [i for i in validate_xml(validator, XML) if i.is_error] == []


def test_xhtml_div_becomes_the_json_string(validator):
    xml = (b'<Patient xmlns="http://hl7.org/fhir"><text><status value="generated"/>'
           b'<div xmlns="http://www.w3.org/1999/xhtml"><p class="x">A &amp; <b>B</b></p></div></text></Patient>')
    div = parse_fhir_xml(xml, validator).resource["text"]["div"]
    assert div == '<div xmlns="http://www.w3.org/1999/xhtml"><p class="x">A &amp; <b>B</b></p></div>'


@pytest.mark.parametrize(("body", "rule", "location"), [
    (b'<gender value="male"/><id value="a"/>', "xml.element-order", "Patient.id"),
    (b'<gender value="male" foo="1"/>', "xml.unknown-attribute", "Patient.gender"),
    (b'<active value="yes"/>', "xml.value", "Patient.active"),
    (b'<gender>male</gender>', "xml.text", "Patient.gender"),
    (b'<maritalStatus value="M"/>', "xml.wrong-type", "Patient.maritalStatus"),
    (b'<x:foo xmlns:x="urn:other"/>', "xml.namespace", "Patient"),
    (b'<nickname value="Al"/>', "structure.unknown-element", "Patient"),
])
def test_xml_only_rules(validator, body, rule, location):
    xml = b'<Patient xmlns="http://hl7.org/fhir">' + body + b"</Patient>"
    errors = [i for i in validate_xml(validator, xml) if i.is_error]
    assert [(i.rule, i.location) for i in errors] == [(rule, location)]  # one error per cause
    assert errors[0].line == 1 and errors[0].column >= 1


@pytest.mark.parametrize(("xml", "code"), [
    (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><Patient xmlns="http://hl7.org/fhir"/>', "security"),
    (b'<Patient xmlns="http://hl7.org/fhir"><id value="1"></Patient>', "structure"),
    (b'<Patient><id value="1"/></Patient>', "structure"),
])
def test_unreadable_xml_is_refused_with_a_reason(validator, xml, code):
    with pytest.raises(FhirXmlError) as exc:
        parse_fhir_xml(xml, validator)
    assert exc.value.code == code
