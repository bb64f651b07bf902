"""Rule families added for agreement with the reference validator: each test fails when its rule is broken."""

from __future__ import annotations

import pytest


def test_unknown_sub_extension_of_a_complex_extension(validator):
    animal = "http://hl7.org/fhir/StructureDefinition/patient-animal"
    species = {"url": "species", "valueCodeableConcept": {"text": "dog"}}
    good = {"resourceType": "Patient", "extension": [{"url": animal, "extension": [species]}]}
    bad = {"resourceType": "Patient", "extension": [{"url": animal, "extension": [species, {
        "url": "species-x", "valueString": "x"}]}]}
    assert not [i for i in validator.validate(good) if i.is_error]
    assert [(i.location, i.rule) for i in validator.validate(bad) if i.is_error] == [
        ("Patient.extension[0].extension[1]", "extension.sub-extension")]


def _bundle(ref: str, target_type: str) -> dict:
    return {"resourceType": "Bundle", "type": "collection", "entry": [
        {"fullUrl": "urn:uuid:54fc3e09-e279-4b74-a8ff-2649ec968642",
         "resource": {"resourceType": "Patient", "generalPractitioner": [{"reference": ref}]}},
        {"fullUrl": "urn:uuid:5d9588d8-3cd6-4b32-8fb7-ad13694e069d",
         "resource": {"resourceType": target_type, "name": [{"text": "X"}] if target_type != "Organization" else "X"}}]}


@pytest.mark.parametrize(("target", "error"), [("Practitioner", False), ("Organization", True)])
def test_relative_reference_from_a_urn_entry_resolves_to_urn_uuid_id(validator, target, error):
    issues = validator.validate(_bundle("Practitioner/5d9588d8-3cd6-4b32-8fb7-ad13694e069d", target))
    found = [(i.location, i.rule) for i in issues if i.is_error]
    assert found == ([("Bundle.entry[0].resource.generalPractitioner[0]", "reference.type-mismatch")] if error else [])


def _document(composition_url: str, org_url: str) -> dict:
    return {"resourceType": "Bundle", "type": "document", "identifier": {"system": "urn:ietf:rfc:3986",
            "value": "urn:uuid:0c3151bd-1cbf-4d64-b04d-cd9187a4c6e0"}, "timestamp": "2026-01-01T00:00:00Z", "entry": [
        {"fullUrl": composition_url, "resource": {
            "resourceType": "Composition", "id": "1", "status": "final", "type": {"text": "summary"},
            "date": "2026-01-01", "title": "t", "author": [{"reference": "Organization/666"}]}},
        {"fullUrl": org_url, "resource": {"resourceType": "Organization", "id": "666", "name": "Lab"}}]}


@pytest.mark.parametrize(("composition_url", "org_url", "resolves"), [
    # a urn:uuid referrer has no RESTful base: Organization/666 means urn:uuid:666 only (FHIR's Bundle rules)
    ("urn:uuid:10a67a86-a9ec-427e-ba3f-f042cef21733", "urn:uuid:2aaf815f-3ebe-4a03-9b87-05d0700313b2", False),
    ("urn:uuid:10a67a86-a9ec-427e-ba3f-f042cef21733", "https://ehr.example.net/fhir/Organization/666", False),
    # a RESTful referrer: Organization/666 is resolved against its base
    ("https://ehr.example.net/fhir/Composition/1", "https://ehr.example.net/fhir/Organization/666", True),
])
def test_relative_reference_follows_the_bundle_fullurl_rules(validator, composition_url, org_url, resolves):
    """As the reference validator (relative_reference_to_TYPE_ID.all_fullUrl_UUID): an entry with the same type
    and id does not make a relative reference from a urn:uuid entry resolve; the error says which entry it is."""
    issues = [i for i in validator.validate(_document(composition_url, org_url)) if i.is_error]
    if resolves:
        assert issues == []
        return
    assert [(i.location, i.rule) for i in issues] == [
        ("Bundle.entry[0].resource.author[0].reference", "reference.unresolved"),
        ("Bundle.entry[1]", "bundle.entry-orphan")]
    assert f"Bundle.entry[1] has the same type and id, but its fullUrl '{org_url}'" in issues[0].message


def test_que_12_as_its_human_text_says(validator):
    cond = {"question": "a", "operator": "=", "answerString": "x"}
    q = {"resourceType": "Questionnaire", "status": "draft", "item": [
        {"linkId": "a", "type": "string"}, {"linkId": "b", "type": "string", "enableWhen": [cond, cond]}]}
    assert [(i.location, i.rule) for i in validator.validate(q) if i.is_error] == [("Questionnaire.item[1]", "que-12")]
    q["item"][1]["enableBehavior"] = "any"
    assert not [i for i in validator.validate(q) if i.is_error]


@pytest.mark.parametrize(("value", "code", "error"), [(-1, "g", True), (1, "g", False), (11000, "g", True),
                                                      (2, "kg", False), (5, "[mi_i]", False)])
def test_quantity_bounds_convert_ucum_units(value, code, error):
    from conformance.fhir import Validator

    ucum = "http://unitsofmeasure.org"
    profile = {
        "resourceType": "StructureDefinition", "url": "http://example.org/fhir/StructureDefinition/obs-kg",
        "name": "ObsKg", "status": "draft", "fhirVersion": "4.0.1", "kind": "resource", "abstract": False,
        "type": "Observation", "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Observation",
        "derivation": "constraint", "differential": {"element": [
            {"id": "Observation.value[x]", "path": "Observation.value[x]", "type": [{"code": "Quantity"}],
             "minValueQuantity": {"value": 0, "system": ucum, "code": "kg"},
             "maxValueQuantity": {"value": 10, "system": ucum, "code": "kg"}}]}}
    v = Validator(resources=[profile], include_user_packages=False)
    obs = {"resourceType": "Observation", "status": "final", "code": {"text": "w"}, "meta": {"profile": [profile["url"]]},
           "valueQuantity": {"value": value, "system": ucum, "code": code}}
    assert any(i.location == "Observation.valueQuantity" for i in v.validate(obs) if i.is_error) is error


def test_coding_system_must_be_absolute(validator):
    obs = {"resourceType": "Observation", "status": "final", "code": {"coding": [{"system": "#local", "code": "x"}]}}
    assert [(i.location, i.rule) for i in validator.validate(obs) if i.is_error] == [
        ("Observation.code.coding[0].system", "terminology.system-absolute")]
    obs["code"]["coding"][0]["system"] = "http://example.org/cs"
    assert not [i for i in validator.validate(obs) if i.is_error]


def test_composite_search_parameter_needs_two_components(validator):
    sp = {"resourceType": "SearchParameter", "url": "http://example.org/sp", "name": "x", "status": "draft",
          "description": "x", "code": "x", "base": ["Observation"], "type": "composite", "expression": "Observation",
          "component": [{"definition": "http://hl7.org/fhir/SearchParameter/Observation-code",
                         "expression": "code"}]}
    assert ("SearchParameter", "searchparameter.composite") in [(i.location, i.rule) for i in validator.validate(sp)]
    sp["component"].append(dict(sp["component"][0]))
    assert "searchparameter.composite" not in [i.rule for i in validator.validate(sp)]


def _measure_report(report_type: str, **population) -> dict:
    return {"resourceType": "MeasureReport", "status": "complete", "type": report_type,
            "measure": "http://example.org/Measure/m", "period": {"start": "2024-01-01", "end": "2024-12-31"},
            "group": [{"population": [{"code": {"text": "ip"}, **population}]}]}


@pytest.mark.parametrize(("report", "rule"), [
    (_measure_report("summary", count=1, subjectResults={"reference": "List/l"}), "measurereport.subjects"),
    (_measure_report("subject-list", count=5, subjectResults={"reference": "List/l"}), "measurereport.count"),
    (_measure_report("subject-list", count=1, subjectResults={"reference": "List/l"}), None),
])
def test_measure_report_subject_rules(validator, report, rule):
    found = [i.rule for i in validator.validate(report) if i.rule.startswith("measurereport.")]
    assert found == ([rule] if rule else [])


def test_document_entries_must_be_reachable_from_the_composition(validator):
    from tests.fhir.conftest import load

    b = load("ips-2.0.0-examples/Bundle-bundle-minimal.json")
    assert not [i for i in validator.validate(b) if i.rule == "bundle.entry-orphan"]
    b["entry"].append({"fullUrl": "urn:uuid:0c3151bd-1cbf-4d64-b04d-cd9187a4c6e0",
                       "resource": {"resourceType": "Organization", "id": "lonely", "name": "Nobody refers to me"}})
    found = [(i.severity, i.location) for i in validator.validate(b) if i.rule == "bundle.entry-orphan"]
    assert found == [("error", f"Bundle.entry[{len(b['entry']) - 1}]")]


@pytest.mark.parametrize(("kind", "added", "expected"), [
    # refers to the Patient, which the Composition reaches, but nothing reaches it going forwards
    ("Observation", {}, [("warning", "bundle.entry-backward")]),
    ("Provenance", {}, []),  # the one resource R4 (section 3.3.1) approves to be reached backwards
    ("Observation", {"referenced": True}, []),  # the Composition's section refers to it: reached forwards
])
def test_document_entries_reached_only_backwards(validator, kind, added, expected):
    from tests.fhir.conftest import load

    b = load("ips-2.0.0-examples/Bundle-bundle-minimal.json")
    patient = next(e["fullUrl"] for e in b["entry"] if e["resource"]["resourceType"] == "Patient")
    url = "urn:uuid:0c3151bd-1cbf-4d64-b04d-cd9187a4c6e1"
    resource = {"resourceType": "Observation", "id": "back", "status": "final", "code": {"text": "weight"},
                "subject": {"reference": patient}} if kind == "Observation" else \
        {"resourceType": "Provenance", "id": "back", "target": [{"reference": patient}], "recorded": "2024-01-01T00:00:00Z",
         "agent": [{"who": {"display": "someone"}}]}
    b["entry"].append({"fullUrl": url, "resource": resource})
    if added.get("referenced"):
        b["entry"][0]["resource"]["section"][0]["entry"].append({"reference": url})
    at = f"Bundle.entry[{len(b['entry']) - 1}]"
    found = [(i.severity, i.rule) for i in validator.validate(b)
             if i.location == at and i.rule.startswith("bundle.entry-")]
    assert found == expected


