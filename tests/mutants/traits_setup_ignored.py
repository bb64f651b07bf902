"""traits_setup_ignored: the SUT declares trait lookup, but the adapter's set-up of the trait table does nothing.

Every lookup then answers NotSupported ("no identity traits configured"). The check that met it used to end
not-tested, leaving the run merely "incomplete"; a NotSupported answer to a check whose capabilities the SUT
declares is now an *error* (the declaration and the SUT disagree): FR-005 errors, nothing fails. Found by the
mutation survey (tests/mutants/survey.py: dropping the reference adapter's configure_identity_traits call)."""

from __future__ import annotations

from collections.abc import Mapping

from conformance.adapters.reference.service import ReferenceEHR
from tests.mutants._factory import mutant_factory


class TraitsSetupIgnored(ReferenceEHR):
    def configure_identity_traits(self, table: Mapping[str, Mapping[str, str]]) -> None:
        return None  # BUG: accepted and dropped


create = mutant_factory(TraitsSetupIgnored, "traits_setup_ignored")
