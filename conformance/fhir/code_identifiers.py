"""Is a SNOMED CT or LOINC code well formed? Both terminologies give their codes a check digit, so a code with a
typo or a transposition can be told unknown offline, without the terminology itself.

- **SNOMED CT** (`http://snomed.info/sct`): a concept id (SCTID) is 6 to 18 digits, no leading zero; its last
  digit is a Verhoeff check digit over the others, and the two digits before it are the partition identifier, whose
  second digit is 0 for a concept (1 is a description, 2 a relationship: not codes a Coding can carry). A
  post-coordinated expression (`71341001:272741003=7771000`) is left alone: checking one needs the terminology.
- **LOINC** (`http://loinc.org`): a term code is up to 7 digits, a hyphen and a mod-10 (Luhn) check digit over
  the digits (`8480-6`). Answer, part, group and answer-list codes (`LA6576-8`, `LP…`, `LG…`, `LL…`) are checked
  for their form only: their check digit is not computed over the digits alone.

The reference validator asks a terminology server, which answers "Unknown code" for these, as it does for any code
it does not know; `code_problem` gives that verdict, with what is wrong as the hint. A well-formed code can still be
unknown: only the terminology can say, so it is not reported.
"""

from __future__ import annotations

import re

SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"

# Verhoeff's dihedral group D5 multiplication table and position permutation table
_D = ((0, 1, 2, 3, 4, 5, 6, 7, 8, 9), (1, 2, 3, 4, 0, 6, 7, 8, 9, 5), (2, 3, 4, 0, 1, 7, 8, 9, 5, 6),
      (3, 4, 0, 1, 2, 8, 9, 5, 6, 7), (4, 0, 1, 2, 3, 9, 5, 6, 7, 8), (5, 9, 8, 7, 6, 0, 4, 3, 2, 1),
      (6, 5, 9, 8, 7, 1, 0, 4, 3, 2), (7, 6, 5, 9, 8, 2, 1, 0, 4, 3), (8, 7, 6, 5, 9, 3, 2, 1, 0, 4),
      (9, 8, 7, 6, 5, 4, 3, 2, 1, 0))
_P = ((0, 1, 2, 3, 4, 5, 6, 7, 8, 9), (1, 5, 7, 6, 2, 8, 3, 0, 9, 4), (5, 8, 0, 3, 7, 9, 6, 1, 4, 2),
      (8, 9, 1, 6, 0, 4, 3, 5, 2, 7), (9, 4, 5, 3, 1, 2, 6, 8, 7, 0), (4, 2, 8, 6, 5, 7, 3, 9, 0, 1),
      (2, 7, 9, 3, 8, 0, 6, 4, 1, 5), (7, 0, 4, 6, 9, 1, 3, 2, 5, 8))

#: characters only a SNOMED CT compositional grammar expression has (refinement, conjunction, terms, groups)
_EXPRESSION = re.compile(r"[:=+{}|,\s]")
_LOINC_TERM = re.compile(r"(\d{1,7})-(\d)")
_LOINC_OTHER = re.compile(r"L[AGLP]\d{1,10}-\d")


def verhoeff_ok(digits: str) -> bool:
    """Does the last digit of `digits` check the others (Verhoeff)?"""
    c = 0
    for i, ch in enumerate(reversed(digits)):
        c = _D[c][_P[i % 8][ord(ch) - 48]]
    return c == 0


def luhn_digit(digits: str) -> int:
    """The mod-10 (Luhn) check digit of `digits`, as LOINC computes it."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        n = ord(ch) - 48
        if i % 2 == 0:
            n = n * 2 - 9 if n > 4 else n * 2
        total += n
    return (10 - total % 10) % 10


def snomed_problem(code: str) -> str | None:
    """What makes `code` no SNOMED CT concept id, or None (a well-formed id, or an expression left alone)."""
    if _EXPRESSION.search(code):
        return None
    if not code.isascii() or not code.isdigit():
        return "a SNOMED CT concept id is digits only"
    if not 6 <= len(code) <= 18 or code[0] == "0":
        return "a SNOMED CT concept id has 6 to 18 digits and no leading zero"
    if not verhoeff_ok(code):
        return "its last digit is not the Verhoeff check digit of the others: a digit is mistyped or two are swapped"
    partition = code[-3:-1]
    if partition not in ("00", "10"):
        kind = {"1": "a description id", "2": "a relationship id"}.get(partition[1], "no concept id") \
            if partition[0] in "01" else "no valid id"
        return f"its partition identifier ({partition}) makes it {kind}, not a concept id"
    return None


def loinc_problem(code: str) -> str | None:
    """What makes `code` no LOINC code, or None."""
    m = _LOINC_TERM.fullmatch(code)
    if m is not None:
        if luhn_digit(m.group(1)) != int(m.group(2)):
            return f"its check digit should be {luhn_digit(m.group(1))} for {m.group(1)}: a digit is mistyped " \
                "or two are swapped"
        return None
    if _LOINC_OTHER.fullmatch(code):
        return None
    return "a LOINC code is digits, a hyphen and a check digit (8480-6), or LA/LP/LG/LL, digits, a hyphen and a " \
        "check digit (LA6576-8)"


#: system -> the function that says what is wrong with a code of it
CHECKS = {SNOMED: snomed_problem, LOINC: loinc_problem}


def code_problem(system: str, code: str) -> str | None:
    """What makes `code` no code of `system` (SNOMED CT or LOINC) by its form alone, or None."""
    check = CHECKS.get(system)
    if check is None or code != code.strip():  # white space around a code is the code's own format error
        return None
    return check(code)