def test_message_entries_reached_only_backwards_are_information(validator):
    header = {"resourceType": "MessageHeader", "id": "h", "eventCoding": {
        "system": "http://example.org/events", "code": "admit"}, "source": {"endpoint": "http://example.org/x"},
        "focus": [{"reference": "urn:uuid:0c3151bd-1cbf-4d64-b04d-cd9187a4c6e2"}]}
    patient = {"resourceType": "Patient", "id": "p"}
    observation = {"resourceType": "Observation", "id": "o", "status": "final", "code": {"text": "x"},
                   "subject": {"reference": "urn:uuid:0c3151bd-1cbf-4d64-b04d-cd9187a4c6e2"}}
    lonely = {"resourceType": "Organization", "id": "org", "name": "nobody refers to me"}
    b = {"resourceType": "Bundle", "type": "message", "timestamp": "2024-01-01T00:00:00Z",
         "identifier": {"system": "urn:ietf:rfc:3986", "value": "urn:uuid:0c3151bd-1cbf-4d64-b04d-cd9187a4c6ff"},
         "entry": [{"fullUrl": f"urn:uuid:0c3151bd-1cbf-4d64-b04d-cd9187a4c6e{n}", "resource": r}
                   for n, r in enumerate([header, patient, observation, lonely], start=1)]}
    found = sorted((i.location, i.severity, i.rule) for i in validator.validate(b) if i.rule.startswith("bundle.entry-"))
    assert found == [("Bundle.entry[2]", "information", "bundle.entry-backward"),
                     ("Bundle.entry[3]", "warning", "bundle.entry-orphan")]


def test_profiles_an_implementation_guide_registers_globally_apply():
    from conformance.fhir import Validator

    profile = {
        "resourceType": "StructureDefinition", "url": "http://example.org/fhir/StructureDefinition/pat-g",
        "name": "PatG", "status": "draft", "fhirVersion": "4.0.1", "kind": "resource", "abstract": False,
        "type": "Patient", "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Patient",
        "derivation": "constraint", "differential": {"element": [
            {"id": "Patient.gender", "path": "Patient.gender", "min": 1}]}}
    ig = {"resourceType": "ImplementationGuide", "url": "http://example.org/fhir/ImplementationGuide/ig",
          "name": "IG", "status": "draft", "packageId": "example.ig", "fhirVersion": ["4.0.1"],
          "global": [{"type": "Patient", "profile": profile["url"]}]}
    patient = {"resourceType": "Patient", "id": "p"}
    assert not [i for i in Validator(resources=[profile], include_user_packages=False).validate(patient) if i.is_error]
    v = Validator(resources=[profile, ig], include_user_packages=False)
    assert [i.rule for i in v.validate(patient) if i.is_error] == ["Patient.gender"]


@pytest.mark.parametrize(("search", "severity"), [({"mode": "match"}, "error"), ({"mode": "include"}, "error"),
                                                  (None, "warning"), ({"mode": "outcome"}, None)])
def test_search_results_must_have_ids(validator, search, severity):
    """A match or an include is a resource on the server, so it has an id; without a mode the reference
    validator can only warn; an outcome is not a search result (it is held to be an OperationOutcome instead)."""
    entry = {"fullUrl": "urn:uuid:e1c40b32-5a0f-4e11-8a6b-7c1c7b6d6a01", "resource": {"resourceType": "Basic",
                                                                                        "code": {"text": "x"}}}
    if search:
        entry["search"] = search
    issues = validator.validate({"resourceType": "Bundle", "type": "searchset", "entry": [entry]})
    assert [i.severity for i in issues if i.rule == "bundle.search-id"] == ([severity] if severity else [])


_SEARCH_URL = "http://example.org/fhir/Observation?code=http://loinc.org|8867-4"


@pytest.mark.parametrize(("links", "modes", "expected"), [
    # a self link and every mode given, each entry what its mode says: nothing to say
    ([_SEARCH_URL], ["match", "include", "outcome"], set()),
    ([], ["match", "include", "outcome"], {("warning", "bundle.search-self", "Bundle")}),
    # a match of a type the search did not ask for; an outcome that is no OperationOutcome
    ([_SEARCH_URL], ["match", "match", "outcome"], {("error", "bundle.search-type", "Bundle.entry[1].resource")}),
    ([_SEARCH_URL], ["match", "outcome", "outcome"], {("error", "bundle.search-outcome", "Bundle.entry[1].resource")}),
    # some modes missing: each is a warning at its entry
    ([_SEARCH_URL], ["match", None, "outcome"], {("warning", "bundle.search-mode", "Bundle.entry[1]")}),
    # no mode at all: the reference validator guesses from the types the search asked for
    ([_SEARCH_URL], [None, None, None], {("warning", "bundle.search-type", "Bundle.entry[1]"),
                                         ("warning", "bundle.search-type", "Bundle.entry[2]"),
                                         ("warning", "bundle.search-mode", "Bundle")}),
    ([_SEARCH_URL], [None], {("information", "bundle.search-mode", "Bundle")}),
    ([], [None, None, None], {("warning", "bundle.search-self", "Bundle"), ("warning", "bundle.search-mode", "Bundle")}),
    (["http://example.org/fhir/_search?_type=Observation,Patient"], ["match", "match", "outcome"], set()),
])
def test_search_set_rules(validator, links, modes, expected):
    resources = [{"resourceType": "Observation", "id": "o", "status": "final", "code": {"text": "x"}},
                 {"resourceType": "Patient", "id": "p"},
                 {"resourceType": "OperationOutcome", "id": "oo", "issue": [
                     {"severity": "information", "code": "informational", "diagnostics": "ok"}]}]
    entries = [{"fullUrl": f"http://example.org/fhir/{r['resourceType']}/{r['id']}", "resource": r} for r in resources]
    entries = entries[:len(modes)]
    for e, mode in zip(entries, modes, strict=True):
        if mode:
            e["search"] = {"mode": mode}
    bundle = {"resourceType": "Bundle", "type": "searchset", "entry": entries,
              "link": [{"relation": "self", "url": u} for u in links]}
    found = {(i.severity, i.rule, i.location) for i in validator.validate(bundle)
             if i.rule.startswith("bundle.search") and (i.severity != "information" or len(modes) == 1)}
    assert found == expected


@pytest.mark.parametrize(("resource", "error"), [({"resourceType": "Patient"}, True),
                                                 ({"resourceType": "Patient", "id": "1"}, False)])
def test_restful_fullurl_needs_a_resource_id(validator, resource, error):
    bundle = {"resourceType": "Bundle", "type": "collection",
              "entry": [{"fullUrl": "http://x.org/fhir/Patient/1", "resource": resource}]}
    assert any(i.rule == "bundle.fullurl-no-id" for i in validator.validate(bundle)) is error


def test_element_ids_are_unique_within_a_resource(validator):
    patient = {"resourceType": "Patient", "name": [{"id": "n1", "family": "A"}, {"id": "n1", "family": "B"}]}
    assert [(i.location, i.rule) for i in validator.validate(patient) if i.is_error] == [
        ("Patient.name[1]", "element.duplicate-id")]
    patient["name"][1]["id"] = "n2"
    assert not [i for i in validator.validate(patient) if i.is_error]


@pytest.mark.parametrize(("modifier", "where", "error"), [(True, "extension", True), (True, "modifierExtension", False),
                                                          (False, "modifierExtension", True),
                                                          (False, "extension", False)])
def test_modifier_extensions_only_as_modifier_extension(modifier, where, error):
    from conformance.fhir import Validator

    url = "http://example.org/fhir/StructureDefinition/ext-mod"
    root = {"id": "Extension", "path": "Extension", "isModifier": modifier}
    if modifier:
        root["isModifierReason"] = "it changes the meaning"
    ext = {"resourceType": "StructureDefinition", "url": url, "name": "ExtMod", "status": "draft",
           "fhirVersion": "4.0.1", "kind": "complex-type", "abstract": False, "type": "Extension",
           "context": [{"type": "element", "expression": "Patient"}],
           "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Extension", "derivation": "constraint",
           "differential": {"element": [root,
                                        {"id": "Extension.url", "path": "Extension.url", "fixedUri": url},
                                        {"id": "Extension.value[x]", "path": "Extension.value[x]",
                                         "type": [{"code": "boolean"}]}]}}
    v = Validator(resources=[ext], include_user_packages=False)
    patient = {"resourceType": "Patient", where: [{"url": url, "valueBoolean": True}]}
    assert any(i.rule == "extension.modifier" for i in v.validate(patient) if i.is_error) is error


def test_choice_type_a_profile_excludes_is_one_error_at_the_element():
    from conformance.fhir import Validator

    profile = {
        "resourceType": "StructureDefinition", "url": "http://example.org/fhir/StructureDefinition/obs-q",
        "name": "ObsQ", "status": "draft", "fhirVersion": "4.0.1", "kind": "resource", "abstract": False,
        "type": "Observation", "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Observation",
        "derivation": "constraint", "differential": {"element": [
            {"id": "Observation.value[x]", "path": "Observation.value[x]", "min": 1, "type": [{"code": "Quantity"}]}]}}
    v = Validator(resources=[profile], include_user_packages=False)
    obs = {"resourceType": "Observation", "status": "final", "code": {"text": "x"}, "valueString": "12",
           "meta": {"profile": [profile["url"]]}}
    assert [(i.location, i.rule) for i in v.validate(obs) if i.is_error] == [
        ("Observation.valueString", "Observation.value[x]")]  # no 'unknown property', no 'value[x] missing'


