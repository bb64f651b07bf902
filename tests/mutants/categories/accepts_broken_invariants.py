"""accepts_broken_invariants: failed FHIRPath invariants are ignored. Breaks EHDS-INT-012."""

from tests.mutants._factory import mutant_factory
from tests.mutants.categories._lenient import lenient

AcceptsBrokenInvariants = lenient(lambda issue: issue.code == "invariant")
create = mutant_factory(AcceptsBrokenInvariants, "accepts_broken_invariants")
