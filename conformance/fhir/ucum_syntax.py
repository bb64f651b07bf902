"""Is a `http://unitsofmeasure.org` code a valid UCUM expression? The UCUM grammar (§2.1 of the specification)
over the prefixes and atoms of the UCUM essence (`profiles/packages/ucum/ucum-units.json`, provenance beside it).

    main-term   := "/" term | term
    term        := component (("." | "/") component)*
    component   := annotatable annotation? | annotation | factor annotation? | "(" term ")" annotation?
    annotatable := simple-unit exponent?          simple-unit := atom | prefix metric-atom
    exponent    := ("+" | "-")? digits            annotation  := "{" printable ASCII (32-126) but braces "}"

(An annotation after a factor or a parenthesised term is beyond the strict grammar, but UCUM's own table of
common units uses both -- `g/(8.h){shift}` -- and so do the readers that follow it.) Case-sensitive codes only
(`c/s`, what FHIR uses). An atom in square brackets is read whole (`[in_i'Hg]`,
`B[10.nV]`). The reference validator checks these codes offline with its own UCUM library and reports a bad one as
an unknown code; `unit_problem` gives that verdict and, as a hint, the first place the expression goes wrong.
"""

from __future__ import annotations

import re
from functools import cache

import orjson

from conformance.resources import fhir_packages_dir
_ANNOTATIONS = re.compile(r"\{[^{}]*\}")


@cache
def _tables() -> tuple[dict[str, float], dict[str, bool]]:
    data = orjson.loads((fhir_packages_dir() / "ucum" / "ucum-units.json").read_bytes())
    return data["prefixes"], {code: bool(a["metric"]) for code, a in data["atoms"].items()}


class _Invalid(Exception):
    def __init__(self, at: int, why: str) -> None:
        super().__init__(why)
        self.at, self.why = at, why


class _Parser:
    """Recursive descent over one expression; raises _Invalid at the first character that cannot be read."""

    def __init__(self, text: str) -> None:
        self.s, self.i = text, 0
        self.prefixes, self.atoms = _tables()

    def main_term(self) -> None:
        if self.s.startswith("/"):
            self.i = 1
        self.term()
        if self.i != len(self.s):
            raise _Invalid(self.i, f"unexpected {self.s[self.i]!r}")

    def term(self) -> None:
        self.component()
        while self.i < len(self.s) and self.s[self.i] in "./":
            self.i += 1
            self.component()

    def component(self) -> None:
        s = self.s
        if self.i >= len(s):
            raise _Invalid(self.i, "a unit is missing at the end")
        c = s[self.i]
        if c == "(":
            self.i += 1
            self.term()
            if self.i >= len(s) or s[self.i] != ")":
                raise _Invalid(self.i, "a ')' is missing")
            self.i += 1
            if self.i < len(s) and s[self.i] == "{":  # `g/(8.h){shift}`: in UCUM's own common-units table
                self.annotation()
            return
        if c == "{":
            self.annotation()
            return
        start = self.i
        symbol = self.symbol()
        if not symbol:
            raise _Invalid(start, f"unexpected {c!r}")
        if not symbol.isdigit():  # a factor (digits only) is a component of its own
            self.annotatable(symbol, start)
        if self.i < len(s) and s[self.i] == "{":
            self.annotation()

    def symbol(self) -> str:
        """The text up to the next operator, parenthesis or annotation; a square-bracketed part is read whole."""
        s, start = self.s, self.i
        while self.i < len(s) and s[self.i] not in "./(){}":
            if s[self.i] == "[":
                end = s.find("]", self.i)
                if end < 0:
                    raise _Invalid(self.i, "a ']' is missing")
                self.i = end + 1
            else:
                self.i += 1
        return s[start:self.i]

    def annotatable(self, symbol: str, at: int) -> None:
        """A simple unit with an optional exponent: the exponent is the trailing signed digits when what is left
        is a unit (`10*3` is 10* cubed, `m2` square metres)."""
        if self._simple(symbol):
            return
        j = len(symbol)
        while j > 0 and symbol[j - 1].isdigit():
            j -= 1
        if j < len(symbol):
            if j > 0 and symbol[j - 1] in "+-":
                j -= 1
            if j > 0 and self._simple(symbol[:j]):
                return
        raise _Invalid(at, f"the unit {symbol!r} is unknown")

    def _simple(self, symbol: str) -> bool:
        if symbol in self.atoms:
            return True
        for n in (1, 2):  # prefixes are one or two characters (da, Ki, Mi, Gi, Ti)
            prefix, atom = symbol[:n], symbol[n:]
            if prefix in self.prefixes and self.atoms.get(atom):
                return True
        return False

    def annotation(self) -> None:
        s = self.s
        end = s.find("}", self.i + 1)
        if end < 0:
            raise _Invalid(self.i, "a '}' is missing")
        body = s[self.i + 1:end]
        bad = next((k for k, ch in enumerate(body) if not 32 <= ord(ch) <= 126 or ch == "{"), None)
        if bad is not None:
            raise _Invalid(self.i + 1 + bad, f"{body[bad]!r} is not allowed in an annotation (ASCII only)")
        self.i = end + 1


@cache
def unit_problem(code: str) -> str | None:
    """Why `code` is not a valid case-sensitive UCUM expression (with the 1-based character where reading
    stopped), or None when it is one. Cached: documents repeat their units."""
    if not code:
        return "the unit is empty"
    if any(ch.isspace() for ch in _ANNOTATIONS.sub("", code)):
        return "UCUM units have no white space outside annotations"
    try:
        _Parser(code).main_term()
    except _Invalid as exc:
        return f"{exc.why} at character {exc.at + 1}"
    return None