@pytest.mark.parametrize(("ref", "rule"), [("ht tp://x.org/Patient/1", "reference.invalid"),
                                           ("https://x.org/Chicken/1", "reference.resource-type"),
                                           ("https://x.org/Patient/1", None)])
def test_reference_syntax(validator, ref, rule):
    obs = {"resourceType": "Observation", "status": "final", "code": {"text": "x"}, "subject": {"reference": ref}}
    found = [i.rule for i in validator.validate(obs) if i.is_error]
    assert found == ([rule] if rule else [])


@pytest.mark.parametrize(("alternatives", "error"), [((), True),
                                                     (("http://hl7.org/fhir/StructureDefinition/data-absent-reason",),
                                                      False)])
def test_must_have_value(alternatives, error):
    from conformance.fhir import Validator

    el = {"id": "Patient.active", "path": "Patient.active", "min": 1, "extension": [
        {"url": "http://hl7.org/fhir/5.0/StructureDefinition/extension-ElementDefinition.mustHaveValue",
         "valueBoolean": True}]}
    el["extension"] += [{"url": "http://hl7.org/fhir/5.0/StructureDefinition/extension-ElementDefinition.valueAlternatives",
                         "valueCanonical": a} for a in alternatives]
    profile = {
        "resourceType": "StructureDefinition", "url": "http://example.org/fhir/StructureDefinition/pat-v",
        "name": "PatV", "status": "draft", "fhirVersion": "4.0.1", "kind": "resource", "abstract": False,
        "type": "Patient", "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Patient",
        "derivation": "constraint", "differential": {"element": [el]}}
    v = Validator(resources=[profile], include_user_packages=False)
    patient = {"resourceType": "Patient", "meta": {"profile": [profile["url"]]}, "_active": {"extension": [
        {"url": "http://hl7.org/fhir/StructureDefinition/data-absent-reason", "valueCode": "unknown"}]}}
    assert any(i.rule == "Patient.active" and i.location == "Patient.active" for i in v.validate(patient)
               if i.is_error) is error


@pytest.mark.parametrize(("resource", "location"), [
    ({"resourceType": "Patient", "address": [{"use": "home", "extension": "EXT"}]}, None),
    ({"resourceType": "Patient", "address": [{"use": "work", "extension": "EXT"}]}, "Patient.address[0]"),
    ({"resourceType": "Patient", "name": [{"family": "A", "extension": "EXT"}]}, None),
    ({"resourceType": "Organization", "name": "O", "extension": "EXT"}, "Organization"),
])
def test_extension_context_including_fhirpath_contexts(resource, location):
    from conformance.fhir import Validator

    url = "http://example.org/fhir/StructureDefinition/ext-ctxt"
    ext = {"resourceType": "StructureDefinition", "url": url, "name": "ExtCtxt", "status": "draft",
           "fhirVersion": "4.0.1", "kind": "complex-type", "abstract": False, "type": "Extension",
           "context": [{"type": "element", "expression": "Patient.name"},
                       {"type": "fhirpath", "expression": "Patient.address.where(use = 'home')"}],
           "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Extension", "derivation": "constraint",
           "differential": {"element": [{"id": "Extension.url", "path": "Extension.url", "fixedUri": url},
                                        {"id": "Extension.value[x]", "path": "Extension.value[x]",
                                         "type": [{"code": "boolean"}]}]}}
    v = Validator(resources=[ext], include_user_packages=False)

    def put(node):
        if isinstance(node, dict):
            for k, val in list(node.items()):
                if val == "EXT":
                    node[k] = [{"url": url, "valueBoolean": True}]
                else:
                    put(val)
        elif isinstance(node, list):
            for x in node:
                put(x)
    put(resource)
    found = [i.location for i in v.validate(resource) if i.rule == "extension.context"]
    assert found == ([location] if location else [])


def test_content_reference_children_come_from_the_base_not_from_the_profile():
    """A profile constraining Parameters.parameter.part (min, slices) does not constrain the parts of each part."""
    from conformance.fhir import Validator

    profile = {
        "resourceType": "StructureDefinition", "url": "http://example.org/fhir/StructureDefinition/params-parts",
        "name": "ParamsParts", "status": "draft", "fhirVersion": "4.0.1", "kind": "resource", "abstract": False,
        "type": "Parameters", "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Parameters",
        "derivation": "constraint", "differential": {"element": [
            {"id": "Parameters.parameter", "path": "Parameters.parameter"},
            {"id": "Parameters.parameter.part", "path": "Parameters.parameter.part", "min": 2, "slicing": {
                "discriminator": [{"type": "value", "path": "name"}], "rules": "open"}},
            {"id": "Parameters.parameter.part:a", "path": "Parameters.parameter.part", "sliceName": "a", "min": 1,
             "max": "1"},
            {"id": "Parameters.parameter.part:a.name", "path": "Parameters.parameter.part.name", "fixedString": "a"},
            {"id": "Parameters.parameter.part:b", "path": "Parameters.parameter.part", "sliceName": "b", "min": 1,
             "max": "1"},
            {"id": "Parameters.parameter.part:b.name", "path": "Parameters.parameter.part.name", "fixedString": "b"}]}}
    v = Validator(resources=[profile], include_user_packages=False)
    good = {"resourceType": "Parameters", "meta": {"profile": [profile["url"]]}, "parameter": [
        {"name": "p", "part": [{"name": "a", "valueString": "1"}, {"name": "b", "valueString": "2"}]}]}
    assert not [i for i in v.validate(good) if i.is_error]
    bad = {"resourceType": "Parameters", "meta": {"profile": [profile["url"]]}, "parameter": [
        {"name": "p", "part": [{"name": "a", "valueString": "1"}]}]}
    assert [i.location for i in v.validate(bad) if i.is_error] == ["Parameters.parameter[0]"] * 2


@pytest.mark.parametrize(("target", "rule_error"), [
    ("inner", "Questionnaire.item[0]"), ("nowhere", "Questionnaire.item[0]"), ("outer", "Questionnaire.item[0]"),
    ("before", None)])
def test_questionnaire_enable_when_targets(validator, target, rule_error):
    q = {"resourceType": "Questionnaire", "status": "draft", "item": [
        {"linkId": "before", "type": "boolean"},
        {"linkId": "outer", "type": "group", "enableWhen": [{"question": target, "operator": "exists",
                                                             "answerBoolean": True}],
         "item": [{"linkId": "inner", "type": "boolean"}]}]}
    q["item"] = q["item"][1:] if target != "before" else q["item"]
    found = [i.location for i in validator.validate(q) if i.is_error and i.rule == "questionnaire.enablewhen"]
    assert found == ([rule_error] if rule_error else [])


@pytest.mark.parametrize(("bound", "birth_date", "error"), [
    ({"minValueDuration": {"value": 100, "unit": "a", "system": "http://unitsofmeasure.org", "code": "a"}},
     "1850-01-01", True),
    ({"minValueDuration": {"value": 100, "unit": "a", "system": "http://unitsofmeasure.org", "code": "a"}},
     "1990-01-01", False),
    ({"maxValueDuration": {"value": 10, "unit": "a", "system": "http://unitsofmeasure.org", "code": "a"}},
     "2020-01-01", False),
    ({"maxValueDuration": {"value": 10, "unit": "a", "system": "http://unitsofmeasure.org", "code": "a"}},
     "2200-01-01", True),
    ({"maxValueDuration": {"value": 2, "unit": "d", "system": "http://unitsofmeasure.org", "code": "d"}},
     "2200-01-01T10:00:00Z", True)])
def test_duration_bounds_on_a_date_are_relative_to_now(bound, birth_date, error):
    from conformance.fhir import Validator

    profile = {
        "resourceType": "StructureDefinition", "url": "http://example.org/fhir/StructureDefinition/pat-dur",
        "name": "PatDur", "status": "draft", "fhirVersion": "4.0.1", "kind": "resource", "abstract": False,
        "type": "Patient", "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Patient",
        "derivation": "constraint", "differential": {"element": [
            {"id": "Patient.birthDate", "path": "Patient.birthDate", **bound}]}}
    if "T" in birth_date:
        profile["type"] = "Patient"
        profile["differential"]["element"] = [{"id": "Patient.deceased[x]", "path": "Patient.deceased[x]",
                                               "type": [{"code": "dateTime"}], **bound}]
    v = Validator(resources=[profile], include_user_packages=False)
    pat = {"resourceType": "Patient", "meta": {"profile": [profile["url"]]}}
    pat["deceasedDateTime" if "T" in birth_date else "birthDate"] = birth_date
    assert bool([i for i in v.validate(pat) if i.is_error]) is error


def _relationship_profile(binding_vs: dict) -> dict:
    return {
        "resourceType": "StructureDefinition", "url": "http://example.org/fhir/StructureDefinition/pat-rel",
        "name": "PatRel", "status": "draft", "fhirVersion": "4.0.1", "kind": "resource", "abstract": False,
        "type": "Patient", "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Patient",
        "derivation": "constraint", "contained": [binding_vs], "differential": {"element": [
            {"id": "Patient.contact.relationship", "path": "Patient.contact.relationship",
             "binding": {"strength": "required", "valueSet": "#rel"}}]}}


def _patient_with_relationship(code: str, display: str) -> dict:
    return {"resourceType": "Patient", "meta": {"profile": ["http://example.org/fhir/StructureDefinition/pat-rel"]},
            "contact": [{"name": {"text": "x"}, "relationship": [{"coding": [{
                "system": "http://terminology.hl7.org/CodeSystem/v2-0131", "code": code, "display": display}]}]}]}


def test_a_binding_to_a_value_set_contained_in_the_profile_is_checked():
    from conformance.fhir import Validator

    vs = {"resourceType": "ValueSet", "id": "rel", "status": "draft", "compose": {"include": [{
        "system": "http://terminology.hl7.org/CodeSystem/v2-0131", "concept": [{"code": "C"}]}]}}
    v = Validator(resources=[_relationship_profile(vs)], include_user_packages=False)
    assert not [i for i in v.validate(_patient_with_relationship("C", "Emergency Contact")) if i.severity != "information"
                and i.location.startswith("Patient.contact")]
    assert [(i.location, i.severity) for i in v.validate(_patient_with_relationship("N", "Next-of-Kin"))
            if i.location.startswith("Patient.contact")] == [("Patient.contact[0].relationship[0]", "error")]


