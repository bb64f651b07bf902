"""The walker's fast primitive predicates (`primitives.QUICK_VALID`) only ever say "valid" where the full check
(`check_primitive`) finds nothing wrong: a fast path may say False and leave the verdict to the full check, never
True for a value the full check rejects."""

from __future__ import annotations

import random

from conformance.fhir.primitives import PRIMITIVE_TYPES, QUICK_VALID, check_primitive

_PIECES = [*"az09AZ -._:/#T+Z\t\n\x1c\x00", "\u00a0", "\u2028", "\u00e9", "urn:uuid:", "urn:oid:", "http://x.org/",
           "2020-02-29", "2021-02-29", "2021-04-31", "T10:00:00Z", "+01:00", "1.2", "a b", "  "]
_EXAMPLES = ["2020-02-29", "2021-02-29", "2021-04-31", "2021-04-30", "1900-02-29", "2000-02-29", "0000-01-01",
             "2021-12-31T23:59:60Z", "2021-02-28T10:00:00+01:00", "2021-02-29T10:00:00+01:00", "final", "a b",
             "a  b", " a", "a\u00a0b", "urn:uuid:2b90dd2b-2dab-4c75-9bb9-a355e07401e8", "urn:uuid:X", "urn:oid:1.2.3",
             "urn:oid:1..2", "urn:isbn:1", "http://snomed.info/sct", "http://x/ y", "", "x\x1cy", "x\u2028y"]


def _values() -> list[object]:
    rng = random.Random(14)
    out: list[object] = [*_EXAMPLES, None, True, 0, -1, 1.5, 2**40, [], {}]
    out += ["".join(rng.choice(_PIECES) for _ in range(rng.randrange(0, 8))) for _ in range(20000)]
    return out


def test_quick_valid_never_passes_what_the_full_check_rejects():
    values = _values()
    for tcode in sorted(PRIMITIVE_TYPES):
        quick = QUICK_VALID[tcode]
        wrong = [v for v in values if quick(v) and check_primitive(tcode, v) is not None]
        assert not wrong, f"{tcode}: the fast path accepts {wrong[:5]!r}"


def test_quick_valid_accepts_the_ordinary_values():
    for tcode, value in [("code", "final"), ("uri", "http://snomed.info/sct"), ("uri", "urn:isbn:1"),
                         ("canonical", "http://hl7.org/fhir/StructureDefinition/Patient"), ("url", "http://x.org"),
                         ("dateTime", "2021-02-28T10:00:00+01:00"), ("date", "2020-02-29"),
                         ("instant", "2021-12-31T23:59:59.123Z")]:
        assert QUICK_VALID[tcode](value), (tcode, value)
    assert not QUICK_VALID["date"]("2021-02-29")
