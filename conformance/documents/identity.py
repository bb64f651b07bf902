"""Who a generated document is about: :class:`PatientIdentity` and :func:`new_patient_identity`.

Why apart: identities are made by the plugin (one fresh patient per check), by the hypothesis
strategies and by vendors' own tests, independently of any document.
"""

from __future__ import annotations

import itertools
import random
import secrets
from dataclasses import dataclass
from datetime import date, timedelta

from conformance.documents.common import PATIENT_ID_SYSTEM
from conformance.errors import UsageError

# ---- patient identity ----------------------------------------------------------------

@dataclass(frozen=True)
class PatientIdentity:
    """Who a generated document is about. ``identifier`` is ``system|value``."""

    identifier: str
    family: str
    given: str
    birth_date: str  # YYYY-MM-DD
    gender: str  # administrative-gender code

    @property
    def system(self) -> str:
        return self.identifier.partition("|")[0]

    @property
    def value(self) -> str:
        return self.identifier.partition("|")[2]

    def to_json(self) -> dict[str, str]:
        return {"identifier": self.identifier, "family": self.family, "given": self.given,
                "birth_date": self.birth_date, "gender": self.gender}


# Names include non-ASCII letters on purpose: a round trip must keep them.
_FAMILIES = ("Martin", "Müller", "Rossi", "García", "Novák", "Dupré", "Jansen", "Kowalski", "Nieminen",
             "Papadopoulos", "Ó Briain", "Şahin", "Lindqvist", "Horváth", "Silva", "Dąbrowska")
_GIVENS = ("Anna", "Luca", "Zoë", "Jan", "Marie", "Søren", "Élodie", "Matteo", "Agnieszka", "Jonas",
           "Inês", "Mikael", "Eleni", "Tomáš", "Aoife", "Björn")
_GENDERS = ("female", "male", "other", "unknown")


_counter = itertools.count(1)
_process_namespace = f"T{secrets.token_hex(4)}"


def new_patient_identity(rng_or_counter: random.Random | int | None = None, *, namespace: str | None = None,
                         system: str = PATIENT_ID_SYSTEM, **overrides: str) -> PatientIdentity:
    """A fresh patient identity.

    * ``int`` counter: the identity is a pure function of ``(namespace, counter)``. Pass a per-run
      namespace (e.g. derived from the run seed and the test id) to get identical identities when
      a run is repeated, and distinct ones between runs against a shared server.
    * ``random.Random``: the value is drawn from it (reproducible from its seed).
    * nothing: a process-wide counter under a random per-process namespace (unique, not reproducible).

    ``overrides`` (identifier, family, given, birth_date, gender) replace generated fields.
    """
    unknown = set(overrides) - {"identifier", "family", "given", "birth_date", "gender"}
    if unknown:
        raise UsageError(f"new_patient_identity(): unknown field(s) {', '.join(sorted(unknown))}; "
                         "allowed: identifier, family, given, birth_date, gender")
    if rng_or_counter is None:
        rng_or_counter = next(_counter)
        namespace = _process_namespace if namespace is None else namespace
    namespace = namespace or ""
    if isinstance(rng_or_counter, bool) or not isinstance(rng_or_counter, (int, random.Random)):
        raise UsageError(f"new_patient_identity() needs a random.Random or an int counter, "
                         f"got {type(rng_or_counter).__name__}")
    if isinstance(rng_or_counter, int):
        if rng_or_counter < 0:
            raise UsageError(f"patient counter must be >= 0, got {rng_or_counter}")
        rng = random.Random(f"{namespace}/{rng_or_counter}")
        value = f"{namespace}-{rng_or_counter:06d}" if namespace else f"P{rng_or_counter:06d}"
    else:
        rng = rng_or_counter
        value = f"{namespace}-{rng.getrandbits(48):012x}" if namespace else f"P{rng.getrandbits(48):012x}"
    born = date(1930, 1, 1) + timedelta(days=rng.randrange(0, 90 * 365))
    fields = {
        "identifier": f"{system}|{value}",
        "family": rng.choice(_FAMILIES),
        "given": rng.choice(_GIVENS),
        "birth_date": born.isoformat(),
        "gender": rng.choice(_GENDERS),
    }
    fields.update(overrides)
    if "|" not in fields["identifier"]:
        raise UsageError(f"patient identifier {fields['identifier']!r} must be 'system|value'")
    return PatientIdentity(**fields)