@pytest.mark.parametrize(("code", "display", "error"), [
    ("C", "alt-display", False), ("N", "alt-designation", False), ("N", "Next-of-Kin", False), ("C", "other", True)])
def test_a_display_the_bound_value_set_gives_is_valid(code, display, error):
    from conformance.fhir import Validator

    vs = {"resourceType": "ValueSet", "id": "rel", "status": "draft", "expansion": {
        "timestamp": "2019-05-23T10:18:03Z", "contains": [
            {"system": "http://terminology.hl7.org/CodeSystem/v2-0131", "code": "C", "display": "alt-display"},
            {"system": "http://terminology.hl7.org/CodeSystem/v2-0131", "code": "N",
             "designation": [{"value": "alt-designation"}]}]}}
    v = Validator(resources=[_relationship_profile(vs)], include_user_packages=False)
    found = [i.location for i in v.validate(_patient_with_relationship(code, display)) if i.is_error]
    assert found == (["Patient.contact[0].relationship[0].coding[0].display"] if error else [])


def test_slice_discriminated_by_an_extension_value_fixed_in_a_reslice():
    """`action:single.extension:kind/single.valueCode` fixed: the reslice's value tells the action slices apart."""
    from conformance.fhir import Validator

    ext_url = "http://example.org/fhir/StructureDefinition/action-kind"
    ext = {"resourceType": "StructureDefinition", "url": ext_url, "name": "ActionKind", "status": "draft",
           "fhirVersion": "4.0.1", "kind": "complex-type", "abstract": False, "type": "Extension",
           "context": [{"type": "element", "expression": "PlanDefinition.action"}],
           "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Extension", "derivation": "constraint",
           "differential": {"element": [
               {"id": "Extension.url", "path": "Extension.url", "fixedUri": ext_url},
               {"id": "Extension.value[x]", "path": "Extension.value[x]", "type": [{"code": "code"}]}]}}
    disc = {"type": "value", "path": f"extension('{ext_url}').value"}

    def slice_(name: str, extra: dict) -> list[dict]:
        return [{"id": f"PlanDefinition.action:{name}", "path": "PlanDefinition.action", "sliceName": name,
                 "min": 1, "max": "*"},
                {"id": f"PlanDefinition.action:{name}.extension:kind/{name}", "path": "PlanDefinition.action.extension",
                 "sliceName": f"kind/{name}", "min": 1, "max": "1", "type": [{"code": "Extension", "profile": [ext_url]}]},
                {"id": f"PlanDefinition.action:{name}.extension:kind/{name}.valueCode",
                 "path": "PlanDefinition.action.extension.valueCode", "fixedCode": name},
                {**extra, "id": f"PlanDefinition.action:{name}.{extra['path'].rsplit('.', 1)[1]}"}]

    profile = {"resourceType": "StructureDefinition", "url": "http://example.org/fhir/StructureDefinition/pd-kinds",
               "name": "PdKinds", "status": "draft", "fhirVersion": "4.0.1", "kind": "resource", "abstract": False,
               "type": "PlanDefinition", "baseDefinition": "http://hl7.org/fhir/StructureDefinition/PlanDefinition",
               "derivation": "constraint", "differential": {"element": [
                   {"id": "PlanDefinition.action", "path": "PlanDefinition.action", "slicing": {
                       "discriminator": [disc], "rules": "open"}},
                   {"id": "PlanDefinition.action.extension:kind", "path": "PlanDefinition.action.extension",
                    "sliceName": "kind", "type": [{"code": "Extension", "profile": [ext_url]}]},
                   *slice_("single", {"path": "PlanDefinition.action.title", "min": 1}),
                   *slice_("alternate", {"path": "PlanDefinition.action.selectionBehavior", "min": 1})]}}
    v = Validator(resources=[ext, profile], include_user_packages=False)

    def action(kind: str, **more: str) -> dict:
        return {"extension": [{"url": ext_url, "valueCode": kind}], **more}

    pd = {"resourceType": "PlanDefinition", "status": "active", "meta": {"profile": [profile["url"]]},
          "action": [action("single", title="t"), action("alternate", selectionBehavior="exactly-one")]}
    assert not [i for i in v.validate(pd) if i.is_error]
    pd["action"][1] = action("alternate")
    assert [i.location for i in v.validate(pd) if i.is_error] == ["PlanDefinition.action[1]"]


_STREET = "http://hl7.org/fhir/StructureDefinition/iso21090-ADXP-streetName"
_ADDRESS_PATIENT = {"resourceType": "Patient", "birthDate": "2000", "address": [{
    "line": ["Musterstr. 1", "b"], "_line": [{"extension": [{"url": _STREET, "valueString": "Musterstr."}]}, None]}],
    "_gender": {"extension": [{"url": "http://example.org/x", "valueCode": "unknown"}]}}


@pytest.mark.parametrize(("expression", "expected"), [
    (f"address.line[0].extension('{_STREET}').value", ["Musterstr."]),
    (f"(address.line[0].extension('{_STREET}').value as String) = 'Musterstr.'", [True]),
    ("address.line.count()", [2]),
    (f"address.line.all($this.extension('{_STREET}').empty() or $this.hasValue())", [True]),
    ("address.line.first() = 'Musterstr. 1'", [True]),
    ("gender.exists()", [True]),
    ("gender.hasValue()", [False]),
    ("gender.extension('http://example.org/x').exists()", [True]),
    ("birthDate.is(Date)", [True]),
    ("birthDate.ofType(Date).exists()", [True])])
def test_fhirpath_reads_r4_as_the_reference_validator(expression, expected):
    """One node per primitive with its extensions; type names not case sensitive before R5."""
    from conformance.fhir.invariants import FhirPath

    assert FhirPath().evaluate(expression, _ADDRESS_PATIENT, "Patient", _ADDRESS_PATIENT, _ADDRESS_PATIENT) == expected


def test_fhirpathpy_itself_is_unchanged_outside_the_validator():
    import fhirpathpy
    from fhirpathpy.models import models

    import conformance.fhir.invariants  # noqa: F401 - installs the wrappers

    assert fhirpathpy.evaluate(_ADDRESS_PATIENT, "address.line.count()", {}, models["r4"]) != [2]  # its own count
    assert fhirpathpy.evaluate(_ADDRESS_PATIENT, "birthDate.is(Date)", {}, models["r4"]) == [False]


def test_a_type_profile_that_is_not_loaded_is_an_error_and_the_profile_still_builds():
    """Organization.identifier typed with an Identifier profile nobody loaded: the snapshot unrolls the plain
    Identifier below it, and the value says which profile it could not be checked against."""
    from conformance.fhir import Validator

    missing = "http://example.org/fhir/StructureDefinition/identifier-nowhere"
    profile = {"resourceType": "StructureDefinition", "url": "http://example.org/fhir/StructureDefinition/org-id",
               "name": "OrgId", "status": "draft", "fhirVersion": "4.0.1", "kind": "resource", "abstract": False,
               "type": "Organization", "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Organization",
               "derivation": "constraint", "differential": {"element": [
                   {"id": "Organization.identifier", "path": "Organization.identifier",
                    "type": [{"code": "Identifier", "profile": [missing]}]},
                   {"id": "Organization.identifier.system", "path": "Organization.identifier.system", "min": 1}]}}
    v = Validator(resources=[profile], include_user_packages=False)
    org = {"resourceType": "Organization", "meta": {"profile": [profile["url"]]}, "name": "x",
           "identifier": [{"system": "urn:oid:1.2.3", "value": "1"}]}
    assert [(i.location, i.rule) for i in v.validate(org) if i.is_error] == [
        ("Organization.identifier[0]", "profile.unknown")]


def test_example_urls_are_errors_when_the_settings_refuse_them(validator):
    from conformance.fhir.settings import Settings

    doc = {"resourceType": "DocumentReference", "status": "current", "content": [{"attachment": {
        "contentType": "text/plain", "url": "http://repository.example.org/fhir/DocumentReference/example"}}],
        "identifier": [{"system": "https://acme.com/ids", "value": "1"}],
        "masterIdentifier": {"system": "urn:ietf:rfc:3986", "value": "urn:oid:1.2.3"}}
    assert not [i for i in validator.validate(doc) if i.is_error]
    found = [(i.location, i.rule) for i in validator.validate(doc, settings=Settings(allow_examples=False))
             if i.is_error]
    assert sorted(found) == [("DocumentReference.content[0].attachment.url", "url.example"),
                             ("DocumentReference.identifier[0].system", "url.example")]


def _narrative_profile(kind: str, code: str) -> dict:
    return {"resourceType": "StructureDefinition", "url": f"http://example.org/fhir/StructureDefinition/nar-{code}",
            "name": "Nar", "status": "draft", "fhirVersion": "4.0.1", "kind": "resource", "abstract": False,
            "type": "Patient", "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Patient",
            "derivation": "constraint", "differential": {"element": [{"id": "Patient.text", "path": "Patient.text",
                "extension": [{"url": f"http://hl7.org/fhir/StructureDefinition/narrative-{kind}-control",
                               "valueCode": code}]}]}}


_TWO_LANGS = ('<div xmlns="http://www.w3.org/1999/xhtml"><div xml:lang="de" lang="de">Hallo</div>'
              '<div xml:lang="pt" lang="pt">Ola</div></div>')
_ONE_LANG = '<div xmlns="http://www.w3.org/1999/xhtml"><p>Hello</p></div>'


