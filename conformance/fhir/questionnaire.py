"""QuestionnaireResponse against its Questionnaire: the rules the reference validator applies when the
Questionnaire is at hand (a loaded package, `--package`, or a resource in the same Bundle).

Per item: the linkId exists at that level, items keep the Questionnaire's order, a non-repeating item
appears once, required items are answered (unless the response is in progress), enableWhen (or an
enableWhenExpression, evaluated on the response) decides whether an item may have answers, the answer's type is the item's type, and the item's constraints
hold -- answerOption / local answerValueSet, exclusive options, min/max length, regex, min/max value,
decimal places, quantity bounds (UCUM units of one dimension), attachment size, reference types.
A Questionnaire that cannot be found is reported as information, never guessed.
"""

from __future__ import annotations

import base64
import re
from typing import TYPE_CHECKING, Any

from conformance.fhir import ucum
from conformance.fhir.values import as_list, issue

if TYPE_CHECKING:  # pragma: no cover
    from conformance.fhir.contract import RunContext
    from conformance.issues import ValidationIssue

SD = "http://hl7.org/fhir/StructureDefinition/"
_ANSWER_TYPES = {"boolean": ("boolean",), "decimal": ("decimal",), "integer": ("integer",), "date": ("date",),
                 "dateTime": ("dateTime",), "time": ("time",), "string": ("string",), "text": ("string",),
                 "url": ("uri",), "choice": ("Coding", "string"), "open-choice": ("Coding", "string"),
                 "attachment": ("Attachment",), "reference": ("Reference",), "quantity": ("Quantity",)}
_NO_ANSWERS = {"group": "Items of type group should not have answers",
               "display": "Items of type 'display' cannot have answers",
               "question": "Items of type question should not have answers"}
_UCUM_SYSTEM = ucum.SYSTEM


def check_questionnaire_response(run: RunContext, qr: dict[str, Any], loc: str, sink: list[ValidationIssue]) -> None:
    url = qr.get("questionnaire")
    if not isinstance(url, str):
        return
    q = _find(run, url)
    if q is None:
        sink.append(issue("information", "not-found", f"{loc}.questionnaire", f"The questionnaire {url} could not be "
                          "resolved, so the answers were not checked against it (hint: load it with --package)",
                          "questionnaire.not-found"))
        return
    if q.get("resourceType") != "Questionnaire":
        sink.append(issue("error", "invalid", f"{loc}.questionnaire", f"Canonical URL '{url}' refers to a resource "
                          f"that has the wrong type. Found {q.get('resourceType')} expecting Questionnaire",
                          "questionnaire.wrong-type"))
        return
    ctx = _Context(run, qr, q, sink)
    ctx.items(as_list(q.get("item")), as_list(qr.get("item")), loc)


def _find(run: RunContext, url: str) -> dict[str, Any] | None:
    if url.startswith("#"):
        return next((c for c in as_list(run.resources[-1][0].get("contained")) if isinstance(c, dict)
                     and c.get("id") == url[1:]), None) if run.resources else None
    found = run.v.defs.get(url)
    if found is not None:
        return found
    for b in reversed(run.bundles):
        for res, _l in b.by_url.values():
            if res.get("url") == url.partition("|")[0]:
                return res
    return None


def _ext(item: dict[str, Any], name: str) -> Any:
    """The value of an extension on a Questionnaire item by its short name (url = SD + name)."""
    for e in as_list(item.get("extension")):
        url = e.get("url") if isinstance(e, dict) else None
        if isinstance(url, str) and url.rsplit("/", 1)[-1] in (name, "questionnaire-" + name,
                                                               "sdc-questionnaire-" + name):
            for k, v in e.items():
                if k.startswith("value"):
                    return v
    return None


def _answer_value(answer: Any) -> tuple[str, Any] | None:
    if not isinstance(answer, dict):
        return None
    for k, v in answer.items():
        if k.startswith("value") and len(k) > 5:
            t = k[5:]
            return (t if t[0].isupper() and t not in _PRIMITIVE_CAPS else t[0].lower() + t[1:]), v
    return None


_PRIMITIVE_CAPS = {"Boolean", "Decimal", "Integer", "Date", "DateTime", "Time", "String", "Uri"}


