"""The R4 vital signs rule: an Observation coded as a vital sign must conform to that sign's core profile.

FHIR R4 says so in its Observation page ("Vital Signs": observations of these kinds SHALL conform to the vital
signs profiles), whether or not the Observation declares the profile. The reference validator applies it by the
Observation's `code`: a LOINC (or SNOMED CT) coding with one of the codes below selects the profile, the first
kind in this order wins, and it says so with an information issue before the profile's own findings. The code
lists are those the reference validator uses (its ObservationValidator), kept here as data; SNOMED CT's
respiratory rate codes are left out because the reference validator maps them to no loadable profile, so it
checks nothing for them either.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from conformance.fhir.context import CORE_SD
from conformance.fhir.values import issue
from conformance.issues import ValidationIssue

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"


class VitalSign(NamedTuple):
    """The profile an Observation must conform to, and the coding that made it so (for the message)."""

    url: str
    name: str
    system_name: str
    code: str


#: (profile id, name, {system: codes}), in the order the kinds are tried
_KINDS: tuple[tuple[str, str, dict[str, frozenset[str]]], ...] = (
    ("vitalspanel", "Vital Signs Panel", {LOINC: frozenset({"85353-1"}), SNOMED: frozenset({"46680005"})}),
    ("resprate", "Respiratory Rate", {LOINC: frozenset({
        "9279-1", "76170-0", "76172-6", "76171-8", "19840-8", "33438-3", "76270-8", "11291-2"})}),
    ("heartrate", "Heart rate", {
        LOINC: frozenset({"60978-4", "73795-7", "73799-9", "76476-1", "76477-9", "8867-4", "8889-8", "8890-6",
                          "8891-4", "8892-2", "8893-0", "40443-4", "55425-3", "68999-2", "11328-2", "69000-8",
                          "8886-4"}),
        SNOMED: frozenset({"271306003", "249043002", "444981005", "399017001", "251670001", "429525003",
                           "429614003"})}),
    ("oxygensat", "Oxygen saturation", {
        LOINC: frozenset({"2708-6", "19224-5", "20564-1", "2709-4", "2710-2", "2711-0", "2713-6", "51733-4",
                          "59408-5", "59417-6", "89276-0", "97549-0"}),
        SNOMED: frozenset({"103228002", "442349007", "442476006", "442440005", "431314004", "442734002",
                           "713194001"})}),
    ("bodytemp", "Body temperature", {
        LOINC: frozenset({"8310-5", "60834-9", "60835-6", "60836-4", "60838-0", "60955-2", "61009-7", "75539-7",
                          "75987-8", "76010-8", "76011-6", "76278-1", "8309-7", "8328-7", "8329-5", "8330-3",
                          "8331-1", "8332-9", "8333-7", "8334-5", "91371-5", "98657-0", "98663-8"}),
        SNOMED: frozenset({"386725007", "276885007", "300076005", "1222808002", "364246006", "307047009",
                           "708499008", "431598003", "698831002", "698832009", "415882003", "415974002",
                           "415929009", "415945006"})}),
    ("bodyheight", "Body height", {
        LOINC: frozenset({"8302-2", "3137-7", "3138-5", "8306-3", "8308-9"}),
        SNOMED: frozenset({"1153637007", "1162419008", "50373000", "1162418000", "1230278008", "1162392001",
                           "1162417005"})}),
    ("headcircum", "Head circumference", {
        LOINC: frozenset({"9843-4", "8287-5"}),
        SNOMED: frozenset({"363812007", "169876006", "1269262007", "363811000"})}),
    ("bodyweight", "Body weight", {
        LOINC: frozenset({"29463-7", "3141-9", "3142-7", "75292-3", "79348-9", "8350-1", "8351-9"}),
        SNOMED: frozenset({"363811000", "60621009", "735395000", "425024002", "424927000", "784399000",
                           "1162416001", "1162415002"})}),
    ("bmi", "Body mass index", {LOINC: frozenset({"39156-5", "59574-4", "89270-3"}), SNOMED: frozenset({"60621009"})}),
    ("bp", "Blood pressure systolic and diastolic", {
        LOINC: frozenset({"85354-9", "35094-2", "8459-0", "76534-7", "55284-4", "8480-6"}),
        SNOMED: frozenset({"75367002", "251076008", "163033001", "163035008", "386534000", "386536003",
                           "271649006", "271650006", "407556006", "407554009", "716579001", "399304008"})}),
)

_SYSTEM_NAMES = {LOINC: "LOINC", SNOMED: "SNOMED CT"}


def _first_code(codings: list[Any], system: str, codes: frozenset[str]) -> str | None:
    for c in codings:
        if isinstance(c, dict) and c.get("system") == system and c.get("code") in codes:
            return c["code"]  # type: ignore[no-any-return]
    return None


def vital_sign_profile(observation: dict[str, Any]) -> VitalSign | None:
    """The core vital signs profile this Observation must conform to, or None. All LOINC kinds are tried before
    any SNOMED CT one, as the reference validator does."""
    code = observation.get("code")
    codings = code.get("coding") if isinstance(code, dict) else None
    if not isinstance(codings, list) or not codings:
        return None
    for system in (LOINC, SNOMED):
        for pid, name, by_system in _KINDS:
            codes = by_system.get(system)
            found = _first_code(codings, system, codes) if codes else None
            if found is not None:
                return VitalSign(CORE_SD + pid, name, _SYSTEM_NAMES[system], found)
    return None


def with_vital_sign_profile(observation: dict[str, Any], loc: str, sink: list[ValidationIssue],
                            profiles: tuple[str, ...]) -> tuple[str, ...]:
    """`profiles` and the vital signs profile the Observation's code calls for, if any; says so in `sink` (an
    information issue, as the reference validator's signpost) so a reader knows where the profile's findings
    come from."""
    sign = vital_sign_profile(observation)
    if sign is None:
        return profiles
    sink.append(issue("information", "informational", loc, f"Validate Observation against the {sign.name} profile "
                      f"({sign.url}) which is required by the FHIR specification because the {sign.system_name} code "
                      f"{sign.code} was found", "observation.vital-signs"))
    return (*profiles, sign.url)