@pytest.mark.parametrize(("code", "div", "error"), [
    ("_no", _TWO_LANGS, True), ("_no", _ONE_LANG, False), ("_yes", _TWO_LANGS, False), ("_yes", _ONE_LANG, True),
    ("_resource", _TWO_LANGS, True), ("de", _TWO_LANGS, False), ("fr", _TWO_LANGS, True)])
def test_narrative_language_control(code, div, error):
    from conformance.fhir import Validator

    profile = _narrative_profile("language", code)
    v = Validator(resources=[profile], include_user_packages=False)
    pat = {"resourceType": "Patient", "language": "en", "meta": {"profile": [profile["url"]]},
           "text": {"status": "generated", "div": div}}
    assert [i.location for i in v.validate(pat) if i.is_error] == (["Patient.text"] if error else [])


def test_narrative_source_control():
    from conformance.fhir import Validator

    profile = _narrative_profile("source", "error")
    v = Validator(resources=[profile], include_user_packages=False)

    def pat(div: str) -> dict:
        return {"resourceType": "Patient", "meta": {"profile": [profile["url"]]},
                "text": {"status": "generated", "div": f'<div xmlns="http://www.w3.org/1999/xhtml">{div}</div>'}}

    assert not [i for i in v.validate(pat('<h1 class="boilerplate">H</h1><div class="generated"><p>x</p></div>'))
                if i.is_error]
    assert [i.location for i in v.validate(pat('<h1 class="boilerplate">H</h1><p>no source</p>')) if i.is_error] == [
        "Patient.text"]


@pytest.mark.parametrize(("purpose", "code", "severity"), [
    ("required", "100066-0", "error"), ("required", "100065-2", None), ("extensible", "100066-0", "warning"),
    ("maximum", "100066-0", "error"), ("ui", "100066-0", None)])
def test_additional_bindings_are_checked_with_the_strength_of_their_purpose(purpose, code, severity):
    from conformance.fhir import Validator

    vs = {"resourceType": "ValueSet", "url": "http://example.org/fhir/ValueSet/ab", "status": "active",
          "compose": {"include": [{"system": "http://loinc.org", "concept": [{"code": "100065-2"}]}]}}
    profile = {"resourceType": "StructureDefinition", "url": f"http://example.org/fhir/StructureDefinition/ab-{purpose}",
               "name": "Ab", "status": "draft", "fhirVersion": "4.0.1", "kind": "resource", "abstract": False,
               "type": "Observation", "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Observation",
               "derivation": "constraint", "differential": {"element": [{
                   "id": "Observation.code", "path": "Observation.code", "binding": {
                       "strength": "example", "valueSet": "http://hl7.org/fhir/ValueSet/observation-codes",
                       "extension": [{"url": "http://hl7.org/fhir/5.0/StructureDefinition/extension-ElementDefinition"
                                             ".binding.additional", "extension": [
                           {"url": "purpose", "valueCode": purpose}, {"url": "valueSet", "valueCanonical": vs["url"]}]}]}}]}}
    v = Validator(resources=[vs, profile], include_user_packages=False)
    obs = {"resourceType": "Observation", "status": "final", "meta": {"profile": [profile["url"]]},
           "code": {"coding": [{"system": "http://loinc.org", "code": code}]}}
    found = [i.severity for i in v.validate(obs) if i.location == "Observation.code"]
    assert found == ([severity] if severity else [])


@pytest.mark.parametrize(("href", "error"), [("#anchor", False), ("#dev", False), ("#elem-id", False),
                                             ("#nowhere", True), ("#dev/x", True), ("http://example.org/x", False)])
def test_narrative_internal_links_must_resolve(validator, href, error):
    lst = {"resourceType": "List", "status": "current", "mode": "snapshot",
           "text": {"status": "generated", "div": '<div xmlns="http://www.w3.org/1999/xhtml"><a name="anchor"> </a>'
                                                  f'<p id="p1"><a href="{href}">link</a></p></div>'},
           "contained": [{"resourceType": "Device", "id": "dev"}], "entry": [{"id": "elem-id", "item": {"reference": "#dev"}}]}
    found = [i.location for i in validator.validate(lst) if i.rule == "narrative.link"]
    assert found == (["List.text.div"] if error else [])


def test_narrative_links_resolve_across_the_bundle(validator):
    def entry(n: int, div: str) -> dict:
        return {"fullUrl": f"urn:uuid:0c3151bd-1cbf-4d64-b04d-cd9187a4c6{n:02d}", "resource": {
            "resourceType": "Basic", "code": {"text": "x"},
            "text": {"status": "generated", "div": f'<div xmlns="http://www.w3.org/1999/xhtml">{div}</div>'}}}

    b = {"resourceType": "Bundle", "type": "collection", "entry": [
        entry(1, '<a href="#there">see</a>'), entry(2, '<p id="there">here</p>')]}
    assert not [i for i in validator.validate(b) if i.rule == "narrative.link"]


@pytest.mark.parametrize(("condition", "error"), [(False, True), (True, False)])
def test_questionnaire_enable_when_expression_decides_whether_an_item_may_have_answers(condition, error):
    from conformance.fhir import Validator

    q = {"resourceType": "Questionnaire", "url": "http://example.org/fhir/Questionnaire/ewx", "status": "draft",
         "item": [{"linkId": "condition", "type": "boolean"},
                  {"linkId": "then", "type": "boolean", "extension": [{
                      "url": "http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-enableWhenExpression",
                      "valueExpression": {"language": "text/fhirpath", "expression":
                          "%resource.item.where(linkId='condition').answer.value"}}]}]}
    v = Validator(resources=[q], include_user_packages=False)
    qr = {"resourceType": "QuestionnaireResponse", "questionnaire": q["url"], "status": "completed", "item": [
        {"linkId": "condition", "answer": [{"valueBoolean": condition}]},
        {"linkId": "then", "answer": [{"valueBoolean": True}]}]}
    found = [i.location for i in v.validate(qr) if i.rule == "questionnaire.enable-when"]
    assert found == (["QuestionnaireResponse.item[1]"] if error else [])


@pytest.mark.parametrize(("rule", "checked"), [("Patient", [0, 2]), ("Patient:1", [2]), ("1", [1]), ("0", [0]),
                                               ("Observation:0", [])])
def test_bundle_rules_send_the_entries_they_select_to_a_profile(validator, rule, checked):
    from conformance.fhir.settings import Settings

    profile = "http://hl7.org/fhir/uv/ips/StructureDefinition/Patient-uv-ips"  # needs name, birthDate...
    entries = [{"resourceType": "Patient"}, {"resourceType": "Basic", "code": {"text": "x"}}, {"resourceType": "Patient"}]
    b = {"resourceType": "Bundle", "type": "collection", "entry": [
        {"fullUrl": f"urn:uuid:0c3151bd-1cbf-4d64-b04d-cd9187a4c6{n:02d}", "resource": r} for n, r in enumerate(entries)]}
    found = {i.location for i in validator.validate(b, settings=Settings(bundle_rules=((rule, profile),)))
             if i.is_error}
    assert found == {f"Bundle.entry[{n}].resource" for n in checked}


def _sd(elements: list[dict]) -> dict:
    return {"resourceType": "StructureDefinition", "url": "http://example.org/fhir/StructureDefinition/obs-x",
            "name": "ObsX", "status": "draft", "fhirVersion": "4.0.1", "kind": "resource", "abstract": False,
            "type": "Observation", "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Observation",
            "derivation": "constraint", "differential": {"element": elements}}


@pytest.mark.parametrize(("profile", "error"), [("http://hl7.org/fhir/StructureDefinition/Count", True),
                                                ("http://hl7.org/fhir/StructureDefinition/SimpleQuantity", False)])
def test_a_type_profile_must_constrain_that_type(validator, profile, error):
    sd = _sd([{"id": "Observation.value[x]:valueQuantity", "path": "Observation.value[x]", "sliceName": "valueQuantity",
               "type": [{"code": "Quantity", "profile": [profile]}]}])
    found = [i.location for i in validator.validate(sd) if i.is_error]
    assert found == (["StructureDefinition.differential.element[0].type[0].profile[0]"] if error else [])


def test_a_target_profile_must_be_a_resource_profile_and_only_on_references(validator):
    sd = _sd([{"id": "Observation.subject", "path": "Observation.subject", "type": [
        {"code": "Reference", "targetProfile": ["http://hl7.org/fhir/StructureDefinition/Quantity"]}]},
        {"id": "Observation.code", "path": "Observation.code", "type": [
            {"code": "CodeableConcept", "targetProfile": ["http://hl7.org/fhir/StructureDefinition/Patient"]}]}])
    assert sorted(i.location for i in validator.validate(sd) if i.is_error and i.rule == "sd.target-profile") == [
        "StructureDefinition.differential.element[0].type[0].targetProfile[0]",
        "StructureDefinition.differential.element[1].type[0].targetProfile[0]"]


@pytest.mark.parametrize(("eid", "path", "error"), [
    ("Observation.valueQuantity", "Observation.valueBla", True), ("Observation.valueQuantity", "Observation.valueQuantity", False),
    ("Observation.value[x]:valueQuantity", "Observation.value[x]", False),
    ("Observation.value[x]", "Observation.valueQuantity", False), ("Observation.code", "Observation.status", True)])
def test_a_differential_element_path_must_be_the_one_its_id_names(validator, eid, path, error):
    found = [i.location for i in validator.validate(_sd([{"id": eid, "path": path}])) if i.rule == "sd.snapshot"]
    assert found == (["StructureDefinition"] if error else [])


@pytest.mark.parametrize(("bases", "expression", "error"), [
    (["Patient", "Practitioner"], "Patient.name | Practitioner.name", False),
    (["Observation"], "(Observation.value as Quantity) | (Observation.value as SampledData)", False),
    (["Patient"], "Resource.id", False), (["Patient"], "name", False),
    (["Patient"], "Organization.name | Organization.alias", True),
    (["Observation"], "Observation.code | Condition.code.where(text = 'a|b')", True)])
