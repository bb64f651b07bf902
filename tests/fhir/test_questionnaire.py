"""QuestionnaireResponse against its Questionnaire: each rule fails when broken, passes when kept."""

from __future__ import annotations

import copy

import pytest

from conformance.fhir import Validator

Q_URL = "http://example.org/fhir/Questionnaire/q"
SD = "http://hl7.org/fhir/StructureDefinition/"
Q = {"resourceType": "Questionnaire", "url": Q_URL, "status": "active", "item": [
    {"linkId": "smoker", "text": "Smoker?", "type": "boolean", "required": True},
    {"linkId": "packs", "text": "Packs a day", "type": "integer",
     "enableWhen": [{"question": "smoker", "operator": "=", "answerBoolean": True}],
     "extension": [{"url": SD + "minValue", "valueInteger": 1}, {"url": SD + "maxValue", "valueInteger": 10}]},
    {"linkId": "email", "text": "e-mail", "type": "string", "maxLength": 30,
     "extension": [{"url": SD + "regex", "valueString": "[^@]+@[^@]+"}]},
    {"linkId": "colour", "text": "Colour", "type": "choice", "repeats": True, "answerOption": [
        {"valueCoding": {"system": "http://example.org/c", "code": "red"}},
        {"valueCoding": {"system": "http://example.org/c", "code": "none"},
         "extension": [{"url": SD + "questionnaire-optionExclusive", "valueBoolean": True}]}]},
    {"linkId": "g", "text": "Group", "type": "group", "item": [{"linkId": "g1", "text": "Inner", "type": "string"}]},
]}
QR = {"resourceType": "QuestionnaireResponse", "questionnaire": Q_URL, "status": "completed", "item": [
    {"linkId": "smoker", "answer": [{"valueBoolean": True}]},
    {"linkId": "packs", "answer": [{"valueInteger": 2}]},
    {"linkId": "email", "answer": [{"valueString": "a@b.org"}]},
    {"linkId": "colour", "answer": [{"valueCoding": {"system": "http://example.org/c", "code": "red"}}]},
    {"linkId": "g", "item": [{"linkId": "g1", "answer": [{"valueString": "x"}]}]},
]}


@pytest.fixture(scope="module")
def v() -> Validator:
    return Validator(resources=[Q], include_user_packages=False)


def _errors(v: Validator, qr: dict) -> list[tuple[str, str]]:
    return [(i.location, i.rule) for i in v.validate(qr) if i.is_error]


def test_conforming_response_has_no_errors(v):
    assert _errors(v, QR) == []


def _broken(change) -> dict:
    qr = copy.deepcopy(QR)
    change(qr["item"])
    return qr


@pytest.mark.parametrize(("change", "expected"), [
    (lambda items: items.pop(0), ("QuestionnaireResponse", "questionnaire.required")),
    (lambda items: items[0]["answer"][0].update(valueBoolean=False),
     ("QuestionnaireResponse.item[1]", "questionnaire.enable-when")),
    (lambda items: items[1]["answer"][0].update(valueInteger=11),
     ("QuestionnaireResponse.item[1].answer[0].valueInteger", "questionnaire.maxValue")),
    (lambda items: items[1].update(answer=[{"valueString": "2"}]),
     ("QuestionnaireResponse.item[1].answer[0].valueString", "questionnaire.answer-type")),
    (lambda items: items[2]["answer"][0].update(valueString="no-at-sign"),
     ("QuestionnaireResponse.item[2].answer[0].valueString", "questionnaire.regex")),
    (lambda items: items[3]["answer"][0]["valueCoding"].update(code="blue"),
     ("QuestionnaireResponse.item[3].answer[0]", "questionnaire.answer-option")),
    (lambda items: items[3]["answer"].append({"valueCoding": {"system": "http://example.org/c", "code": "none"}}),
     ("QuestionnaireResponse.item[3].answer[1]", "questionnaire.exclusive")),
    (lambda items: items[4].update(answer=[{"valueString": "x"}]),
     ("QuestionnaireResponse.item[4]", "questionnaire.no-answers")),
    (lambda items: items.append({"linkId": "nope"}), ("QuestionnaireResponse", "questionnaire.linkid")),
    (lambda items: items.insert(0, items.pop(2)), ("QuestionnaireResponse.item[1]", "questionnaire.order")),
    (lambda items: items[2]["answer"].append({"valueString": "c@d.org"}),
     ("QuestionnaireResponse.item[2]", "questionnaire.repeats")),
])
def test_each_rule_bites(v, change, expected):
    assert expected in _errors(v, _broken(change))


def test_in_progress_response_need_not_answer_required_items(v):
    qr = _broken(lambda items: items.pop(0))
    qr["status"] = "in-progress"
    assert ("QuestionnaireResponse", "questionnaire.required") not in _errors(v, qr)


def test_unknown_questionnaire_is_information_not_an_error(v):
    qr = {**QR, "questionnaire": "http://example.org/fhir/Questionnaire/unknown"}
    issues = v.validate(qr)
    assert not any(i.rule.startswith("questionnaire.") and i.is_error for i in issues)
    assert any(i.rule == "questionnaire.not-found" and i.severity == "information" for i in issues)