class _Context:
    def __init__(self, run: RunContext, qr: dict[str, Any], q: dict[str, Any], sink: list[ValidationIssue]) -> None:
        self.run, self.qr, self.q, self.sink = run, qr, q, sink
        self.in_progress = qr.get("status") == "in-progress"
        self.answers: dict[str, list[Any]] = {}
        self._collect(as_list(qr.get("item")))

    def _collect(self, items: Any) -> None:
        for it in items:
            if not isinstance(it, dict):
                continue
            lid = it.get("linkId")
            for a in as_list(it.get("answer")):
                av = _answer_value(a)
                if av is not None and isinstance(lid, str):
                    self.answers.setdefault(lid, []).append(av[1])
                if isinstance(a, dict):
                    self._collect(as_list(a.get("item")))
            self._collect(as_list(it.get("item")))

    def error(self, loc: str, message: str, rule: str, severity: str = "error") -> None:
        self.sink.append(issue(severity, "structure" if severity != "information" else "informational", loc,
                               message, rule))

    # -- items -------------------------------------------------------------------------------
    def items(self, q_items: list[Any], qr_items: list[Any], loc: str) -> None:
        """One level: QR items (at `loc`.item[i]) against the Questionnaire items of the same level."""
        by_id = {qi["linkId"]: (n, qi) for n, qi in enumerate(q_items)
                 if isinstance(qi, dict) and isinstance(qi.get("linkId"), str)}
        seen: dict[str, int] = {}
        last = -1
        for i, it in enumerate(qr_items):
            if not isinstance(it, dict):
                continue
            iloc = f"{loc}.item[{i}]"
            lid = it.get("linkId")
            if not isinstance(lid, str):
                continue  # a linkId that is no string is reported as a wrong JSON type
            hit = by_id.get(lid)
            if hit is None:
                self.error(loc, f"LinkId '{lid}' not found in questionnaire", "questionnaire.linkid")
                continue
            n, qi = hit
            if n < last:
                self.error(iloc, f"Structural Error: items are out of order (linkId '{lid}')", "questionnaire.order")
            last = max(last, n)
            if lid in seen and not qi.get("repeats"):
                self.error(f"{loc}.item[{seen[lid]}]", "Only one response answer item with this linkId allowed",
                           "questionnaire.repeats")
            seen.setdefault(lid, i)
            self.item(qi, it, iloc)
        for qi in q_items:
            if isinstance(qi, dict) and qi.get("required") and isinstance(qi.get("linkId"), str) \
                    and qi["linkId"] not in seen \
                    and qi.get("type") != "display" and not self.in_progress and self.enabled(qi):
                kind = "sub-items" if qi.get("type") == "group" else "response answer"
                self.error(loc, f"No {kind} found for required item '{qi.get('linkId')}'", "questionnaire.required")

    def item(self, qi: dict[str, Any], it: dict[str, Any], loc: str) -> None:
        answers = as_list(it.get("answer"))
        qtype = qi.get("type")
        if answers and not self.enabled(qi):
            self.error(loc, f"Item has answer, even though it is not enabled (item id = '{qi.get('linkId')}')",
                       "questionnaire.enable-when")
        if qtype in _NO_ANSWERS:
            if answers:
                self.error(loc, _NO_ANSWERS[qtype], "questionnaire.no-answers")
            if qtype == "group" and qi.get("required") and not as_list(it.get("item")) and not self.in_progress:
                self.error(loc, "No sub-items found for required group", "questionnaire.required")
            # a question item's children are listed under it, whatever its type
            self.items(as_list(qi.get("item")), as_list(it.get("item")), loc)
            return
        if not answers and qi.get("required") and not self.in_progress and self.enabled(qi):
            self.error(loc, f"No response answer found for required item '{qi.get('linkId')}'",
                       "questionnaire.required")
        max_occurs = _ext(qi, "maxOccurs")
        if isinstance(max_occurs, int) and len(answers) > max_occurs:
            self.error(loc, f"The maximum number of answers is {max_occurs} but this has {len(answers)} answers",
                       "questionnaire.max-occurs")
        elif len(answers) > 1 and not qi.get("repeats"):
            self.error(loc, "Only one response answer is allowed for a non-repeating item", "questionnaire.repeats")
        for k, a in enumerate(answers):
            self.answer(qi, a, f"{loc}.answer[{k}]", answers)
            if isinstance(a, dict):
                self.items(as_list(qi.get("item")), as_list(a.get("item")), f"{loc}.answer[{k}]")
        if as_list(it.get("item")):
            self.items(as_list(qi.get("item")), as_list(it.get("item")), loc)

    # -- answers -----------------------------------------------------------------------------
    def answer(self, qi: dict[str, Any], a: Any, loc: str, all_answers: list[Any]) -> None:
        av = _answer_value(a)
        if av is None:
            return
        t, v = av
        vloc = f"{loc}.value{t[0].upper()}{t[1:]}"
        allowed = _ANSWER_TYPES.get(qi.get("type", ""))
        if allowed is None:
            return
        if t not in allowed:
            self.error(vloc, f"Answer value must be of the type {qi.get('type') if qi.get('type') not in ('url',) else 'uri'}"
                       f" not {t}", "questionnaire.answer-type")
            return
        getattr(self, f"_{t}", lambda *_a: None)(qi, v, vloc, loc, a, all_answers)
        if qi.get("type") in ("choice", "open-choice") and t == "Coding":
            self._options(qi, v, loc, a, all_answers)

    def _string(self, qi: dict[str, Any], v: Any, vloc: str, *_: Any) -> None:
        if not isinstance(v, str):
            return
        min_len = _ext(qi, "minLength")
        if isinstance(min_len, int) and len(v) < min_len:
            self.error(vloc, f"The answer '{v}' is shorter then the required minimum length of {min_len}",
                       "questionnaire.min-length")
        max_len = qi.get("maxLength")
        if isinstance(max_len, int) and len(v) > max_len:
            self.error(vloc, f"The answer '{v}' is longer then the allowed maximum length of {max_len}",
                       "questionnaire.max-length")
        regex = _ext(qi, "regex")
        if isinstance(regex, str):
            try:
                ok = re.fullmatch(regex, v) is not None
            except re.error:
                return
            if not ok:
                self.error(vloc, f"The answer '{v}' does not conform to the expected format (regex '{regex}')",
                           "questionnaire.regex")

    def _bounds(self, qi: dict[str, Any], v: Any, vloc: str) -> None:
        for name, op in (("minValue", "less than the allowed minimum"), ("maxValue", "greater than the allowed maximum")):
            b = _ext(qi, name)
            if b is None or type(b) is not type(v) and not (isinstance(b, (int, float)) and isinstance(v, (int, float))):
                continue
            try:
                bad = v < b if name == "minValue" else v > b
            except TypeError:
                continue
            if bad:
                self.error(vloc, f"The value {v} is {op} of {b}", f"questionnaire.{name}")

    def _date(self, qi: dict[str, Any], v: Any, vloc: str, *_: Any) -> None:
        self._bounds(qi, v, vloc)

    _dateTime = _date
    _integer = _date

    def _decimal(self, qi: dict[str, Any], v: Any, vloc: str, *_: Any) -> None:
        self._bounds(qi, v, vloc)
        places = _ext(qi, "maxDecimalPlaces")
        if isinstance(places, int) and isinstance(v, float):
            text = repr(v)
            decimals = len(text.split(".", 1)[1]) if "." in text and "e" not in text else 0
            if decimals > places:
                self.error(vloc, f"The value {text} has too many decimal places (limit = {places})",
                           "questionnaire.decimal-places")

    def _Quantity(self, qi: dict[str, Any], v: Any, vloc: str, *_: Any) -> None:
        if not isinstance(v, dict) or not isinstance(v.get("value"), (int, float)):
            return
        for name, op, word in (("minQuantity", "less than the allowed minimum", "minimum"),
                               ("maxQuantity", "greater than the allowed maximum", "maximum")):
            b = _ext(qi, name)
            if not isinstance(b, dict) or not isinstance(b.get("value"), (int, float)):
                continue
            shown, bound = _show(v), _show(b)
            if v.get("system") != _UCUM_SYSTEM or b.get("system") != _UCUM_SYSTEM or not v.get("code") \
                    or not b.get("code"):
                self.error(vloc, f"The quantity {shown} cannot be compared to the allowed {word} of {bound} "
                           "because no formal units are specified", f"questionnaire.{name}")
                continue
            factors = ucum.comparable(v["code"], b["code"])
            if factors is not None:
                x, y = v["value"] * factors[0], b["value"] * factors[1]
            else:
                self.error(vloc, f"The quantity {shown} cannot be compared to the allowed {word} of {bound}",
                           f"questionnaire.{name}")
                continue
            if (x < y) if name == "minQuantity" else (x > y):
                self.error(vloc, f"The quantity {shown} is {op} of {bound}", f"questionnaire.{name}")

    def _Attachment(self, qi: dict[str, Any], v: Any, vloc: str, loc: str, *_: Any) -> None:
        limit = _ext(qi, "maxSize")
        if not isinstance(limit, (int, float)) or not isinstance(v, dict):
            return
        size = v.get("size")
        if not isinstance(size, int) and isinstance(v.get("data"), str):
            try:
                size = len(base64.b64decode(v["data"]))
            except ValueError:
                return
        if isinstance(size, int) and size > limit:
            self.error(loc, f"The attachment is too large (allowed = {limit:g}, found = {size})",
                       "questionnaire.max-size")

    def _Reference(self, qi: dict[str, Any], v: Any, vloc: str, *_: Any) -> None:
        allowed = [e.get("valueCode") for e in as_list(qi.get("extension")) if isinstance(e, dict)
                   and e.get("url") == SD + "questionnaire-referenceResource"]
        ref = v.get("reference") if isinstance(v, dict) else None
        if not allowed or not isinstance(ref, str):
            return
        parts = ref.split("/_history/")[0].rstrip("/").split("/")
        rt = parts[-2] if len(parts) >= 2 else None
        if rt and rt[:1].isupper() and rt not in allowed and "Resource" not in allowed:
            self.error(vloc, f"The resource type '{rt}' in the reference {ref} is not allowed (allowed = "
                       f"{','.join(a for a in allowed if a)})", "questionnaire.reference-type")

    def _options(self, qi: dict[str, Any], v: Any, loc: str, a: Any, all_answers: list[Any]) -> None:
        if not isinstance(v, dict):
            return
        options = [o for o in as_list(qi.get("answerOption")) if isinstance(o, dict)]
        if options:
            codings = [o.get("valueCoding") for o in options if isinstance(o.get("valueCoding"), dict)]
            match = next((o for o in options if isinstance(o.get("valueCoding"), dict)
                          and o["valueCoding"].get("code") == v.get("code")
                          and o["valueCoding"].get("system") == v.get("system")), None)
            if match is None and codings and qi.get("type") == "choice":
                self.error(loc, f"The code {v.get('system')}::{v.get('code')} is not in the set of permitted values",
                           "questionnaire.answer-option")
            if match is not None and len(all_answers) > 1 and any(
                    isinstance(e, dict) and e.get("url") == SD + "questionnaire-optionExclusive"
                    and e.get("valueBoolean") is True for e in as_list(match.get("extension"))):
                self.error(loc, f"Selected answer {v.get('system')}#{v.get('code')} is an exclusive option - can't "
                           "select anything else at the same time", "questionnaire.exclusive")
            return
        vs = qi.get("answerValueSet")
        if isinstance(vs, str) and qi.get("type") == "choice":
            inside = self.run._member_of(v, vs)
            if inside is False:
                self.error(loc, f"The code '{v.get('code')}' in the system '{v.get('system')}' is not in the options "
                           f"value set ({vs}) specified by the questionnaire", "questionnaire.answer-value-set")

    # -- enableWhen --------------------------------------------------------------------------
    def enabled(self, qi: dict[str, Any]) -> bool:
        expression = _enable_expression(qi)
        if expression is not None:  # an enableWhen expression decides alone (as the reference validator)
            from conformance.fhir.invariants import EvalError

            try:
                result = self.run.v.fhirpath.evaluate(expression, self.qr, "QuestionnaireResponse", self.qr, self.qr)
            except EvalError:
                return True  # not evaluable here: never a reason to refuse answers
            return bool(result) and (result[0] is not False if len(result) == 1 else True)
        conds = [c for c in as_list(qi.get("enableWhen")) if isinstance(c, dict)]
        if not conds:
            return True
        results = [self._condition(c) for c in conds]
        return all(results) if qi.get("enableBehavior") == "all" else any(results)

    def _condition(self, c: dict[str, Any]) -> bool:
        values = self.answers.get(c.get("question"), [])
        op = c.get("operator")
        expected = next((v for k, v in c.items() if k.startswith("answer")), None)
        if op == "exists":
            return bool(values) == bool(expected)
        for v in values:
            if _compare(v, op, expected):
                return True
        return op == "!=" and not values