def test_a_search_expression_starts_from_the_bases(validator, bases, expression, error):
    sp = {"resourceType": "SearchParameter", "url": "http://example.org/fhir/SearchParameter/x", "name": "x",
          "status": "draft", "description": "x", "code": "x", "base": bases, "type": "token", "expression": expression}
    found = [i.location for i in validator.validate(sp) if i.rule == "searchparameter.expression"]
    assert found == (["SearchParameter.expression"] if error else [])


def _measure_and_report(report_group: dict) -> tuple[dict, dict]:
    pop = "http://terminology.hl7.org/CodeSystem/measure-population"
    measure = {"resourceType": "Measure", "url": "http://example.org/fhir/Measure/m", "status": "draft",
               "scoring": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/measure-scoring",
                                       "code": "cohort"}]},
               "group": [{"population": [{"code": {"coding": [{"system": pop, "code": "initial-population"}]},
                                          "criteria": {"language": "text/cql", "expression": "IP"}}],
                          "stratifier": [{"code": {"text": "by-age"},
                                          "criteria": {"language": "text/cql", "expression": "Age"}}]}]}
    report = {"resourceType": "MeasureReport", "status": "complete", "type": "summary", "measure": measure["url"],
              "period": {"start": "2025-01-01", "end": "2025-01-31"}, "group": [report_group]}
    return measure, report


@pytest.mark.parametrize(("group", "errors"), [
    ({"population": [{"code": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/measure-population",
                                           "code": "initial-population"}]}, "count": 3}],
      "stratifier": [{"code": [{"text": "by-age"}]}]}, []),
    ({"population": [{"code": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/measure-population",
                                           "code": "initial-population"}]}, "count": 3}],
      "stratifier": [{"stratum": [{"value": {"text": "x"}}]}]},
     ["MeasureReport.group[0]", "MeasureReport.group[0].stratifier[0]"]),
    ({"stratifier": [{"code": [{"text": "by-age"}]}]}, ["MeasureReport.group[0]"])])
def test_measure_report_populations_and_stratifiers_match_the_measure(group, errors):
    from conformance.fhir import Validator

    measure, report = _measure_and_report(group)
    v = Validator(resources=[measure], include_user_packages=False)
    found = sorted({i.location for i in v.validate(report) if i.is_error and i.rule.startswith("measurereport.")})
    assert found == errors


def test_inherited_obligations_come_from_obligation_profiles_on_the_same_base():
    from conformance.fhir import Validator

    def profile(name: str, base: str, flagged: bool, inherits: tuple[str, ...] = ()) -> dict:
        ext = [{"url": "http://hl7.org/fhir/StructureDefinition/obligation-profile", "valueBoolean": True}] if flagged \
            else []
        ext += [{"url": "http://hl7.org/fhir/StructureDefinition/inherit-obligations", "valueCanonical": u}
                for u in inherits]
        return {"resourceType": "StructureDefinition", "url": f"http://example.org/fhir/StructureDefinition/{name}",
                "name": name.capitalize(), "status": "draft", "fhirVersion": "4.0.1", "kind": "resource",
                "abstract": False, "type": "Patient", "baseDefinition": base, "derivation": "constraint",
                "extension": ext, "differential": {"element": [{"id": "Patient", "path": "Patient"}]}}

    core = "http://hl7.org/fhir/StructureDefinition/Patient"
    base = profile("base", core, True)
    good, unflagged, other_base = profile("good", base["url"], True), profile("plain", base["url"], False), \
        profile("other", core, True)
    v = Validator(resources=[base, good, unflagged, other_base], include_user_packages=False)
    sd = profile("child", base["url"], False, (good["url"], unflagged["url"], other_base["url"]))
    assert [i.location for i in v.validate(sd) if i.is_error] == ["StructureDefinition.extension[1]",
                                                                  "StructureDefinition.extension[2]"]


@pytest.mark.parametrize(("expression", "error"), [("Screening.Adults", False), ("Adults", False),
                                                   ("Screening.Children", True), ("Other.Adults", True)])
def test_measure_cql_stratifier_criteria_name_a_definition_of_its_library(expression, error):
    import base64

    from conformance.fhir import Validator

    elm = ('<library xmlns="urn:hl7-org:elm:r1"><statements><def name="Adults"/><def name="Initial Population"/>'
           '</statements></library>')
    lib = {"resourceType": "Library", "url": "http://example.org/fhir/Library/screening", "name": "Screening",
           "status": "draft", "type": {"text": "logic"},
           "content": [{"contentType": "application/elm+xml", "data": base64.b64encode(elm.encode()).decode()}]}
    v = Validator(resources=[lib], include_user_packages=False)
    measure = {"resourceType": "Measure", "status": "draft", "library": [lib["url"]], "group": [{
        "population": [{"code": {"text": "ip"}, "criteria": {"language": "text/cql", "expression": "Initial Population"}}],
        "stratifier": [{"code": {"text": "s"}, "criteria": {"language": "text/cql", "expression": expression}}]}]}
    found = [i.location for i in v.validate(measure) if i.rule == "measure.criteria"]
    assert found == (["Measure.group[0].stratifier[0].criteria"] if error else [])


@pytest.mark.parametrize(("code", "display", "error"), [
    ("BD", "Bangladesh", False),                 # the ISO English short name
    ("BGD", "bangladesh", False),                # alpha-3, case ignored as the reference validator does
    ("GB", "United Kingdom", False),             # another English name, as a designation
    ("DE", "Deutschland", False),                # the country's name in an EU language
    ("250", "Frankreich", False),                # numeric code, German name
    ("XK", "Kosovo", False),                     # user-assigned: the code system is a fragment, never 'unknown'
    ("BD", "Australia", True),                   # choice-async-qr of the HL7 test cases
    ("FRA", "Francia Nueva", True),
])
def test_country_codes_have_their_displays_checked(validator, code, display, error):
    """urn:iso:std:iso:3166 is shipped (profiles/packages/iso3166): a display that is neither the ISO name nor a
    designation of the code is the reference validator's 'Wrong Display Name' error."""
    basic = {"resourceType": "Basic", "code": {"coding": [
        {"system": "urn:iso:std:iso:3166", "code": code, "display": display}]}}
    found = [(i.location, i.rule) for i in validator.validate(basic) if i.is_error]
    assert found == ([("Basic.code.coding[0].display", "terminology.display")] if error else [])


@pytest.mark.parametrize(("currency", "error"), [("EUR", False), ("CHF", False), ("XXX", False), ("EURO", True),
                                                 ("eur", True), ("€", True), ("DEM", True)])
def test_money_currencies_are_iso_4217_codes(validator, currency, error):
    """urn:iso:std:iso:4217 is shipped (profiles/packages/iso4217, list one): Money.currency's required binding to
    `currencies` is checked, not left 'not checked offline'."""
    invoice = {"resourceType": "Invoice", "status": "draft", "text": _ALLERGY["text"],
               "totalNet": {"value": 12.5, "currency": currency}}
    found = [(i.location, i.rule) for i in validator.validate(invoice) if i.is_error]
    assert [loc for loc, _ in found] == (["Invoice.totalNet.currency"] if error else [])
    assert not [i for i in validator.validate(invoice) if i.rule == "terminology.not-checked-offline"]


_ALLERGY = {"resourceType": "AllergyIntolerance", "patient": {"reference": "Patient/abc"}, "clinicalStatus": {"coding": [
            {"system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical", "code": "active"}]},
            "text": {"status": "generated", "div": "<div xmlns=\"http://www.w3.org/1999/xhtml\">Allergy</div>"}}


@pytest.mark.parametrize(("category", "error"), [
    ({"category": ["food"]}, False),
    ({"_category": [{"extension": [{"url": "http://hl7.org/fhir/StructureDefinition/data-absent-reason",
                                    "valueCode": "unknown"}]}]}, True),
    # a cross-version extension carries another FHIR version's code in place of the value: a value, no error
    ({"_category": [{"extension": [{"url": "http://hl7.org/fhir/5.0/StructureDefinition/extension-"
                                           "AllergyIntolerance.category", "valueCode": "food"}]}]}, False),
])
def test_a_required_code_given_only_as_extensions_is_no_code(validator, category, error):
    """The reference validator's "No code provided, and a code is required from the value set" for a `code` under
    a required binding that has extensions but no value (its upstream test `allergy`)."""
    found = [(i.location, i.rule) for i in validator.validate({**_ALLERGY, **category}) if i.is_error]
    assert found == ([("AllergyIntolerance.category[0]", "AllergyIntolerance.category")] if error else [])


def test_an_unknown_code_is_located_at_the_code(validator):
    """Java locates "Unknown code 'x' in the CodeSystem" at the Coding's `code`, its wrong display at `display`."""
    res = {**_ALLERGY, "clinicalStatus": {"coding": [{
        "system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical", "code": "gone"}]}}
    found = [(i.location, i.rule) for i in validator.validate(res) if i.is_error]
    assert ("AllergyIntolerance.clinicalStatus.coding[0].code", "terminology.unknown-code") in found


def test_a_profile_whose_base_is_not_loaded_is_an_issue_not_a_crash():
    """A loaded profile no snapshot can be made for (its base definition is missing) is reported on the resource
    that declares it, which is still checked against its base type: one bad profile must not abort a run."""
    from conformance.fhir import Validator

    profile = {"resourceType": "StructureDefinition", "url": "http://example.org/fhir/StructureDefinition/child",
               "name": "Child", "status": "active", "kind": "resource", "abstract": False, "type": "Observation",
               "baseDefinition": "http://example.org/fhir/StructureDefinition/parent-not-loaded",
               "derivation": "constraint", "differential": {"element": [{"id": "Observation", "path": "Observation"}]}}
    v = Validator(resources=[profile])
    obs = {"resourceType": "Observation", "meta": {"profile": [profile["url"]]}, "status": "nonsense",
           "code": {"text": "x"}}
    found = [(i.location, i.rule) for i in v.validate(obs) if i.is_error]
    assert ("Observation.meta.profile[0]", "profile.unusable") in found
    assert ("Observation.status", "Observation.status") in found  # the base R4 checks still ran