_ENABLE_EXPRESSION = ("http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-enableWhenExpression",
                      "http://phr.kanta.fi/StructureDefinition/fiphr-ext-questionnaire-enablewhen")


def _enable_expression(qi: dict[str, Any]) -> str | None:
    """The FHIRPath an item's enableWhenExpression (SDC, or the Finnish PHR extension) gives, if any."""
    for e in as_list(qi.get("extension")):
        if not isinstance(e, dict) or e.get("url") not in _ENABLE_EXPRESSION:
            continue
        if isinstance(e.get("valueString"), str):
            return e["valueString"]
        expr = e.get("valueExpression")
        if isinstance(expr, dict) and expr.get("language") == "text/fhirpath" and isinstance(expr.get("expression"), str):
            return expr["expression"]
    return None


def _compare(v: Any, op: Any, expected: Any) -> bool:
    if isinstance(v, dict) and isinstance(expected, dict):
        if "code" in expected or "code" in v:
            same = v.get("code") == expected.get("code") and (
                not expected.get("system") or v.get("system") == expected.get("system"))
        else:
            same = v.get("value") == expected.get("value")
        return same if op == "=" else (not same if op == "!=" else False)
    try:
        return {"=": v == expected, "!=": v != expected, ">": v > expected, "<": v < expected,
                ">=": v >= expected, "<=": v <= expected}.get(op, False)
    except TypeError:
        return False


def _show(q: dict[str, Any]) -> str:
    unit = q.get("unit") or q.get("code") or ""
    code = f" (UCUM#{q['code']})" if q.get("system") == _UCUM_SYSTEM and q.get("code") else ""
    return f"{q.get('value')} {unit}{code}".strip()


# -- the Questionnaire itself ---------------------------------------------------------------------
def check_questionnaire(q: dict[str, Any], loc: str, sink: list[ValidationIssue]) -> None:
    """Each enableWhen of a Questionnaire names a question that exists elsewhere in it: not missing, not
    the item itself nor one of its own descendants (an item cannot wait for its own answers); a question
    that only comes after the item is a warning. The reference validator's Questionnaire rules."""
    by_link: dict[str, tuple[int, ...]] = {}  # linkId -> position path of its first item

    def index(items: Any, pos: tuple[int, ...]) -> None:
        for i, it in enumerate(as_list(items)):
            if isinstance(it, dict):
                link = it.get("linkId")
                if isinstance(link, str):
                    by_link.setdefault(link, pos + (i,))
                index(it.get("item"), pos + (i,))

    def visit(items: Any, pos: tuple[int, ...], iloc: str) -> None:
        for i, it in enumerate(as_list(items)):
            if not isinstance(it, dict):
                continue
            here, hloc = pos + (i,), f"{iloc}.item[{i}]"
            for ew in as_list(it.get("enableWhen")):
                question = ew.get("question") if isinstance(ew, dict) else None
                if not isinstance(question, str):
                    continue  # Questionnaire.item.enableWhen.question is 1..1: the cardinality says it
                target = _find_link(it.get("item"), question)
                if target is not None:
                    sink.append(issue("error", "business-rule", hloc, "Questions with an enableWhen cannot refer to "
                                      "an inner question for its enableWhen condition", "questionnaire.enablewhen"))
                elif question not in by_link:
                    sink.append(issue("error", "business-rule", hloc, f"No target found for the enableWhen question "
                                      f"'{question}' of item '{it.get('linkId')}'", "questionnaire.enablewhen"))
                elif by_link[question] == here:
                    sink.append(issue("error", "business-rule", hloc, "Questions with an enableWhen cannot refer to "
                                      "themselves", "questionnaire.enablewhen"))
                else:
                    tpos = by_link[question]
                    if not (tpos == here[:len(tpos)] or tpos < here):  # neither an ancestor nor earlier
                        sink.append(issue("warning", "business-rule", hloc, f"The target of this enableWhen rule "
                                          f"({question}) comes after the question itself", "questionnaire.enablewhen"))
            visit(it.get("item"), here, hloc)

    index(q.get("item"), ())
    visit(q.get("item"), (), loc)


def _find_link(items: Any, link: str) -> dict[str, Any] | None:
    for it in as_list(items):
        if isinstance(it, dict):
            if it.get("linkId") == link:
                return it
            found = _find_link(it.get("item"), link)
            if found is not None:
                return found
    return None