def _bp(components: list[tuple[str, str]], **extra) -> dict:
    """A blood pressure Observation, its components (LOINC code, UCUM unit) in the order given."""
    return {"resourceType": "Observation", "status": "final", "subject": {"reference": "Patient/1"},
            "effectiveDateTime": "2026-01-01", "text": {"status": "generated", "div":
            "<div xmlns=\"http://www.w3.org/1999/xhtml\">BP</div>"},
            "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category",
                                      "code": "vital-signs"}]}],
            "code": {"coding": [{"system": "http://loinc.org", "code": "85354-9"}]},
            "component": [{"code": {"coding": [{"system": "http://loinc.org", "code": code}]},
                           "valueQuantity": {"value": 100, "unit": unit, "system": "http://unitsofmeasure.org", "code": unit}}
                          for code, unit in components], **extra}


@pytest.fixture(scope="module")
def vitals():
    """A validator that applies the R4 vital signs profiles by code (`--vital-signs-profiles`)."""
    from conformance.fhir import Validator
    from conformance.fhir.settings import Settings

    return Validator(settings=Settings(vital_signs_profiles=True))


def test_an_observation_coded_as_a_vital_sign_is_checked_against_its_core_profile(validator, vitals):
    """R4: Observations with a vital sign code SHALL conform to the vital signs profiles, declared or not (an
    option: off by default)."""
    good = _bp([("8480-6", "mm[Hg]"), ("8462-4", "mm[Hg]")])
    no_category = {k: v for k, v in good.items() if k != "category"}
    assert not [i for i in validator.validate(no_category) if i.is_error or i.rule == "observation.vital-signs"]
    validator = vitals
    issues = validator.validate(good)
    assert not [i for i in issues if i.is_error]
    assert [(i.severity, i.rule) for i in issues if i.rule == "observation.vital-signs"] == [
        ("information", "observation.vital-signs")]
    found = {(i.location, i.rule) for i in validator.validate(no_category) if i.is_error}
    assert ("Observation", "Observation.category:VSCat") in found  # from http://hl7.org/fhir/StructureDefinition/bp


def test_slices_discriminated_by_values_fixed_in_required_sub_slices(vitals):
    """bp slices component by `code.coding.code`, a value fixed in the required `code.coding:SBPCode` slice: a
    component matches the slice whose code it carries, whatever the order, and another component matches none."""
    swapped = _bp([("8462-4", "mm[Hg]"), ("8480-6", "mm[Hg]"), ("8478-0", "mm[Hg]")])  # + mean BP, in no slice
    assert not [(i.location, i.rule) for i in vitals.validate(swapped) if i.is_error]
    wrong_unit = _bp([("8462-4", "mm[Hg]"), ("8480-6", "kPa")])
    found = [(i.location, i.rule) for i in vitals.validate(wrong_unit) if i.is_error]
    assert found == [("Observation.component[1].valueQuantity.code", "Observation.component:SystolicBP.value[x].code")]


def test_vital_sign_component_units_outside_the_common_list_are_a_warning(vitals):
    """R4's ucum-vitals-common binding on component values is loaded as extensible, as the reference validator
    loads it (R4B and R5 made it so): an FiO2 flow in L/min is not an error."""
    spo2 = {**_bp([]), "code": {"coding": [{"system": "http://loinc.org", "code": "2708-6"}]},
            "valueQuantity": {"value": 97, "unit": "%", "system": "http://unitsofmeasure.org", "code": "%"},
            "component": [{"code": {"coding": [{"system": "http://loinc.org", "code": "3151-8"}]},
                           "valueQuantity": {"value": 6, "system": "http://unitsofmeasure.org", "code": "L/min"}}]}
    issues = vitals.validate(spo2)
    assert not [(i.location, i.rule, i.message) for i in issues if i.is_error]
    assert any(i.severity == "warning" and i.location == "Observation.component[0].valueQuantity" for i in issues)


_CS = {"resourceType": "CodeSystem", "url": "http://example.org/fhir/CodeSystem/cs", "status": "active",
       "content": "complete", "concept": [{"code": "a"}],
       "text": {"status": "generated", "div": "<div xmlns=\"http://www.w3.org/1999/xhtml\">cs</div>"}}


@pytest.mark.parametrize(("change", "expected"), [
    ({}, []),
    ({"content": "not-present"}, [("CodeSystem.concept[0]", "codesystem.content")]),
    ({"supplements": "http://loinc.org"}, [("CodeSystem.content", "codesystem.supplement-content")]),
    ({"supplements": "http://loinc.org", "content": "supplement"}, []),
])
def test_a_code_system_keeps_what_its_content_says(validator, change, expected):
    found = [(i.location, i.rule) for i in validator.validate({**_CS, **change}) if i.is_error]
    assert found == expected


@pytest.mark.parametrize(("include", "expected"), [
    ({"system": "http://loinc.org"}, []),
    ({"system": "#c1"}, [("ValueSet.compose.include[0]", "valueset.system-absolute")]),
    ({"system": "http://loinc.org", "filter": [{"property": "notSelectable", "op": "=", "value": "true"}]}, []),
    ({"system": "http://loinc.org", "filter": [{"property": "notSelectable", "op": "=", "value": "1"}]},
     [("ValueSet.compose.include[0].filter[0]", "valueset.filter-value")]),
])
def test_a_value_set_compose_names_absolute_systems_and_sound_filters(validator, include, expected):
    vs = {"resourceType": "ValueSet", "url": "http://example.org/fhir/ValueSet/vs", "status": "active",
          "text": _CS["text"], "compose": {"include": [include]}}
    assert [(i.location, i.rule) for i in validator.validate(vs) if i.is_error] == expected


def test_a_supplement_is_not_a_system_to_code_with():
    from conformance.fhir import Validator

    supplement = {**_CS, "url": "http://example.org/fhir/CodeSystem/supp", "content": "supplement",
                  "supplements": _CS["url"], "concept": [{"code": "a", "designation": [{"value": "A"}]}]}
    v = Validator(resources=[_CS, supplement])
    obs = {"resourceType": "Observation", "status": "final", "text": _CS["text"],
           "code": {"coding": [{"system": supplement["url"], "code": "a"}]}}
    assert [(i.location, i.rule) for i in v.validate(obs) if i.is_error] == [
        ("Observation.code.coding[0].system", "terminology.system")]
    obs["code"]["coding"][0]["system"] = _CS["url"]
    assert not [i for i in v.validate(obs) if i.is_error]


@pytest.mark.parametrize(("value", "error"), [("urn:oid:2.16.840.1.113883.6.57", False),
                                              ("http://example.org/x", False), ("2.16.840.1.113883.6.57", True),
                                              ("0c3151bd-1cbf-4d64-b04d-cd9187a4c6e0", True)])
def test_an_ietf_identifier_value_is_a_uri(validator, value, error):
    patient = {"resourceType": "Patient", "text": _CS["text"],
               "identifier": [{"system": "urn:ietf:rfc:3986", "value": value}]}
    found = [(i.location, i.rule) for i in validator.validate(patient) if i.is_error]
    assert found == ([("Patient.identifier[0]", "identifier.ietf-uri")] if error else [])


@pytest.mark.parametrize(("identifier", "expected"), [
    ({"system": "urn:oid:1.2.3.4", "value": "x"}, []),
    ({"system": "MRN", "value": "x"}, [("error", "identifier.system-absolute")]),
    ({"system": "#local", "value": "x"}, []),
    ({"system": "https://tools.ietf.org/html/rfc4122", "value": "0c3151bd-1cbf-4d64-b04d-cd9187a4c6e0"},
     [("warning", "identifier.rfc4122")]),
    ({"system": "https://tools.ietf.org/html/rfc4122", "value": "12345"}, [("error", "identifier.rfc4122")]),
])
def test_an_identifier_system_is_an_absolute_namespace(validator, identifier, expected):
    patient = {"resourceType": "Patient", "text": _CS["text"], "identifier": [identifier]}
    found = [(i.severity, i.rule) for i in validator.validate(patient)
             if i.location == "Patient.identifier[0]" and i.severity in ("error", "warning")]
    assert found == expected


@pytest.mark.parametrize(("primitive", "expected"), [
    ({"birthDate": "1970-01-01", "_birthDate": {"id": "b"}}, []),
    ({"birthDate": "1970-01-01", "_birthDate": {"value": "1970-01-01"}}, ["structure.json-primitive-value"]),
    ({"_birthDate": {"value": "1970"}}, ["structure.json-primitive-value"]),  # once: not also 'no value or children'
])
def test_a_primitive_json_underscore_object_has_no_value(validator, primitive, expected):
    """In JSON a primitive's value is the property itself; its `_x` object holds only id and extension (upstream
    Observation-ex-pain: "The property 'value' is invalid")."""
    found = [i.rule for i in validator.validate({"resourceType": "Patient", "text": _CS["text"], **primitive})
             if i.is_error and i.location == "Patient.birthDate"]
    assert found == expected


def test_an_operation_definition_agrees_with_its_parameter_profiles():
    """Each parameter the inputProfile describes (a Parameters slice with a fixed name) must have the cardinality
    and types of the parameter of that name in the operation's list; one side only is a warning."""
    from conformance.fhir import Validator

    url = "http://example.org/fhir/StructureDefinition/op-in"
    profile = {"resourceType": "StructureDefinition", "url": url, "name": "OpIn", "status": "active",
               "kind": "resource", "abstract": False, "type": "Parameters", "derivation": "constraint",
               "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Parameters",
               "differential": {"element": [
                   {"id": "Parameters.parameter", "path": "Parameters.parameter",
                    "slicing": {"discriminator": [{"type": "value", "path": "name"}], "rules": "open"}},
                   {"id": "Parameters.parameter:code", "path": "Parameters.parameter", "sliceName": "code",
                    "min": 1, "max": "1"},
                   {"id": "Parameters.parameter:code.name", "path": "Parameters.parameter.name",
                    "fixedString": "code"},
                   {"id": "Parameters.parameter:code.value[x]", "path": "Parameters.parameter.value[x]",
                    "type": [{"code": "code"}]},
                   {"id": "Parameters.parameter:code.resource", "path": "Parameters.parameter.resource", "max": "0"}]}}
    v = Validator(resources=[profile])

    def opdef(code_param: dict) -> dict:
        return {"resourceType": "OperationDefinition", "url": "http://example.org/fhir/OperationDefinition/op",
                "name": "Op", "status": "active", "kind": "operation", "code": "op", "system": True, "type": False,
                "instance": False, "inputProfile": url, "text": _CS["text"],
                "parameter": [{"name": "code", "use": "in", "min": 1, "max": "1", "type": "code", **code_param},
                              {"name": "extra", "use": "in", "min": 0, "max": "1", "type": "string"}]}

    issues = v.validate(opdef({}))
    assert not [i for i in issues if i.is_error]
    assert ("OperationDefinition.inputProfile.parameter[1]", "operationdefinition.profile") in {
        (i.location, i.rule) for i in issues if i.severity == "warning"}
    found = sorted((i.location, i.rule) for i in v.validate(opdef({"min": 0, "type": "string"})) if i.is_error)
    assert found == [("OperationDefinition.inputProfile.parameter[0]", "operationdefinition.profile-min"),
                     ("OperationDefinition.inputProfile.parameter[0]", "operationdefinition.profile-type-code"),
                     ("OperationDefinition.inputProfile.parameter[0]", "operationdefinition.profile-type-string")]


def test_a_value_set_url_as_coding_system_is_the_one_error(validator):
    """`system` names the code system; a value set URL there (seen in real connectathon documents) is the cause,
    reported at the Coding, and the binding miss it leads to is not reported again."""
    res = {**_ALLERGY, "clinicalStatus": {"coding": [{
        "system": "http://hl7.org/fhir/ValueSet/allergyintolerance-clinical", "code": "active"}]}}
    assert [(i.location, i.rule) for i in validator.validate(res) if i.is_error] == [
        ("AllergyIntolerance.clinicalStatus.coding[0]", "terminology.system-valueset")]


@pytest.mark.parametrize(("htmlid", "data", "rules"), [
    ("name", "#n1", []),
    ("nowhere", "#n1", ["narrative.textlink"]),
    ("name", "#nothing", ["narrative.textlink-data"]),
])
def test_a_text_link_points_at_an_id_of_the_narrative_and_of_the_data(validator, htmlid, data, rules):
    """textLink ties a narrative element (htmlid) to the data it shows (#id): both must exist."""
    patient = {"resourceType": "Patient", "name": [{"id": "n1", "family": "Judge"}], "text": {
        "status": "generated", "div": "<div xmlns=\"http://www.w3.org/1999/xhtml\"><span id=\"name\">Judge</span></div>",
        "extension": [{"url": "http://hl7.org/fhir/StructureDefinition/textLink", "extension": [
            {"url": "htmlid", "valueString": htmlid}, {"url": "data", "valueUri": data}]}]}}
    found = [(i.location, i.rule) for i in validator.validate(patient) if i.is_error]
    assert found == [("Patient.text", r) for r in rules]


def test_an_extension_url_has_no_version(validator):
    """Extension.url is the extension's canonical without a version (upstream versioned-extension): the versioned
    url is an error at the extension, beside the fixed-url difference at its url."""
    patient = {"resourceType": "Patient", "text": _CS["text"], "extension": [
        {"url": "http://hl7.org/fhir/StructureDefinition/patient-birthPlace|4.0.1", "valueAddress": {"city": "x"}}]}
    found = {(i.location, i.rule) for i in validator.validate(patient) if i.is_error}
    assert ("Patient.extension[0]", "extension.versioned-url") in found
    patient["extension"][0]["url"] = "http://hl7.org/fhir/StructureDefinition/patient-birthPlace"
    assert not [i for i in validator.validate(patient) if i.is_error]


def test_a_profile_has_no_slicing_at_its_root(validator):
    """Slicing the root element of a profile is illegal (upstream ext-ccuk); slicing below it is fine."""
    sd = {"resourceType": "StructureDefinition", "url": "http://example.org/fhir/StructureDefinition/x",
          "name": "X", "status": "active", "kind": "complex-type", "abstract": False, "type": "Extension",
          "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Extension", "derivation": "constraint",
          "text": _CS["text"], "differential": {"element": [
              {"id": "Extension", "path": "Extension", "slicing": {"discriminator": [{"type": "value", "path": "url"}],
                                                                  "rules": "open"}}]}}
    found = {(i.location, i.rule) for i in validator.validate(sd) if i.is_error}
    assert ("StructureDefinition.differential.element[0]", "sd.root-slicing") in found
    sd["differential"]["element"][0] = {"id": "Extension.extension", "path": "Extension.extension", "slicing": {
        "discriminator": [{"type": "value", "path": "url"}], "rules": "open"}}
    assert not [i for i in validator.validate(sd) if i.rule == "sd.root-slicing"]


@pytest.mark.parametrize(("element", "error"), [
    ({"id": "Patient.birthDate", "path": "Patient.birthDate",
      "binding": {"strength": "required", "valueSet": "http://hl7.org/fhir/ValueSet/administrative-gender"}}, True),
    ({"id": "Patient.gender", "path": "Patient.gender",
      "binding": {"strength": "required", "valueSet": "http://hl7.org/fhir/ValueSet/administrative-gender"}}, False),
    ({"id": "Patient.maritalStatus", "path": "Patient.maritalStatus",
      "binding": {"strength": "extensible", "valueSet": "http://hl7.org/fhir/ValueSet/marital-status"}}, False),
])
def test_a_binding_is_only_on_a_type_it_can_constrain(validator, element, error):
    """A binding on a date (upstream ai8) constrains nothing; the types come from the base definition when the
    differential does not restate them. Every binding of the ~800 shipped definitions passes this rule."""
    sd = {"resourceType": "StructureDefinition", "url": "http://example.org/fhir/StructureDefinition/p",
          "name": "P", "status": "active", "kind": "resource", "abstract": False, "type": "Patient",
          "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Patient", "derivation": "constraint",
          "text": _CS["text"], "differential": {"element": [element]}}
    found = [i.location for i in validator.validate(sd) if i.rule == "sd.binding-type"]
    assert found == (["StructureDefinition.differential.element[0]"] if error else [])


def test_an_unknown_declared_profile_is_reported_at_its_own_meta_profile_item(validator):
    """As the reference validator places it: at `meta.profile[i]`, the index counting every item of the array."""
    obs = {"resourceType": "Observation", "status": "final", "code": {"text": "x"},
           "meta": {"profile": ["http://hl7.org/fhir/StructureDefinition/vitalsigns", 7,
                                "http://example.org/fhir/StructureDefinition/not-loaded"]}}
    found = {(i.location, i.severity) for i in validator.validate(obs) if i.rule == "profile.unknown"}
    assert found == {("Observation.meta.profile[2]", "warning")}


@pytest.mark.parametrize(("coded", "location", "starts"), [
    ({"category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category",
                                 "code": "vital-signs"}, {"code": "vitals"}]}]},
     "Observation.category[0].coding[1]", "Coding has no system."),
    ({"meta": {"security": [{"code": "HTEST"}]}}, "Observation.meta.security[0]", "A code with no system"),
])
def test_a_code_without_its_system_is_a_warning(validator, coded, location, starts):
    """As the reference validator: a code with no system has no defined meaning and cannot be validated."""
    obs = {"resourceType": "Observation", "status": "final", "code": {"text": "x"}, **coded}
    found = [i for i in validator.validate(obs) if i.rule == "terminology.no-system"]
    assert [(i.severity, i.location) for i in found] == [("warning", location)]
    assert found[0].message.startswith(starts)


def test_a_code_whose_system_is_given_by_an_extension_only_is_not_without_system(validator):
    obs = {"resourceType": "Observation", "status": "final", "code": {"coding": [
        {"_system": {"extension": [{"url": "http://hl7.org/fhir/StructureDefinition/data-absent-reason",
                                    "valueCode": "unknown"}]}, "code": "x"}]}}
    assert not [i for i in validator.validate(obs) if i.rule == "terminology.no-system"]


def test_a_type_id_reference_the_fullurl_rules_do_not_resolve_names_the_entries_that_match_by_type_and_id(validator):
    """From an entry whose fullUrl is a urn:uuid, `Patient/123` means urn:uuid:123. Entries that only have that
    type and id are named in a warning (with a second one when several do), as the reference validator does."""
    def bundle(n_patients: int) -> dict:
        patients = [{"fullUrl": f"urn:uuid:0c3151bd-1cbf-4d64-b04d-cd9187a4c6a{n}",
                     "resource": {"resourceType": "Patient", "id": "123"}} for n in range(n_patients)]
        obs = {"resourceType": "Observation", "id": "o", "status": "final", "code": {"text": "x"},
               "subject": {"reference": "Patient/123"}}
        return {"resourceType": "Bundle", "type": "collection", "entry": [
            {"fullUrl": "urn:uuid:0c3151bd-1cbf-4d64-b04d-cd9187a4c6b0", "resource": obs}, *patients]}

    def found(b: dict) -> list[tuple[str, str]]:
        return sorted((i.location, i.rule) for i in validator.validate(b) if i.rule.startswith("reference.bundle-"))

    assert found(bundle(1)) == [("Bundle.entry[0].resource.subject", "reference.bundle-wrong-fullurl")]
    assert found(bundle(2)) == [("Bundle.entry[0].resource.subject", "reference.bundle-possible-matches"),
                                ("Bundle.entry[0].resource.subject", "reference.bundle-wrong-fullurl")]
    resolved = bundle(1)
    resolved["entry"][1]["fullUrl"] = "urn:uuid:123"
    assert found(resolved) == []
